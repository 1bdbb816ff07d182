"""Fairness for the last seats: the candidate who reached the database first is served first.

"Earlier" means: the booking transaction reached the (campus, subject) seat lock earlier,
the lock taken right before the conditional UPDATE of the seat row
(`UPDATE campus_seats SET taken = taken + 1 WHERE ... AND taken < capacity`).

* PostgreSQL: that lock is a transaction-level advisory lock keyed by (campus, subject)
  (storage/repos/registrations.py, create_with_seat), granted strictly in arrival order.
  The row lock alone is not enough: its waiters queue per row version, every booking
  makes a new version, and this test caught the 6th in line booking before the 3rd.
  So with K seats left, the first K transactions in the queue get them and every later
  one is told "full", however the clients' timings go afterwards.
* SQLite: one writer at a time for the whole file; the bot's single process queues its
  writers on the Database's FIFO write lock (asyncio.Lock) before BEGIN IMMEDIATE, so the
  queue order there is the order. (Several bot processes on SQLite are refused.)

A freed seat never reaches a newcomer while someone waits: the release and the hand-over
to the earliest waiter happen in one transaction that holds the seat row (R37), and the
admin's capacity change promotes in its transaction too.

The tests build the queue deterministically: a holder takes the lock first, the bookers
are started one by one, each only once the previous one is seen waiting (PostgreSQL:
pg_stat_activity; SQLite: the write lock), then the holder lets go.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text

from registration import entries, waitlist
from storage.db import Database, UnitOfWork
from tests.rules.conftest import World
from tests.rules.test_seat_concurrency import _book, _counts, _many_candidates

pytestmark = pytest.mark.slow

SEAT_ROW_LOCK = (
    "SELECT taken FROM campus_seats WHERE campus_id = :c AND subject_code = 'CET4' FOR UPDATE"
)


async def _pg_lock_waiters(world: World) -> int:
    return await world.pg_lock_waiters("%UPDATE campus_seats%", "%advisory_xact%")


async def _queued(world: World, crowd: Database, expected: int) -> None:
    """Waits until `expected` bookers are queued on the lock (bounded: 10 s)."""
    end = time.monotonic() + 10
    while time.monotonic() < end:
        if crowd.is_sqlite:
            lock = crowd._write_lock
            assert lock is not None
            if len(getattr(lock, "_waiters", None) or ()) >= expected:
                return
        elif await _pg_lock_waiters(world) >= expected:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{expected} bookers never queued on the seat lock")


async def _queue_behind_holder(
    world: World, crowd: Database, regs: list[int]
) -> list[asyncio.Task[str]]:
    """Starts the bookers in `regs` order behind a holder of the lock; returns their tasks."""
    tasks: list[asyncio.Task[str]] = []
    campus = world.campus["BSU-HD"]
    async with crowd.uow() as holder:
        if not crowd.is_sqlite:
            await holder.conn.execute(text(SEAT_ROW_LOCK), {"c": campus})
        for i, reg in enumerate(regs):
            tasks.append(asyncio.create_task(_book(crowd, world, reg, "BSU-HD")))
            await _queued(world, crowd, i + 1)
        # Leaving without commit ends the holder; the queue moves in its order.
    return tasks


@pytest.mark.parametrize("seats_left", [1, 3])
async def test_the_first_at_the_seat_lock_gets_the_last_seats(
    world: World, db_url: str, seats_left: int
) -> None:
    await world.set_capacity("BSU-HD", "CET4", 5)
    regs = await _many_candidates(world, 5 - seats_left + 8)
    early, queue = regs[: 5 - seats_left], regs[5 - seats_left :]
    crowd = Database(db_url, pool_size=20)
    try:
        for reg in early:
            assert await _book(crowd, world, reg, "BSU-HD") == "ok"
        tasks = await _queue_behind_holder(world, crowd, queue)
        results = await asyncio.gather(*tasks)
    finally:
        await crowd.dispose()
    # Exactly the first `seats_left` in the queue order, never a later one.
    assert results == ["ok"] * seats_left + ["full"] * (len(queue) - seats_left)
    assert await _counts(world, "BSU-HD") == (5, 5, 5)


async def test_a_freed_seat_goes_to_the_earliest_waiter_never_to_a_newcomer(
    world: World, db_url: str
) -> None:
    await world.set_capacity("BSU-HD", "CET4", 10)
    regs = await _many_candidates(world, 10 + 8 + 12)
    holders, waiters, newcomers = regs[:10], regs[10:18], regs[18:]
    crowd = Database(db_url, pool_size=40)
    try:
        assert (await asyncio.gather(*(_book(crowd, world, r, "BSU-HD") for r in holders))).count(
            "ok"
        ) == 10
        order = []
        for reg in waiters:  # one after another: the queue order
            async with world.db.uow() as uow:
                joined = await waitlist.join_waitlist(
                    uow,
                    world.clock,
                    registration_id=reg,
                    campus_id=world.campus["BSU-HD"],
                    subject_code="CET4",
                )
                await uow.commit()
            order.append(joined.registration_id)
        async with world.db.uow(readonly=True) as uow:
            held = [(r, (await uow.entries.of_registration(r))[0].id) for r in holders[:5]]

        async def cancel(reg_id: int, entry_id: int) -> list[int]:
            async def work(uow: UnitOfWork) -> list[int]:
                _, promoted = await entries.cancel_entry(
                    uow, world.clock, registration_id=reg_id, entry_id=entry_id
                )
                await uow.commit()
                return [p.registration_id for p in promoted]

            return await crowd.run(work)

        # Frees and newcomers at the same time, interleaved.
        jobs: list[asyncio.Future[object]] = []
        for i in range(12):
            jobs.append(asyncio.ensure_future(_book(crowd, world, newcomers[i], "BSU-HD")))
            if i < 5:
                jobs.append(asyncio.ensure_future(cancel(*held[i])))
        outcome = await asyncio.gather(*jobs)
    finally:
        await crowd.dispose()
    booked = [r for r in outcome if isinstance(r, str)]
    promoted = [reg for r in outcome if isinstance(r, list) for reg in r]
    assert booked == ["full"] * 12, "a newcomer took a seat while earlier waiters waited"
    assert promoted and set(promoted) == set(order[:5]) and len(promoted) == 5
    assert await _counts(world, "BSU-HD") == (10, 10, 10)


async def test_freed_seats_follow_the_waitlist_order_under_concurrent_frees(
    world: World, db_url: str
) -> None:
    await world.set_capacity("BSU-HD", "CET4", 6)
    regs = await _many_candidates(world, 6 + 10)
    holders, waiters = regs[:6], regs[6:]
    crowd = Database(db_url, pool_size=20)
    try:
        for reg in holders:
            assert await _book(crowd, world, reg, "BSU-HD") == "ok"
        for reg in waiters:
            async with world.db.uow() as uow:
                await waitlist.join_waitlist(
                    uow,
                    world.clock,
                    registration_id=reg,
                    campus_id=world.campus["BSU-HD"],
                    subject_code="CET4",
                )
                await uow.commit()
        async with world.db.uow(readonly=True) as uow:
            held = [(r, (await uow.entries.of_registration(r))[0].id) for r in holders]

        async def cancel(reg_id: int, entry_id: int) -> None:
            async def work(uow: UnitOfWork) -> None:
                await entries.cancel_entry(
                    uow, world.clock, registration_id=reg_id, entry_id=entry_id
                )
                await uow.commit()

            await crowd.run(work)

        await asyncio.gather(*(cancel(r, e) for r, e in held))
        async with world.db.uow(readonly=True) as uow:
            served = [bool(await uow.entries.of_registration(r)) for r in waiters]
    finally:
        await crowd.dispose()
    # The six freed seats went to the first six waiters in the queue, none skipped.
    assert served == [True] * 6 + [False] * 4
    assert await _counts(world, "BSU-HD") == (6, 6, 6)
