"""Text normalisation and tokenisation for the FAQ matcher (character n-grams plus words)."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
SYNONYMS_PATH = LOCALES_DIR / "faq_synonyms.toml"
DOMAIN_PATH = LOCALES_DIR / "faq_domain.toml"

# CJK unified ideographs (basic block and extension A) plus the compatibility block.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
# A "word" is a run of ASCII letters/digits; a CJK run is kept whole and cut into n-grams.
_TOKEN_RE = re.compile(f"[a-z0-9]+|[{_CJK}]+")
# Spaces between two CJK characters carry no meaning (a space typed between two Chinese words).
_CJK_SPACE_RE = re.compile(f"(?<=[{_CJK}])\\s+(?=[{_CJK}])")

# Equal weights measured best: down-weighting unigrams lost more paraphrases than it saved.
NGRAM_WEIGHTS = {1: 1.0, 2: 1.0, 3: 1.0}
# Weight of a synonym-table concept term (see tokens).
CONCEPT_WEIGHT = 2.0


_WORD_CHAR_RE = re.compile("[a-z0-9]")


@dataclass(frozen=True)
class Normaliser:
    """Rewrites synonyms to one canonical form and drops stop words."""

    canon: dict[str, str]
    # Variant lengths by first character, longest first: a scan tries only those.
    starts: dict[str, tuple[int, ...]]
    # Variants that match anywhere (they hold a CJK character); the others match whole words.
    anywhere: frozenset[str]
    stop_zh: tuple[str, ...]
    stop_en: frozenset[str]
    # Canonical forms that only frame a question ("how", "when"): no concept term of their own.
    frames: frozenset[str] = frozenset()

    def rewrite(self, text: str) -> str:
        """NFKC (full-width to half-width), lower case, synonyms to their canonical form.

        At each position the longest variant wins ("not paid" over "paid"); English variants
        match whole words only ("record" but not "recorded"). A dictionary scan instead of
        one big regular expression keeps building the index fast as the table grows.
        """
        return self.scan(text)[0]

    def scan(self, text: str) -> tuple[str, list[str]]:
        """The rewritten text (see rewrite) and the canonical forms met, in order."""
        text = unicodedata.normalize("NFKC", text).lower()
        out: list[str] = []
        found: list[str] = []
        i, n = 0, len(text)
        while i < n:
            for length in self.starts.get(text[i], ()):
                variant = text[i : i + length]
                target = self.canon.get(variant)
                if target is None:
                    continue
                if variant not in self.anywhere and (
                    (i > 0 and _WORD_CHAR_RE.match(text[i - 1]))
                    or (i + length < n and _WORD_CHAR_RE.match(text[i + length]))
                ):
                    continue
                # Rewriting each canonical form to itself keeps it intact; spaces keep words
                # apart.
                out.append(f" {target} ")
                found.append(target)
                i += length
                break
            else:
                out.append(text[i])
                i += 1
        return _CJK_SPACE_RE.sub("", "".join(out)), found


@cache
def normaliser(path: Path = SYNONYMS_PATH) -> Normaliser:
    """The normaliser built from the synonym table (read once)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    canon: dict[str, str] = {}
    for target, variants in data.get("canon", {}).items():
        for variant in variants:
            canon[unicodedata.normalize("NFKC", variant).lower()] = target
    lengths: dict[str, set[int]] = {}
    # A canonical form typed as such is a concept met too (it rewrites to itself).
    for target in data.get("canon", {}):
        canon.setdefault(unicodedata.normalize("NFKC", target).lower(), target)
    for variant in canon:
        lengths.setdefault(variant[0], set()).add(len(variant))
    stop = data.get("stop", {})
    return Normaliser(
        canon=canon,
        starts={c: tuple(sorted(ls, reverse=True)) for c, ls in lengths.items()},
        anywhere=frozenset(v for v in canon if _CJK_RE.search(v)),
        stop_zh=tuple(sorted(stop.get("zh", []), key=len, reverse=True)),
        stop_en=frozenset(stop.get("en", [])),
        frames=frozenset(data.get("frame", {}).get("words", [])),
    )


def _stem(word: str) -> str:
    # A light plural fold is enough for short questions; real stemming buys little here.
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def char_ngrams(run: str) -> Iterable[tuple[str, float]]:
    """Weighted 1-3 character n-grams of one CJK run."""
    for n, weight in NGRAM_WEIGHTS.items():
        for i in range(len(run) - n + 1):
            yield run[i : i + n], weight


