"""Entries: register, change campus, cancel, paper report, paid (R20-R27, R31)."""

from __future__ import annotations

from datetime import datetime

from foundation.clock import Clock
from registration import errors
from registration.common import (
    campus_for,
    get_session,
    lock_registration,
    offered_subject,
    own_entry,
    refuses_before_writing,
    registration_record,
    require_open,
)
from registration.seats import (
    Promotion,
    check_can_hold,
    entry_values,
    free_seat,
)
from storage.db import UnitOfWork
from storage.dto import (
    EntryDTO,
)

# R25: paper score report choices; "none" is the default.
PAPER_REPORTS = ("none", "report", "report-and-certificate")


@refuses_before_writing
async def register_subject(
    uow: UnitOfWork,
    clock: Clock,
    *,
    registration_id: int,
    subject_code: str,
    campus_id: int,
    paper_report: str = "none",
) -> EntryDTO:
    """Registers one subject at one campus, taking a seat (R20-R23, R25, R37)."""
    if paper_report not in PAPER_REPORTS:
        raise errors.InvalidInput(field="paper_report")
    now = clock.now()
    # The hot path. The lock (as lock_registration) comes with the record, eligibility,
    # active entries and whether the subject's level has a waiting place, read after it
    # (on PostgreSQL in the same round trip). The level comes from the catalogue (cached):
    # the session, hence the offer, is known only after the lock.
    catalogue = await uow.sessions.subjects()
    level = catalogue[subject_code].level if subject_code in catalogue else 0
    locked = await uow.registrations.lock_for_booking(registration_id, "written", level)
    if locked is None:
        raise errors.NotRegistered()
    registration, state = locked
    session = await get_session(uow, registration.session_id)
    require_open(session, now)
    offered = await offered_subject(uow, session.id, subject_code)
    subject = offered.subject
    record = state.record
    if record is None:  # pragma: no cover - foreign key
        raise errors.NotFound(what="record")
    campus = await campus_for(uow, session.id, campus_id, record)
    check_can_hold(record, subject, state.active)
    # R23: the conditional UPDATE of the seat is the only gate; it never oversells. On
    # PostgreSQL the first write (with the registration's version bump: the lock above
    # wrote nothing there), and nothing is refused after it (`refuses_before_writing`).
    entry = await uow.entries.create_with_seat(
        entry_values(now, registration, offered, campus, paper_report)
    )
    if entry is None:
        raise errors.SeatsFull(campus=campus.id, subject=subject_code)
    if subject.kind == "written" and (state.level_waiting or subject.level != level):
        # R37 [decision]: registering a level directly ends that level's waitlist
        # (nothing to close when no place of the level was waiting).
        await uow.waitlists.close_level(
            registration.id, "written", subject.level, "registered", now
        )
    return entry


async def change_campus(
    uow: UnitOfWork, clock: Clock, *, registration_id: int, entry_id: int, campus_id: int
) -> tuple[EntryDTO, list[Promotion]]:
    """R24: moves an unpaid entry to another campus; the old seat goes to the queue."""
    now = clock.now()
    registration = await lock_registration(uow, registration_id)
    entry = await own_entry(uow, registration.id, entry_id)
    session = await get_session(uow, registration.session_id)
    require_open(session, now)
    if entry.status == "paid":
        raise errors.EntryPaid(entry=entry.id)
    if entry.status != "unpaid":
        raise errors.EntryNotActive(entry=entry.id)
    record = await registration_record(uow, registration)
    campus = await campus_for(uow, session.id, campus_id, record)
    if campus.id == entry.campus_id:
        return entry, []
    if not await uow.sessions.take_seat(campus.id, entry.subject_code):
        raise errors.SeatsFull(campus=campus.id, subject=entry.subject_code)
    moved = await uow.entries.update_fields(entry.id, campus_id=campus.id)
    promotions = await free_seat(uow, now, entry.campus_id, entry.subject_code)
    return moved, promotions


