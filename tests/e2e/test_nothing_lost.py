"""Issue 20, nothing lost: the reply of a committed update survives the death of its
process, through both real adapters against the emulator.

Seen: a paper-report press booked the entry, every send to the chat failed, the bot was
killed while retrying; after the restart nothing was ever sent, and /start said
"nothing was saved" although the entry existed.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.app import BotApp
from bot.conversation import engine as engine_module
from bot.handlers.retry import RetryPolicy
from emulator.client import EmulatorClient
from outgoing.mailer import MailboxMailer
from storage.db import Database
from tests.e2e.conftest import BotHarness, Chat, real_engine, real_engine_available

pytestmark = [
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
    pytest.mark.skipif(not real_engine_available(), reason="bot/conversation/engine.py not there"),
]

USER = 7301
EMAIL = "lost@example.com"
PASSWORD = "Cet2026_pass!"
NAME, ID_NUMBER = "张伟", "110108200503140231"  # examples/README.md: the plain path
# The killed process retries slowly, so it is surely killed in the middle of its retries.
SLOW_RETRY = RetryPolicy(backoff=(30.0, 30.0))
# After this long a kept reply is taken for abandoned (its process presumed dead).
REPLAY_AFTER = getattr(engine_module, "REPLAY_AFTER", timedelta(seconds=60))


async def _to_paper_step(chat: Chat, mailbox: MailboxMailer) -> None:
    await chat.start()
    await chat.command("start")
    await chat.press_action("reg")
    await chat.press_action("signup")
    await chat.say(EMAIL)
    await chat.say(PASSWORD)
    [mail] = mailbox.to(EMAIL)
    code = re.search(r"\b(\d{6})\b", mail.body)
    assert code is not None, mail.body
    await chat.say(code.group(1))
    if "agree" not in await chat.actions():
        await chat.press_action("goreg")
    await chat.press_action("agree")
    await chat.press_action("idt", "id_card")
    await chat.say(NAME)
    await chat.say(ID_NUMBER)
    await chat.press_action("confirm")
    await chat.press_action("usephone")
    await chat.press_action("subj", "CET4")
    await chat.press_action("camp", label_has="海淀")
    assert "paper" in await chat.actions(), await chat.last_text()


async def _kept_reply(db: Database) -> list | None:  # type: ignore[type-arg]
    async with db.uow(readonly=True) as uow:
        conv = await uow.conversations.get("telegram", USER, USER)
    return getattr(conv, "reply", None)


async def _cleared(db: Database) -> bool:
    """Whether the kept reply is forgotten: the engine writes its clears together shortly
    after the sends (engine.CLEAR_AFTER), so within a bounded wait (a count of tries)."""
    for _ in range(250):
        if await _kept_reply(db) is None:
            return True
        await asyncio.sleep(0.02)
    return False


async def _seats_taken(db: Database) -> int:
    async with db.uow(readonly=True) as uow:
        taken = 0
        for session in await uow.sessions.all():
            taken += sum(s.taken for s in await uow.sessions.seats_of_session(session.id))
    return taken


async def _booked_texts(em: EmulatorClient) -> list[str]:
    return [
        m["text"]
        for m in await em.transcript(USER, include_deleted=False)
        if m["sender"] == "bot" and "已报考" in (m["text"] or "")
    ]


async def _crash_while_retrying_the_booking_reply(
    harness: BotHarness,
    url: str,
    em: EmulatorClient,
    mailbox: MailboxMailer,
    chat_factory: Callable[[BotApp, int], Chat],
) -> Database:
    first = await harness.polling(harness.build(url, engine=real_engine, retry=SLOW_RETRY))
    chat = chat_factory(first, USER)
    await _to_paper_step(chat, mailbox)
    buttons = [b for b in await chat.buttons() if ":paper:" in (b.get("callback_data") or "")]
    menu = await chat.last()
    # Every send and edit to this chat fails from now on (a 502 from Telegram's front).
    for method in ("sendMessage", "editMessageText"):
        await em.inject(method, "502", None, chat_id=USER)
    db = Database(url)
    taken = await _seats_taken(db)
    await em.press(USER, menu["message_id"], buttons[0]["callback_data"])
    for _ in range(200):  # the booking commits; its reply is being retried
        if await _seats_taken(db) > taken:
            break
        await asyncio.sleep(0.05)
    assert await _seats_taken(db) == taken + 1, "the booking did not commit"
    await asyncio.sleep(0.2)  # well inside the first 30 s pause of the retries
    # Killed in the middle of its retries: the user's task is cancelled, nothing more sent.
    await first.adapter.runner.drain(timeout=0.01)
    first.request_stop()
    for app, task in harness.apps:
        if app is first and task is not None:
            await asyncio.wait_for(task, 20)
    harness.apps = [(a, t) for a, t in harness.apps if a is not first]
    await em.clear_faults()
    assert await _booked_texts(em) == []
    return db


async def test_reply_of_a_committed_booking_is_sent_after_a_crash_exactly_once(
    harness: BotHarness,
    sqlite_url: str,
    em: EmulatorClient,
    mailbox: MailboxMailer,
    chat_factory: Callable[[BotApp, int], Chat],
) -> None:
    db = await _crash_while_retrying_the_booking_reply(
        harness, sqlite_url, em, mailbox, chat_factory
    )
    try:
        harness.clock.advance(REPLAY_AFTER + timedelta(seconds=1))
        second = await harness.polling(harness.build(sqlite_url, engine=real_engine))
        assert len(await _booked_texts(em)) == 1, await em.transcript(USER)
        assert await _cleared(db)  # confirmed sent: not sent again
        harness.clock.advance(REPLAY_AFTER * 2)
        assert await second.adapter.runner.replay_unsent() == 0
        assert len(await _booked_texts(em)) == 1
        # /start now says what is true: the booking is saved.
        chat = chat_factory(second, USER)
        await chat.command("start")
        text = await chat.last_text()
        assert "未保存任何内容" not in text and "已保存" in text, text
    finally:
        await db.dispose()


async def test_pressing_the_old_button_again_after_a_crash_brings_the_reply(
    harness: BotHarness,
    sqlite_url: str,
    em: EmulatorClient,
    mailbox: MailboxMailer,
    chat_factory: Callable[[BotApp, int], Chat],
) -> None:
    db = await _crash_while_retrying_the_booking_reply(
        harness, sqlite_url, em, mailbox, chat_factory
    )
    try:
        # The new process starts before the kept reply is due (the dead one might still be
        # sending, as far as it knows); the candidate presses the same button again later.
        second = await harness.polling(harness.build(sqlite_url, engine=real_engine))
        assert await _booked_texts(em) == []
        harness.clock.advance(REPLAY_AFTER + timedelta(seconds=1))
        chat = chat_factory(second, USER)
        menu = await chat.last()
        paper = [
            b
            for row in (menu.get("keyboard") or [])
            for b in row
            if ":paper:" in (b.get("callback_data") or "")
        ]
        pressed = await em.press(USER, menu["message_id"], paper[0]["callback_data"])
        await chat.settle(pressed["update_id"])
        assert len(await _booked_texts(em)) == 1, await em.transcript(USER)
        assert await _cleared(db)
    finally:
        await db.dispose()


async def test_a_clean_stop_writes_the_clears_still_queued(
    harness: BotHarness,
    sqlite_url: str,
    em: EmulatorClient,
    mailbox: MailboxMailer,
    chat_factory: Callable[[BotApp, int], Chat],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The clears wait for a stop (or a replay) only: what `BotApp.close` writes is seen.
    monkeypatch.setattr(engine_module, "CLEAR_AFTER", 3600.0)
    app = await harness.polling(harness.build(sqlite_url, engine=real_engine))
    chat = chat_factory(app, USER)
    await _to_paper_step(chat, mailbox)
    menu = await chat.last()
    paper = [b for b in await chat.buttons() if ":paper:" in (b.get("callback_data") or "")]
    pressed = await em.press(USER, menu["message_id"], paper[0]["callback_data"])
    await chat.settle(pressed["update_id"])
    assert len(await _booked_texts(em)) == 1
    db = Database(sqlite_url)
    try:
        assert await _kept_reply(db), "the clear is queued, not written"
        app.request_stop()
        for running, task in harness.apps:
            if running is app and task is not None:
                await asyncio.wait_for(task, 20)
        harness.apps = [(a, t) for a, t in harness.apps if a is not app]
        assert await _kept_reply(db) is None
    finally:
        await db.dispose()
