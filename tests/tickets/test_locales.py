"""The ticket's words exist in both locales, with the same keys and placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from fluent.syntax import FluentParser, ast
from fluent.syntax.visitor import Visitor

LOCALES = Path(__file__).resolve().parents[2] / "locales"


class _Variables(Visitor):
    """Collects the names of the `$variables` a message uses."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_VariableReference(self, node: ast.VariableReference) -> None:
        self.names.add(node.id.name)


def _messages(locale: str) -> dict[str, set[str]]:
    """Message id -> the variables it uses, from `locales/<locale>/ticket.ftl`."""
    resource = FluentParser().parse((LOCALES / locale / "ticket.ftl").read_text(encoding="utf-8"))
    messages: dict[str, set[str]] = {}
    for entry in resource.body:
        assert not isinstance(entry, ast.Junk), entry.content
        if isinstance(entry, ast.Message):
            collect = _Variables()
            collect.visit(entry)
            messages[entry.id.name] = collect.names
    return messages


def test_r38_ticket_keys_and_placeholders_match_in_zh_and_en() -> None:
    zh, en = _messages("zh"), _messages("en")
    assert zh.keys() == en.keys()
    assert zh == en


def test_r38_ticket_keys_are_kebab_case_and_prefixed() -> None:
    for key in _messages("zh"):
        assert re.fullmatch(r"ticket(-[a-z0-9]+)+", key), key


def test_r38_eight_rules_for_candidates() -> None:
    rules = [k for k in _messages("zh") if k.startswith("ticket-rule-")]
    assert sorted(rules) == [f"ticket-rule-{i}" for i in range(1, 9)]
