"""storage/direct.py: the hot statements sent straight to asyncpg behave as through
SQLAlchemy: in the unit of work's transaction, the same rows, the same errors, counted.

The rest of the suite runs the main path through them on PostgreSQL (the statement
budget, the seats, nothing lost, a killed backend); these pin the parts it may not see.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Float, bindparam, event, func, select, text
from sqlalchemy.exc import IntegrityError

from storage import direct
from storage.db import Database
from storage.repos import conversations as cv
from tests.conftest import _create_schema, _pg_truncate

NOW = datetime(2026, 11, 25, 2, 0, 0, 123456, tzinfo=UTC)
WHO = cv._who("telegram", 42, 42)
# A value that an error message must never quote (as the ID number elsewhere).
SECRET = "11010520030714123X"


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[Database]:
    await _pg_truncate(pg_url)
    database = Database(pg_url, pool_size=2)
    async with database.uow() as uow:
        await uow.conversations.lock_or_create("telegram", 42, 42, NOW)
        await uow.commit()
    yield database
    await database.dispose()


def _start(update_id: int) -> dict[str, object]:
    return {**WHO, "b_now": NOW, "b_updates_key": "telegram:1", "b_update_id": update_id}


async def test_rows_are_what_sqlalchemy_returns(pg: Database) -> None:
    data = {"step": "subject", "picked": ["CET4", "英语四级"], "n": 3}
    save = {
        **WHO,
        "b_state": "registration",
        "b_data": data,
        "b_locale": "zh",
        "b_menu": 7,
        "b_version": 5,
        "b_now": NOW + timedelta(seconds=1),
        "b_reply": [{"kind": "send", "text": "好"}],
        "b_reply_update_id": 11,
    }
    async with pg.uow() as uow:
        assert direct.wanted(uow.conn)
        assert await direct.rowcount(uow.conn, cv._SAVE_WITH_REPLY, save) == 1
        theirs = (await uow.conn.execute(cv._START_UPDATE_PG, _start(1))).all()
        ours = await direct.rows(uow.conn, cv._START_UPDATE_PG, _start(2))
        assert [tuple(r) for r in ours] == [tuple(r) for r in theirs]
        assert ours[0]._fields == tuple(theirs[0]._fields)
        assert ours[0]._mapping == dict(theirs[0]._mapping)
        row = ours[0]
        assert (row.fresh, row.state, row.data) == (1, "registration", data)
        assert row.reply == save["b_reply"]
        # Instants come back as SQLAlchemy's UTCDateTime gives them: aware, in UTC.
        assert row.updated_at == NOW and row.updated_at.tzinfo is UTC
        assert row.reply_at == NOW + timedelta(seconds=1)
        # A re-delivered update: no conversation row comes back, as through SQLAlchemy.
        again = await direct.first(uow.conn, cv._START_UPDATE_PG, _start(2))
        assert again is not None and again.fresh == 0 and again.platform is None
        gone = {**WHO, "b_user_id": 43, "b_update_id": 11}
        assert await direct.rowcount(uow.conn, cv._REPLY_SENT, gone) == 0


async def test_a_direct_statement_is_part_of_the_unit_of_work(pg: Database) -> None:
    # The first statement of the unit goes straight to asyncpg: it must still be inside
    # the unit's transaction (a rollback undoes it), not run on its own.
    async with pg.uow() as uow:
        assert (await direct.first(uow.conn, cv._START_UPDATE_PG, _start(100))).fresh == 1
        await uow.rollback()
    async with pg.uow() as uow:
        assert (await direct.first(uow.conn, cv._START_UPDATE_PG, _start(100))).fresh == 1
        await uow.commit()
    async with pg.uow() as uow:
        assert (await direct.first(uow.conn, cv._START_UPDATE_PG, _start(100))).fresh == 0
        ids = (await uow.conn.execute(select(cv.PU.c.update_id))).scalars().all()
        assert ids == [100]


async def test_a_write_alone_stands_by_itself_and_what_follows_is_the_unit_s(
    pg: Database,
) -> None:
    # `alone` as the unit's first statement: no BEGIN, PostgreSQL commits it by itself, so
    # the unit's rollback leaves it; a statement after it is in a transaction again.
    menu = {**WHO, "b_menu": 77, "b_now": NOW}
    async with pg.uow() as uow:
        assert await direct.rowcount(uow.conn, cv._SET_MENU, menu, alone=True) == 1
        assert (await direct.first(uow.conn, cv._START_UPDATE_PG, _start(200))).fresh == 1
        await uow.rollback()
    async with pg.uow() as uow:
        menus = (await uow.conn.execute(select(cv.CV.c.menu_message_id))).scalars().all()
        ids = (await uow.conn.execute(select(cv.PU.c.update_id))).scalars().all()
        assert (menus, ids) == ([77], [])
    # Not the first statement: `alone` changes nothing, the unit's rollback undoes it.
    async with pg.uow() as uow:
        assert (await direct.first(uow.conn, cv._START_UPDATE_PG, _start(201))).fresh == 1
        again = {**menu, "b_menu": 78}
        assert await direct.rowcount(uow.conn, cv._SET_MENU, again, alone=True) == 1
        await uow.rollback()
    # Alone, then committed: the unit's COMMIT has nothing left to send and succeeds.
    async with pg.uow() as uow:
        assert await direct.rowcount(uow.conn, cv._SET_MENU, menu | {"b_menu": 79}, alone=True)
        await uow.commit()
    async with pg.uow() as uow:
        menus = (await uow.conn.execute(select(cv.CV.c.menu_message_id))).scalars().all()
        ids = (await uow.conn.execute(select(cv.PU.c.update_id))).scalars().all()
        assert (menus, ids) == ([79], [])


async def test_the_row_lock_is_held_until_commit(pg: Database) -> None:
    order: list[str] = []
    locked = asyncio.Event()

    async def first() -> None:
        async with pg.uow() as uow:
            await direct.first(uow.conn, cv._START_UPDATE_PG, _start(1))
            locked.set()
            await asyncio.sleep(0.2)
            order.append("first commits")
            await uow.commit()

    async def second() -> None:
        await locked.wait()
        async with pg.uow() as uow:
            await direct.first(uow.conn, cv._START_UPDATE_PG, _start(2))
            order.append("second has the lock")
            await uow.commit()

    await asyncio.gather(first(), second())
    assert order == ["first commits", "second has the lock"]


async def test_an_error_is_sqlalchemys_and_quotes_no_value(
    pg: Database, caplog: pytest.LogCaptureFixture
) -> None:
    bad = {
        **WHO,
        "b_state": SECRET,
        "b_data": {},
        "b_locale": None,
        "b_menu": None,
        "b_version": None,  # NOT NULL: PostgreSQL's DETAIL would quote the row
        "b_now": NOW,
    }
    with pytest.raises(IntegrityError) as raised:
        async with pg.uow() as uow:
            await direct.rowcount(uow.conn, cv._SAVE, bad)
    assert "not-null" in str(raised.value)
    assert SECRET not in str(raised.value) and SECRET not in repr(raised.value.orig)
    assert SECRET not in caplog.text
    # The connection went back to the pool usable.
    async with pg.uow() as uow:
        assert (await direct.first(uow.conn, cv._START_UPDATE_PG, _start(5))).fresh == 1


async def test_watching_statements_sees_them(pg: Database) -> None:
    seen: list[str] = []
    with pg.watching_statements(seen.append):
        async with pg.uow() as uow:
            await direct.first(uow.conn, cv._START_UPDATE_PG, _start(7))
            await direct.rowcount(uow.conn, cv._REPLY_SENT, {**WHO, "b_update_id": 7})
    assert len(seen) == 2 and "processed_updates" in seen[0] and "UPDATE conversations" in seen[1]


def test_a_statement_with_a_list_bound_per_call_is_refused(pg: Database) -> None:
    statement = select(cv.CV.c.state).where(cv.CV.c.user_id.in_([1, 2]))
    with pytest.raises(TypeError, match="per call"):
        direct._Compiled(statement, pg.engine.dialect)


_SLEEP = select(func.pg_sleep(bindparam("b_seconds", type_=Float)).label("slept"))


async def test_a_cancelled_statement_leaves_no_broken_connection_in_the_pool(
    pg: Database,
) -> None:
    # A unit of work cancelled mid-statement (at shutdown): the cancellation goes up as it
    # is, the unit rolls back, and the pool's next units of work get working connections.
    entered = asyncio.Event()

    async def slow() -> None:
        async with pg.uow() as uow:
            await direct.first(uow.conn, cv._START_UPDATE_PG, _start(1))
            entered.set()
            await direct.first(uow.conn, _SLEEP, {"b_seconds": 5.0})

    task = asyncio.create_task(slow())
    await entered.wait()
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for update_id in (2, 3, 4):  # more than the pool's 2 connections
        async with pg.uow() as uow:
            row = await direct.first(uow.conn, cv._START_UPDATE_PG, _start(update_id))
            assert row is not None and row.fresh == 1  # update 1 was rolled back
            await uow.commit()


# -- a SQLite file: the same statements on the sqlite3 connection of the DirectConnection --


@pytest.fixture
async def lite(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'direct.db'}"
    await _create_schema(url)
    database = Database(url, pool_size=2)
    async with database.uow() as uow:
        await uow.conversations.lock_or_create("telegram", 42, 42, NOW)
        await uow.commit()
    yield database
    await database.dispose()


def _save(state: str, **more: Any) -> dict[str, Any]:
    return {
        **WHO,
        "b_state": state,
        "b_data": {"step": "subject", "picked": ["CET4", "英语四级"], "n": 3},
        "b_locale": "zh",
        "b_menu": 7,
        "b_version": 5,
        "b_now": NOW + timedelta(seconds=1),
        **more,
    }


async def test_sqlite_rows_are_what_sqlalchemy_returns_without_its_execution(
    lite: Database,
) -> None:
    # SQLAlchemy's `before_execute` fires for every statement through its Connection;
    # the direct ones must not go that way, yet still be seen by the cursor listeners.
    executed: list[object] = []
    listen_to = lite.statement_engine

    def on_execute(_conn: object, statement: object, *_args: object) -> None:
        executed.append(statement)

    event.listen(listen_to, "before_execute", on_execute)
    touch = {**WHO, "b_now": NOW + timedelta(seconds=2)}
    reply = [{"kind": "send", "text": "好"}]
    try:
        async with lite.uow() as uow:
            assert direct.wanted(uow.conn)
            saved = _save("registration", b_reply=reply, b_reply_update_id=11)
            assert await direct.rowcount(uow.conn, cv._SAVE_WITH_REPLY, saved) == 1
            assert executed == []
            theirs = (await uow.conn.execute(cv._TOUCH, touch)).all()
            assert len(executed) == 1
            ours = await direct.rows(uow.conn, cv._TOUCH, touch)
            assert len(executed) == 1
            assert [tuple(r) for r in ours] == [tuple(r) for r in theirs]
            assert ours[0]._mapping == dict(theirs[0]._mapping)
            row = ours[0]
            assert (row.state, row.data, row.reply) == ("registration", saved["b_data"], reply)
            # Instants come back as SQLAlchemy's UTCDateTime gives them: aware, in UTC.
            assert row.updated_at == touch["b_now"] and row.updated_at.tzinfo is UTC
            nobody = {**WHO, "b_user_id": 43, "b_update_id": 11}
            assert await direct.rowcount(uow.conn, cv._REPLY_SENT, nobody) == 0
            # A write with RETURNING read through `rowcount` still lets COMMIT through
            # (SQLite refuses it while such a statement is unread).
            assert await direct.rowcount(uow.conn, cv._TOUCH, touch) == 1
            await uow.commit()
    finally:
        event.remove(listen_to, "before_execute", on_execute)


async def test_sqlite_direct_statements_are_part_of_the_unit_of_work(lite: Database) -> None:
    marked = {"b_platform": "telegram", "b_update_id": 100, "b_now": NOW}
    mark = cv._MARK_PROCESSED["sqlite"]
    async with lite.uow() as uow:
        assert await direct.first(uow.conn, mark, marked) is not None
        await uow.rollback()
    async with lite.uow() as uow:
        assert await direct.first(uow.conn, mark, marked) is not None
        await uow.commit()
    async with lite.uow() as uow:
        assert await direct.first(uow.conn, mark, marked) is None  # recorded: a re-delivery
        ids = (await uow.conn.execute(select(cv.PU.c.update_id))).scalars().all()
        assert ids == [100]


async def test_sqlite_an_error_is_sqlalchemys_and_quotes_no_value(
    lite: Database, caplog: pytest.LogCaptureFixture
) -> None:
    bad = _save(SECRET, b_version=None)  # NOT NULL
    with pytest.raises(IntegrityError) as raised:
        async with lite.uow() as uow:
            await direct.rowcount(uow.conn, cv._SAVE, bad)
    assert "NOT NULL" in str(raised.value)
    assert SECRET not in str(raised.value) and SECRET not in caplog.text
    # The connection went back usable, its transaction rolled back.
    async with lite.uow() as uow:
        assert await direct.rowcount(uow.conn, cv._SAVE, _save("menu")) == 1
        await uow.commit()


async def test_sqlite_watching_statements_sees_them(lite: Database) -> None:
    seen: list[str] = []
    with lite.watching_statements(seen.append):
        async with lite.uow() as uow:
            await direct.rows(uow.conn, cv._TOUCH, {**WHO, "b_now": NOW})
            await direct.rowcount(uow.conn, cv._REPLY_SENT, {**WHO, "b_update_id": 7})
    assert [s.split()[:2] for s in seen] == [
        ["BEGIN", "IMMEDIATE"],
        ["UPDATE", "conversations"],
        ["UPDATE", "conversations"],
    ]


# -- savepoints on PostgreSQL -------------------------------------------------------------


def _mark(update_id: int) -> dict[str, Any]:
    return {"b_platform": "telegram", "b_update_id": update_id, "b_now": NOW}


async def _marked(db: Database) -> list[int]:
    async with db.uow() as uow:
        rows = await uow.conn.execute(select(cv.PU.c.update_id).order_by(cv.PU.c.update_id))
        return list(rows.scalars())


async def test_pg_savepoint_undoes_only_its_own_writes_and_goes_past_sqlalchemy(
    pg: Database,
) -> None:
    mark = cv._MARK_PROCESSED["postgresql"]
    executed: list[object] = []

    def on_execute(_conn: object, statement: object, *_args: object) -> None:
        executed.append(statement)

    seen: list[str] = []
    event.listen(pg.engine.sync_engine, "before_execute", on_execute)
    try:
        with pg.watching_statements(seen.append):
            async with pg.uow() as uow:
                await direct.first(uow.conn, mark, _mark(1))
                point = await uow.savepoint()
                assert isinstance(point, direct.Savepoint) and point.is_active
                await direct.first(uow.conn, mark, _mark(2))
                async with uow.savepoint():  # nested, released
                    await direct.first(uow.conn, mark, _mark(3))
                await point.rollback()  # undoes 2 and 3, keeps 1
                assert not point.is_active
                async with uow.savepoint():
                    await direct.first(uow.conn, mark, _mark(4))
                await uow.commit()
    finally:
        event.remove(pg.engine.sync_engine, "before_execute", on_execute)
    assert executed == []  # none went through SQLAlchemy's execution
    assert sum(s.startswith("SAVEPOINT") for s in seen) == 3
    assert await _marked(pg) == [1, 4]


async def test_pg_savepoint_rolled_back_after_an_error_leaves_the_unit_usable(
    pg: Database,
) -> None:
    mark = cv._MARK_PROCESSED["postgresql"]
    bad = {**WHO, "b_state": "x", "b_data": {}, "b_locale": None, "b_menu": None}
    bad |= {"b_version": None, "b_now": NOW}  # NOT NULL
    async with pg.uow() as uow:
        await direct.first(uow.conn, mark, _mark(10))
        with pytest.raises(IntegrityError):
            async with uow.savepoint():
                await direct.first(uow.conn, mark, _mark(11))
                await direct.rowcount(uow.conn, cv._SAVE, bad)
        # PostgreSQL refuses every statement of an aborted transaction: this one runs.
        await direct.first(uow.conn, mark, _mark(12))
        await uow.commit()
    assert await _marked(pg) == [10, 12]


# -- optimistic (read-only) units of work: issue 17 ----------------------------------------


async def _menu(db: Database) -> int | None:
    async with db.uow(readonly=True) as uow:
        conv = await uow.conversations.get("telegram", 42, 42)
    assert conv is not None
    return conv.menu_message_id


async def test_an_optimistic_unit_reads_without_a_transaction(pg: Database) -> None:
    async with pg.uow(optimistic=True) as uow:
        assert uow.optimistic
        peek = await uow.conversations.peek("telegram:1", 1, "telegram", 42, 42)
        assert peek.conversation is not None and not peek.processed
        # No transaction is open on the server: each statement was its own.
        pid = (await uow.conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with pg.uow(readonly=True) as other:
            state = (
                await other.conn.execute(
                    text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
                )
            ).scalar_one()
        assert state == "idle"
    # The connection goes back to the pool in its own isolation level.
    async with pg.uow() as uow:
        assert (
            await direct.rowcount(uow.conn, cv._SET_MENU, {**WHO, "b_menu": 5, "b_now": NOW}) == 1
        )
        # not committed: rolled back at the end of the unit
    assert await _menu(pg) is None


@pytest.mark.parametrize("path", ["direct", "conn.execute", "savepoint", "commit", "row lock"])
async def test_an_optimistic_unit_refuses_to_write_before_sending_anything(
    pg: Database, path: str
) -> None:
    """Outside a transaction a write would stand by itself at once: every way of writing
    is refused before it is sent (WriteRefused), on both entry points, each on its own."""
    params = {**WHO, "b_menu": 9, "b_now": NOW}
    seen: list[str] = []
    with pg.watching_statements(seen.append):
        async with pg.uow(optimistic=True) as uow:
            with pytest.raises(direct.WriteRefused):
                if path == "direct":
                    # Without SQLAlchemy's listener: storage/direct.py's own check refuses.
                    event.remove(
                        pg.engine.sync_engine, "before_cursor_execute", direct.refuse_writes
                    )
                    try:
                        await direct.rowcount(uow.conn, cv._SET_MENU, params)
                    finally:
                        event.listen(
                            pg.engine.sync_engine, "before_cursor_execute", direct.refuse_writes
                        )
                elif path == "conn.execute":
                    await uow.conn.execute(cv._SET_MENU, params)
                elif path == "savepoint":
                    await uow.savepoint()
                elif path == "commit":
                    await uow.commit()
                else:
                    await uow.conn.execute(select(cv.CV).with_for_update())
            # Even caught, the refusal voids the unit's one write.
            with pytest.raises(direct.WriteRefused):
                await uow.finish_optimistic(lambda: asyncio.sleep(0))
    assert not seen, seen
    assert await _menu(pg) is None


async def test_an_optimistic_save_applies_only_to_the_row_version_read(pg: Database) -> None:
    async with pg.uow(optimistic=True) as uow:
        peek = await uow.conversations.peek("telegram:1", 7, "telegram", 42, 42)
    assert peek.conversation is not None and peek.row_version is not None
    moved = replace(peek.conversation, state="overview", version=1)
    # Another writer of the row in between (the adapter's bookkeeping, say).
    async with pg.uow() as uow:
        assert await uow.conversations.set_menu("telegram", 42, 42, 8, NOW)
        await uow.commit()
    async with pg.uow(optimistic=True) as uow:
        saved = await uow.finish_optimistic(
            lambda: uow.conversations.save_unchanged(
                moved, peek.row_version or "", "telegram:1", 7, NOW
            )
        )
    assert saved == (False, False)  # nothing written, the update id not recorded either
    assert await _menu(pg) == 8
    async with pg.uow(optimistic=True) as uow:
        again = await uow.conversations.peek("telegram:1", 7, "telegram", 42, 42)
        assert not again.processed and again.row_version != peek.row_version
        assert again.conversation is not None
        moved = replace(again.conversation, state="overview", version=1)
        saved = await uow.finish_optimistic(
            lambda: uow.conversations.save_unchanged(
                moved, again.row_version or "", "telegram:1", 7, NOW
            )
        )
    assert saved == (True, True)
    async with pg.uow(optimistic=True) as uow:
        last = await uow.conversations.peek("telegram:1", 7, "telegram", 42, 42)
        # Recorded: a second save of the same update (a re-delivery read before) is refused.
        assert last.processed and last.conversation is not None
        assert last.conversation.state == "overview"
        saved = await uow.finish_optimistic(
            lambda: uow.conversations.save_unchanged(
                moved, last.row_version or "", "telegram:1", 7, NOW
            )
        )
    assert saved == (False, False)


async def test_an_optimistic_save_creates_a_new_chats_row_only_if_there_is_none(
    pg: Database,
) -> None:
    # A new chat's first update (issue 17): the optimistic save creates the row that
    # `lock_or_create` would have, with the step's state, unless someone created it first.
    async with pg.uow() as uow:
        made = await uow.conversations.lock_or_create("telegram", 44, 44, NOW)
        assert made == uow.conversations.new("telegram", 44, 44)
        await uow.commit()

    async def save(user: int, update_id: int) -> tuple[bool, bool]:
        async with pg.uow(optimistic=True) as uow:
            peek = await uow.conversations.peek("telegram:1", update_id, "telegram", user, user)
            assert peek.conversation is None and peek.row_version is None
            assert not peek.processed
            moved = replace(uow.conversations.new("telegram", user, user), state="menu")
            if user == 45:  # another update of the chat creates the row in between
                async with pg.uow() as other:
                    await other.conversations.lock_or_create("telegram", 45, 45, NOW)
                    await other.commit()
            if user == 47:  # the same update recorded in between (another delivery)
                async with pg.uow() as other:
                    assert await other.conversations.mark_processed("telegram:1", 70, NOW)
                    await other.commit()
            return await uow.finish_optimistic(
                lambda: uow.conversations.save_unchanged(moved, None, "telegram:1", update_id, NOW)
            )

    assert await save(45, 50) == (False, False)  # nothing written, the id not recorded
    assert await save(46, 60) == (True, True)
    assert await save(47, 70) == (False, False)
    async with pg.uow(readonly=True) as uow:
        assert (await uow.conversations.get("telegram", 45, 45)) == uow.conversations.new(
            "telegram", 45, 45
        )
        created = await uow.conversations.get("telegram", 46, 46)
        assert created is not None and created.state == "menu"
        assert await uow.conversations.get("telegram", 47, 47) is None
        assert not await uow.conversations.mark_processed("telegram:1", 60, NOW)  # recorded
        assert await uow.conversations.mark_processed("telegram:1", 50, NOW)  # was not


async def test_sqlite_has_no_optimistic_units(lite: Database) -> None:
    assert not lite.optimistic
    with pytest.raises(ValueError):
        lite.uow(optimistic=True)


async def test_optimistic_units_can_be_switched_off(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CETBOT_OPTIMISTIC", "0")
    database = Database(pg_url, pool_size=1)
    try:
        assert not database.optimistic
        with pytest.raises(ValueError):
            database.uow(optimistic=True)
    finally:
        await database.dispose()
    monkeypatch.delenv("CETBOT_OPTIMISTIC")
    database = Database(pg_url, pool_size=1)
    try:
        assert database.optimistic
    finally:
        await database.dispose()
