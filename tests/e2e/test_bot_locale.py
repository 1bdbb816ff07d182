"""The shell's words (locales/*/bot.ftl): same keys and placeholders in Chinese and English."""

from __future__ import annotations

import re
from pathlib import Path

from fluent.syntax import FluentParser, FluentSerializer, ast

from bot.app import COMMANDS
from cetbot.demo import CANDIDATE_NOTES
from foundation.i18n import LOCALES, LOCALES_DIR

ROOT = Path(__file__).resolve().parents[2]


def _messages(locale: str) -> dict[str, set[str]]:
    """Message id -> the names of its placeholders."""
    resource = FluentParser().parse((LOCALES_DIR / locale / "bot.ftl").read_text("utf-8"))
    serializer = FluentSerializer()
    return {
        entry.id.name: set(re.findall(r"\{ *\$([a-z_]+) *\}", serializer.serialize_entry(entry)))
        for entry in resource.body
        if isinstance(entry, ast.Message)
    }


def test_bot_ftl_has_the_same_keys_and_placeholders_in_every_locale() -> None:
    zh, *others = (_messages(loc) for loc in LOCALES)
    for other in others:
        assert other == zh


def test_every_key_the_shell_uses_exists() -> None:
    keys = set(_messages("zh"))
    used = {f"bot-command-{c}" for c in COMMANDS} | {note for _line, note, _a in CANDIDATE_NOTES}
    for path in (ROOT / "bot/handlers", ROOT / "bot/app.py", ROOT / "cetbot/demo.py"):
        files = [path] if path.is_file() else sorted(path.glob("*.py"))
        for file in files:
            used |= set(re.findall(r'"((?:bot|run|demo)-[a-z0-9-]+)"', file.read_text("utf-8")))
    cli = (ROOT / "cetbot/cli.py").read_text("utf-8")
    used |= set(re.findall(r'"((?:run|demo)-[a-z0-9-]+)"', cli))
    used = {k for k in used if not k.endswith("-")}
    assert used <= keys, used - keys
