"""Measures the FAQ matcher (R40): top-1 accuracy, out-of-scope refusals and latency.

Run: .venv/bin/python bench/faq_eval.py [--questions FILE ...] [--compare] [--sweep] [--show-errors]
     .venv/bin/python bench/faq_eval.py --stranger FILE [--show-errors]

Issue 18 (ninth round): an honest measure. `--stranger FILE` (or `--questions FILE` with a file
in that format, detected by its [[question]] tables) grades on the reply text a candidate sees,
rendered as bot/conversation/steps/info.py renders it with the demo session's values
(examples/session-2026-12.toml) for a candidate with no registration yet. Four outcomes are
counted apart: right (answered and every fact group of the question occurs in the reply),
asked back ("did you mean", buttons), declined (help-desk reply, or the act reply to an in-scope
question), wrong (answered but a fact group missing, or an out-of-scope question answered from
an entry). Out of scope: a decline (or the act reply) is right; a request to act: the act reply
(or a decline) is right. Also p99 latency and, in a fresh process, the start-up with the index
build (what create_app does) and then the first answer.

The only stranger-format file in the project is bench/faq_dev_stranger_questions.toml, written
from the seed documents by the engineer of issue 18 and TUNED ON: its figures are no measure of
generalisation. While tuning the ask-back share and the condition factors, the eighth held-out
set's in-scope questions were also run through decide(): from this round on, held-out 8 is
tuned on too. locales/faq_examples.toml did not grow (held-out 8 is not in it).

Stranger sets, each measured once by the integrator after the round, never by its engineer
(right = in scope answered with the key facts; wrong = confident wrong answers over all
questions; declined = out of scope declined or act requests acted on):

| round | set | n | right zh/en/all | asked | wrong | declined | p99 | 1st answer |
|---|---|---|---|---|---|---|---|---|
| 8 (filed) | independent | 113 | 81.7/68.2/78.5% | - | >= 4 | 55% | - | 1.7-2.9 s |
| 9 | (the integrator writes it here) | | | | | | | |

Dev set of this round (tuned on; 46 questions: 32 in scope, 6 out of scope, 8 acts): right
96.9% (31/32; zh 21/21, en 10/11), asked 1, wrong 0.0% (0/46), out of scope declined 6/6, acts
8/8, p99 9.7 ms, fresh process start-up with the index build 2.5 s (7.6 s when the shared
2-core machine was busiest), then the first answer 3.0 ms. Held-out 8 through decide() (its
failures were read this round, so a tuning figure): in scope 264 right, 10 asked back (9 of
them offering the right entry), 3 declined, 0 wrong of 277; out of scope 81/81 declined; no
in-scope question of any labelled file is taken for a request to act (tested).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from registration._faq_text import char_ngrams  # noqa: E402
from registration.faq import (  # noqa: E402
    DEFAULT_THRESHOLD,
    EXAMPLES_PATH,
    LOCALES,
    FaqIndex,
    faq_path,
)

QUESTIONS_PATH = Path(__file__).resolve().parent / "faq_eval_questions.toml"
HELDOUT_PATH = Path(__file__).resolve().parent / "faq_heldout_questions.toml"
HELDOUT2_PATH = Path(__file__).resolve().parent / "faq_heldout2_questions.toml"
HELDOUT3_PATH = Path(__file__).resolve().parent / "faq_heldout3_questions.toml"
# Tuned on since the fifth round (its misses were first looked at then).
HELDOUT4_PATH = Path(__file__).resolve().parent / "faq_heldout4_questions.toml"
# Measured once after the fifth round; tuned and trained on since the sixth.
HELDOUT5_PATH = Path(__file__).resolve().parent / "faq_heldout5_questions.toml"
# Measured once after the sixth round; trained on since the seventh.
HELDOUT6_PATH = Path(__file__).resolve().parent / "faq_heldout6_questions.toml"
# Measured once after the seventh round; trained on since the eighth.
HELDOUT7_PATH = Path(__file__).resolve().parent / "faq_heldout7_questions.toml"
DEFAULT_QUESTION_FILES = (
    QUESTIONS_PATH,
    HELDOUT_PATH,
    HELDOUT2_PATH,
    HELDOUT3_PATH,
    HELDOUT4_PATH,
    HELDOUT5_PATH,
    HELDOUT6_PATH,
    HELDOUT7_PATH,
)


@dataclass(frozen=True)
class Question:
    """One evaluation question; `expect` is None for an out-of-scope one."""

    locale: str
    text: str
    expect: str | None


@dataclass(frozen=True)
class Outcome:
    """What the matcher did with one question."""

    question: Question
    predicted: str | None  # after the threshold
    top: str | None  # best entry ignoring the threshold
    top_score: float
    seconds: float


@dataclass(frozen=True)
class Metrics:
    in_scope: int
    correct: int
    correct_ignoring_threshold: int
    out_of_scope: int
    refused: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.in_scope if self.in_scope else 0.0

    @property
    def accuracy_no_threshold(self) -> float:
        return self.correct_ignoring_threshold / self.in_scope if self.in_scope else 0.0

    @property
    def refusal_rate(self) -> float:
        return self.refused / self.out_of_scope if self.out_of_scope else 0.0


def load_questions(path: Path = QUESTIONS_PATH) -> list[Question]:
    """The labelled questions of the evaluation file."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    qs = [Question(q["locale"], q["text"], q["expect"]) for q in data.get("in_scope", [])]
    qs += [Question(q["locale"], q["text"], None) for q in data.get("out_of_scope", [])]
    return qs


