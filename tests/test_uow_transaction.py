"""The unit of work's transaction on PostgreSQL over asyncpg: BEGIN, COMMIT and ROLLBACK go
straight to the driver (issue 17, tenth round; `Database.straight`), SQLAlchemy keeping its
own bookkeeping. These perform the failures: a connection lost mid-unit or at COMMIT, a
failed COMMIT, a unit that raised or was left uncommitted, a cold path's `conn.execute`, and
check the connection the pool hands out next. Each runs with `straight` on and off (the
path through SQLAlchemy's asyncio layer, as before): the outcome must be the same. The
SQLite file's units keep their own path (storage/sqlite_direct.py); the parts that apply
to it run on both databases.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import engine as async_engine

from storage import direct
from storage.db import Database, UnitOfWork, lost_connection
from storage.repos import conversations as cv
from tests.conftest import _create_schema, _pg_truncate

NOW = datetime(2026, 11, 25, 2, 0, 0, tzinfo=UTC)
WHO = cv._who("telegram", 42, 42)


def _start(update_id: int) -> dict[str, object]:
    return {**WHO, "b_now": NOW, "b_updates_key": "telegram:1", "b_update_id": update_id}


@pytest.fixture(params=["straight", "through SQLAlchemy"])
async def pg(pg_url: str, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """One pooled connection, so the next unit of work gets the very connection the last
    one returned."""
    await _pg_truncate(pg_url)
    database = Database(pg_url, pool_size=1)
    assert database.straight
    database.straight = request.param == "straight"
    async with database.uow() as uow:
        await uow.conversations.lock_or_create("telegram", 42, 42, NOW)
        await uow.commit()
    yield database
    await database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def both(
    request: pytest.FixtureRequest, tmp_path: Any, pg_url: str
) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'uow.db'}"
        await _create_schema(url)
    else:
        url = pg_url
        await _pg_truncate(url)
    database = Database(url, pool_size=1)
    async with database.uow() as uow:
        await uow.conversations.lock_or_create("telegram", 42, 42, NOW)
        await uow.commit()
    yield database
    await database.dispose()


async def _recorded(db: Database) -> list[int]:
    """The update ids recorded (committed) so far."""
    async with db.uow(readonly=True) as uow:
        found = await uow.conn.execute(select(cv.PU.c.update_id).order_by(cv.PU.c.update_id))
        return list(found.scalars().all())


async def _record(uow: UnitOfWork, update_id: int) -> None:
    row = await direct.first(uow.conn, cv._START_UPDATE_PG, _start(update_id))
    assert row is not None and row.fresh == 1


async def _clean_next_checkout(db: Database) -> None:
    """The connection the pool hands out next is in no transaction, on the server either
    (asyncpg's status is the server's, from its last ReadyForQuery)."""
    async with db.uow() as uow:
        raw = await uow.conn.get_raw_connection()
        driver: Any = raw.driver_connection
        adapter: Any = raw.dbapi_connection
        assert not driver.is_in_transaction()
        assert adapter._transaction is None
        assert (await driver.fetchval("SELECT 1")) == 1


async def _kill(pg_url: str, pid: int) -> None:
    dsn = pg_url.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(dsn)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def _pid(uow: UnitOfWork) -> int:
    raw = await uow.conn.get_raw_connection()
    driver: Any = raw.driver_connection
    return int(driver.get_server_pid())


def _transaction_control(db: Database) -> Callable[[], list[str]]:
    """What asyncpg sends for the transactions (BEGIN, COMMIT, ROLLBACK), from its query log
    on each connection checked out (as tests/conversation/test_statement_budget.py)."""
    sent: list[str] = []

    def logged(record: Any) -> None:
        query = record.query.strip().upper().rstrip(";")
        if query in ("BEGIN", "COMMIT", "ROLLBACK"):
            sent.append(query)

    def on_checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        dbapi_conn.driver_connection.add_query_logger(logged)

    event.listen(db.engine.sync_engine, "checkout", on_checkout)
    return lambda: sent


# -- the straight path itself -------------------------------------------------------------


def _counting_greenlets(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the calls that go through SQLAlchemy's greenlets from now on."""
    spawned: list[str] = []
    spawn = async_engine.greenlet_spawn

    async def counting(fn: Any, *args: Any, **kwargs: Any) -> Any:
        spawned.append(getattr(fn, "__name__", repr(fn)))
        return await spawn(fn, *args, **kwargs)

    monkeypatch.setattr(async_engine, "greenlet_spawn", counting)
    return spawned


