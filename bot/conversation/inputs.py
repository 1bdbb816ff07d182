"""What the conversation does with typed text before a service sees it: limits, questions, masks.

Obvious questions at a typed step (see `looks_like_question`) are answered from
the FAQ and the step is asked again; everything else is taken as the step's input.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from foundation.i18n import LOCALES, t
from registration.identity import normalize_name

MAX_MESSAGE = 4096  # Telegram's limit on one text message
MAX_INPUT = 200  # no typed step expects more; longer text is refused before any service
MAX_NAME = 40
MAX_FAQ_QUERY = 300
ECHO = 40  # at most this much of the user's text is ever repeated back

# Question words come from `chat-question-words` of both locales (no prose in code):
# CJK ones match as a prefix (no Chinese name starts with them), ASCII ones as the
# first of 3+ words, so a name like "Can Li" stays a name.
_QUESTION_MARKS = "?\uff1f"
_NAME_EXTRA = frozenset(" ·.-'")


@cache
def _question_words() -> tuple[tuple[str, ...], frozenset[str]]:
    words = {w for loc in LOCALES for w in t(loc, "chat-question-words").split()}
    return (
        tuple(sorted(w for w in words if not w.isascii())),
        frozenset(w.lower() for w in words if w.isascii()),
    )


def looks_like_question(text: str) -> bool:
    """An obvious question: ends with a question mark (half or full width) or starts with a
    question word.

    Used at typed steps (never at password steps): such text is answered from
    the FAQ instead of being taken as a name, an ID number or a code.
    """
    stripped = text.strip()
    if not stripped:
        return False
    if stripped[-1] in _QUESTION_MARKS:
        return True
    prefixes, first_words = _question_words()
    if stripped.startswith(prefixes):
        return True
    words = stripped.lower().split()
    return len(words) >= 3 and words[0] in first_words


def is_blank(text: str) -> bool:
    """Whether a message shows nothing: only whitespace and invisible format characters
    (zero-width space, joiners, the byte-order mark U+FEFF, direction marks)."""
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text)


def button_key(text: str) -> str:
    """A label or typed text reduced to what a person means by it, to compare the two:
    full-width folded to half-width (NFKC), case folded, and whitespace, punctuation,
    symbols and invisible characters dropped ("(Haidian) campus " and "haidiancampus" agree)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")


def clean_name(text: str) -> str | None:
    """A typed name in normal form, or None when it cannot be a name (digits, emoji, markup)."""
    name = normalize_name(unicodedata.normalize("NFKC", text))
    if not 0 < len(name) <= MAX_NAME:
        return None
    if not any(ch.isalpha() for ch in name):
        return None
    if not all(ch.isalpha() or ch in _NAME_EXTRA for ch in name):
        return None
    # NFKC turned a full-width dot into "."; normalize_name makes it the name dot again.
    return normalize_name(name)


def six_digits(text: str) -> str | None:
    """A mailed code as typed (full-width digits, spaces allowed), or None."""
    code = "".join(unicodedata.normalize("NFKC", text).split())
    return code if re.fullmatch(r"[0-9]{6}", code) else None


def echo(text: str) -> str:
    """User text shortened for repeating it back (messages are plain text, so markup is inert)."""
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= ECHO else one_line[: ECHO - 1] + "…"


def clip(text: str, limit: int = MAX_MESSAGE) -> str:
    """Keeps a message within Telegram's limit."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mask_id(number: str) -> str:
    """ID shown on screen: first 6 and last 4 characters (short numbers: first 2, last 2)."""
    if len(number) > 10:
        return number[:6] + "*" * (len(number) - 10) + number[-4:]
    if len(number) > 4:
        return number[:2] + "*" * (len(number) - 4) + number[-2:]
    return "*" * len(number)


def local_parts(instant: datetime, timezone: str) -> dict[str, str]:
    """The pieces of `chat-datetime` for an instant, in the session's time zone."""
    local = instant.astimezone(ZoneInfo(timezone))
    return {
        "year": str(local.year),
        "month": f"{local.month:02d}",
        "day": f"{local.day:02d}",
        "time": f"{local:%H:%M}",
    }


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"