def compute_metrics(outcomes: Iterable[Outcome]) -> Metrics:
    """Top-1 accuracy counts an in-scope question right only if the answer is its entry."""
    in_scope = correct = correct_top = out = refused = 0
    for o in outcomes:
        if o.question.expect is None:
            out += 1
            refused += o.predicted is None
        else:
            in_scope += 1
            correct += o.predicted == o.question.expect
            correct_top += o.top == o.question.expect
    return Metrics(in_scope, correct, correct_top, out, refused)


def run(indexes: dict[str, FaqIndex], questions: Sequence[Question]) -> list[Outcome]:
    """Asks every question of its locale's index, timing the whole match (rank + format)."""
    outcomes = []
    for q in questions:
        index = indexes[q.locale]
        start = time.perf_counter()
        match = index.match(q.text)
        elapsed = time.perf_counter() - start
        ranked = index.rank(q.text)
        top, top_score = ranked[0] if ranked else (None, 0.0)
        predicted = match.entry_id if match else None
        outcomes.append(Outcome(q, predicted, top, top_score, elapsed))
    return outcomes


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (share in 0..1)."""
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered)))
    return ordered[rank - 1]


def with_threshold(outcomes: Iterable[Outcome], threshold: float) -> list[Outcome]:
    """The same outcomes as if the matcher had used another threshold."""
    return [
        Outcome(o.question, o.top if o.top_score >= threshold else None, o.top, o.top_score, 0.0)
        for o in outcomes
    ]


def jieba_words(run_text: str) -> Iterable[tuple[str, float]]:
    """Alternative CJK splitter for --compare: jieba words (needs `pip install jieba`)."""
    # Imported here: jieba is optional, needed only for the comparison.
    import jieba

    for word in jieba.lcut(run_text):
        yield word, 1.0


def build(
    locale: str,
    both: bool,
    splitter: Callable[[str], Iterable[tuple[str, float]]],
    exclude: Sequence[str] = (),
    examples: bool = True,
) -> FaqIndex:
    """The index of a locale; `exclude`: example sources left out (--loso); `examples`: False
    builds it from the knowledge base alone, as before the sixth round."""
    others = [faq_path(loc) for loc in LOCALES if loc != locale] if both else []
    return FaqIndex.from_files(
        faq_path(locale),
        others,
        cjk_splitter=splitter,
        examples_path=EXAMPLES_PATH if examples else None,
        exclude_sources=exclude,
    )


def measure(
    name: str,
    factory: Callable[[str], FaqIndex],
    questions: Sequence[Question],
    repeats: int = 3,
) -> tuple[Metrics, float, float, float, list[Outcome]]:
    """Metrics, build time of both locales, latency p50 and p99 (ms, medians of `repeats` runs).

    Accuracy does not change between runs; only the timings are medians.
    """
    builds: list[float] = []
    indexes: dict[str, FaqIndex] = {}
    for _ in range(repeats):
        start = time.perf_counter()
        indexes = {loc: factory(loc) for loc in LOCALES}
        builds.append((time.perf_counter() - start) * 1000)
    build_ms = statistics.median(builds)
    # Start the timed runs without the garbage left by the builds (a running bot has built its
    # index long before the first question).
    gc.collect()
    p50s, p99s = [], []
    outcomes: list[Outcome] = []
    for _ in range(repeats):
        outcomes = run(indexes, questions)
        lat = [o.seconds * 1000 for o in outcomes]
        p50s.append(percentile(lat, 0.5))
        p99s.append(percentile(lat, 0.99))
    return (
        compute_metrics(outcomes),
        build_ms,
        statistics.median(p50s),
        statistics.median(p99s),
        outcomes,
    )


def print_row(name: str, m: Metrics, build_ms: float, p50: float, p99: float) -> None:
    print(
        f"{name:<34} top1 {m.accuracy:6.1%} ({m.correct}/{m.in_scope})  "
        f"top1-no-thr {m.accuracy_no_threshold:6.1%}  "
        f"refused {m.refusal_rate:6.1%} ({m.refused}/{m.out_of_scope})  "
        f"build {build_ms:7.1f} ms  p50 {p50:6.3f} ms  p99 {p99:6.3f} ms"
    )


def report(
    path: Path,
    variants: Sequence[tuple[str, Callable[..., FaqIndex]]],
    args: argparse.Namespace,
) -> None:
    """One table (one row per variant) for one question file, plus the optional extras."""
    questions = load_questions(path)
    if args.loso:
        # Leave-one-set-out: every variant is built without this file's examples.
        variants = [
            (
                f"{name}, LOSO",
                lambda loc, factory=factory: factory(loc, (path.stem,)),
            )
            for name, factory in variants
        ]
    print(
        f"\n== {path.name}: {sum(q.expect is not None for q in questions)} in scope, "
        f"{sum(q.expect is None for q in questions)} out of scope; "
        f"threshold {DEFAULT_THRESHOLD}"
    )
    chosen: list[Outcome] = []
    for i, (name, factory) in enumerate(variants):
        m, build_ms, p50, p99, outcomes = measure(name, factory, questions, args.repeats)
        print_row(name, m, build_ms, p50, p99)
        if i == 0:
            chosen = outcomes

    if args.sweep:
        print("\nthreshold  top1    refused")
        for step in range(5, 71, 5):
            thr = step / 100
            m = compute_metrics(with_threshold(chosen, thr))
            print(f"  {thr:4.2f}    {m.accuracy:6.1%}  {m.refusal_rate:6.1%}")

    if args.show_errors:
        print("\nmisses (expected -> got, best score):")
        for o in chosen:
            if o.predicted != o.question.expect:
                print(
                    f"  [{o.question.locale}] {o.question.text!r}: "
                    f"{o.question.expect} -> {o.predicted} (top {o.top} {o.top_score:.2f})"
                )


# --- issue 18: graded on the reply text, four outcomes -----------------------------------

# The stranger format ([[question]] with lang, kind, text, facts) and the session whose values
# fill the replies' placeholders (the demo's, for a candidate with no registration yet).
SESSION_PATH = ROOT / "examples" / "session-2026-12.toml"
# A development set in the stranger format, written from the seed documents by the engineer of
# issue 18 and tuned on (not a measure of generalisation).
DEV_STRANGER_PATH = Path(__file__).resolve().parent / "faq_dev_stranger_questions.toml"
KINDS = ("in_scope", "out_of_scope", "act_request")


@dataclass(frozen=True)
class StrangerQuestion:
    """One question of the stranger format."""

    id: str
    lang: str
    kind: str
    text: str
    facts: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Graded:
    """What the candidate saw for one question and how it is counted."""

    question: StrangerQuestion
    outcome: str  # answer | ask | decline | act
    entry_id: str | None
    reply: str
    # right | wrong | asked | declined (in scope: refused or act reply)
    verdict: str
    missing: tuple[tuple[str, ...], ...]
    seconds: float


def is_stranger_format(path: Path) -> bool:
    """Whether a question file is in the stranger format ([[question]] tables)."""
    return "question" in tomllib.loads(path.read_text(encoding="utf-8"))


def load_stranger(path: Path) -> list[StrangerQuestion]:
    """The questions of a stranger-format file."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    out = []
    for i, q in enumerate(data.get("question", [])):
        kind = q.get("kind", "in_scope")
        if kind not in KINDS:
            raise ValueError(f"{path}: question {q.get('id', i)}: unknown kind {kind!r}")
        facts = tuple(
            tuple(str(a) for a in (g if isinstance(g, list) else [g])) for g in q.get("facts", [])
        )
        out.append(
            StrangerQuestion(str(q.get("id", i)), q.get("lang", "zh"), kind, q["text"], facts)
        )
    return out


