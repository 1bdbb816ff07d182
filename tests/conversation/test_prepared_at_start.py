"""`Database.warm_up` prepares and plans the hot statements on every pooled connection.

At start-up (`cetbot run`) the pool's connections are opened, and each statement the
repositories send through storage/direct.py is prepared into asyncpg's statement cache and
planned by PostgreSQL (a generic plan, `force_generic_plan`; issue 17, tenth round), so the
rush's first updates on each connection plan nothing. Checked here after a fresh warm-up
(a new pool, nothing compiled yet in this "process"): a candidate's updates from sign-up to
paid and the worker's round add no statement to the cache of any pooled connection, and
every cached statement already has its plan on the server (pg_prepared_statements). The
same flow after a warm-up without preparing fills the caches: the check can fail.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from storage import direct
from storage.db import Database, hot_statements
from tests.conversation.conftest import Harness
from tests.conversation.flows_helpers import ZHANG, ZHOU, save_information, sign_up
from tests.conversation.test_generic_plans import _register_and_pay, _worker_round

POSTGRESQL = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


async def _pooled(db: Database) -> list[tuple[Any, set[str]]]:
    """Every connection of the pool (all checked out at once): its asyncpg connection and
    the statements in that connection's cache."""
    size = db.engine.pool.size()  # type: ignore[attr-defined]
    taken: list[Any] = []
    release = asyncio.Event()
    ready = asyncio.Event()

    async def hold() -> None:
        async with db.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            taken.append(raw.driver_connection)
            if len(taken) == size:
                ready.set()
            await release.wait()

    tasks = [asyncio.create_task(hold()) for _ in range(size)]
    await ready.wait()
    found = [(driver, {key[0] for key in driver._stmt_cache._entries}) for driver in taken]
    release.set()
    await asyncio.gather(*tasks)
    return found


async def _unplanned(driver: Any) -> list[str]:
    """The statements of `driver`'s cache that PostgreSQL has not planned yet (asked with a
    statement of its own, outside the cache)."""
    cached = {entry._statement.name for entry in driver._stmt_cache._entries.values()}
    probe = await driver.prepare(
        "SELECT name, statement FROM pg_prepared_statements WHERE generic_plans + custom_plans = 0"
    )
    return [r["statement"] for r in await probe.fetch() if r["name"] in cached]


async def _flow(h: Harness, sent: set[str]) -> None:
    with h.db.watching_statements(sent.add):
        first = h.chat()
        await sign_up(h, first, "first@example.com")
        await save_information(first, ZHANG)
        await _register_and_pay(h, first)
        second = h.chat()
        await sign_up(h, second, "second@example.com")
        await save_information(second, ZHOU)
        await _register_and_pay(h, second)
        await _worker_round(h)


async def _fresh_start(h: Harness, monkeypatch: pytest.MonkeyPatch, *, prepare: bool) -> None:
    """As at a process's start: a new pool, no statement compiled yet, then `warm_up`."""
    await h.db.engine.dispose()
    monkeypatch.setattr(direct, "_COMPILED", {})
    assert await h.db.warm_up(prepare=prepare) == h.db.engine.pool.size()  # type: ignore[attr-defined]


@POSTGRESQL
async def test_after_warm_up_no_pooled_connection_prepares_or_plans_a_statement(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.db.session_cache.ttl = 3600
    await _fresh_start(harness, monkeypatch, prepare=True)
    before = await _pooled(harness.db)
    hot = len(hot_statements(harness.db.engine.dialect))
    for driver, cached in before:
        assert len(cached) >= 50, len(cached)
        assert not await _unplanned(driver)
        # Kept until the pool closes the connection: not dropped after five minutes (asyncpg's
        # default lifetime, which would undo the warm-up before a later rush), nor pushed out
        # by the repositories' own statements.
        assert driver._stmt_cache.get_max_lifetime() == 0
        assert driver._stmt_cache.get_max_size() >= hot + 10
    sent: set[str] = set()
    await _flow(harness, sent)
    after = await _pooled(harness.db)
    # The flow ran the hot statements (fused reads, booking, pay link) through the caches
    # on every connection (the pool hands connections out in turn)...
    assert len(sent & before[0][1]) >= 30
    assert any(s.lstrip().startswith("WITH candidate") for s in sent & before[0][1])
    # ... and none of them was prepared again on any pooled connection.
    assert [len(a - b) for (_, b), (_, a) in zip(before, after, strict=True)] == [0] * len(before)
    assert [a - b for (_, b), (_, a) in zip(before, after, strict=True)] == [set()] * len(before)


@POSTGRESQL
async def test_without_preparing_the_first_updates_prepare_on_each_connection(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above can fail: a warm-up that only opens the connections leaves every
    statement to be prepared (and planned) on each connection during the first updates."""
    harness.db.session_cache.ttl = 3600
    await _fresh_start(harness, monkeypatch, prepare=False)
    before = await _pooled(harness.db)
    await _flow(harness, set())
    after = await _pooled(harness.db)
    added = [len(a - b) for (_, b), (_, a) in zip(before, after, strict=True)]
    assert min(added) >= 1 and sum(added) >= 50, added
