"""R23, R37 under concurrency: seats are never oversold and each freed seat goes once.

Every simulated candidate works on its own database connection at the same time.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from registration import entries, errors, waitlist
from registration.identity import make_id_card_number
from storage.db import Database, UnitOfWork
from tests.rules.conftest import SCHOOL, World

pytestmark = pytest.mark.slow


async def _many_candidates(world: World, n: int) -> list[int]:
    """n verified accounts with saved registrations, made in one transaction."""
    rows, elig = [], {}
    now = world.clock.now()
    for i in range(n):
        number = make_id_card_number("320102", date(2004, 1, 1) + timedelta(days=i // 900), i % 900)
        rows.append(
            {
                "name": f"考生{i}",
                "gender": "F",
                "id_type": "id_card",
                "id_number": number,
                "school": SCHOOL,
                "campus_code": "BSU-HD",
                "student_no": f"C{i:06d}",
                "phone": "13800000000",
                "has_photo": False,
            }
        )
        elig[("id_card", number)] = ["CET4"]
    async with world.db.uow() as uow:
        await uow.records.bulk_upsert(world.session_id, rows, elig, {})
        keys = await uow.records.keys_of_session(world.session_id)
        regs = []
        for i, row in enumerate(rows):
            acc = await uow.accounts.create(f"load{i}@example.com", "x", now)
            reg = await uow.registrations.create(
                world.session_id, keys[("id_card", row["id_number"])], acc.id, "13800000000", now
            )
            regs.append(reg.id)
        await uow.commit()
    return regs


async def _book(db: Database, world: World, reg_id: int, campus: str) -> str:
    async def work(uow: UnitOfWork) -> str:
        try:
            await entries.register_subject(
                uow,
                world.clock,
                registration_id=reg_id,
                subject_code="CET4",
                campus_id=world.campus[campus],
            )
        except errors.SeatsFull:
            return "full"
        await uow.commit()
        return "ok"

    return await db.run(work)


async def _counts(world: World, campus: str) -> tuple[int, int, int]:
    async with world.db.uow(readonly=True) as uow:
        seats = await uow.sessions.seats(world.campus[campus], "CET4")
        active = await uow.entries.count_active(world.campus[campus], "CET4")
    assert seats is not None
    return seats.capacity, seats.taken, active


async def test_r23_300_concurrent_candidates_100_seats_exactly_100_entries(
    world: World, db_url: str
) -> None:
    await world.set_capacity("BSU-HD", "CET4", 100)
    regs = await _many_candidates(world, 300)
    crowd = Database(db_url, pool_size=300)  # one connection per candidate
    try:
        results = await asyncio.gather(*(_book(crowd, world, r, "BSU-HD") for r in regs))
    finally:
        await crowd.dispose()
    assert results.count("ok") == 100 and results.count("full") == 200
    assert await _counts(world, "BSU-HD") == (100, 100, 100)


async def test_r23_interleaved_cancels_and_takes_keep_the_count_exact(
    world: World, db_url: str
) -> None:
    await world.set_capacity("BSU-HD", "CET4", 60)
    regs = await _many_candidates(world, 160)
    crowd = Database(db_url, pool_size=200)
    try:
        first = await asyncio.gather(*(_book(crowd, world, r, "BSU-HD") for r in regs[:60]))
        assert first.count("ok") == 60
        async with world.db.uow(readonly=True) as uow:
            held = [(r, (await uow.entries.of_registration(r))[0].id) for r in regs[:30]]

        async def cancel(reg_id: int, entry_id: int) -> str:
            async def work(uow: UnitOfWork) -> str:
                await entries.cancel_entry(
                    uow, world.clock, registration_id=reg_id, entry_id=entry_id
                )
                await uow.commit()
                return "cancelled"

            return await crowd.run(work)

        jobs = [cancel(r, e) for r, e in held] + [
            _book(crowd, world, r, "BSU-HD") for r in regs[60:]
        ]
        mixed = await asyncio.gather(*jobs)
        assert mixed.count("cancelled") == 30
        capacity, taken, active = await _counts(world, "BSU-HD")
        assert taken == active <= capacity == 60
        # A newcomer who tried before the last cancel committed found it full;
        # those try once more: every freed seat is there to be taken, no more.
        late = [r for r, res in zip(regs[60:], mixed[30:], strict=True) if res == "full"]
        again = await asyncio.gather(*(_book(crowd, world, r, "BSU-HD") for r in late))
    finally:
        await crowd.dispose()
    assert mixed.count("ok") + again.count("ok") == 30
    assert await _counts(world, "BSU-HD") == (60, 60, 60)


async def test_r37_each_freed_seat_goes_to_exactly_one_waiter_earliest_first(
    world: World, db_url: str
) -> None:
    await world.set_capacity("BSU-HD", "CET4", 20)
    regs = await _many_candidates(world, 60)
    holders, waiters = regs[:20], regs[20:60]
    crowd = Database(db_url, pool_size=100)
    try:
        assert (await asyncio.gather(*(_book(crowd, world, r, "BSU-HD") for r in holders))).count(
            "ok"
        ) == 20
        async with world.db.uow() as uow:
            order = []
            for r in waiters:  # joined one after another: the queue order
                w = await waitlist.join_waitlist(
                    uow,
                    world.clock,
                    registration_id=r,
                    campus_id=world.campus["BSU-HD"],
                    subject_code="CET4",
                )
                order.append(w.registration_id)
            await uow.commit()
        async with world.db.uow(readonly=True) as uow:
            held = [(r, (await uow.entries.of_registration(r))[0].id) for r in holders[:15]]

        async def cancel(reg_id: int, entry_id: int) -> list[int]:
            async def work(uow: UnitOfWork) -> list[int]:
                _, promoted = await entries.cancel_entry(
                    uow, world.clock, registration_id=reg_id, entry_id=entry_id
                )
                await uow.commit()
                return [p.registration_id for p in promoted]

            return await crowd.run(work)

        promoted = [
            r for got in await asyncio.gather(*(cancel(r, e) for r, e in held)) for r in got
        ]
    finally:
        await crowd.dispose()
    assert len(promoted) == len(set(promoted)) == 15  # each seat to exactly one waiter
    assert set(promoted) == set(order[:15])  # the earliest fifteen
    assert await _counts(world, "BSU-HD") == (20, 20, 20)
    async with world.db.uow(readonly=True) as uow:
        for r in order[15:]:
            assert await uow.entries.of_registration(r) == []