def session_values(locale: str, path: Path = SESSION_PATH) -> dict[str, str]:
    """The placeholder values the conversation fills for the demo session (info.py _values)."""
    from zoneinfo import ZoneInfo

    from cetbot.i18n import t

    data = tomllib.loads(path.read_text(encoding="utf-8"))
    tz = data.get("timezone", "Asia/Shanghai")

    def parts(iso: str) -> dict[str, str]:
        from datetime import datetime

        local = datetime.fromisoformat(iso).astimezone(ZoneInfo(tz))
        return {
            "year": str(local.year),
            "month": f"{local.month:02d}",
            "day": f"{local.day:02d}",
            "time": f"{local:%H:%M}",
        }

    windows = data["windows"]
    written = [s["exam_start"] for s in data.get("subjects", []) if "SET" not in s["code"]]
    return {
        "window_opens": t(locale, "chat-datetime", parts(windows["registration_opens"])),
        "window_closes": t(locale, "chat-datetime", parts(windows["registration_closes"])),
        "print_written": t(locale, "chat-datetime", parts(windows["print_written"])),
        "print_oral": t(locale, "chat-datetime", parts(windows["print_oral"])),
        "help_phone": data.get("help_phone", ""),
        "name": data.get("name_zh" if locale == "zh" else "name_en", ""),
        "exam_date": t(locale, "info-date", parts(min(written))) if written else "",
    }


