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

# CJK unified ideographs (basic block and extension A) plus the compatibility block.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
# A "word" is a run of ASCII letters/digits; a CJK run is kept whole and cut into n-grams.
_TOKEN_RE = re.compile(f"[a-z0-9]+|[{_CJK}]+")
# Spaces between two CJK characters carry no meaning (a space typed between two Chinese words).
_CJK_SPACE_RE = re.compile(f"(?<=[{_CJK}])\\s+(?=[{_CJK}])")

# Equal weights measured best: down-weighting unigrams lost more paraphrases than it saved.
NGRAM_WEIGHTS = {1: 1.0, 2: 1.0, 3: 1.0}


@dataclass(frozen=True)
class Normaliser:
    """Rewrites synonyms to one canonical form and drops stop words."""

    pattern: re.Pattern[str]
    canon: dict[str, str]
    stop_zh: tuple[str, ...]
    stop_en: frozenset[str]

    def rewrite(self, text: str) -> str:
        """NFKC (full-width to half-width), lower case, synonyms to their canonical form."""
        text = unicodedata.normalize("NFKC", text).lower()
        # Rewriting each canonical form to itself keeps it intact; spaces keep words apart.
        text = self.pattern.sub(lambda m: f" {self.canon[m.group(0)]} ", text)
        return _CJK_SPACE_RE.sub("", text)


@cache
def normaliser(path: Path = SYNONYMS_PATH) -> Normaliser:
    """The normaliser built from the synonym table (read once)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    canon: dict[str, str] = {}
    for target, variants in data.get("canon", {}).items():
        for variant in variants:
            canon[unicodedata.normalize("NFKC", variant).lower()] = target
    # Longest first, so "not paid" wins over "paid" (likewise for Chinese variants).
    alternatives = []
    for variant in sorted(canon, key=len, reverse=True):
        escaped = re.escape(variant)
        if _CJK_RE.search(variant):
            alternatives.append(escaped)
        else:
            # English variants match whole words only ("record" but not "recorded").
            alternatives.append(f"(?<![a-z0-9]){escaped}(?![a-z0-9])")
    pattern = re.compile("|".join(alternatives)) if alternatives else re.compile(r"(?!x)x")
    stop = data.get("stop", {})
    return Normaliser(
        pattern=pattern,
        canon=canon,
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


def cjk_share(text: str) -> float:
    """Share of CJK characters among the letters of `text` (0.0 when it has none)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if _CJK_RE.match(c)) / len(letters)
