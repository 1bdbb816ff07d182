"""Issue 19 through the WeChat adapter and the emulator's official account, over real HTTP:
the admission ticket arrives as its page's image plus a signed link that opens the PDF on
the bot's own server (an official account sends no files); notices the outbox pushes go as
customer-service messages inside the candidate's 48-hour window and as template messages
(模板消息) outside it, through the worker's dispatcher."""

from __future__ import annotations

import html
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import zxingcpp
from PIL import Image

from admission.ticket_signing import verify_ticket
from admission.tickets import signing_key
from background import jobs
from backoffice.importing import parse_session_toml
from bot.handlers.wechat.templates import NOTICE_TEMPLATES, account_templates
from bot.worker_runtime import OutboxDispatcher
from foundation.i18n import t
from storage.db import Database
from tests.conversation.flows_helpers import register, save_information, sign_up
from tests.conversation.scenarios import SESSION_TOML, ZHANG, bank_says_paid, registered
from tests.wechat.conftest import WeChatHarness, free_port
from tests.wechat.flows_driver import _LINK as LINK
from tests.wechat.flows_driver import WeChatChat, WeChatFlows

TEMPLATES = {
    "wechat_template_reminder": "TPL_REMINDER",
    "wechat_template_waitlist": "TPL_WAITLIST",
    "wechat_template_review": "TPL_REVIEW",
}


@pytest.fixture
async def flows(
    wechat: WeChatHarness, sqlite_url: str, tmp_path: Path
) -> AsyncIterator[WeChatFlows]:
    port = free_port()
    bot = await wechat.start(
        sqlite_url,
        msgmenu=True,
        reply_budget=4.0,
        push_timeout=5.0,
        port=port,
        # The bot's own server: the push URL, the payment callback and ticket links.
        public_url=f"http://127.0.0.1:{port}",
        data_dir=tmp_path / "data",
        **TEMPLATES,
    )
    # The account's templates with their keywords, so WeChat's check (47003) applies.
    await wechat.wx.update_account(templates=account_templates(bot.app.settings))
    db = Database(sqlite_url)
    try:
        async with db.uow(readonly=True) as uow:
            session = await uow.sessions.current(wechat.clock.now())
        assert session is not None
        yield WeChatFlows(db, wechat.clock, wechat.mailbox, session.id, wechat.wx, bot)
    finally:
        await db.dispose()


async def send_outbox(h: WeChatFlows) -> int:
    """What the worker does with the WeChat rows of the outbox now."""
    dispatcher = OutboxDispatcher(h.db, h.clock, h.bot.adapter.performer, platform="wechat")
    return (await dispatcher.drain()).sent


async def bot_entries(h: WeChatFlows, chat: WeChatChat, after: int) -> list[dict[str, Any]]:
    return [
        e
        for e in await h.wx.transcript(chat.openid)
        if e["direction"] == "bot" and e["seq"] > after
    ]


async def test_r38_the_ticket_is_an_image_and_a_link_that_opens_the_pdf(
    flows: WeChatFlows,
) -> None:
    h = flows
    chat = h.chat()
    assert isinstance(chat, WeChatChat)
    await registered(h, chat, "ticket@example.com")
    mark = await h.wx.mark(chat.openid)
    await chat.press("去支付")
    # A menu message would show the pay link as raw markup: the text with the link comes
    # first as a text message (WeChat shows its <a href> as a link), the choices after.
    step = await bot_entries(h, chat, mark)
    assert [e["kind"] for e in step] == ["text", "msgmenu"], step
    assert '<a href="' in step[0]["text"] and "/pay/" in step[0]["text"]
    assert "<a href" not in step[1]["head_content"]
    await bank_says_paid(h)
    await chat.press("更新支付状态")
    await chat.press("返回")
    spec = parse_session_toml(SESSION_TOML)
    h.clock.set(spec.windows.print_written + timedelta(hours=1))
    await chat.press("打印准考证")
    assert "已发送 1 份准考证" in chat.text, chat.text
    # The page as an image message: a PNG whose QR code verifies with the bot's key.
    [photo] = chat.photos
    with Image.open(io.BytesIO(photo.data)) as img:
        assert img.format == "PNG" and img.width == 1080
        found = zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)
    key = signing_key(h.bot.app.settings)
    assert [verify_ticket(b.text, key.public_key()).valid for b in found] == [True]
    # The link under it opens the stored PDF on the bot's own server.
    links = dict((label, url) for url, label in LINK.findall(chat.text))
    link = html.unescape(links[t("zh", "wechat-ticket-link")])
    assert link.startswith(h.bot.app.settings.public_url + "/tickets/")
    async with aiohttp.ClientSession() as http:
        async with http.get(link) as resp:
            assert resp.status == 200 and resp.content_type == "application/pdf"
            pdf = await resp.read()
        async with http.get(link.replace(".zh.", ".en.")) as forged:
            assert forged.status == 403
    assert pdf.startswith(b"%PDF")
    # Image and link went within the quota of the candidate's message (one image, one text).
    uploads = await h.wx.api_calls("media/upload")
    assert [c["errcode"] for c in uploads][-1] == 0