async def cancel_entry(
    uow: UnitOfWork,
    clock: Clock,
    *,
    registration_id: int,
    entry_id: int,
    confirmed: bool = False,
) -> tuple[list[EntryDTO], list[Promotion]]:
    """R24: cancels an unpaid entry (and its unpaid oral entry, once confirmed)."""
    now = clock.now()
    registration = await lock_registration(uow, registration_id)
    entry = await own_entry(uow, registration.id, entry_id)
    session = await get_session(uow, registration.session_id)
    require_open(session, now)
    if entry.status == "paid":
        raise errors.EntryPaid(entry=entry.id)
    if entry.status != "unpaid":
        raise errors.EntryNotActive(entry=entry.id)
    going = [entry]
    if entry.kind == "written":
        subjects = await uow.sessions.subjects()
        active = await uow.entries.of_registration(registration.id)
        orals = [
            e
            for e in active
            if e.kind == "oral" and subjects[e.subject_code].requires == entry.subject_code
        ]
        if orals and not confirmed:
            raise errors.ConfirmCascade(entries=[entry.id, *(e.id for e in orals)])
        going += orals
    promotions: list[Promotion] = []
    cancelled: list[EntryDTO] = []
    for e in going:
        if await uow.entries.end(e.id, "cancelled", "cancelled", now):
            cancelled.append(e)
            promotions += await free_seat(uow, now, e.campus_id, e.subject_code)
    return cancelled, promotions


async def set_paper_report(
    uow: UnitOfWork, clock: Clock, *, registration_id: int, entry_id: int, paper_report: str
) -> EntryDTO:
    """R25: chosen per written entry while it is unpaid."""
    if paper_report not in PAPER_REPORTS:
        raise errors.InvalidInput(field="paper_report")
    now = clock.now()
    registration = await lock_registration(uow, registration_id)
    entry = await own_entry(uow, registration.id, entry_id)
    session = await get_session(uow, registration.session_id)
    require_open(session, now)
    if entry.kind != "written":
        raise errors.PaperReportNotAllowed(entry=entry.id)
    if entry.status == "paid":
        raise errors.EntryPaid(entry=entry.id)
    if entry.status != "unpaid":
        raise errors.EntryNotActive(entry=entry.id)
    return await uow.entries.update_fields(entry.id, paper_report=paper_report)


async def check_payable(uow: UnitOfWork, now: datetime, entry: EntryDTO) -> None:
    """R4, R26, R27: may this entry be paid now?"""
    if entry.status == "paid":
        raise errors.EntryPaid(entry=entry.id)
    if entry.status != "unpaid":
        raise errors.EntryNotActive(entry=entry.id)
    campus = await uow.sessions.campus(entry.campus_id)
    assert campus is not None
    if now >= campus.pay_deadline:
        raise errors.PayDeadlinePassed(deadline=campus.pay_deadline)
    if entry.kind == "oral":
        subjects = await uow.sessions.subjects()
        written = subjects[entry.subject_code].requires
        active = await uow.entries.of_registration(entry.registration_id)
        if not any(e.subject_code == written and e.status == "paid" for e in active):
            raise errors.OralPayNeedsWritten(entry=entry.id, requires=written)


async def mark_paid(uow: UnitOfWork, clock: Clock, *, entry_id: int) -> EntryDTO:
    """R26: the entry is registered once paid; applying it twice changes nothing."""
    now = clock.now()
    entry = await uow.entries.get(entry_id)
    if entry is None:
        raise errors.NotFound(what="entry")
    await lock_registration(uow, entry.registration_id)
    entry = await uow.entries.get(entry_id)
    assert entry is not None
    await check_payable(uow, now, entry)
    await uow.entries.mark_paid(entry.id, now)
    paid = await uow.entries.get(entry.id)
    assert paid is not None
    return paid
