"""Checks without a database: locale keys, the flow table and its diagram, callback data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fluent.syntax import FluentParser, ast
from fluent.syntax.visitor import Visitor

from bot.conversation import callbacks, flows, inputs
from bot.conversation.context import BUTTON_HANDLERS, CONTACT_HANDLERS, SCREENS, TEXT_HANDLERS
from bot.conversation.steps import load
from tests.conftest import ROOT

LOCALES = ROOT / "locales"
CODE = ROOT / "bot" / "conversation"


class _Variables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_VariableReference(self, node: ast.VariableReference) -> None:
        self.names.add(node.id.name)


def _messages(path: Path) -> dict[str, set[str]]:
    resource = FluentParser().parse(path.read_text(encoding="utf-8"))
    out: dict[str, set[str]] = {}
    for entry in resource.body:
        assert not isinstance(entry, ast.Junk), entry.content
        if isinstance(entry, ast.Message):
            collect = _Variables()
            collect.visit(entry)
            out[entry.id.name] = collect.names
    return out


@pytest.mark.parametrize("name", ["chat.ftl", "errors.ftl", "admin.ftl"])
def test_both_locales_have_the_same_keys_and_placeholders(name: str) -> None:
    zh, en = _messages(LOCALES / "zh" / name), _messages(LOCALES / "en" / name)
    assert zh.keys() == en.keys()
    assert zh == en


def test_chat_keys_are_kebab_case() -> None:
    for key in _messages(LOCALES / "zh" / "chat.ftl"):
        assert re.fullmatch(r"chat(-[a-z0-9]+)+", key), key
    assert "error-internal" in _messages(LOCALES / "zh" / "errors.ftl")


def test_every_key_the_code_names_exists() -> None:
    known = {
        key
        for name in ("chat.ftl", "errors.ftl", "admin.ftl")
        for key in _messages(LOCALES / "zh" / name)
    }
    source = "\n".join(p.read_text(encoding="utf-8") for p in CODE.rglob("*.py"))
    for key in set(re.findall(r'"((?:chat|admin)-[a-z0-9-]+[a-z0-9])"', source)):
        assert key in known, key
    for step in flows.STEPS.values():
        assert step.prompt in known, step.prompt
        if step.typed:
            assert f"chat-expects-{step.expects.value}" in known


def test_no_cjk_text_in_the_conversation_code() -> None:
    cjk = re.compile("[\u3000-\u9fff\uff00-\uffef]")
    for path in [*CODE.rglob("*.py"), ROOT / "scripts" / "draw_flows.py"]:
        assert not cjk.search(path.read_text(encoding="utf-8")), path


def test_flow_table_is_complete_and_every_step_has_handlers() -> None:
    load()
    assert flows.check_table() == []
    for name, step in flows.STEPS.items():
        assert name in SCREENS, name
        if step.typed:
            assert name in TEXT_HANDLERS, name
        if flows.CONTACT in step.triggers():
            assert name in CONTACT_HANDLERS, name
        for trigger in step.triggers() - {flows.TEXT, flows.BACK, flows.CONTACT}:
            if trigger.startswith("/"):
                continue  # a command, handled by the engine
            assert (name, trigger) in BUTTON_HANDLERS, (name, trigger)
    for state in CONTACT_HANDLERS:
        assert flows.CONTACT in flows.STEPS[state].triggers(), state
    for state, action in BUTTON_HANDLERS:
        assert flows.allowed(state, action), (state, action)


def test_docs_flows_md_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "flows.md").read_text(encoding="utf-8")
    assert committed == flows.markdown(), "run: .venv/bin/python scripts/draw_flows.py"


def test_callback_data_round_trips_and_fits_64_bytes() -> None:
    payload = callbacks.encode(10**12, "entry", 2**40)
    assert len(payload.encode()) <= 64
    assert callbacks.decode(payload) == callbacks.Callback(10**12, "entry", (str(2**40),))
    with pytest.raises(ValueError):
        callbacks.encode(1, "faq", "x" * 41)
    with pytest.raises(ValueError):
        callbacks.encode(1, "faq", "a:b")
    assert callbacks.decode("c1:1:faq:a b") is None


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("怎么报名", True),
        ("报名费多少？", True),
        ("what is the fee", True),
        ("Can Li", False),
        ("张伟", False),
        ("何雨桐", False),
        ("zhang@example.com", False),
    ],
)
def test_obvious_questions(text: str, question: bool) -> None:
    assert inputs.looks_like_question(text) is question


def test_names_are_checked_before_any_lookup() -> None:
    assert inputs.clean_name(" 阿依古丽•买买提 ") == "阿依古丽·买买提"
    assert inputs.clean_name("KIM  MINJUN") == "KIM MINJUN"
    for bad in ("<b>张伟</b>", "😀", "*_[", "张伟1", "x" * 41, ""):
        assert inputs.clean_name(bad) is None, bad
