"""Every text exists in Chinese and English with the same placeholders (STYLE habit 8)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fluent.syntax import FluentParser, ast

from foundation.i18n import LOCALES_DIR, t

PLACEHOLDER = re.compile(r"\{\s*\$([a-zA-Z0-9_-]+)\s*\}")


def _messages(path: Path) -> dict[str, set[str]]:
    resource = FluentParser().parse(path.read_text(encoding="utf-8"))
    junk = [e for e in resource.body if isinstance(e, ast.Junk)]
    assert not junk, f"{path}: unparsable entries {[j.content[:60] for j in junk]}"
    out: dict[str, set[str]] = {}
    text = path.read_text(encoding="utf-8")
    for entry in resource.body:
        if isinstance(entry, ast.Message):
            span = entry.span
            body = text[span.start : span.end] if span else ""
            out[entry.id.name] = set(PLACEHOLDER.findall(body))
    return out


FILES = sorted(p.name for p in (LOCALES_DIR / "zh").glob("*.ftl"))


def test_both_locales_have_the_same_files() -> None:
    en = sorted(p.name for p in (LOCALES_DIR / "en").glob("*.ftl"))
    assert FILES == en


@pytest.mark.parametrize("name", FILES)
def test_same_keys_and_placeholders_in_zh_and_en(name: str) -> None:
    zh = _messages(LOCALES_DIR / "zh" / name)
    en = _messages(LOCALES_DIR / "en" / name)
    assert sorted(set(zh) ^ set(en)) == []
    for key, names in zh.items():
        assert names == en[key], f"{name} {key}: zh {names} vs en {en[key]}"


def test_no_key_is_defined_twice_across_files() -> None:
    for locale in ("zh", "en"):
        seen: dict[str, str] = {}
        for path in sorted((LOCALES_DIR / locale).glob("*.ftl")):
            for key in _messages(path):
                assert key not in seen, f"{locale}: {key} in {seen.get(key)} and {path.name}"
                seen[key] = path.name


def test_lookup_falls_back_to_chinese_then_to_the_key() -> None:
    assert t("en", "app-name") != t("zh", "app-name")
    assert t("en", "no-such-key-anywhere") == "no-such-key-anywhere"
