"""Processed update ids: kept per bot, dropped after a week, and the emulator's first id."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bot.conversation.types import Action, Event, EventKind, SendText
from emulator.client import EmulatorClient
from emulator.server import start_emulator
from foundation.clock import FrozenClock
from foundation.settings import Settings
from outgoing.mailer import MailboxMailer
from storage.db import Database
from tests.e2e.conftest import TOKEN, real_engine_available

if TYPE_CHECKING:
    from bot.conversation.engine import Conversations

pytestmark = pytest.mark.skipif(
    not real_engine_available(), reason="bot/conversation/engine.py not there"
)


def _start(update_id: int, user_id: int = 9101) -> Event:
    return Event(
        platform="telegram",
        update_id=update_id,
        user_id=user_id,
        chat_id=user_id,
        kind=EventKind.COMMAND,
        command="start",
        language_code="zh-hans",
    )


def _engine(url: str, clock: FrozenClock, bot_key: str | None) -> tuple[Conversations, Database]:
    from bot.conversation.engine import Conversations

    db = Database(url)
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    return Conversations(db, clock, settings, MailboxMailer(), bot_key=bot_key), db


def _replied(actions: list[Action]) -> bool:
    return any(isinstance(a, SendText) for a in actions)


async def test_two_bots_on_one_database_each_apply_their_update_1(
    sqlite_url: str, clock: FrozenClock
) -> None:
    first, db1 = _engine(sqlite_url, clock, "tg:1001")
    second, db2 = _engine(sqlite_url, clock, "tg:2002")
    try:
        assert _replied(await first.handle(_start(1)))
        assert not await first.handle(_start(1)), "a re-delivery does nothing"
        assert _replied(await second.handle(_start(1))), "another bot's 1 is no re-delivery"
    finally:
        await db1.dispose()
        await db2.dispose()


async def test_processed_ids_older_than_a_week_are_dropped(
    sqlite_url: str, clock: FrozenClock
) -> None:
    from bot.conversation.engine import KEEP_PROCESSED, PRUNE_EVERY

    engine, db = _engine(sqlite_url, clock, "tg:1001")
    try:
        await engine.handle(_start(1))
        clock.advance(PRUNE_EVERY / 2)
        await engine.handle(_start(2))
        clock.advance(KEEP_PROCESSED)
        # Id 1 is over a week old now, id 2 not quite; this update triggers the hourly pruning.
        await engine.handle(_start(3))
        async with db.uow() as uow:
            assert await uow.conversations.mark_processed("tg:1001", 1, clock.now())
            assert not await uow.conversations.mark_processed("tg:1001", 2, clock.now())
            assert not await uow.conversations.mark_processed("tg:1001", 3, clock.now())
    finally:
        await db.dispose()


def test_a_bot_key_too_long_for_the_column_is_refused(sqlite_url: str, clock: FrozenClock) -> None:
    with pytest.raises(ValueError, match="16"):
        _engine(sqlite_url, clock, "telegram:12345678901")


async def test_the_emulator_starts_update_ids_where_it_is_told() -> None:
    running = await start_emulator(port=0, default_token=TOKEN, first_update_id=1_800_000_000)
    try:
        async with EmulatorClient(running.url, token=TOKEN) as em:
            await em.create_user(9102, "Student")
            first = await em.command(9102, "start")
            second = await em.user_says(9102, "你好")
        assert (first["update_id"], second["update_id"]) == (1_800_000_000, 1_800_000_001)
    finally:
        await running.stop()
