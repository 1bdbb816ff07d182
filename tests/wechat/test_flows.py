"""Issue 19: the shared candidate flows (`tests/conversation/scenarios.py`) through the WeChat
adapter, the emulator's official account and the real conversations, on SQLite: the same
scenarios the Telegram adapters run, driven by `WeChatChat` (menu messages tapped, texts
typed). Flows that need what a WeChat user cannot do (forged button data, contact cards,
stickers) are left to the Telegram runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from storage.db import Database
from tests.conversation import scenarios
from tests.conversation.driver import FlowHarness
from tests.conversation.flows_helpers import (
    PASSWORD,
    ZHANG,
    register,
    save_information,
    sign_up,
)
from tests.wechat.conftest import Slow, WeChatHarness
from tests.wechat.flows_driver import WeChatChat, WeChatFlows

Scenario = Callable[[FlowHarness], Awaitable[None]]


async def _first_registration(h: FlowHarness) -> None:
    """Follow the account, sign up, look up, save, register CET-4 at a campus: the entry
    exists and the pay step is offered."""
    chat = h.chat()
    assert isinstance(chat, WeChatChat)
    await sign_up(h, chat, "wechat@example.com")
    await save_information(chat, ZHANG)
    await register(chat, "英语四级", "海淀校区")
    assert "已报考 英语四级" in chat.text, chat.text
    assert chat.has_button("去支付")
    assert await h.registrations() == 1
    assert (await h.conversation(chat))[0] != "menu"


FLOWS: dict[str, Scenario] = {
    "first_registration": _first_registration,
    "account_sign_up_sign_in_sign_out": (
        scenarios.sign_in_from_another_chat_sign_out_and_wrong_password
    ),
    "register_written_and_oral_cancel_cascade": scenarios.oral_after_written_and_cancel_lists_both,
    "overview_change_campus_and_paper": scenarios.change_campus_and_paper_report,
    "information_menu": scenarios.information_menu_topics_and_answers,
}


@pytest.fixture
async def wechat_flows(
    wechat: WeChatHarness, sqlite_url: str, tmp_path: Path
) -> AsyncIterator[WeChatFlows]:
    bot = await wechat.start(
        sqlite_url,
        msgmenu=True,
        reply_budget=4.0,
        push_timeout=5.0,
        # The real conversations, with a pause a test may set (0: none).
        wrap=lambda engine: Slow(engine, 0.0),
    )
    db = Database(sqlite_url)
    try:
        async with db.uow(readonly=True) as uow:
            session = await uow.sessions.current(wechat.clock.now())
        assert session is not None, "the example session is not seeded"
        yield WeChatFlows(db, wechat.clock, wechat.mailbox, session.id, wechat.wx, bot)
    finally:
        await db.dispose()


@pytest.mark.parametrize("flow", list(FLOWS))
async def test_flow_through_wechat(wechat_flows: WeChatFlows, flow: str) -> None:
    await FLOWS[flow](wechat_flows)


async def test_a_reply_refused_for_the_quota_is_kept_and_delivered_after_the_next_message(
    wechat_flows: WeChatFlows,
) -> None:
    """45047 (the quota used up on WeChat's side): the step's reply is logged and kept on
    the conversation row (bot/conversation/replies.py), not lost; the candidate's next
    message opens a new quota and the kept reply goes out before the new one."""
    h = wechat_flows
    chat = h.chat()
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("注册通行证")
    await chat.send("kept@example.com")
    # WeChat's count runs out while the step runs (another sender used it up).
    slow = h.bot.app.engine
    assert isinstance(slow, Slow)
    slow.delay = 1.0
    step = asyncio.create_task(chat.send(PASSWORD))
    await asyncio.sleep(0.5)
    await h.wx.use_up_quota(chat.openid)
    await step
    slow.delay = 0.0
    assert chat.text == ""  # nothing reached the candidate
    async with h.db.uow(readonly=True) as uow:
        conv = await uow.conversations.get("wechat", chat.user_id, chat.user_id)
    assert conv is not None and conv.reply, "the reply is kept"
    codes = [c["errcode"] for c in await h.wx.api_calls("message/custom/send")]
    assert codes[-1] == 45047 and codes.count(45047) == 1
    # A minute later (the kept reply's replay time) the candidate types the mailed code.
    await h.wx.advance_clock(seconds=90)
    await chat.send(h.code_for("kept@example.com"))
    assert "已注册" in chat.text and "邮箱验证成功" in chat.text, chat.text
    assert chat.text.index("已注册") < chat.text.index("邮箱验证成功")
    async with h.db.uow(readonly=True) as uow:
        conv = await uow.conversations.get("wechat", chat.user_id, chat.user_id)
    assert conv is not None and not conv.reply
