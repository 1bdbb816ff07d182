"""Issue 6, the print rush: the second "Print ticket" re-uses Telegram's file_id, no upload.

Through both adapters against the emulator: the main path to the pay step, the entry paid
through the service, the clock moved to print time, Print ticket pressed twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from backoffice.importing import parse_session_toml
from bot.app import BotApp
from cetbot.demo import SESSION_FILE
from emulator.client import EmulatorClient
from emulator.server import RunningEmulator
from outgoing.mailer import MailboxMailer
from registration import entries
from tests.e2e.conftest import TOKEN, BotHarness, Chat, real_engine, real_engine_available
from tests.e2e.test_main_path import USER, _walk_main_path

OTHER_TOKEN = "515151:e2e-token_of-a-new-bot"

pytestmark = [
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
    pytest.mark.skipif(not real_engine_available(), reason="bot/conversation/engine.py not there"),
]


async def _pay_everything(app: BotApp) -> None:
    """As the payments worker would after the gateway's callback (R26)."""
    now = app.clock.now()
    async with app.database.uow() as uow:
        unpaid = await uow.entries.due_unpaid(now + timedelta(days=2), 10)
        assert unpaid, "the main path left no unpaid entry"
        for entry in unpaid:
            await entries.mark_paid(uow, app.clock, entry_id=entry.id)
        await uow.commit()


def _uploaded_documents(emulator: RunningEmulator) -> list[bytes]:
    """What the bot has uploaded as documents (the roster photo is a photo, not counted)."""
    return [f.data for f in emulator.state.bot(TOKEN).files.values() if f.kind == "document"]


def _documents(transcript: list[dict[str, object]]) -> list[dict[str, object]]:
    return [m for m in transcript if m["sender"] == "bot" and m.get("document")]


async def test_second_print_sends_the_ticket_by_file_id(
    harness: BotHarness,
    sqlite_url: str,
    emulator: RunningEmulator,
    em: EmulatorClient,
    mailbox: MailboxMailer,
    chat_factory: Callable[[BotApp, int], Chat],
) -> None:
    app = await harness.polling(harness.build(sqlite_url, engine=real_engine))
    chat = chat_factory(app, USER)
    await _walk_main_path(chat, mailbox, em)
    await _pay_everything(app)
    spec = parse_session_toml(SESSION_FILE)
    harness.clock.set(spec.windows.print_written + timedelta(hours=1))

    await chat.command("start")
    await chat.press_action("ov")
    await chat.press_action("print")
    [first] = _documents(await em.transcript(USER))
    [uploaded] = _uploaded_documents(emulator)
    assert uploaded.startswith(b"%PDF"), "the first print uploads the PDF"

    await chat.press_action("print")
    first_again, second = _documents(await em.transcript(USER))
    assert first_again == first
    assert second["document"]["file_id"] == first["document"]["file_id"]  # type: ignore[index]
    # An upload would have stored a second file (with a new id): none came.
    assert len(_uploaded_documents(emulator)) == 1, "the second print must not upload again"
    assert (await em.stats())["requests"]["sendDocument"] == 2


async def test_a_new_bot_on_the_same_database_uploads_again_and_keeps_its_own_ids(
    harness: BotHarness,
    sqlite_url: str,
    emulator: RunningEmulator,
    em: EmulatorClient,
    mailbox: MailboxMailer,
    chat_factory: Callable[[BotApp, int], Chat],
) -> None:
    """A second token (a new bot) numbers its updates from 1 again and cannot use the first
    bot's file ids: its updates are not taken for re-deliveries, and the ticket is uploaded
    once more, then sent by the new bot's own file id."""
    first = await harness.polling(harness.build(sqlite_url, engine=real_engine))
    chat = chat_factory(first, USER)
    await _walk_main_path(chat, mailbox, em)
    await _pay_everything(first)
    second = await harness.polling(harness.build(sqlite_url, engine=real_engine, token=OTHER_TOKEN))
    async with EmulatorClient(emulator.url, token=OTHER_TOKEN) as other_em:
        other = Chat(other_em, second, USER)
        # Update id 1 of this bot, long used by the first one (before the clock moves on:
        # a week later the first bot's ids would have been dropped anyway).
        await other.command("start")
        assert await other.messages(), "the new bot's first update was dropped as a re-delivery"

        spec = parse_session_toml(SESSION_FILE)
        harness.clock.set(spec.windows.print_written + timedelta(hours=1))
        await chat.command("start")
        await chat.press_action("ov")
        await chat.press_action("print")
        assert len(_uploaded_documents(emulator)) == 1

        await other.command("start")
        await other.press_action("ov")
        await other.press_action("print")
        await other.press_action("print")
        sent = _documents(await other_em.transcript(USER))
    uploads = [f for f in emulator.state.bot(OTHER_TOKEN).files.values() if f.kind == "document"]
    assert len(uploads) == 1, "the old bot's file id is refused: upload once, then re-use"
    assert [m["document"]["file_id"] for m in sent] == [uploads[0].file_id] * 2  # type: ignore[index]
