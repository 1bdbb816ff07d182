"""Issue 19: the shared candidate flows (`tests/conversation/scenarios.py`) through the WeChat
adapter, the emulator's official account and the real conversations, on SQLite: the same
scenarios the Telegram adapters run, driven by `WeChatChat` (menu messages tapped, texts
typed). Flows that need what a WeChat user cannot do (forged button data, contact cards,
stickers) are left to the Telegram runs."""

from __future__ import annotations

import asyncio
import contextlib
import json
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
from tests.e2e.test_flows import BAD_INPUT_STEPS
from tests.e2e.test_flows import FLOWS as SHARED_FLOWS
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


async def _pay_link_and_paid(h: FlowHarness) -> None:
    """The pay step's link button is a link in the text; once the bank says paid the entry
    shows paid (the shared flow ends with a forged button, which WeChat cannot send)."""
    chat = h.chat()
    await scenarios.registered(h, chat, "wxpay@example.com")
    await chat.press("去支付")
    link = chat.button("支付 ¥30.00")
    assert link.url.startswith("http://127.0.0.1:9/pay/") and not link.payload
    await chat.press("更新支付状态")
    assert "暂时无法连接支付平台" in chat.text
    await scenarios.bank_says_paid(h)
    await chat.press("更新支付状态")
    assert "支付成功" in chat.text and "已支付" in chat.text
    assert not chat.has_button("取消报考") and not chat.has_button("去支付")


async def _hostile_inputs(h: FlowHarness, step: str) -> None:
    """The shared bad-input table at a text step, typed in WeChat (no stickers there):
    kind replies, the step and its data unchanged; /start mid-flow saves nothing."""
    chat = h.chat()
    await scenarios.STEPS[step](h, chat)
    state, data = await h.conversation(chat)
    assert state == step
    registrations = await h.registrations()
    for bad in scenarios.BAD_INPUTS:
        await chat.send(bad)
        assert chat.text and scenarios.APOLOGY not in chat.text, (step, bad)
        assert "x" * 100 not in chat.text  # never echoes a long input back
        now_state, now_data = await h.conversation(chat)
        assert now_state == step, (step, bad, chat.text)
        assert {k: v for k, v in now_data.items() if k != "_last"} == {
            k: v for k, v in data.items() if k != "_last"
        }, (step, bad)
    await chat.command("start")
    assert "已离开刚才的步骤，未保存任何内容" in chat.text
    assert (await h.conversation(chat))[0] == "menu"
    assert await h.registrations() == registrations


# The Telegram runs' flows (tests/e2e/test_flows.py), all but those that need what a WeChat
# user cannot do or WeChat does not tell: a forged button (the paid-entry and other-user
# checks), a PDF file (tickets come as an image and a link: the ticket branch), the
# client's language (WeChat sends none: candidates start in Chinese and switch).
NOT_ON_WECHAT = {
    "pay_link_and_update": "ends with a forged button",
    "forged_callback_for_another_users_entry": "a forged button",
    "tickets_after_print_time_and_quick_print": "a PDF document",
    "language_switch_to_english": "starts from an English client",
}
FLOWS: dict[str, Scenario] = {
    "first_registration": _first_registration,
    "pay_link_and_paid": _pay_link_and_paid,
    **{name: flow for name, flow in SHARED_FLOWS.items() if name not in NOT_ON_WECHAT},
}


@pytest.fixture
async def wechat_flows(
    wechat: WeChatHarness, sqlite_url: str, tmp_path: Path
) -> AsyncIterator[WeChatFlows]:
    async with _flows(wechat, sqlite_url, tmp_path) as flows:
        yield flows


@pytest.fixture
async def wechat_flows_both(
    wechat: WeChatHarness, shared_db_url: str, tmp_path: Path
) -> AsyncIterator[WeChatFlows]:
    """The same on SQLite and PostgreSQL."""
    async with _flows(wechat, shared_db_url, tmp_path) as flows:
        yield flows


@contextlib.asynccontextmanager
async def _flows(
    wechat: WeChatHarness, sqlite_url: str, tmp_path: Path
) -> AsyncIterator[WeChatFlows]:
    bot = await wechat.start(
        sqlite_url,
        msgmenu=True,
        reply_budget=4.0,
        push_timeout=5.0,
        # The real conversations, with a pause a test may set (0: none).
        wrap=lambda engine: Slow(engine, 0.0),
        # The sandbox payment server is not running: its port refuses at once.
        payment_sandbox_url="http://127.0.0.1:9",
        data_dir=tmp_path / "data",
    )
    db = Database(sqlite_url)
    try:
        async with db.uow(readonly=True) as uow:
            session = await uow.sessions.current(wechat.clock.now())
        assert session is not None, "the example session is not seeded"
        yield WeChatFlows(db, wechat.clock, wechat.mailbox, session.id, wechat.wx, bot)
    finally:
        await db.dispose()


async def test_first_registration_through_wechat_on_both_databases(
    wechat_flows_both: WeChatFlows,
) -> None:
    await _first_registration(wechat_flows_both)


@pytest.mark.parametrize("flow", list(FLOWS))
async def test_flow_through_wechat(wechat_flows: WeChatFlows, flow: str) -> None:
    await FLOWS[flow](wechat_flows)
    # Every step's reply fitted the quota: WeChat refused no customer-service message.
    calls = await wechat_flows.wx.api_calls("message/custom/send")
    assert calls and all(c["errcode"] == 0 for c in calls), calls
    assert wechat_flows.bot.adapter.wechat.custom_refused == 0


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
    # Out: forgotten with the other clears shortly after (engine.CLEAR_AFTER); a bounded
    # number of looks, not a timing.
    for _ in range(250):
        async with h.db.uow(readonly=True) as uow:
            conv = await uow.conversations.get("wechat", chat.user_id, chat.user_id)
        if conv is None or not conv.reply:
            break
        await asyncio.sleep(0.02)
    assert conv is not None and not conv.reply


@pytest.mark.parametrize("step", BAD_INPUT_STEPS)
async def test_hostile_inputs_through_wechat(wechat_flows: WeChatFlows, step: str) -> None:
    await _hostile_inputs(wechat_flows, step)


async def test_r8_password_on_wechat_asks_the_candidate_to_delete_it(
    wechat_flows: WeChatFlows,
) -> None:
    """R8 on a platform that cannot delete a user's message: the password prompt and the
    note after it ask the candidate to delete the message themselves, and nothing claims a
    deletion that did not happen (on Telegram the bot deletes it: test_main_path)."""
    h = wechat_flows
    chat = h.chat()
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("注册通行证")
    await chat.send("own@example.com")
    assert "长按您发出的密码消息并删除" in chat.text and "立即删除" not in chat.text, chat.text
    await chat.send(PASSWORD)
    assert "请长按刚才发送的含密码的消息" in chat.text, chat.text
    assert "已删除" not in chat.text
    # Every message the candidate saw, menu messages included, as WeChat stored them.
    seen = json.dumps(await h.wx.transcript(chat.openid), ensure_ascii=False)
    assert "请长按刚才发送的含密码的消息" in seen
    assert "已删除" not in seen and "立即删除" not in seen