def rendered_reply(index: FaqIndex, text: str, values: dict[str, str]) -> tuple[str, Any]:
    """The text the candidate reads, as bot/conversation/steps/info.py shows it."""
    from bot.conversation import inputs
    from registration.faq import ANSWER

    reply = index.decide(text[: inputs.MAX_FAQ_QUERY], values)
    shown = reply.text
    if reply.kind == ANSWER and reply.choices:
        shown += "\n\n" + str(index.meta.get("related_title", ""))
        shown += "\n" + "\n".join(c.phrasing for c in reply.choices)
    return shown, reply


def grade(q: StrangerQuestion, outcome: str, reply: str) -> tuple[str, tuple]:
    """right / wrong / asked / declined, and the fact groups the reply lacks."""
    low = reply.lower()
    missing = tuple(g for g in q.facts if not any(a.lower() in low for a in g))
    if q.kind == "in_scope":
        if outcome == "answer":
            return ("right" if not missing else "wrong"), missing
        return ("asked" if outcome == "ask" else "declined"), missing
    # Out of scope: declining is right (so is the act reply, which declines too); for a request
    # to act, the act reply or a decline. Answering from an entry is a wrong confident answer.
    if outcome in ("decline", "act"):
        return "right", ()
    return ("asked" if outcome == "ask" else "wrong"), ()


def run_stranger(questions: Sequence[StrangerQuestion]) -> list[Graded]:
    """Every question through the index and the conversation's rendering."""
    indexes = {loc: FaqIndex.load(loc) for loc in LOCALES}
    values = {loc: session_values(loc) for loc in LOCALES}
    out = []
    for q in questions:
        loc = q.lang if q.lang in indexes else "zh"
        start = time.perf_counter()
        shown, reply = rendered_reply(indexes[loc], q.text, values[loc])
        seconds = time.perf_counter() - start
        verdict, missing = grade(q, reply.kind, shown)
        out.append(Graded(q, reply.kind, reply.entry_id, shown, verdict, missing, seconds))
    return out