async def _waitlisted(h: WeChatFlows) -> WeChatChat:
    """A candidate waiting for a CET-4 seat at the full Changping campus."""
    await h.set_capacity("BSU-CP", "CET4", 0)
    chat = h.chat()
    assert isinstance(chat, WeChatChat)
    await sign_up(h, chat, "wait@example.com")
    await save_information(chat, ZHANG)
    await chat.press("英语四级")
    await chat.press("昌平校区")
    await chat.press("加入候补")
    assert "已加入候补" in chat.text, chat.text
    return chat


async def test_r32_r37_outside_the_48_hour_window_promotion_and_reminder_are_templates(
    flows: WeChatFlows,
) -> None:
    h = flows
    chat = await _waitlisted(h)
    # Two days and an hour without a word from the candidate: WeChat's window is closed.
    await h.wx.advance_clock(hours=49)
    mark = await h.wx.mark(chat.openid)
    custom_before = len(await h.wx.api_calls("message/custom/send"))
    await h.set_capacity(
        "BSU-CP", "CET4", 1
    )  # R37: the waiter gets the seat and must be told at once
    assert await send_outbox(h) == 1
    [promoted] = await bot_entries(h, chat, mark)
    assert (promoted["kind"], promoted["via"]) == ("template", "template")
    assert promoted["template_id"] == "TPL_WAITLIST"
    values = promoted["data"]
    assert values["keyword1"] == "英语四级" and "昌平校区" in values["keyword2"]
    async with h.db.uow(readonly=True) as uow:
        account = await uow.accounts.by_email("wait@example.com")
        assert account is not None
        reg = await uow.registrations.active_of_account(h.session_id, account.id)
        assert reg is not None
        [entry] = await uow.entries.of_registration(reg.id)
    assert entry.status == "unpaid"
    deadline = (entry.expires_at + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    assert values["keyword3"] == deadline
    # R32: 6 hours before the promoted entry expires, the reminder; still no word from
    # the candidate, so a template message too, naming the same deadline.
    await h.wx.advance_clock(hours=18.5)
    assert (await jobs.queue_reminders(h.db, h.clock, (360, 60))).queued == 1
    mark = await h.wx.mark(chat.openid)
    assert await send_outbox(h) == 1
    [reminder] = await bot_entries(h, chat, mark)
    assert (reminder["kind"], reminder["template_id"]) == ("template", "TPL_REMINDER")
    assert reminder["data"]["keyword3"] == deadline
    assert reminder["data"]["first"] == t("zh", NOTICE_TEMPLATES["reminder"].first)
    # No customer-service message was even tried outside the window.
    assert len(await h.wx.api_calls("message/custom/send")) == custom_before
    templates = await h.wx.api_calls("message/template/send")
    assert [c["errcode"] for c in templates] == [0, 0]


async def test_r32_inside_the_window_the_reminder_is_a_chat_message(flows: WeChatFlows) -> None:
    h = flows
    chat = h.chat()
    assert isinstance(chat, WeChatChat)
    await sign_up(h, chat, "inside@example.com")
    await save_information(chat, ZHANG)
    await register(chat, "英语四级", "海淀校区")
    await h.wx.advance_clock(hours=18.5)
    # The candidate wrote a moment ago: the window is open and the quota has room.
    await chat.command("start")
    assert (await jobs.queue_reminders(h.db, h.clock, (360, 60))).queued == 1
    mark = await h.wx.mark(chat.openid)
    assert await send_outbox(h) == 1
    [reminder] = await bot_entries(h, chat, mark)
    assert (reminder["kind"], reminder["via"]) == ("text", "custom")
    assert "尚未支付" in reminder["text"] and "英语四级" in reminder["text"]
    assert await h.wx.api_calls("message/template/send") == []


async def test_a_notice_without_a_template_waits_for_the_candidate_and_is_not_lost(
    flows: WeChatFlows,
) -> None:
    """The payment template is optional: outside the window a payment notice is neither
    sent through the wrong template nor marked sent nor used up by retries; it waits, and
    goes out as a chat message once the candidate writes again (nothing lost)."""
    h = flows
    chat = await _waitlisted(h)
    await h.wx.advance_clock(hours=49)
    async with h.db.uow() as uow:
        await uow.outbox.add(
            platform="wechat",
            chat_id=chat.user_id,
            kind="payment-refund",
            payload={"entry_id": 1, "subject": "CET4", "campus_id": 1, "amount_fen": 3000},
            now=h.clock.now(),
        )
        await uow.commit()

    async def the_row() -> tuple[str, int, str | None]:
        async with h.db.uow() as uow:
            now = h.clock.now()
            # Claimed with a lease that has already run out: a look that leaves it due.
            [row] = await uow.outbox.claim("probe", now + timedelta(days=1), now, 10)
            await uow.commit()
        return row.kind, row.attempts, row.last_error

    mark = await h.wx.mark(chat.openid)
    # Ten looks over more than a day, far beyond the worker's 8 attempts: still waiting.
    for _ in range(10):
        assert await send_outbox(h) == 0
        assert await the_row() == ("payment-refund", 0, "waiting")
        await h.wx.advance_clock(hours=3)
    assert await bot_entries(h, chat, mark) == []
    assert await h.wx.api_calls("message/template/send") == []
    # The candidate writes: the window opens, and the next look sends it as a chat message.
    await chat.command("start")
    await h.wx.advance_clock(seconds=11 * 60)
    mark = await h.wx.mark(chat.openid)
    assert await send_outbox(h) == 1
    [notice] = await bot_entries(h, chat, mark)
    assert (notice["kind"], notice["via"]) == ("text", "custom")


async def test_r38_four_tickets_fit_the_quota_of_one_message(flows: WeChatFlows) -> None:
    """A candidate with written and oral tickets of both levels: their step (the menu, the
    pictures, the links) must fit the 5 messages WeChat allows after one message, or it
    would be kept forever. Three pictures, and one text with all four links."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from admission.ticket_pdf import render_ticket
    from admission.ticket_signing import TicketClaims, sign_ticket
    from bot.conversation.types import Button, SendDocument, SendText
    from bot.handlers.wechat.folding import fold
    from bot.handlers.wechat.store import MESSAGE_RULE
    from tests.tickets.conftest import base_view

    h = flows
    key = Ed25519PrivateKey.generate()
    claims = TicketClaims.for_candidate(
        ticket_no="000011262100101",
        session="2026-12",
        subject="CET4",
        room="001",
        seat=1,
        id_number="110108200503140231",
    )
    pdf = render_ticket(base_view(sign_ticket(key, claims), "英语四级"), "zh")
    performer = h.bot.adapter.wechat
    oid = "o_four_tickets_00000000000001"
    await h.wx.send_text(oid, "你好")  # a WeChat user, known to the bot
    user = (await h.bot.adapter.users.intake(oid, None, 0)).user_id
    menu = SendText(user, "已发送 4 份准考证", keyboard=((Button("主菜单", payload="x"),),))
    docs = [
        SendDocument(user, f"t{i}.pdf", data=pdf, cache_key=f"ticket:{i}:zh") for i in range(1, 5)
    ]
    prepared = await performer.prepare(user, fold([menu, *docs]))
    kinds = [p.custom["msgtype"] for p in prepared]
    assert kinds == ["msgmenu", "image", "image", "image", "text"], kinds
    links = LINK.findall(prepared[-1].custom["text"]["content"])
    assert len(links) == 4 and {u.split("/tickets/")[1].split(".")[0] for u, _ in links} == {
        "1",
        "2",
        "3",
        "4",
    }
    assert len(prepared) <= MESSAGE_RULE.limit  # what one message of the candidate allows
