"""The main path with the real conversations, through both adapters, on SQLite and PostgreSQL.

/start -> sign up (the code read from the mailbox) -> start registration -> look up a demo
candidate -> confirm -> CET4 at a campus -> the pay step (a link, or "being prepared").
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from bot.app import BotApp
from cetbot.demo import seed_example_session
from emulator.client import EmulatorClient
from outgoing.mailer import MailboxMailer
from storage.db import Database
from tests.conftest import _pg_truncate
from tests.e2e.conftest import DEMO_NOW, BotHarness, Chat, real_engine, real_engine_available

pytestmark = [
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
    pytest.mark.skipif(not real_engine_available(), reason="bot/conversation/engine.py not there"),
]

USER = 7001
EMAIL = "zhangwei@example.com"
PASSWORD = "Cet2026_pass!"
# examples/README.md: the plain path.
NAME, ID_NUMBER = "张伟", "110108200503140231"


async def _walk_main_path(chat: Chat, mailbox: MailboxMailer, em: EmulatorClient) -> None:
    await chat.start()
    await chat.command("start")
    assert "reg" in await chat.actions(), await chat.last_text()
    await chat.press_action("reg")
    # Without a bound account, registration starts with the pass account (R7, R9).
    await chat.press_action("signup")
    await chat.say(EMAIL)
    password_message = await chat.say(PASSWORD)
    transcript = await em.transcript(USER)
    [sent] = [m for m in transcript if m["message_id"] == password_message]
    assert sent["deleted"] is True, "R8: the password message is deleted after reading"
    [mail] = mailbox.to(EMAIL)
    code = re.search(r"\b(\d{6})\b", mail.body)
    assert code is not None, mail.body
    await chat.say(code.group(1))
    if "agree" not in await chat.actions():
        await chat.press_action("goreg")
    await chat.press_action("agree")  # R11
    await chat.press_action("idt", "id_card")
    await chat.say(NAME)
    await chat.say(ID_NUMBER)
    assert NAME in await chat.last_text()
    await chat.press_action("confirm")
    await chat.press_action("usephone")
    await chat.press_action("subj", "CET4")
    await chat.press_action("camp", label_has="海淀")
    if "paper" in await chat.actions():
        await chat.press_action("paper")
    await chat.press_action("pay")
    last = await chat.last()
    links = [b for row in (last.get("keyboard") or []) for b in row if b.get("url")]
    assert links or "准备" in last["text"], last


@pytest.fixture
async def engine_bot(harness: BotHarness, sqlite_url: str) -> BotApp:
    return await harness.polling(harness.build(sqlite_url, engine=real_engine))


async def test_main_path_on_sqlite(
    engine_bot: BotApp,
    em: EmulatorClient,
    mailbox: MailboxMailer,
    chat_factory: Callable[[BotApp, int], Chat],
) -> None:
    await _walk_main_path(chat_factory(engine_bot, USER), mailbox, em)


@pytest.mark.parametrize("framework", ["aiogram"], indirect=True)
async def test_main_path_on_postgresql(
    harness: BotHarness,
    pg_url: str,
    em: EmulatorClient,
    mailbox: MailboxMailer,
    chat_factory: Callable[[BotApp, int], Chat],
) -> None:
    await _pg_truncate(pg_url)
    database = Database(pg_url)
    try:
        await seed_example_session(database, DEMO_NOW.date())
    finally:
        await database.dispose()
    app = await harness.polling(harness.build(pg_url, engine=real_engine))
    await _walk_main_path(chat_factory(app, USER), mailbox, em)


async def test_a_redelivered_update_acts_once_with_the_real_engine(
    engine_bot: BotApp, em: EmulatorClient, chat_factory: Callable[[BotApp, int], Chat]
) -> None:
    chat = chat_factory(engine_bot, USER)
    await chat.start()
    await chat.command("start")
    await chat.press_action("reg")
    await chat.press_action("signup")
    sent = await em.user_says(USER, EMAIL)
    await chat.settle(sent["update_id"])
    before = await em.transcript(USER)
    # The same update again (Telegram re-sends what it never saw confirmed): nothing happens.
    user = {"id": USER, "is_bot": False, "first_name": "Student", "language_code": "zh-hans"}
    again = {
        "update_id": sent["update_id"],
        "message": {
            "message_id": sent["message_id"],
            "date": 1_795_000_000,
            "chat": {"id": USER, "type": "private", "first_name": "Student"},
            "from": user,
            "text": EMAIL,
        },
    }
    await engine_bot.adapter.feed_webhook(again)
    done = engine_bot.adapter.runner.in_flight(sent["update_id"])
    if done is not None:
        await done
    assert await em.transcript(USER) == before
