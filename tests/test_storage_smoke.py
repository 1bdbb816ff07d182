"""The storage layer opens, writes and reads on both databases."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.db import Database


def _counting_connections(db: Database) -> list[int]:
    """[the server connections `db`'s engine has opened since], kept up to date."""
    from sqlalchemy import event

    opened = [0]

    def count(*_args: object) -> None:
        opened[0] += 1

    event.listen(db.engine.sync_engine, "connect", count)
    return opened


async def test_unit_of_work_commits_once_and_rolls_back_otherwise(db: Database) -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)
    async with db.uow() as uow:
        await uow.accounts.create("a@example.com", "h", now)
        # no commit: rolled back
    async with db.uow() as uow:
        assert await uow.accounts.by_email("a@example.com") is None
        acc = await uow.accounts.create("a@example.com", "h", now)
        await uow.accounts.bind("telegram", 2**40, acc.id, now)  # BIGINT chat ids
        await uow.commit()
    async with db.uow(readonly=True) as uow:
        found = await uow.accounts.bound_account("telegram", 2**40)
        assert found is not None and found.email == "a@example.com"
        assert found.created_at == now


async def test_r7_racing_account_creation_reports_a_conflict_not_a_db_error(db: Database) -> None:
    from storage.errors import Conflict

    now = datetime(2026, 11, 25, tzinfo=UTC)
    async with db.uow() as first:
        await first.accounts.create("race@example.com", "h", now)
        await first.commit()
    async with db.uow() as second:
        try:
            await second.accounts.create("race@example.com", "h", now)
        except Conflict:
            pass
        else:
            raise AssertionError("duplicate e-mail accepted")
        # The transaction is still usable after the refusal (savepoint).
        assert await second.accounts.by_email("race@example.com") is not None


async def _sqlite_database(tmp_path: Path, name: str) -> tuple[Database, str]:
    from storage.models import Base

    path = str(tmp_path / name)
    db = Database(f"sqlite+aiosqlite:///{path}", pool_size=4)
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    return db, path


async def test_sqlite_files_use_the_direct_connection_unless_told_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    import aiosqlite
    from sqlalchemy import text

    from storage import sqlite_direct, sqlite_inline

    monkeypatch.delenv("CETBOT_SQLITE_THREADED", raising=False)
    db, _ = await _sqlite_database(tmp_path, "inline.db")
    try:
        # Units of work: SQLAlchemy's synchronous Connection over sqlite3, on the loop.
        async with db.uow(readonly=True) as uow:
            assert isinstance(uow.conn, sqlite_direct.DirectConnection)
            raw = await uow.conn.get_raw_connection()
            assert isinstance(raw.driver_connection, sqlite3.Connection)
            # SQLite's busy handler is off: BEGIN is retried with asyncio.sleep instead.
            assert (await uow.conn.execute(text("PRAGMA busy_timeout"))).scalar() == 0
        assert db.statement_engine is db.direct_engine
        # The AsyncEngine (migrations, tools) keeps the on-loop aiosqlite stand-in.
        async with db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert isinstance(raw.driver_connection, sqlite_inline.Connection)
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 0
    finally:
        await db.dispose()

    monkeypatch.setenv("CETBOT_SQLITE_THREADED", "1")
    db, _ = await _sqlite_database(tmp_path, "threaded.db")
    try:
        async with db.uow(readonly=True) as uow:
            raw = await uow.conn.get_raw_connection()
            assert isinstance(raw.driver_connection, aiosqlite.Connection)
            assert (await uow.conn.execute(text("PRAGMA busy_timeout"))).scalar() == 30000
        assert db.direct_engine is None
    finally:
        await db.dispose()


async def test_sqlite_writer_waits_for_another_connection_without_blocking_the_loop(
    tmp_path: Path,
) -> None:
    import asyncio
    import sqlite3
    import time

    db, path = await _sqlite_database(tmp_path, "locked.db")
    now = datetime(2026, 11, 25, tzinfo=UTC)
    # Another process's connection (SQLite locks the same way within one process).
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    async def write() -> float:
        started = time.monotonic()
        async with db.uow() as uow:
            await uow.accounts.create("late@example.com", "h", now)
            await uow.commit()
        return time.monotonic() - started

    clock = asyncio.create_task(ticker())
    try:
        other.execute("BEGIN IMMEDIATE")  # holds SQLite's write lock
        writer = asyncio.create_task(write())
        await asyncio.sleep(0.3)
        assert not writer.done()  # still waiting for the lock
        # Readers are not held up by a writer (WAL, BEGIN DEFERRED).
        async with db.uow(readonly=True) as uow:
            assert await uow.accounts.by_email("late@example.com") is None
        ticks_while_locked = ticks
        other.execute("COMMIT")
        waited = await asyncio.wait_for(writer, timeout=10)
    finally:
        clock.cancel()
        other.close()
    try:
        assert waited >= 0.3
        # The loop kept running while the writer waited: ~60 ticks of 5 ms in 0.3 s.
        assert ticks_while_locked >= 20
        async with db.uow(readonly=True) as uow:
            assert await uow.accounts.by_email("late@example.com") is not None
    finally:
        await db.dispose()