async def _commit_rollback_and_drop(pg: Database) -> None:
    """Three units recording 1, 2 and 3: committed, rolled back, left without either."""
    async with pg.uow() as uow:
        await _record(uow, 1)
        await uow.commit()
    async with pg.uow() as uow:
        await _record(uow, 2)
        await uow.rollback()
    async with pg.uow() as uow:
        await _record(uow, 3)


async def test_transaction_control_is_the_same_and_skips_sqlalchemys_asyncio_layer(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    spawned = _counting_greenlets(monkeypatch)
    sent = _transaction_control(pg)

    await _commit_rollback_and_drop(pg)
    async with pg.uow() as uow:  # nothing sent: no BEGIN, no COMMIT
        await uow.commit()
    # asyncpg calls its query loggers soon after a statement, not at once.
    await asyncio.sleep(0)
    await asyncio.sleep(0)

    assert sent() == ["BEGIN", "COMMIT", "BEGIN", "ROLLBACK", "BEGIN", "ROLLBACK"]
    if pg.straight:
        # The pool's check-out only: begin, commit, rollback and the return to the pool
        # made no trip through SQLAlchemy's greenlets.
        assert spawned == ["connect"] * 4, spawned
    else:
        assert len(spawned) == 4 * 4, spawned  # connect, begin, commit or rollback, close
    assert await _recorded(pg) == [1]


async def test_a_straight_unit_checks_out_without_sqlalchemys_greenlets(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a connection waiting in the pool, open and valid (no check-out listener: the
    test above sets one), the check-out is SQLAlchemy's own, run without its greenlets."""
    spawned = _counting_greenlets(monkeypatch)
    await _commit_rollback_and_drop(pg)
    if pg.straight:
        assert spawned == [], spawned
    else:
        assert len(spawned) == 3 * 4, spawned
    assert await _recorded(pg) == [1]
    await _clean_next_checkout(pg)


async def test_an_invalidated_connection_is_reconnected_through_the_greenlet(
    pg: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pooled connection SQLAlchemy invalidated (its driver connection closed) is
    reconnected at the next check-out, which needs SQLAlchemy's greenlet: that check-out
    takes the usual way, the one after it the straight one again."""
    async with pg.uow() as uow:
        old = await _pid(uow)
    async with pg.engine.connect() as conn:  # the pool's one connection
        await conn.invalidate()
    spawned = _counting_greenlets(monkeypatch)
    async with pg.uow() as uow:
        new = await _pid(uow)
        await _record(uow, 40)
        await uow.commit()
    assert new != old
    if pg.straight:
        assert spawned.count("connect") == 1, spawned
    spawned.clear()
    async with pg.uow() as uow:
        assert await _pid(uow) == new
        await _record(uow, 41)
        await uow.commit()
    if pg.straight:
        assert "connect" not in spawned, spawned  # (`_pid` takes one trip of its own)
    assert await _recorded(pg) == [40, 41]
    await _clean_next_checkout(pg)


async def test_a_lost_connection_makes_every_pooled_connection_reconnect(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a lost connection SQLAlchemy marks the pool's older connections stale (each
    replaced at its next check-out, through the greenlet), also those that look open: none
    of them is handed out straight."""
    await _pg_truncate(pg_url)
    db = Database(pg_url, pool_size=3)
    try:
        assert await db.warm_up(prepare=False) == 3
        held: list[int] = []
        both = asyncio.Event()

        async def hold() -> None:
            async with db.uow() as uow:
                held.append(await _pid(uow))
                if len(held) == 3:
                    both.set()
                await both.wait()

        await asyncio.gather(*(hold() for _ in range(3)))
        old = set(held)
        assert len(old) == 3
        await _kill(pg_url, held[0])
        spawned = _counting_greenlets(monkeypatch)
        attempts = 0

        async def work(uow: UnitOfWork) -> None:
            nonlocal attempts
            attempts += 1
            await _record(uow, 50 + attempts)
            await uow.commit()

        for _ in range(3):  # one of them finds its connection gone, and is tried again
            await db.run(work)
        assert attempts == 4
        pids = set()
        for _ in range(3):
            async with db.uow() as uow:
                pids.add(await _pid(uow))
        assert not pids & old and len(pids) == 3
        if db.straight:
            # Each connection reconnected once (the retry's and the two stale ones), at a
            # check-out through the greenlet; every other check-out went straight.
            assert spawned.count("connect") == 3, spawned
        assert len(await _recorded(db)) == 3
    finally:
        await db.dispose()


async def test_a_cold_path_through_sqlalchemy_is_in_the_unit_s_transaction(
    pg: Database,
) -> None:
    # The first statement through `conn.execute` (SQLAlchemy's adapter sends the BEGIN),
    # then a direct one: one transaction, committed or rolled back as a whole.
    insert = text(
        "INSERT INTO processed_updates (platform, update_id, processed_at)"
        " VALUES ('telegram:1', :id, now())"
    )
    async with pg.uow() as uow:
        assert uow.conn.in_transaction()
        await uow.conn.execute(insert, {"id": 10})
        await _record(uow, 11)
        await uow.rollback()
    await _clean_next_checkout(pg)
    async with pg.uow() as uow:
        await uow.conn.execute(insert, {"id": 12})
        await _record(uow, 13)
        await uow.commit()
        assert not uow.conn.in_transaction()
    await _clean_next_checkout(pg)
    async with pg.uow() as uow:
        await _record(uow, 14)
        await uow.conn.execute(insert, {"id": 15})
        # left without commit: rolled back
    await _clean_next_checkout(pg)
    assert await _recorded(pg) == [12, 13]


# -- failures ----------------------------------------------------------------------------


async def _menu(db: Database) -> int | None:
    async with db.uow(readonly=True) as uow:
        conv = await uow.conversations.get("telegram", 42, 42)
    assert conv is not None
    return conv.menu_message_id


async def test_a_unit_that_raised_leaves_no_transaction_on_the_pooled_connection(
    both: Database,
) -> None:
    class Boom(Exception):
        pass

    params = {**WHO, "b_now": NOW}
    for menu in (1, 2):
        with pytest.raises(Boom):
            async with both.uow() as uow:
                assert await direct.rowcount(uow.conn, cv._SET_MENU, {**params, "b_menu": menu})
                raise Boom
        if not both.is_sqlite:
            await _clean_next_checkout(both)
        assert await _menu(both) is None
    async with both.uow() as uow:
        assert await direct.rowcount(uow.conn, cv._SET_MENU, {**params, "b_menu": 3})
        await uow.commit()
    assert await _menu(both) == 3


async def test_a_connection_lost_mid_unit_is_tried_again_and_applied_once(
    pg: Database, pg_url: str
) -> None:
    attempts: list[int] = []

    async def work(uow: UnitOfWork) -> None:
        attempts.append(await _pid(uow))
        await _record(uow, 20)
        if len(attempts) == 1:
            await _kill(pg_url, attempts[0])  # PostgreSQL drops it: the unit rolls back
        await _record(uow, 21)
        await uow.commit()

    await pg.run(work)
    assert len(attempts) == 2 and attempts[0] != attempts[1]
    assert await _recorded(pg) == [20, 21]
    await _clean_next_checkout(pg)


async def test_a_connection_lost_before_the_unit_began_is_tried_again(
    pg: Database, pg_url: str
) -> None:
    # The pooled connection died while idle: the unit's BEGIN (with its first statement)
    # finds it gone.
    async with pg.uow() as uow:
        pid = await _pid(uow)
    await _kill(pg_url, pid)
    attempts = 0

    async def work(uow: UnitOfWork) -> None:
        nonlocal attempts
        attempts += 1
        await _record(uow, 30)
        await uow.commit()

    await pg.run(work)
    assert attempts == 2
    assert await _recorded(pg) == [30]


async def test_a_connection_lost_at_commit_is_not_tried_again(
    pg: Database, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # COMMIT was sent, or may have been: the unit is never applied a second time. Here the
    # backend is gone before the COMMIT reaches it, so nothing was applied at all.
    attempts = 0

    async def work(uow: UnitOfWork) -> None:
        nonlocal attempts
        attempts += 1
        await _record(uow, 40)
        await _kill(pg_url, await _pid(uow))
        await uow.commit()

    with pytest.raises(DBAPIError) as raised:
        await pg.run(work)
    assert lost_connection(raised.value)
    assert attempts == 1
    assert await _recorded(pg) == []
    await _clean_next_checkout(pg)


_DEFERRED = (
    "CREATE TEMP TABLE uow_deferred (id int UNIQUE DEFERRABLE INITIALLY DEFERRED)"
    " ON COMMIT DROP; INSERT INTO uow_deferred VALUES (1), (1)"
)


async def test_a_failed_commit_applies_nothing_and_leaves_the_connection_clean(
    pg: Database,
) -> None:
    # A deferred unique check fails at COMMIT: the unit's other write is not applied, the
    # error is SQLAlchemy's, `Database.run` does not try it again (not transient, and COMMIT
    # was sent), and the next unit gets a clean connection and commits once.
    attempts = 0

    async def work(uow: UnitOfWork) -> None:
        nonlocal attempts
        attempts += 1
        await _record(uow, 50)
        await uow.conn.execute(text(_DEFERRED.split("; ")[0]))
        await uow.conn.execute(text(_DEFERRED.split("; ")[1]))
        await uow.commit()

    with pytest.raises(IntegrityError):
        await pg.run(work)
    assert attempts == 1
    await _clean_next_checkout(pg)
    assert await _recorded(pg) == []

    async def again(uow: UnitOfWork) -> None:
        await _record(uow, 50)
        await uow.commit()

    await pg.run(again)
    assert await _recorded(pg) == [50]


async def test_after_commit_hooks_see_the_commit(pg: Database) -> None:
    # Another pool's reader, in the hook: the unit's write is committed by then.
    seen: list[int] = []
    other = Database(pg.url, pool_size=1)
    try:

        async def work(uow: UnitOfWork) -> None:
            async def hook() -> None:
                async with other.uow(readonly=True) as reader:
                    found = await reader.conn.execute(select(func.count()).select_from(cv.PU))
                    seen.append(int(found.scalar_one()))

            uow.after_commit.append(hook)
            await _record(uow, 61)
            await uow.commit()

        await pg.run(work)
    finally:
        await other.dispose()
    assert seen == [1]
    assert await _recorded(pg) == [61]


async def test_an_optimistic_unit_returns_its_connection_in_transactions(pg: Database) -> None:
    if not pg.optimistic:
        pytest.skip("optimistic units of work are switched off (CETBOT_OPTIMISTIC=0)")
    async with pg.uow(optimistic=True) as uow:
        await uow.conversations.peek("telegram:1", 1, "telegram", 42, 42)
    await _clean_next_checkout(pg)
    async with pg.uow() as uow:
        await _record(uow, 70)
        # not committed: rolled back, so the statement ran in a transaction
    assert await _recorded(pg) == []


async def test_a_transaction_the_adapter_does_not_know_of_is_not_handed_out(
    pg: Database,
) -> None:
    # A BEGIN behind the adapter's back (as a COMMIT cancelled on its way could leave the
    # server): the pool's reset would not end it, so the connection must not be reused.
    async with pg.uow() as uow:
        await _record(uow, 80)
        await uow.commit()
        raw = await uow.conn.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.execute("BEGIN")
        await driver.execute(
            "INSERT INTO processed_updates (platform, update_id, processed_at)"
            " VALUES ('telegram:1', 81, now())"
        )
    if pg.straight:
        await _clean_next_checkout(pg)
        assert await _recorded(pg) == [80]
