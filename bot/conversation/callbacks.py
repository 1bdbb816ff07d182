"""Typed, versioned callback data for buttons: `c1:<version>:<action>[:<arg>...]`, <= 64 bytes.

The version is the conversation's version (base 36) when the button was drawn:
a press from an older message no longer matches and is answered as expired.
Arguments are ids or codes and are never trusted: the services re-check them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "c1"
MAX_BYTES = 64  # Telegram's limit on callback_data
_ACTION = re.compile(r"[a-z]{1,10}")
_ARG = re.compile(r"[A-Za-z0-9_.-]{1,40}")
_DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class Callback:
    version: int
    action: str
    args: tuple[str, ...] = ()

    def arg(self, index: int) -> str:
        return self.args[index] if index < len(self.args) else ""

    def int_arg(self, index: int) -> int | None:
        """An id argument, or None when it is missing or not a plain number."""
        text = self.arg(index)
        return int(text) if text.isdigit() and len(text) <= 18 else None


def _base36(n: int) -> str:
    if n < 0:
        raise ValueError("version must not be negative")
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _DIGITS36[r] + out
        if n == 0:
            return out


def encode(version: int, action: str, *args: object) -> str:
    """The payload of a button; raises ValueError if it would not fit Telegram's 64 bytes."""
    if not _ACTION.fullmatch(action):
        raise ValueError(f"bad action {action!r}")
    texts = [str(a) for a in args]
    for text in texts:
        if not _ARG.fullmatch(text):
            raise ValueError(f"bad callback argument {text!r}")
    payload = ":".join([PREFIX, _base36(version), action, *texts])
    if len(payload.encode()) > MAX_BYTES:
        raise ValueError(f"callback data too long: {payload!r}")
    return payload


def decode(payload: str) -> Callback | None:
    """The parsed payload, or None for anything that is not ours (old format, forged)."""
    if len(payload.encode()) > MAX_BYTES:
        return None
    parts = payload.split(":")
    if len(parts) < 3 or parts[0] != PREFIX:
        return None
    try:
        version = int(parts[1], 36)
    except ValueError:
        return None
    action, args = parts[2], tuple(parts[3:])
    if not _ACTION.fullmatch(action) or not all(_ARG.fullmatch(a) for a in args):
        return None
    return Callback(version, action, args)
