"""Issue 17: on PostgreSQL an update that only reads runs without a transaction.

The engine reads the conversation with its row version, runs the step in a unit of work
that refuses every write, and saves the new state with one statement that only applies
if the row is still the version read (recording the update id with it). Whatever writes,
and whatever finds the row changed, is applied again in a transaction from the start.
These tests hold the guarantees of the transactional path (exactly once, nothing lost,
nothing done twice) against that, on the real databases.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text

from bot.conversation.context import BUTTON_HANDLERS, WITHOUT_SAVEPOINT, Ctx
from bot.conversation.engine import Conversations
from bot.conversation.types import AnswerButton, EventKind
from storage import direct
from storage.direct import WriteRefused
from storage.models import ProcessedUpdate
from storage.repos.conversations import _MARK_PROCESSED
from tests.conversation.conftest import Chat, Harness
from tests.conversation.flows_helpers import ZHANG, save_information, sign_up, to_the_paper_question
from tests.conversation.test_statement_budget import counting, transaction_control

OVERVIEW = ("menu", "ov")  # "我的报名" on the main menu: navigation only


def _postgresql_only(h: Harness) -> None:
    if h.db.is_sqlite:
        pytest.skip("optimistic updates are PostgreSQL's (SQLite: test_sqlite_...)")


@contextmanager
def overview_doing(work: Callable[[Ctx], Awaitable[None]]) -> Iterator[list[int]]:
    """The main menu's "我的报名" handler with `work` run first (a handler without a
    savepoint, as the engine knows them); yields the list of its calls."""
    original = BUTTON_HANDLERS[OVERVIEW]
    calls: list[int] = []

    async def handler(ctx: Ctx, cb: Any) -> None:
        calls.append(len(calls))
        await work(ctx)
        await original(ctx, cb)

    BUTTON_HANDLERS[OVERVIEW] = handler
    WITHOUT_SAVEPOINT.add(handler)
    try:
        yield calls
    finally:
        BUTTON_HANDLERS[OVERVIEW] = original
        WITHOUT_SAVEPOINT.discard(handler)


async def _processed(h: Harness, key: str, update_id: int | None = None) -> int:
    pu = ProcessedUpdate.__table__
    query = select(func.count()).select_from(pu).where(pu.c.platform == key)
    if update_id is not None:
        query = query.where(pu.c.update_id == update_id)
    async with h.db.uow(readonly=True) as uow:
        return int((await uow.conn.execute(query)).scalar_one())


async def _row(h: Harness, chat: Chat) -> Any:
    async with h.db.uow(readonly=True) as uow:
        return await uow.conversations.get("telegram", chat.user_id, chat.user_id)


@pytest.fixture
async def started(harness: Harness) -> AsyncIterator[tuple[Harness, Chat]]:
    """A chat at the main menu (its conversation row exists)."""
    chat = harness.chat()
    await chat.command("start")
    yield harness, chat


async def test_issue17_a_navigation_step_sends_no_begin_and_records_its_update_once(
    started: tuple[Harness, Chat],
) -> None:
    h, chat = started
    _postgresql_only(h)
    before = await _row(h, chat)
    async with counting(h) as statements:
        await chat.press("我的报名")
    assert not transaction_control(statements), statements
    assert not any("SAVEPOINT" in s.upper() for s in statements), statements
    after = await _row(h, chat)
    assert (after.state, after.version) == ("account", before.version + 1)
    update_id = next(h.updates) - 1
    assert await _processed(h, "telegram", update_id) == 1


async def test_sqlite_keeps_one_transaction_per_update(started: tuple[Harness, Chat]) -> None:
    h, chat = started
    if not h.db.is_sqlite:
        pytest.skip("SQLite's path")
    assert not h.db.optimistic
    with pytest.raises(ValueError):
        h.db.uow(optimistic=True)
    async with counting(h) as statements:
        await chat.press("我的报名")
    assert any(s.upper().startswith("BEGIN") for s in statements), statements
    assert (await _row(h, chat)).state == "account"


async def test_r23_a_step_that_writes_falls_back_and_writes_once(harness: Harness) -> None:
    """The booking (R23: a seat taken) is refused in the optimistic attempt at its first
    write, then applied in a transaction: one entry, one seat, its reply kept (issue 20)."""
    h = harness
    _postgresql_only(h)
    chat = h.chat()
    await sign_up(h, chat, "zhang@example.com")
    await save_information(chat, ZHANG)
    await to_the_paper_question(chat)
    # A new process: it has not seen this step write before, so it tries it optimistically.
    chat.bot = Conversations(h.db, h.clock, h.settings, h.mailer)
    async with counting(h) as statements:
        await chat.press("不需要")
    assert "已报考 英语四级" in chat.text
    # The attempt read (peek) and was refused before sending any write; the transaction did.
    assert statements[0].lstrip().upper().startswith("SELECT"), statements
    assert transaction_control(statements), statements
    async with h.db.uow(readonly=True) as uow:
        entries = (
            await uow.conn.execute(text("SELECT count(*) FROM entries WHERE status = 'unpaid'"))
        ).scalar_one()
        audits = (
            await uow.conn.execute(
                text("SELECT count(*) FROM audit_log WHERE object_type = 'entry'")
            )
        ).scalar_one()
    assert entries == 1
    assert audits == 1
    # The next booking-like press at that step goes straight to a transaction.
    assert chat.bot._writers


@pytest.mark.parametrize("path", ["conn.execute", "direct", "caught and ignored"])
async def test_a_write_in_an_optimistic_attempt_is_refused_and_the_update_redone(
    started: tuple[Harness, Chat], path: str
) -> None:
    """A handler without a savepoint that writes (here: a row of its own) in the attempt:
    the write is refused before it is sent (it would commit by itself outside a
    transaction), and the update is applied in a transaction, where it is written once."""
    h, chat = started
    _postgresql_only(h)
    pu = ProcessedUpdate.__table__
    refused: list[BaseException] = []

    async def write(ctx: Ctx) -> None:
        probe = {"b_platform": "probe", "b_update_id": len(refused) + 1, "b_now": ctx.now}
        try:
            if path == "direct":
                await direct.first(ctx.uow.conn, _MARK_PROCESSED["postgresql"], probe)
            else:
                await ctx.uow.conn.execute(
                    insert(pu).values(
                        platform="probe", update_id=len(refused) + 1, processed_at=ctx.now
                    )
                )
        except WriteRefused as err:
            refused.append(err)
            if path != "caught and ignored":
                raise

    with overview_doing(write) as calls:
        await chat.press("我的报名")
    assert len(calls) == 2  # the attempt, then the transaction
    assert len(refused) == 1
    assert await _processed(h, "probe") == 1  # only the transaction's write
    assert (await _row(h, chat)).state == "account"
    assert "通行证" in chat.text


async def test_a_conversation_changed_between_read_and_save_is_redone_and_nothing_lost(
    started: tuple[Harness, Chat],
) -> None:
    """The adapter records the menu message of an earlier reply between the attempt's read
    and its save (a concurrent writer of the row): the save writes nothing, the update is
    applied again after it, and the menu message it recorded stays."""
    h, chat = started
    _postgresql_only(h)
    before = await _row(h, chat)
    event_of_earlier_reply = chat.event(EventKind.OTHER)

    async def concurrent_bookkeeping(ctx: Ctx) -> None:
        if ctx.uow.optimistic:
            await h.bot.remember_menu(event_of_earlier_reply, 4242)

    with overview_doing(concurrent_bookkeeping) as calls:
        await chat.press("我的报名")
    update_id = next(h.updates) - 1
    assert len(calls) == 2
    after = await _row(h, chat)
    assert after.state == "account"
    assert after.version == before.version + 1  # applied once
    # Nothing lost: the chat's own send after the update then recorded its new menu (the
    # press edits the menu in place: none), so the concurrent one is what stays.
    assert after.menu_message_id == 4242
    assert await _processed(h, "telegram", update_id) == 1


async def test_a_save_waits_for_a_concurrent_writer_of_the_row_then_redoes(
    started: tuple[Harness, Chat],
) -> None:
    """The row is locked by another update's transaction, not yet committed, when the
    attempt saves: the save waits for it, finds the new version, writes nothing, and the
    update is applied after it in a transaction."""
    h, chat = started
    _postgresql_only(h)
    before = await _row(h, chat)
    locked, release = asyncio.Event(), asyncio.Event()

    async def other_update() -> None:
        async with h.db.uow() as uow:
            conv = await uow.conversations.lock_or_create(
                "telegram", chat.user_id, chat.user_id, h.clock.now()
            )
            locked.set()
            await release.wait()
            await uow.conversations.save(replace(conv, menu_message_id=777), h.clock.now())
            await uow.commit()

    async def release_once_the_save_waits() -> None:
        while True:
            async with h.db.uow(readonly=True) as uow:
                waiting = (
                    await uow.conn.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                            " AND query LIKE 'WITH saved AS%'"
                        )
                    )
                ).scalar_one()
            if waiting:
                release.set()
                return
            await asyncio.sleep(0.01)

    tasks: list[asyncio.Task[None]] = []

    async def hold_the_row(ctx: Ctx) -> None:
        if ctx.uow.optimistic and not tasks:
            tasks.append(asyncio.create_task(other_update()))
            await locked.wait()
            tasks.append(asyncio.create_task(release_once_the_save_waits()))

    with overview_doing(hold_the_row) as calls:
        await asyncio.wait_for(chat.press("我的报名"), 30)
    await asyncio.gather(*tasks)
    assert len(calls) == 2
    after = await _row(h, chat)
    assert (after.state, after.version, after.menu_message_id) == (
        "account",
        before.version + 1,
        777,
    )


async def test_a_redelivered_update_does_nothing_and_sends_one_statement(
    started: tuple[Harness, Chat],
) -> None:
    h, chat = started
    _postgresql_only(h)
    press = chat.event(
        EventKind.BUTTON,
        payload=chat.button("我的报名").payload,
        message_id=chat.menu_id,
        callback_id="cb-once",
    )
    assert await h.bot.handle(press)
    before = await _row(h, chat)
    async with counting(h) as statements:
        assert await h.bot.handle(press) == [AnswerButton("cb-once")]
    assert len(statements) == 1, statements  # the read, no BEGIN, no save
    assert await _row(h, chat) == before
    assert await _processed(h, "telegram", press.update_id) == 1


async def test_one_update_delivered_twice_at_once_is_applied_once(
    started: tuple[Harness, Chat],
) -> None:
    """Every interleaving of two deliveries of one update (both may read before either
    saves): one applies it, the other answers as a re-delivery."""
    h, chat = started
    _postgresql_only(h)
    before = await _row(h, chat)
    press = chat.event(
        EventKind.BUTTON,
        payload=chat.button("我的报名").payload,
        message_id=chat.menu_id,
        callback_id="cb-twice",
    )
    other = Conversations(h.db, h.clock, h.settings, h.mailer)  # another bot process
    first, second = await asyncio.gather(h.bot.handle(press), other.handle(press))
    answers = sorted([first, second], key=len)
    assert answers[0] == [AnswerButton("cb-twice")]  # the re-delivery
    assert len(answers[1]) > 1  # the update's screen
    after = await _row(h, chat)
    assert (after.state, after.version) == ("account", before.version + 1)
    assert await _processed(h, "telegram", press.update_id) == 1


async def test_a_connection_lost_in_the_attempt_leaves_the_update_to_the_transaction(
    started: tuple[Harness, Chat],
) -> None:
    """PostgreSQL drops the attempt's connection (a restart, a killed backend) before its
    save: nothing was written, so the update is applied in a transaction on a fresh one."""
    h, chat = started
    _postgresql_only(h)
    before = await _row(h, chat)

    async def lose_the_connection(ctx: Ctx) -> None:
        if ctx.uow.optimistic:
            pid = (await ctx.uow.conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            async with h.db.uow(readonly=True) as other:
                await other.conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    with overview_doing(lose_the_connection) as calls:
        await chat.press("我的报名")
    assert len(calls) == 2
    after = await _row(h, chat)
    assert (after.state, after.version) == ("account", before.version + 1)
    # The pool's connections are sound afterwards, and none was left checked out.
    await chat.command("start")
    assert (await _row(h, chat)).state == "menu"
    assert h.db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