def tokens(
    text: str,
    norm: Normaliser | None = None,
    cjk_splitter: Callable[[str], Iterable[tuple[str, float]]] = char_ngrams,
) -> dict[str, float]:
    """Weighted bag of terms of `text`: English words and CJK n-grams (or words)."""
    norm = norm or normaliser()
    bag: dict[str, float] = {}
    rewritten, concepts = norm.scan(text)
    # Each concept of the synonym table met is one more term of its own: "unpaid" and "pay"
    # share n-grams but are different concepts.
    for concept in concepts:
        if concept in norm.frames:
            continue
        key = "c:" + concept
        bag[key] = bag.get(key, 0.0) + CONCEPT_WEIGHT
    for piece in _TOKEN_RE.findall(rewritten):
        if _CJK_RE.match(piece):
            for stop in norm.stop_zh:
                piece = piece.replace(stop, "")
            # Prefix CJK terms so a Chinese character never collides with an English word.
            for term, weight in cjk_splitter(piece):
                key = "z:" + term
                bag[key] = bag.get(key, 0.0) + weight
        elif piece not in norm.stop_en:
            key = "e:" + _stem(piece)
            bag[key] = bag.get(key, 0.0) + 1.0
    return bag


# English typo tolerance: an unknown word of at least MIN_TYPO_LEN letters is replaced by the
# known content word (of at least MIN_TARGET_LEN letters: short ones are mostly function words,
# "thank" is not "than") within one edit (two from LONG_TYPO_LEN letters on), same first letter.
MIN_TYPO_LEN = 4
MIN_TARGET_LEN = 5
LONG_TYPO_LEN = 8
_ALPHA_WORD_RE = re.compile("[a-z0-9]+")


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of two letters is one edit), capped at limit+1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


@dataclass(frozen=True)
class Speller:
    """Corrects misspelt English words against a vocabulary (symmetric-deletion lookup)."""

    counts: dict[str, int]
    # Every vocabulary word and its one-letter deletions -> the vocabulary words behind them.
    by_key: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, known: Iterable[str], targets: Iterable[str]) -> Speller:
        """`known`: texts whose words are left alone; `targets`: texts whose words (a subset,
        the content words) a typo may be corrected to."""
        counts: dict[str, int] = {}
        for text in known:
            for word in _ALPHA_WORD_RE.findall(unicodedata.normalize("NFKC", text).lower()):
                counts[word] = counts.get(word, 0) + 1
        keys: dict[str, set[str]] = {}
        for text in targets:
            for word in _ALPHA_WORD_RE.findall(unicodedata.normalize("NFKC", text).lower()):
                counts[word] = counts.get(word, 0) + 1
                if word.isalpha() and len(word) >= MIN_TARGET_LEN:
                    for key in {word} | _deletions(word):
                        keys.setdefault(key, set()).add(word)
        return cls(counts, {k: tuple(sorted(v)) for k, v in keys.items()})

    def suggest(self, word: str) -> str | None:
        """The closest known word for an unknown one, or None when there is no close one."""
        limit = 1 if len(word) < LONG_TYPO_LEN else 2
        found: set[str] = set()
        for key in {word} | _deletions(word):
            found.update(self.by_key.get(key, ()))
        best: tuple[int, int, str] | None = None
        for cand in found:
            if cand[0] != word[0]:
                continue
            dist = edit_distance(word, cand, limit)
            if dist <= limit:
                rank = (dist, -self.counts[cand], cand)
                if best is None or rank < best:
                    best = rank
        return best[2] if best else None

    def correct(self, text: str) -> str:
        """`text` NFKC-normalised and lower-cased, unknown English words spelt as known ones."""
        text = unicodedata.normalize("NFKC", text).lower()

        def fix(m: re.Match[str]) -> str:
            word = m.group(0)
            if word in self.counts or len(word) < MIN_TYPO_LEN or not word.isalpha():
                return word
            return self.suggest(word) or word

        return _ALPHA_WORD_RE.sub(fix, text)


