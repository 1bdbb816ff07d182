"""R20-R25, R31: registering, changing, cancelling, paper reports, paying, expiry."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from backoffice import authority
from registration import entries, errors, expiry
from storage.dto import EntryDTO
from tests.rules.conftest import World


async def _register(
    world: World, reg_id: int, subject: str, campus: str = "BSU-HD", **kw: object
) -> EntryDTO:
    async with world.db.uow() as uow:
        entry = await entries.register_subject(
            uow,
            world.clock,
            registration_id=reg_id,
            subject_code=subject,
            campus_id=world.campus[campus],
            **kw,  # type: ignore[arg-type]
        )
        await uow.commit()
    return entry


async def _pay(world: World, entry_id: int) -> EntryDTO:
    async with world.db.uow() as uow:
        paid = await entries.mark_paid(uow, world.clock, entry_id=entry_id)
        await uow.commit()
    return paid


async def test_r20_written_subject_needs_eligibility(world: World) -> None:
    reg = await world.candidate(eligible=("CET4",))
    with pytest.raises(errors.NotEligible):
        await _register(world, reg.id, "CET6")
    assert await world.seats("BSU-HD", "CET6") == (240, 0)


async def test_r21_oral_needs_a_written_entry_of_same_language_and_level(world: World) -> None:
    reg = await world.candidate(eligible=("CET4", "CJT4"))
    with pytest.raises(errors.OralNeedsWritten):
        await _register(world, reg.id, "CET-SET4")
    await _register(world, reg.id, "CJT4")
    with pytest.raises(errors.OralNeedsWritten):  # Japanese does not open the English oral
        await _register(world, reg.id, "CET-SET4")
    reg2 = await world.candidate(eligible=("CET4",))
    await _register(world, reg2.id, "CET4")  # unpaid is enough
    oral = await _register(world, reg2.id, "CET-SET4")
    assert oral.kind == "oral" and oral.level == 4


async def test_r22_one_written_entry_per_level_and_no_subject_twice(world: World) -> None:
    reg = await world.candidate(eligible=("CET4", "CJT4", "CET6"))
    await _register(world, reg.id, "CET4")
    with pytest.raises(errors.LevelTaken) as same_level:
        await _register(world, reg.id, "CJT4")
    assert same_level.value.params["held"] == "CET4"
    with pytest.raises(errors.SubjectHeld):
        await _register(world, reg.id, "CET4", campus="BSU-CP")
    await _register(world, reg.id, "CET6")  # another level is fine
    assert await world.seats("BSU-HD", "CET4") == (300, 1)


async def test_r22_a_booking_that_waited_for_the_lock_sees_the_entry_booked_meanwhile(
    world: World,
) -> None:
    # On PostgreSQL a booking locks the registration and reads the candidate's entries in
    # one statement, whose snapshot predates its wait for the lock: what the holder
    # commits meanwhile must still be seen (RegistrationRepository.lock_for_booking).
    # Unseen, the level would pass R22 and the INSERT would break a unique index.
    reg = await world.candidate(eligible=("CET4", "CJT4"))
    async with world.db.uow() as holder:
        await entries.register_subject(
            holder,
            world.clock,
            registration_id=reg.id,
            subject_code="CJT4",
            campus_id=world.campus["BSU-HD"],
        )
        late = asyncio.create_task(_register(world, reg.id, "CET4"))
        await world.waiting_for_the_registration("booking")
        await holder.commit()
    with pytest.raises(errors.LevelTaken) as taken:
        await late
    assert taken.value.params["held"] == "CJT4"
    assert await world.seats("BSU-HD", "CET4") == (300, 0)


async def test_r24_a_booking_that_waited_for_the_lock_sees_the_entry_cancelled_meanwhile(
    world: World,
) -> None:
    # The other way round: the subject held when the booking's snapshot was taken is
    # free again once it has the lock, and booking it again must not be refused.
    reg = await world.candidate(eligible=("CET4",))
    first = await _register(world, reg.id, "CET4")
    async with world.db.uow() as holder:
        await entries.cancel_entry(holder, world.clock, registration_id=reg.id, entry_id=first.id)
        late = asyncio.create_task(_register(world, reg.id, "CET4"))
        await world.waiting_for_the_registration("booking")
        await holder.commit()
    again = await late
    assert again.id != first.id and again.status == "unpaid"
    assert await world.seats("BSU-HD", "CET4") == (300, 1)


async def test_r23_full_campus_refuses_and_a_cancel_gives_the_seat_back(world: World) -> None:
    regs = [await world.candidate() for _ in range(4)]
    held = [await _register(world, r.id, "CET4", "BSU-CP") for r in regs[:3]]
    with pytest.raises(errors.SeatsFull):
        await _register(world, regs[3].id, "CET4", "BSU-CP")
    assert await world.seats("BSU-CP", "CET4") == (3, 3)
    async with world.db.uow() as uow:
        await entries.cancel_entry(
            uow, world.clock, registration_id=regs[0].id, entry_id=held[0].id
        )
        await uow.commit()
    assert await world.seats("BSU-CP", "CET4") == (3, 2)
    await _register(world, regs[3].id, "CET4", "BSU-CP")
    assert await world.seats("BSU-CP", "CET4") == (3, 3)


async def test_r23_campus_of_another_school_and_unknown_subject_refused(world: World) -> None:
    reg = await world.candidate()
    with pytest.raises(errors.UnknownCampus):
        await _register(world, reg.id, "CET4", "JNIT-MAIN")
    with pytest.raises(errors.UnknownSubject):
        await _register(world, reg.id, "CET8")
    async with world.db.uow() as uow:
        with pytest.raises(errors.UnknownCampus):
            await entries.register_subject(
                uow, world.clock, registration_id=reg.id, subject_code="CET4", campus_id=99999
            )
        with pytest.raises(errors.InvalidInput):
            await authority.set_capacity(
                uow,
                world.clock,
                campus_id=world.campus["BSU-HD"],
                subject_code="CET4",
                capacity=-1,
            )


async def test_r24_change_campus_moves_the_seat(world: World) -> None:
    reg = await world.candidate()
    entry = await _register(world, reg.id, "CET4", "BSU-HD")
    async with world.db.uow() as uow:
        moved, _ = await entries.change_campus(
            uow,
            world.clock,
            registration_id=reg.id,
            entry_id=entry.id,
            campus_id=world.campus["BSU-CP"],
        )
        await uow.commit()
    assert moved.campus_id == world.campus["BSU-CP"] and moved.expires_at == entry.expires_at
    assert await world.seats("BSU-HD", "CET4") == (300, 0)
    assert await world.seats("BSU-CP", "CET4") == (3, 1)


async def test_r24_cancelling_written_lists_and_takes_its_unpaid_oral(world: World) -> None:
    reg = await world.candidate()
    written = await _register(world, reg.id, "CET4")
    oral = await _register(world, reg.id, "CET-SET4")
    async with world.db.uow() as uow:
        with pytest.raises(errors.ConfirmCascade) as ask:
            await entries.cancel_entry(
                uow, world.clock, registration_id=reg.id, entry_id=written.id
            )
    assert ask.value.params["entries"] == [written.id, oral.id]
    assert await world.seats("BSU-HD", "CET-SET4") == (40, 1)  # nothing changed yet
    async with world.db.uow() as uow:
        cancelled, _ = await entries.cancel_entry(
            uow, world.clock, registration_id=reg.id, entry_id=written.id, confirmed=True
        )
        await uow.commit()
    assert {e.id for e in cancelled} == {written.id, oral.id}
    assert await world.seats("BSU-HD", "CET-SET4") == (40, 0)
    assert await world.seats("BSU-HD", "CET4") == (300, 0)


async def test_r24_paid_entry_can_be_neither_changed_nor_cancelled(world: World) -> None:
    reg = await world.candidate()
    entry = await _register(world, reg.id, "CET4")
    await _pay(world, entry.id)
    async with world.db.uow() as uow:
        with pytest.raises(errors.EntryPaid):
            await entries.cancel_entry(uow, world.clock, registration_id=reg.id, entry_id=entry.id)
        with pytest.raises(errors.EntryPaid):
            await entries.change_campus(
                uow,
                world.clock,
                registration_id=reg.id,
                entry_id=entry.id,
                campus_id=world.campus["BSU-CP"],
            )


async def test_r24_another_candidates_entry_is_forbidden(world: World) -> None:
    mine = await world.candidate()
    theirs = await world.candidate()
    entry = await _register(world, theirs.id, "CET4")
    async with world.db.uow() as uow:
        with pytest.raises(errors.Forbidden):
            await entries.cancel_entry(uow, world.clock, registration_id=mine.id, entry_id=entry.id)
    assert await world.seats("BSU-HD", "CET4") == (300, 1)


async def test_r25_paper_report_per_unpaid_written_entry(world: World) -> None:
    reg = await world.candidate()
    written = await _register(world, reg.id, "CET4")
    assert written.paper_report == "none"  # default
    oral = await _register(world, reg.id, "CET-SET4")
    async with world.db.uow() as uow:
        chosen = await entries.set_paper_report(
            uow, world.clock, registration_id=reg.id, entry_id=written.id, paper_report="report"
        )
        with pytest.raises(errors.PaperReportNotAllowed):
            await entries.set_paper_report(
                uow, world.clock, registration_id=reg.id, entry_id=oral.id, paper_report="report"
            )
        with pytest.raises(errors.InvalidInput):
            await entries.set_paper_report(
                uow, world.clock, registration_id=reg.id, entry_id=written.id, paper_report="gold"
            )
        await uow.commit()
    assert chosen.paper_report == "report"
    await _pay(world, written.id)
    async with world.db.uow() as uow:
        with pytest.raises(errors.EntryPaid):
            await entries.set_paper_report(
                uow, world.clock, registration_id=reg.id, entry_id=written.id, paper_report="none"
            )


async def test_r26_r27_oral_paid_only_after_its_written(world: World) -> None:
    reg = await world.candidate()
    written = await _register(world, reg.id, "CET4")
    oral = await _register(world, reg.id, "CET-SET4")
    with pytest.raises(errors.OralPayNeedsWritten):
        await _pay(world, oral.id)
    assert (await _pay(world, written.id)).status == "paid"
    assert (await _pay(world, oral.id)).status == "paid"
    with pytest.raises(errors.EntryPaid):
        await _pay(world, oral.id)


async def test_r31_unpaid_entry_deleted_after_24_hours_then_registration_too(
    world: World,
) -> None:
    reg = await world.candidate()
    start = world.clock.now()
    entry = await _register(world, reg.id, "CET4", "BSU-CP")
    oral = await _register(world, reg.id, "CET-SET4", "BSU-CP")
    world.clock.set(start + timedelta(hours=23, minutes=59))
    async with world.db.uow() as uow:
        early = await expiry.expire_due(uow, world.clock)
        await uow.commit()
    assert early.expired == []
    world.clock.set(start + timedelta(hours=24))
    async with world.db.uow() as uow:
        result = await expiry.expire_due(uow, world.clock)
        await uow.commit()
    assert {e.id for e in result.expired} == {entry.id, oral.id}
    assert result.deleted_registrations == [reg.id]  # created 24 h ago, now empty
    assert await world.seats("BSU-CP", "CET4") == (3, 0)
    async with world.db.uow(readonly=True) as uow:
        gone = await uow.entries.get(entry.id)
        assert gone is not None and gone.status == "expired"
        assert (await uow.registrations.get(reg.id)).status == "deleted"  # type: ignore[union-attr]
    # R31: while the window is open the candidate can register again.
    again = await world.candidate()
    assert (await _register(world, again.id, "CET4", "BSU-CP")).status == "unpaid"


async def test_r31_paid_entries_and_young_registrations_are_kept(world: World) -> None:
    reg = await world.candidate()
    start = world.clock.now()
    paid = await _register(world, reg.id, "CET4")
    await _pay(world, paid.id)
    world.clock.set(start + timedelta(hours=30))
    young = await world.candidate()  # created just now, no entries yet
    async with world.db.uow() as uow:
        result = await expiry.expire_due(uow, world.clock)
        await uow.commit()
    assert result.expired == [] and result.deleted_registrations == []
    async with world.db.uow(readonly=True) as uow:
        assert (await uow.registrations.get(young.id)).status == "active"  # type: ignore[union-attr]
