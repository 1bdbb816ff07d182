"""Nothing lost, nothing twice: expired menus, double presses, re-delivered updates,
forged callbacks, a restart mid-flow, and an unexpected error (issue 4, section 6)."""

from __future__ import annotations

import pytest

from bot.conversation import context
from bot.conversation.types import AnswerButton, SendText
from tests.conversation import scenarios
from tests.conversation.conftest import Harness
from tests.conversation.flows_helpers import ZHANG, save_information, sign_up


async def test_button_from_an_old_message_is_expired_and_changes_nothing(harness: Harness) -> None:
    chat = harness.chat()
    await chat.command("start")
    old_menu = chat.menu_id
    old_info = chat.button("报名须知与问答").payload
    await chat.press("通行证账号")
    await chat.press("注册通行证")
    await chat.send("old@example.com")  # now at the password step, a new message
    before = await harness.conversation(chat)
    await chat.press_payload(old_info, message_id=old_menu)
    assert chat.answers[0].text == "菜单已过期"
    sent = [a for a in chat.last if isinstance(a, SendText)]
    assert len(sent) == 1 and sent[0].edit_message_id is None  # a fresh menu, new message
    assert "这个菜单已过期" in chat.text and "设置密码" in chat.text
    assert await harness.conversation(chat) == before
    # The fresh menu works.
    await chat.press("返回")
    assert "注册通行证" in chat.text


async def test_same_button_pressed_twice_acts_once(harness: Harness) -> None:
    chat = harness.chat()
    await chat.command("start")
    payload, menu = chat.button("通行证账号").payload, chat.menu_id
    await chat.press_payload(payload, message_id=menu)
    after_first = await harness.conversation(chat)
    actions = await chat.press_payload(payload, message_id=menu)
    assert actions == [AnswerButton(chat.answers[0].callback_id)]
    assert await harness.conversation(chat) == after_first


async def test_redelivered_update_does_nothing(harness: Harness) -> None:
    chat = harness.chat()
    await chat.command("start")
    press = chat.event(
        __import__("bot.conversation.types", fromlist=["EventKind"]).EventKind.BUTTON,
        payload=chat.button("通行证账号").payload,
        message_id=chat.menu_id,
        callback_id="cb-x",
    )
    first = await harness.bot.handle(press)
    assert any(isinstance(a, SendText) for a in first)
    again = await harness.bot.handle(press)
    assert again == [AnswerButton("cb-x")]
    text = chat.event(
        __import__("bot.conversation.types", fromlist=["EventKind"]).EventKind.TEXT,
        text="hello",
        message_id=5,
    )
    assert await harness.bot.handle(text)
    assert await harness.bot.handle(text) == []


async def test_forged_callback_naming_another_users_entry_is_refused(harness: Harness) -> None:
    await scenarios.forged_callback_naming_another_users_entry_is_refused(harness)


async def test_garbage_callback_data_is_answered_as_expired(harness: Harness) -> None:
    chat = harness.chat()
    await chat.command("start")
    for payload in ("hello", "c1:zz:menu:" + "x" * 70, "c1:1:DROP TABLE", "c2:1:menu"):
        await chat.press_payload(payload)
        assert chat.answers[0].text == "菜单已过期"


async def test_restart_mid_flow_resumes_at_the_same_step(harness: Harness) -> None:
    chat = harness.chat()
    await sign_up(harness, chat, "restart@example.com")
    await chat.command("start")
    await chat.press("开始报名")
    await chat.press("我已阅读并同意")
    await chat.press("居民身份证")
    chat.bot = harness.restart()  # a new process over the same database
    await chat.send(ZHANG[0])
    assert "请输入证件号码" in chat.text
    await chat.send(ZHANG[2])
    assert "请核对您的学籍信息" in chat.text


async def test_unexpected_error_apologizes_logs_and_changes_nothing(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    chat = harness.chat()
    await chat.command("start")
    before = await harness.conversation(chat)

    async def broken(ctx: context.Ctx) -> context.Screen:
        raise RuntimeError("boom")

    monkeypatch.setitem(context.SCREENS, "info", broken)
    press = chat.button("报名须知与问答").payload
    await chat.press_payload(press)
    assert "系统出了点问题" in chat.text
    assert len(chat.answers) == 1
    assert await harness.conversation(chat) == before
    assert any("failed" in r.getMessage() and "update" in r.getMessage() for r in caplog.records)
    monkeypatch.undo()
    await chat.command("start")
    assert "请选择要办理的事项" in chat.text


async def test_concurrent_double_tap_is_applied_once_in_order(harness: Harness) -> None:
    """Two updates of one user at the same moment: the row lock serializes them."""
    import asyncio

    from bot.conversation.types import EventKind

    chat = harness.chat()
    await sign_up(harness, chat, "race@example.com")
    await save_information(chat, ZHANG)
    await chat.press("英语四级")
    await chat.press("海淀校区")
    payload, menu = chat.button("不需要").payload, chat.menu_id
    presses = [
        chat.event(EventKind.BUTTON, payload=payload, message_id=menu, callback_id=f"r{i}")
        for i in range(2)
    ]
    results = await asyncio.gather(*(harness.bot.handle(p) for p in presses))
    assert sorted(len(r) for r in results) == [1, 2]  # one acted, one only answered
    async with harness.db.uow(readonly=True) as uow:
        registration = await uow.registrations.active_of_account(
            harness.session_id, (await uow.accounts.by_email("race@example.com")).id
        )
        entries = await uow.entries.of_registration(registration.id)
    assert [e.subject_code for e in entries] == ["CET4"]