async def test_a_burst_beyond_the_pool_waits_for_connections_instead_of_opening_more(
    pg_url: str,
) -> None:
    """PostgreSQL: 40 units of work at once on a pool of 5 open 5 server connections.

    An overflow connection is closed when it comes back, so a burst used to open and close
    a server connection (a backend fork) per unit of work beyond the pool."""
    import asyncio

    db = Database(pg_url, pool_size=5)
    opened = _counting_connections(db)
    try:

        async def one(i: int) -> None:
            async with db.uow() as uow:
                await uow.accounts.by_email(f"burst{i}@example.com")
                await asyncio.sleep(0.01)  # hold the connection a little, as a real update
                await uow.commit()

        for _ in range(3):
            await asyncio.gather(*(one(i) for i in range(40)))
    finally:
        await db.dispose()
    assert opened == [5], opened


async def test_sqlite_units_of_work_reuse_one_connection_and_leave_no_transaction_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The direct path keeps its Connections open between units of work: a unit of work
    that failed half-way, or left without committing, must hand on a clean one."""
    from sqlalchemy import event

    monkeypatch.delenv("CETBOT_SQLITE_THREADED", raising=False)
    db, _ = await _sqlite_database(tmp_path, "reuse.db")
    now = datetime(2026, 11, 25, tzinfo=UTC)
    opened = 0

    def count(*_args: object) -> None:
        nonlocal opened
        opened += 1

    assert db.direct_engine is not None
    event.listen(db.direct_engine, "connect", count)
    try:
        for i in range(20):
            with pytest.raises(RuntimeError):
                async with db.uow() as uow:
                    await uow.accounts.create(f"gone{i}@example.com", "h", now)
                    raise RuntimeError("the handler failed")
            async with db.uow() as uow:
                await uow.accounts.create(f"left{i}@example.com", "h", now)  # no commit
            async with db.uow() as uow:
                point = await uow.savepoint()
                await uow.accounts.create(f"undone{i}@example.com", "h", now)
                await point.rollback()
                async with uow.savepoint():
                    await uow.accounts.create(f"kept{i}@example.com", "h", now)
                await uow.commit()
        async with db.uow(readonly=True) as uow:
            for i in range(20):
                assert await uow.accounts.by_email(f"gone{i}@example.com") is None
                assert await uow.accounts.by_email(f"left{i}@example.com") is None
                assert await uow.accounts.by_email(f"undone{i}@example.com") is None
                assert await uow.accounts.by_email(f"kept{i}@example.com") is not None
    finally:
        await db.dispose()
    assert opened == 1, opened  # one sqlite3 connection served all 61 units of work


async def test_a_repeated_nonce_or_outbox_key_is_skipped_and_the_transaction_goes_on(
    db: Database,
) -> None:
    """Issue 17: a callback nonce seen before and an outbox message queued before are
    skipped by their INSERT (ON CONFLICT DO NOTHING), not by a savepoint around it."""
    from sqlalchemy import func, select

    from storage.models import OutboxMessage, PaymentNonce

    now = datetime(2026, 11, 25, tzinfo=UTC)
    note = {"platform": "telegram", "chat_id": 5, "kind": "payment-paid", "payload": {"a": 1}}
    async with db.uow() as uow:
        assert await uow.payments.remember_nonce("n-1", now)
        first = await uow.outbox.add(**note, now=now, dedupe_key="pay:1")
        assert first is not None
        await uow.commit()
    async with db.uow() as uow:
        assert not await uow.payments.remember_nonce("n-1", now)
        assert await uow.outbox.add(**note, now=now, dedupe_key="pay:1") is None
        # The transaction is still usable, and keeps what it wrote after the skips.
        assert await uow.payments.remember_nonce("n-2", now)
        second = await uow.outbox.add(**note, now=now, dedupe_key="pay:2")
        assert second is not None and second != first
        await uow.commit()
    async with db.uow(readonly=True) as uow:
        nonces = select(func.count()).select_from(PaymentNonce.__table__)
        keys = select(OutboxMessage.dedupe_key).order_by(OutboxMessage.id)
        assert (await uow.conn.execute(nonces)).scalar_one() == 2
        assert list((await uow.conn.execute(keys)).scalars()) == ["pay:1", "pay:2"]


async def test_warm_up_opens_the_whole_pool_before_the_first_unit_of_work(pg_url: str) -> None:
    """PostgreSQL: `warm_up` opens every pooled connection at once (each a backend the
    server counts), so a burst of units of work right after opens none."""
    import asyncio

    from sqlalchemy import text

    db = Database(pg_url, pool_size=6)
    opened = _counting_connections(db)
    try:
        assert await db.warm_up() == 6
        assert opened == [6]
        async with db.uow(readonly=True) as uow:
            backends = (
                await uow.conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            ).scalar_one()
        assert backends >= 5  # the other five pooled connections, idle in the server

        async def one(i: int) -> None:
            async with db.uow() as uow:
                await uow.accounts.by_email(f"warm{i}@example.com")
                await asyncio.sleep(0.01)

        await asyncio.gather(*(one(i) for i in range(12)))
        assert opened == [6], opened
    finally:
        await db.dispose()


async def test_warm_up_on_sqlite_opens_nothing(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'warm.db'}")
    try:
        assert await db.warm_up() == 0
    finally:
        await db.dispose()
