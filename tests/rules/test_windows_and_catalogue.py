"""R1-R6: the catalogue and the session's windows, read from the injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from admission import tickets
from registration import entries, errors
from registration.common import Phase, get_session, phase
from tests.rules.conftest import World


async def test_r1_catalogue_is_data_with_names_levels_kinds_and_fees(world: World) -> None:
    async with world.db.uow(readonly=True) as uow:
        subjects = await uow.sessions.subjects()
        offered = await uow.sessions.offered(world.session_id)
    assert set(subjects) >= {"CET4", "CET6", "CJT4", "CJT6", "CGT4", "CGT6", "CRT4", "CRT6"}
    assert subjects["CET4"].name_zh == "英语四级" and subjects["CET4"].name_en
    assert subjects["CET-SET6"].kind == "oral" and subjects["CET-SET6"].requires == "CET6"
    assert subjects["CFT4"].level == 4 and subjects["CJT6"].level == 6
    assert offered["CET4"].fee_fen == 3000 and isinstance(offered["CET4"].fee_fen, int)
    assert offered["CET4"].exam_start < offered["CET4"].exam_end


async def test_r2_before_window_nothing_is_saved_and_the_message_says_when(world: World) -> None:
    reg = await world.candidate()
    world.before_window()
    with pytest.raises(errors.WindowNotOpen) as refused:
        await world.candidate()
    assert refused.value.params["opens_at"] == world.opens_at
    with pytest.raises(errors.WindowNotOpen):
        async with world.db.uow() as uow:
            await entries.register_subject(
                uow,
                world.clock,
                registration_id=reg.id,
                subject_code="CET4",
                campus_id=world.campus["BSU-HD"],
            )


async def test_r3_open_window_allows_saving_and_registering(world: World) -> None:
    reg = await world.candidate()
    async with world.db.uow() as uow:
        entry = await entries.register_subject(
            uow,
            world.clock,
            registration_id=reg.id,
            subject_code="CET4",
            campus_id=world.campus["BSU-HD"],
        )
        await uow.commit()
    assert entry.status == "unpaid"
    assert entry.expires_at - entry.created_at == timedelta(hours=24)


async def test_r4_after_close_no_change_but_payment_until_campus_deadline(world: World) -> None:
    reg = await world.candidate()
    async with world.db.uow() as uow:
        entry = await entries.register_subject(
            uow,
            world.clock,
            registration_id=reg.id,
            subject_code="CET4",
            campus_id=world.campus["BSU-HD"],
        )
        await uow.commit()
    # Just after the window closed, before the campus's payment deadline.
    world.clock.set(world.closes_at + timedelta(minutes=5))
    with pytest.raises(errors.WindowClosed):
        async with world.db.uow() as uow:
            await entries.cancel_entry(uow, world.clock, registration_id=reg.id, entry_id=entry.id)
    with pytest.raises(errors.WindowClosed):
        async with world.db.uow() as uow:
            await entries.register_subject(
                uow,
                world.clock,
                registration_id=reg.id,
                subject_code="CET-SET4",
                campus_id=world.campus["BSU-HD"],
            )
    async with world.db.uow() as uow:
        campus = await uow.sessions.campus(entry.campus_id)
        paid = await entries.mark_paid(uow, world.clock, entry_id=entry.id)
        await uow.commit()
    assert paid.status == "paid"
    # A second candidate's entry cannot be paid after the campus deadline.
    world.clock.set(world.opens_at + timedelta(hours=1))
    other = await world.candidate()
    async with world.db.uow() as uow:
        e2 = await entries.register_subject(
            uow,
            world.clock,
            registration_id=other.id,
            subject_code="CET4",
            campus_id=world.campus["BSU-HD"],
        )
        await uow.commit()
    assert campus is not None
    world.clock.set(campus.pay_deadline)
    with pytest.raises(errors.PayDeadlinePassed):
        async with world.db.uow() as uow:
            await entries.mark_paid(uow, world.clock, entry_id=e2.id)


async def test_r5_tickets_only_for_paid_entries_from_print_time(world: World) -> None:
    reg = await world.candidate(eligible=("CET4",))
    async with world.db.uow() as uow:
        written = await entries.register_subject(
            uow,
            world.clock,
            registration_id=reg.id,
            subject_code="CET4",
            campus_id=world.campus["BSU-HD"],
        )
        oral = await entries.register_subject(
            uow,
            world.clock,
            registration_id=reg.id,
            subject_code="CET-SET4",
            campus_id=world.campus["BSU-HD"],
        )
        await uow.commit()
    with pytest.raises(errors.NotFound):  # nothing paid yet
        async with world.db.uow() as uow:
            await tickets.printable_entries(uow, world.clock, registration_id=reg.id)
    async with world.db.uow() as uow:
        await entries.mark_paid(uow, world.clock, entry_id=written.id)
        await entries.mark_paid(uow, world.clock, entry_id=oral.id)
        session = await get_session(uow, world.session_id)
        await uow.commit()
    with pytest.raises(errors.TicketNotYet) as early:
        async with world.db.uow() as uow:
            await tickets.printable_entries(uow, world.clock, registration_id=reg.id)
    assert early.value.params["opens_at"] == min(session.print_oral_at, session.print_written_at)
    world.clock.set(session.print_oral_at)
    async with world.db.uow() as uow:
        ready = await tickets.printable_entries(uow, world.clock, registration_id=reg.id)
    assert [e.subject_code for e in ready] == ["CET-SET4"]
    world.clock.set(session.print_written_at)
    async with world.db.uow() as uow:
        ready = await tickets.printable_entries(uow, world.clock, registration_id=reg.id)
    assert {e.subject_code for e in ready} == {"CET4", "CET-SET4"}


async def test_r6_phases_follow_the_injected_clock(world: World) -> None:
    async with world.db.uow(readonly=True) as uow:
        session = await get_session(uow, world.session_id)
    assert phase(session, world.clock.now()) is Phase.OPEN
    world.before_window()
    assert phase(session, world.clock.now()) is Phase.BEFORE_WINDOW
    world.after_window()
    assert phase(session, world.clock.now()) is Phase.CLOSED
    world.clock.set(session.published_at - timedelta(seconds=1))
    assert phase(session, world.clock.now()) is Phase.UNPUBLISHED


async def test_a_campus_listed_is_known_by_id_without_a_read_until_the_data_changes(
    world: World,
) -> None:
    """Issue 17: the campus step reads one campus by id right after its screen listed the
    session's campuses; the list fills the shared cache by id too. A write of session
    data (here a capacity of a new pair) clears both."""
    world.db.session_cache.ttl = 3600
    statements: list[str] = []
    async with world.db.uow(readonly=True) as uow:
        listed = await uow.sessions.campuses(world.session_id)
    assert listed
    async with world.db.uow(readonly=True) as uow:
        with world.db.watching_statements(statements.append):
            assert [await uow.sessions.campus(c.id) for c in listed] == listed
    assert statements == []
    async with world.db.uow() as uow:
        await uow.sessions.upsert_campus(world.session_id, {"code": listed[0].code})
        await uow.commit()
    async with world.db.uow(readonly=True) as uow:
        with world.db.watching_statements(statements.append):
            assert await uow.sessions.campus(listed[0].id) == listed[0]
    assert len(statements) == 1, statements
