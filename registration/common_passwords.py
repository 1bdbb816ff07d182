"""R8: refuses passwords that guessers try first: zxcvbn's 30,000 most common passwords
plus the project's own list (`common_passwords.txt`), compared without regard to case,
also with the specials taken out, look-alike digits read as letters (p4ssw0rd), and,
for the most common words, with every digit and special taken out (Password1!).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Final

from zxcvbn.frequency_lists import FREQUENCY_LISTS

__all__ = ["is_common"]

_OWN_LIST: Final = Path(__file__).with_name("common_passwords.txt")
# Only this many of zxcvbn's most frequent entries count as a "word" that a few digits
# and specials around it do not rescue ("password" + "1!"); deeper in the list such
# words are rarer (and often ordinary English words) and get no such treatment.
_TOP_WORDS: Final = 1000
_SPECIALS_RE: Final = re.compile(r"[!@#$%^&*_-]")
_NOT_LETTERS_RE: Final = re.compile(r"[^a-z]")
_LEET: Final = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
# A look-alike digit or symbol between two letters (p4ssw0rd), not digits at the end.
_LEET_INSIDE_RE: Final = re.compile(r"(?<=[a-z])[013457@$]+(?=[a-z])")


@cache
def _lists() -> tuple[frozenset[str], frozenset[str]]:
    """(every common password, the most common words), loaded on first use."""
    zxcvbn_passwords = FREQUENCY_LISTS["passwords"]
    own = [
        line.strip().lower()
        for line in _OWN_LIST.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    every = frozenset(zxcvbn_passwords) | frozenset(own)
    words = frozenset(w for w in zxcvbn_passwords[:_TOP_WORDS] if w.isalpha()) | frozenset(
        w for w in own if w.isalpha()
    )
    return every, words


def _unleet_inside(text: str) -> str:
    return _LEET_INSIDE_RE.sub(lambda m: m.group(0).translate(_LEET), text)


def is_common(password: str) -> bool:
    """Whether the password (or its plain form, see the module) is a common one."""
    every, words = _lists()
    low = password.lower()
    no_specials = _SPECIALS_RE.sub("", low)
    if {low, no_specials, no_specials.translate(_LEET)} & every:
        return True
    letters = {_NOT_LETTERS_RE.sub("", low), _NOT_LETTERS_RE.sub("", _unleet_inside(low))}
    return bool(letters & words)
