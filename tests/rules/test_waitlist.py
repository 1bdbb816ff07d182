"""R34-R37: joining, leaving and being promoted from a waitlist."""

from __future__ import annotations

from datetime import timedelta

import pytest

from registration import entries, errors, expiry, waitlist
from storage.dto import EntryDTO, WaitlistDTO
from tests.rules.conftest import World


async def _register(world: World, reg_id: int, subject: str, campus: str = "BSU-CP") -> EntryDTO:
    async with world.db.uow() as uow:
        entry = await entries.register_subject(
            uow,
            world.clock,
            registration_id=reg_id,
            subject_code=subject,
            campus_id=world.campus[campus],
        )
        await uow.commit()
    return entry


async def _join(world: World, reg_id: int, subject: str, campus: str = "BSU-CP") -> WaitlistDTO:
    async with world.db.uow() as uow:
        w = await waitlist.join_waitlist(
            uow,
            world.clock,
            registration_id=reg_id,
            campus_id=world.campus[campus],
            subject_code=subject,
        )
        await uow.commit()
    return w


async def _fill(world: World, subject: str = "CET4", campus: str = "BSU-CP") -> list[EntryDTO]:
    cap, taken = await world.seats(campus, subject)
    out = []
    for _ in range(cap - taken):
        reg = await world.candidate(eligible=("CET4", "CET6"))
        out.append(await _register(world, reg.id, subject, campus))
    return out


async def test_r34_waitlist_only_for_a_full_campus(world: World) -> None:
    reg = await world.candidate()
    with pytest.raises(errors.NotFull):
        await _join(world, reg.id, "CET4")
    await _fill(world)
    w = await _join(world, reg.id, "CET4")
    assert w.status == "waiting"
    async with world.db.uow(readonly=True) as uow:
        assert await uow.waitlists.position(w) == 1


async def test_r35_one_waitlist_per_level_and_oral_needs_written(world: World) -> None:
    await world.set_capacity("BSU-CP", "CJT4", 0)
    await _fill(world)
    reg = await world.candidate(eligible=("CET4", "CJT4"))
    await _join(world, reg.id, "CET4")
    with pytest.raises(errors.WaitlistLevelTaken):
        await _join(world, reg.id, "CJT4")
    with pytest.raises(errors.OralNeedsWritten):
        await _join(world, reg.id, "CET-SET4")
    other = await world.candidate(eligible=("CET4",))
    with pytest.raises(errors.NotEligible):
        await _join(world, other.id, "CJT4")


async def test_r36_cancel_with_a_listed_reason_and_see_finished_ones(world: World) -> None:
    await _fill(world)
    reg = await world.candidate()
    w = await _join(world, reg.id, "CET4")
    other = await world.candidate()
    async with world.db.uow() as uow:
        with pytest.raises(errors.BadCancelReason):
            await waitlist.cancel_waitlist(
                uow, world.clock, registration_id=reg.id, waitlist_id=w.id, reason="bored"
            )
        with pytest.raises(errors.Forbidden):
            await waitlist.cancel_waitlist(
                uow, world.clock, registration_id=other.id, waitlist_id=w.id, reason="other"
            )
    async with world.db.uow() as uow:
        done = await waitlist.cancel_waitlist(
            uow, world.clock, registration_id=reg.id, waitlist_id=w.id, reason="plans-changed"
        )
        await uow.commit()
    assert done.status == "cancelled" and done.cancel_reason == "plans-changed"
    assert done.finished_at == world.clock.now()
    async with world.db.uow() as uow:
        with pytest.raises(errors.WaitlistNotActive):
            await waitlist.cancel_waitlist(
                uow, world.clock, registration_id=reg.id, waitlist_id=w.id, reason="other"
            )
        listed = await waitlist.waitlists_of(uow, reg.id)
    assert [(x.status, pos) for x, pos in listed] == [("cancelled", 0)]


async def test_r37_freed_seat_goes_to_the_earliest_eligible_waiter(world: World) -> None:
    held = await _fill(world)
    first = await world.candidate(eligible=("CET6",))  # will lose eligibility below
    second = await world.candidate()
    third = await world.candidate()
    # `first` is eligible when joining; make it ineligible afterwards by a roster change.
    async with world.db.uow() as uow:
        await uow.records.add_eligibility(first.record_id, "CET4", "roster")
        await uow.commit()
    w1 = await _join(world, first.id, "CET4")
    w2 = await _join(world, second.id, "CET4")
    w3 = await _join(world, third.id, "CET4")
    async with world.db.uow() as uow:
        await uow.conn.exec_driver_sql(
            f"DELETE FROM record_eligibility WHERE record_id = {first.record_id} "
            "AND subject_code = 'CET4'"
        )
        await uow.commit()
    async with world.db.uow() as uow:
        _, promotions = await entries.cancel_entry(
            uow, world.clock, registration_id=held[0].registration_id, entry_id=held[0].id
        )
        await uow.commit()
    assert [p.registration_id for p in promotions] == [second.id]
    assert promotions[0].entry.status == "unpaid"
    assert promotions[0].entry.expires_at == world.clock.now() + timedelta(hours=24)
    assert await world.seats("BSU-CP", "CET4") == (3, 3)  # never handed to the pool
    async with world.db.uow(readonly=True) as uow:
        assert (await uow.waitlists.get(w1.id)).status == "closed"  # type: ignore[union-attr]
        assert (await uow.waitlists.get(w2.id)).status == "succeeded"  # type: ignore[union-attr]
        still = await uow.waitlists.get(w3.id)
        assert still is not None and still.status == "waiting"
        assert await uow.waitlists.position(still) == 1