@dataclass(frozen=True)
class TermSet:
    """Literal terms found in a text: CJK terms anywhere, English ones as whole words."""

    cjk: tuple[str, ...]
    words: frozenset[str]
    # Multi-word English terms ("civil service"), matched as whole-word phrases.
    phrases: tuple[re.Pattern[str], ...]
    # The terms as listed (normalised), phrases included.
    raw: tuple[str, ...] = ()

    @classmethod
    def of(cls, terms: Iterable[str]) -> TermSet:
        """Terms as listed; one starting with "re:" is a regular expression (searched as is)."""
        cjk, words, phrases, listed = [], set(), [], []
        for raw in terms:
            term = unicodedata.normalize("NFKC", raw)
            # A pattern keeps its case: lower-casing would turn \S (not a space) into \s.
            term = term if term.startswith(_REGEX_PREFIX) else term.lower()
            listed.append(term)
            if term.startswith(_REGEX_PREFIX):
                phrases.append(re.compile(term[len(_REGEX_PREFIX) :]))
            elif _CJK_RE.search(term):
                cjk.append(term)
            elif re.fullmatch("[a-z0-9]+", term):
                words.add(term)
            else:
                phrases.append(re.compile(rf"(?<![a-z0-9]){re.escape(term)}(?![a-z0-9])"))
        return cls(tuple(cjk), frozenset(words), tuple(phrases), tuple(listed))

    def found(self, text: str) -> frozenset[str]:
        """The terms `text` (NFKC-normalised, lower-cased) holds (phrases by their pattern)."""
        hits = {term for term in self.cjk if term in text}
        hits.update(self.words.intersection(_WORD_RE.findall(text)))
        hits.update(
            t for t, p in zip(self._phrase_terms, self.phrases, strict=True) if p.search(text)
        )
        return frozenset(hits)

    @property
    def _phrase_terms(self) -> list[str]:
        return [
            t
            for t in self.raw
            if t.startswith(_REGEX_PREFIX)
            or (not _CJK_RE.search(t) and not re.fullmatch("[a-z0-9]+", t))
        ]

    def found_in(self, text: str) -> bool:
        """Whether `text` (already NFKC-normalised and lower-cased) holds one of the terms."""
        if any(term in text for term in self.cjk):
            return True
        if self.words and not self.words.isdisjoint(_WORD_RE.findall(text)):
            return True
        return any(p.search(text) for p in self.phrases)


_WORD_RE = re.compile("[a-z0-9]+")
# A domain term written "re:<pattern>" is a regular expression (a score asked "when ... out").
_REGEX_PREFIX = "re:"


@dataclass(frozen=True)
class Intent:
    """An out-of-scope question kind (score lookup, exam-day rules, ...): its terms, and the
    terms that keep a question showing it in scope (the score to apply for the review)."""

    terms: TermSet
    unless: TermSet


@dataclass(frozen=True)
class Domain:
    """Out-of-domain groups (other exams, campus life) and the CET-domain anchor terms."""

    foreign: dict[str, TermSet]
    anchors: TermSet
    # Anchors too general to tie a question naming another exam to a CET entry ("exam").
    generic: frozenset[str]
    # Out-of-scope intents: a question showing one is a foreign group of that name.
    intents: dict[str, Intent] = field(default_factory=dict)

    def foreign_groups(self, text: str) -> frozenset[str]:
        """The out-of-domain groups and intents a text names (matched before rewriting)."""
        plain = unicodedata.normalize("NFKC", text).lower()
        found = {name for name, terms in self.foreign.items() if terms.found_in(plain)}
        found.update(
            name
            for name, intent in self.intents.items()
            if intent.terms.found_in(plain) and not intent.unless.found_in(plain)
        )
        return frozenset(found)

    def has_anchor(self, rewritten: str) -> bool:
        """Whether a text, after synonym rewriting (Normaliser.rewrite), names a CET term."""
        return self.anchors.found_in(rewritten)

    def specific_anchors(self, rewritten: str) -> frozenset[str]:
        """The CET anchor terms of a rewritten text, leaving out the generic ones."""
        return self.anchors.found(rewritten) - self.generic

    def words(self) -> Iterable[str]:
        """Every literal term of the lists (a vocabulary the speller must not 'correct')."""
        lists = [*self.foreign.values(), self.anchors]
        lists += [i.terms for i in self.intents.values()]
        for terms in lists:
            yield from (t for t in terms.raw if not t.startswith(_REGEX_PREFIX))


@cache
def domain(path: Path = DOMAIN_PATH) -> Domain:
    """The domain term lists (read once); empty lists when the file is absent."""
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return Domain(
        foreign={name: TermSet.of(terms) for name, terms in data.get("foreign", {}).items()},
        anchors=TermSet.of(data.get("anchor", {}).get("terms", [])),
        generic=frozenset(
            unicodedata.normalize("NFKC", t).lower()
            for t in data.get("anchor", {}).get("generic", [])
        ),
        intents={
            name: Intent(TermSet.of(spec.get("terms", [])), TermSet.of(spec.get("unless", [])))
            for name, spec in data.get("intent", {}).items()
        },
    )


def cjk_share(text: str) -> float:
    """Share of CJK characters among the letters of `text` (0.0 when it has none)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if _CJK_RE.match(c)) / len(letters)
