"""Conditions a question states and requests to act, read from `locales/faq_outcomes.toml` (R40).

A condition ("my ID number changed", "already paid", "my waitlist came through") decides which
of two neighbouring entries answers; an entry declares the conditions it is about and the ones
it is not (`about`, `not_about` in `locales/*/faq.toml`). A request to act ("mark me paid",
"change my score", "did my roommate pay?", "print your token") is no FAQ question at all: it
gets a plain reply saying what the bot can and cannot do.
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from helpdesk._faq_text import LOCALES_DIR, TermSet

OUTCOMES_PATH = LOCALES_DIR / "faq_outcomes.toml"


@dataclass(frozen=True)
class Act:
    """One kind of request to act: its terms, and what the reply offers (button codes)."""

    name: str
    terms: TermSet
    unless: TermSet
    offers: tuple[str, ...]


@dataclass(frozen=True)
class Outcomes:
    """The condition vocabulary and the act requests."""

    conditions: dict[str, TermSet]
    # Conditions matched on the synonym-rewritten text ("not paid" becomes the canonical
    # Chinese word for unpaid), by canonical form.
    canonical: dict[str, frozenset[str]]
    acts: tuple[Act, ...]
    # Pairs of conditions that contradict each other (both stated: neither counts).
    opposites: tuple[tuple[str, str], ...] = ()
    # Conditions that, stated, lift the entries about them (not just set others aside).
    decisive: frozenset[str] = frozenset()
    # Words that make a short text a question ("how", "when"): it names more than a topic.
    question: TermSet | None = None
    # ...unless it is only a vague "how about it" ("咋弄", "what about"): still a bare topic.
    vague: TermSet | None = None
    # Function words the answer gate leaves out of a question's content terms (round 12).
    function: frozenset[str] = frozenset()
    # Questions beyond the desk (round 14): one's own score, one's exam room, the exam's content.
    beyond: tuple[Act, ...] = ()
    # Entries whose answers each carry what the other is asked for (round 17), both orders.
    overlap: frozenset[tuple[str, str]] = frozenset()

    def asks(self, text: str) -> bool:
        """Whether the text carries a question word that names what is asked (no bare topic)."""
        if self.question is None:
            return False
        text = unicodedata.normalize("NFKC", text).lower()
        return self.question.found_in(text) and not (self.vague and self.vague.found_in(text))

    def found_conditions(self, text: str, rewritten: str) -> frozenset[str]:
        """The condition names a question states."""
        text = unicodedata.normalize("NFKC", text).lower()
        hits = {name for name, terms in self.conditions.items() if terms.found_in(text)}
        hits.update(
            name for name, forms in self.canonical.items() if any(f in rewritten for f in forms)
        )
        for a, b in self.opposites:
            if a in hits and b in hits:
                hits -= {a, b}
        return frozenset(hits)

    def act(self, text: str) -> Act | None:
        """The first act request the question makes, or None."""
        return _first(self.acts, text)

    def beyond_desk(self, text: str) -> Act | None:
        """The first kind of question beyond the desk the text asks, or None."""
        return _first(self.beyond, text)


def _first(kinds: tuple[Act, ...], text: str) -> Act | None:
    text = unicodedata.normalize("NFKC", text).lower()
    for kind in kinds:
        if kind.terms.found_in(text) and not kind.unless.found_in(text):
            return kind
    return None


@cache
def outcomes(path: Path = OUTCOMES_PATH) -> Outcomes:
    """The table of `locales/faq_outcomes.toml` (read once)."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    conditions: dict[str, TermSet] = {}
    canonical: dict[str, frozenset[str]] = {}
    for name, spec in data.get("condition", {}).items():
        conditions[name] = TermSet.of(spec.get("terms", []))
        canonical[name] = frozenset(spec.get("canonical", []))
    acts = _kinds(data.get("act", {}))
    beyond = _kinds(data.get("beyond", {}))
    opposites = tuple(
        (name, spec["opposite"])
        for name, spec in data.get("condition", {}).items()
        if "opposite" in spec
    )
    decisive = frozenset(
        name for name, spec in data.get("condition", {}).items() if spec.get("decisive")
    )
    question = TermSet.of(data.get("question", {}).get("terms", []))
    vague = TermSet.of(data.get("question", {}).get("vague", []))
    function = frozenset(data.get("gate", {}).get("function", []))
    pairs = data.get("overlap", {}).get("pairs", [])
    overlap = frozenset((a, b) for a, b in pairs) | frozenset((b, a) for a, b in pairs)
    return Outcomes(
        conditions, canonical, acts, opposites, decisive, question, vague, function, beyond, overlap
    )


def _kinds(table: dict[str, dict[str, list[str]]]) -> tuple[Act, ...]:
    return tuple(
        Act(
            name=name,
            terms=TermSet.of(spec.get("terms", [])),
            unless=TermSet.of(spec.get("unless", [])),
            offers=tuple(spec.get("offers", [])),
        )
        for name, spec in table.items()
    )
