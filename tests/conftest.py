"""Shared fixtures: the database under test (SQLite and PostgreSQL) and the clock."""

from __future__ import annotations

import asyncio
import gc
import os
import secrets
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from foundation.clock import FrozenClock
from storage.db import Database
from storage.models import Base

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("CETBOT_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
PG_DB_NAME = f"cetbot_test_{os.getpid()}"
# Secrets for tests that start `cetbot run` / `cetbot worker`: random per test run, never a
# constant that could end up in a deployment (docs/security.md).
TEST_PAYMENT_SECRET = secrets.token_urlsafe(32)
TEST_WEBHOOK_SECRET = secrets.token_urlsafe(32)


@pytest.fixture(autouse=True)
def _heap_left_unfrozen() -> Iterator[None]:
    """A test that runs `serve` in this process settles the heap as `cetbot run` does
    (foundation/heap.py); the tests after it make and drop many apps, so it is unfrozen
    and the collector's thresholds are Python's again."""
    thresholds = gc.get_threshold()
    yield
    if gc.get_freeze_count():
        gc.unfreeze()
    gc.set_threshold(*thresholds)


def _pg_url(dbname: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname


async def _pg_admin(sql: str) -> None:
    engine = create_async_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def _create_schema(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
    finally:
        await engine.dispose()


def service_unavailable(reason: str) -> None:
    """A service a test needs is down: say why; fail in CI, skip (never silently) elsewhere."""
    print(f"\nSKIP: {reason}", file=sys.stderr)
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A database of our own on the PostgreSQL service, made for this test run."""
    try:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{PG_DB_NAME}"'))
        asyncio.run(_pg_admin(f'CREATE DATABASE "{PG_DB_NAME}"'))
    except Exception as exc:
        service_unavailable(f"PostgreSQL unavailable at {PG_ADMIN_URL}: {exc!r}")
    url = _pg_url(PG_DB_NAME)
    asyncio.run(_create_schema(url))
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{PG_DB_NAME}" WITH (FORCE)'))


TABLES = ", ".join(t.name for t in reversed(Base.metadata.sorted_tables))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        asyncio.run(_create_schema(url))
        return url
    url: str = request.getfixturevalue("pg_url")
    asyncio.run(_pg_truncate(url))
    return url


async def _pg_truncate(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url, pool_size=10)
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    # Inside the example session's registration window.
    return FrozenClock(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))
