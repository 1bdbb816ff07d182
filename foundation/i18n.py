"""Localized text: Fluent files under `locales/<lang>/*.ftl`, Chinese first."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from fluent.runtime import FluentBundle, FluentResource

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LOCALES = ("zh", "en")
DEFAULT_LOCALE = "zh"


def pick_locale(language_code: str | None) -> str:
    """Maps a client's language code (e.g. Telegram's `en-US`) to one we have."""
    if not language_code:
        return DEFAULT_LOCALE
    base = language_code.split("-")[0].split("_")[0].lower()
    return base if base in LOCALES else DEFAULT_LOCALE


@cache
def bundle(locale: str) -> FluentBundle:
    b = FluentBundle([locale], use_isolating=False)
    for path in sorted((LOCALES_DIR / locale).glob("*.ftl")):
        b.add_resource(FluentResource(path.read_text(encoding="utf-8")))
    return b


def warm() -> int:
    """Parses every locale's files and compiles each of its messages now (a process's
    start-up), not at the first text a candidate or a notice needs: parsing the bundles
    was about 7% of the worker's CPU in a rush (issue 17), paid inside it. Returns how
    many messages were compiled."""
    compiled = 0
    for locale in LOCALES:
        b = bundle(locale)
        for key in list(b._messages):
            b.get_message(key)  # fluent compiles a message at its first look-up, then keeps it
            compiled += 1
    return compiled


def t(locale: str, key: str, args: Mapping[str, Any] | None = None) -> str:
    """The text of `key` in `locale`; falls back to Chinese, then to the key."""
    for loc in (locale, DEFAULT_LOCALE):
        b = bundle(loc)
        if b.has_message(key):
            msg = b.get_message(key)
            if msg.value is None:
                continue
            text, _errors = b.format_pattern(msg.value, dict(args or {}))
            return str(text)
    return key


def has_text(locale: str, key: str) -> bool:
    """Whether `locale` (or Chinese, its fallback) has a message `key`."""
    return bundle(locale).has_message(key) or bundle(DEFAULT_LOCALE).has_message(key)


def message_ids(locale: str) -> set[str]:
    """Every message id of a locale (for the same-keys test)."""
    ids: set[str] = set()
    for path in (LOCALES_DIR / locale).glob("*.ftl"):
        for entry in FluentResource(path.read_text(encoding="utf-8")).body:
            ident = getattr(getattr(entry, "id", None), "name", None)
            if ident and type(entry).__name__ == "Message":
                ids.add(ident)
    return ids
