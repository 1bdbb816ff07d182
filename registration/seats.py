"""Seats and who holds them: the checks and the entry row that direct booking and the
waitlist share, and a freed seat handed to the earliest waiter in the same transaction
(R20-R23, R31, R37). Both `entries` and `waitlist` build on this module."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from registration import errors
from registration.common import (
    Phase,
    campus_for,
    get_session,
    offered_subject,
    phase,
    registration_record,
)
from storage.db import UnitOfWork
from storage.dto import (
    CampusDTO,
    EntryDTO,
    OfferedSubjectDTO,
    RegistrationDTO,
    StudentRecordDTO,
    SubjectDTO,
)

# R31: an unpaid entry lives 24 hours.
UNPAID_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Promotion:
    """A waiter who got a freed seat (R37): tell them."""

    waitlist_id: int
    registration_id: int
    entry: EntryDTO


def check_can_hold(record: StudentRecordDTO, subject: SubjectDTO, active: list[EntryDTO]) -> None:
    """R20-R22: may this candidate hold an entry of `subject` next to `active` ones?"""
    if any(e.subject_code == subject.code for e in active):
        raise errors.SubjectHeld(subject=subject.code)
    if subject.kind == "written":
        if subject.code not in record.eligible:
            raise errors.NotEligible(subject=subject.code)
        taken = next((e for e in active if e.kind == "written" and e.level == subject.level), None)
        if taken is not None:
            raise errors.LevelTaken(level=subject.level, held=taken.subject_code)
    else:
        if not any(e.subject_code == subject.requires for e in active):
            raise errors.OralNeedsWritten(subject=subject.code, requires=subject.requires)


async def create_entry(
    uow: UnitOfWork,
    now: datetime,
    registration: RegistrationDTO,
    offered: OfferedSubjectDTO,
    campus: CampusDTO,
    paper_report: str = "none",
) -> EntryDTO:
    """Inserts an unpaid entry whose seat was already taken by the caller."""
    return await uow.entries.create(entry_values(now, registration, offered, campus, paper_report))


def entry_values(
    now: datetime,
    registration: RegistrationDTO,
    offered: OfferedSubjectDTO,
    campus: CampusDTO,
    paper_report: str,
) -> dict[str, object]:
    """The columns of a new unpaid entry."""
    subject = offered.subject
    return {
        "registration_id": registration.id,
        "session_id": registration.session_id,
        "subject_code": subject.code,
        "campus_id": campus.id,
        "kind": subject.kind,
        "level": subject.level,
        "written_level": subject.level if subject.kind == "written" else None,
        "status": "unpaid",
        "paper_report": paper_report if subject.kind == "written" else "none",
        "fee_fen": offered.fee_fen,
        "created_at": now,
        "expires_at": now + UNPAID_LIFETIME,
    }


async def free_seat(
    uow: UnitOfWork, now: datetime, campus_id: int, subject_code: str
) -> list[Promotion]:
    """Gives a seat back and, in the same transaction, hands it to the queue (R23, R37).

    On PostgreSQL the seat row stays locked by our UPDATE until commit, so no
    direct booker can slip in between the release and the waiter's entry.
    """
    await uow.sessions.release_seat(campus_id, subject_code)
    return await promote(uow, now, campus_id, subject_code)


async def promote(
    uow: UnitOfWork, now: datetime, campus_id: int, subject_code: str
) -> list[Promotion]:
    """R37: while seats are free, the earliest still-eligible waiter gets one."""
    promotions: list[Promotion] = []
    while True:
        waiter = await uow.waitlists.claim_first(campus_id, subject_code)
        if waiter is None:
            break
        session = await get_session(uow, waiter.session_id)
        if phase(session, now) is not Phase.OPEN:
            break  # R37: waitlists close with the window; the sweep closes them.
        registration = await uow.registrations.lock(waiter.registration_id)
        if registration is None:
            await uow.waitlists.finish(waiter.id, "closed", now, reason="not-registered")
            continue
        offered = await offered_subject(uow, session.id, subject_code)
        record = await registration_record(uow, registration)
        campus = await campus_for(uow, session.id, campus_id, record)
        active = await uow.entries.of_registration(registration.id)
        try:
            check_can_hold(record, offered.subject, active)
        except errors.DomainError as refused:
            # No longer eligible (e.g. the written entry an oral needs is gone).
            await uow.waitlists.finish(waiter.id, "closed", now, reason=refused.code[:32])
            continue
        if not await uow.sessions.take_seat(campus_id, subject_code):
            break
        entry = await create_entry(uow, now, registration, offered, campus)
        await uow.waitlists.finish(waiter.id, "succeeded", now, entry_id=entry.id)
        promotions.append(Promotion(waiter.id, registration.id, entry))
    return promotions