async def test_r37_expiry_and_added_capacity_promote_waiters(world: World) -> None:
    start = world.clock.now()
    await _fill(world)
    waiters = [await world.candidate() for _ in range(3)]
    for reg in waiters:
        world.clock.advance(timedelta(minutes=1))
        await _join(world, reg.id, "CET4")
    world.clock.set(start + timedelta(hours=24))
    async with world.db.uow() as uow:
        result = await expiry.expire_due(uow, world.clock)
        await uow.commit()
    assert len(result.expired) == 3
    assert [p.registration_id for p in result.promotions] == [w.id for w in waiters]
    # Raising capacity hands the new seats to the queue first.
    late = [await world.candidate() for _ in range(2)]
    for reg in late:
        await _join(world, reg.id, "CET4")
    await world.set_capacity("BSU-CP", "CET4", 4)
    assert await world.seats("BSU-CP", "CET4") == (4, 4)
    async with world.db.uow(readonly=True) as uow:
        got = await uow.entries.of_registration(late[0].id)
        assert [e.subject_code for e in got] == ["CET4"]
        assert await uow.entries.of_registration(late[1].id) == []
    # Lowering below the seats taken is refused.
    with pytest.raises(errors.InvalidInput):
        await world.set_capacity("BSU-CP", "CET4", 3)


async def test_r37_registering_the_level_directly_ends_that_waitlist(world: World) -> None:
    await _fill(world)
    reg = await world.candidate()
    w = await _join(world, reg.id, "CET4")
    await _register(world, reg.id, "CET4", campus="BSU-HD")
    async with world.db.uow(readonly=True) as uow:
        ended = await uow.waitlists.get(w.id)
    assert ended is not None and ended.status == "closed" and ended.cancel_reason == "registered"


async def test_r37_waitlists_close_when_the_window_closes(world: World) -> None:
    held = await _fill(world)
    reg = await world.candidate()
    w = await _join(world, reg.id, "CET4")
    world.after_window()
    async with world.db.uow() as uow:
        closed = await waitlist.close_waitlists(uow, world.clock, world.session_id)
        await uow.commit()
    assert closed == 1
    async with world.db.uow(readonly=True) as uow:
        assert (await uow.waitlists.get(w.id)).cancel_reason == "window-closed"  # type: ignore[union-attr]
    assert held


async def _sweep(world: World) -> expiry.ExpiryResult:
    async with world.db.uow() as uow:
        result = await expiry.expire_due(uow, world.clock)
        await uow.commit()
    return result


async def test_r31_r37_waiter_without_entries_keeps_registration_past_24_hours(
    world: World,
) -> None:
    """Attack seen: information saved at T0, nothing registered (campus full), waitlist at
    T0+2 h; the T0+24 h sweep deleted the registration and the T0+26 h seat went to nobody."""
    t0 = world.clock.now()
    waiter = await world.candidate()
    idle = await world.candidate()  # never registers anything, never waits
    world.clock.set(t0 + timedelta(hours=2))
    fillers = await _fill(world)  # unpaid: their seats free at T0+26 h
    place = await _join(world, waiter.id, "CET4")
    world.clock.set(t0 + timedelta(hours=24))
    swept = await _sweep(world)
    assert swept.deleted_registrations == []
    async with world.db.uow(readonly=True) as uow:
        for reg_id in (waiter.id, idle.id):
            reg = await uow.registrations.get(reg_id)
            assert reg is not None and reg.status == "active"
    world.clock.set(t0 + timedelta(hours=26))
    freed = await _sweep(world)
    assert {e.id for e in freed.expired} == {e.id for e in fillers}
    assert [p.waitlist_id for p in freed.promotions] == [place.id]
    # The fillers' registrations were emptied by expiry: those go (R31).
    assert set(freed.deleted_registrations) == {e.registration_id for e in fillers}
    async with world.db.uow(readonly=True) as uow:
        mine = await uow.entries.of_registration(waiter.id)
    assert [(e.subject_code, e.status) for e in mine] == [("CET4", "unpaid")]