_FIRST_ANSWER = """
import sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from registration import faq
faq.warm()  # what create_app does at start-up
t1 = time.perf_counter()
faq.FaqIndex.load({lang!r}).decide({text!r})
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def first_answer_after_start(text: str, lang: str) -> tuple[float, float]:
    """In a fresh process: (start-up incl. the index build, the first question) in seconds."""
    import subprocess

    code = _FIRST_ANSWER.format(root=str(ROOT), lang=lang, text=text)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[0]), float(out[1])


def report_stranger(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One table for a stranger-format file; --show-errors lists the failures."""
    questions = load_stranger(path)
    graded = run_stranger(questions)
    # Latency over repeats (the first run above warmed nothing but the index, built at start).
    times = [g.seconds for g in graded]
    for _ in range(max(args.repeats - 1, 0)):
        times += [g.seconds for g in run_stranger(questions)]
    first = questions[0] if questions else StrangerQuestion("", "zh", "in_scope", "报名", ())
    startup, first_s = first_answer_after_start(first.text, first.lang)

    def count(kind: str, verdict: str, lang: str | None = None) -> int:
        return sum(
            1
            for g in graded
            if g.question.kind == kind
            and g.verdict == verdict
            and (lang is None or g.question.lang == lang)
        )

    def total(kind: str, lang: str | None = None) -> int:
        return sum(
            1
            for g in graded
            if g.question.kind == kind and (lang is None or g.question.lang == lang)
        )

    def pct(a: int, b: int) -> str:
        return f"{a / b:6.1%} ({a}/{b})" if b else "     - (0/0)"

    n_in = total("in_scope")
    print(f"\n{path.name}: {len(graded)} questions (graded on the reply text)")
    print(f"  in scope ({n_in}):")
    for verdict in ("right", "asked", "declined", "wrong"):
        by_lang = ", ".join(
            f"{lang} {pct(count('in_scope', verdict, lang), total('in_scope', lang))}"
            for lang in LOCALES
        )
        print(f"    {verdict:9s} {pct(count('in_scope', verdict), n_in)}   [{by_lang}]")
    n_oos, n_act = total("out_of_scope"), total("act_request")
    print(f"  out of scope declined   {pct(count('out_of_scope', 'right'), n_oos)}")
    print(f"  act request acted/declined {pct(count('act_request', 'right'), n_act)}")
    outside = n_oos + n_act
    refused = count("out_of_scope", "right") + count("act_request", "right")
    print(f"  out of scope + act, together {pct(refused, outside)}")
    wrong = count("in_scope", "wrong") + count("out_of_scope", "wrong")
    wrong += count("act_request", "wrong")
    print(f"  wrong confident answers {pct(wrong, len(graded))}")
    p50, p99 = percentile(times, 0.5) * 1000, percentile(times, 0.99) * 1000
    print(f"  latency p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(
        f"  fresh process: start-up with the index build {startup * 1000:.0f} ms, "
        f"then the first answer {first_s * 1000:.1f} ms"
    )
    if args.show_errors:
        print("\n  failures:")
        for g in graded:
            if g.verdict == "right":
                continue
            lacks = "; lacks " + " | ".join("/".join(m) for m in g.missing) if g.missing else ""
            print(
                f"    {g.question.id} [{g.question.lang} {g.question.kind}] {g.question.text!r}: "
                f"{g.verdict} ({g.outcome} {g.entry_id or ''}){lacks}"
            )
    return {"graded": graded, "p99_ms": p99, "first_ms": first_s * 1000}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--questions",
        action="append",
        type=Path,
        metavar="FILE",
        help="question file to measure (repeatable; default: the dev and the seven held-out files)",
    )
    parser.add_argument("--compare", action="store_true", help="also measure the alternatives")
    parser.add_argument("--sweep", action="store_true", help="accuracy/refusals per threshold")
    parser.add_argument("--show-errors", action="store_true", help="list the misses")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measure (median)")
    parser.add_argument(
        "--loso",
        action="store_true",
        help="leave-one-set-out: build without the measured file's examples "
        "(locales/faq_examples.toml)",
    )
    parser.add_argument(
        "--stranger",
        action="append",
        type=Path,
        metavar="FILE",
        help="a question file in the stranger format: graded on the reply text "
        "(right, asked back, declined, wrong; out of scope declined; p99; first answer)",
    )
    args = parser.parse_args(argv)
    if args.stranger:
        for path in args.stranger:
            report_stranger(path, args)
        return 0

    # Each factory takes the locale and the example sources to leave out.
    variants: list[tuple[str, Callable[..., FaqIndex]]] = [
        ("char 1-3 grams + examples", lambda loc, ex=(): build(loc, True, char_ngrams, ex)),
    ]
    if args.compare:
        variants.append(
            (
                "knowledge base only",
                lambda loc, ex=(): build(loc, True, char_ngrams, ex, examples=False),
            )
        )
        variants.append(
            (
                "char 1-3 grams, own locale",
                lambda loc, ex=(): build(loc, False, char_ngrams, ex),
            )
        )
        try:
            import jieba

            jieba.setLogLevel(60)
            variants.append(
                (
                    "jieba words, both locales",
                    lambda loc, ex=(): build(loc, True, jieba_words, ex),
                )
            )
        except ImportError:
            print("(jieba not installed: its variant is skipped)")

    if args.questions:
        for path in args.questions:
            # A file in the stranger format is detected and graded on the reply text.
            if is_stranger_format(path):
                report_stranger(path, args)
            else:
                report(path, variants, args)
        return 0
    for path in DEFAULT_QUESTION_FILES:
        report(path, variants, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
