"""Text normalisation and tokenisation for the FAQ matcher (character n-grams plus words)."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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

    def rewrite(self, text: str) -> str:
        """NFKC (full-width to half-width), lower case, synonyms to their canonical form.

        At each position the longest variant wins ("not paid" over "paid"); English variants
        match whole words only ("record" but not "recorded"). A dictionary scan instead of
        one big regular expression keeps building the index fast as the table grows.
        """
        text = unicodedata.normalize("NFKC", text).lower()
        out: list[str] = []
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
                i += length
                break
            else:
                out.append(text[i])
                i += 1
        return _CJK_SPACE_RE.sub("", "".join(out))


@cache
def normaliser(path: Path = SYNONYMS_PATH) -> Normaliser:
    """The normaliser built from the synonym table (read once)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    canon: dict[str, str] = {}
    for target, variants in data.get("canon", {}).items():
        for variant in variants:
            canon[unicodedata.normalize("NFKC", variant).lower()] = target
    lengths: dict[str, set[int]] = {}
    for variant in canon:
        lengths.setdefault(variant[0], set()).add(len(variant))
    stop = data.get("stop", {})
    return Normaliser(
        canon=canon,
        starts={c: tuple(sorted(ls, reverse=True)) for c, ls in lengths.items()},
        anywhere=frozenset(v for v in canon if _CJK_RE.search(v)),
        stop_zh=tuple(sorted(stop.get("zh", []), key=len, reverse=True)),
        stop_en=frozenset(stop.get("en", [])),
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
    for piece in _TOKEN_RE.findall(norm.rewrite(text)):
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


@dataclass(frozen=True)
class TermSet:
    """Literal terms found in a text: CJK terms anywhere, English ones as whole words."""

    cjk: tuple[str, ...]
    words: frozenset[str]
    # Multi-word English terms ("civil service"), matched as whole-word phrases.
    phrases: tuple[re.Pattern[str], ...]

    @classmethod
    def of(cls, terms: Iterable[str]) -> TermSet:
        cjk, words, phrases = [], set(), []
        for raw in terms:
            term = unicodedata.normalize("NFKC", raw).lower()
            if _CJK_RE.search(term):
                cjk.append(term)
            elif re.fullmatch("[a-z0-9]+", term):
                words.add(term)
            else:
                phrases.append(re.compile(rf"(?<![a-z0-9]){re.escape(term)}(?![a-z0-9])"))
        return cls(tuple(cjk), frozenset(words), tuple(phrases))

    def found_in(self, text: str) -> bool:
        """Whether `text` (already NFKC-normalised and lower-cased) holds one of the terms."""
        if any(term in text for term in self.cjk):
            return True
        if self.words and not self.words.isdisjoint(_WORD_RE.findall(text)):
            return True
        return any(p.search(text) for p in self.phrases)


_WORD_RE = re.compile("[a-z0-9]+")


@dataclass(frozen=True)
class Domain:
    """Out-of-domain groups (other exams, campus life) and the CET-domain anchor terms."""

    foreign: dict[str, TermSet]
    anchors: TermSet

    def foreign_groups(self, text: str) -> frozenset[str]:
        """The out-of-domain groups a text names (matched before synonym rewriting)."""
        plain = unicodedata.normalize("NFKC", text).lower()
        return frozenset(name for name, terms in self.foreign.items() if terms.found_in(plain))

    def has_anchor(self, rewritten: str) -> bool:
        """Whether a text, after synonym rewriting (Normaliser.rewrite), names a CET term."""
        return self.anchors.found_in(rewritten)


@cache
def domain(path: Path = DOMAIN_PATH) -> Domain:
    """The domain term lists (read once); empty lists when the file is absent."""
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return Domain(
        foreign={name: TermSet.of(terms) for name, terms in data.get("foreign", {}).items()},
        anchors=TermSet.of(data.get("anchor", {}).get("terms", [])),
    )


def cjk_share(text: str) -> float:
    """Share of CJK characters among the letters of `text` (0.0 when it has none)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if _CJK_RE.match(c)) / len(letters)
