"""The stairway: every migration upgrades and downgrades one by one, on both databases,
and the head matches the models."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from storage import migrate
from storage.models import Base
from tests.conftest import _pg_admin, _pg_url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'stairs.db'}"
    request.getfixturevalue("pg_url")  # makes sure the service is there (or says why not)
    name = f"{request.node.name.split('[')[0][:30]}_stairs".lower()
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}"'))
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    request.addfinalizer(
        lambda: asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    )
    return _pg_url(name)


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    return names - {"alembic_version"}


async def _diff(url: str) -> list[object]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
    finally:
        await engine.dispose()


async def test_stairway_upgrade_and_downgrade_each_revision(empty_db_url: str) -> None:
    revisions = migrate.revisions()
    assert revisions, "no migrations found"
    previous = "base"
    for rev in revisions:
        await migrate.upgrade(empty_db_url, rev)
        await migrate.downgrade(empty_db_url, previous)
        await migrate.upgrade(empty_db_url, rev)
        previous = rev
    assert await _tables(empty_db_url) == set(Base.metadata.tables)
    assert await _diff(empty_db_url) == []  # the migrations build exactly the models
    await migrate.downgrade(empty_db_url, "base")
    assert await _tables(empty_db_url) == set()


async def test_upgrade_is_idempotent_and_sqlite_runs_in_wal_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from storage.db import Database

    url = f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}"
    await migrate.upgrade(url)
    await migrate.upgrade(url)
    db = Database(url)
    try:
        async with db.uow(readonly=True) as uow:
            mode = (await uow.conn.execute(text("PRAGMA journal_mode"))).scalar()
            timeout = (await uow.conn.execute(text("PRAGMA busy_timeout"))).scalar()
    finally:
        await db.dispose()
    # The inline driver never waits inside SQLite (it would block the event loop);
    # it retries a locked write with asyncio.sleep instead (storage/sqlite_inline.py).
    assert mode == "wal" and timeout == 0
