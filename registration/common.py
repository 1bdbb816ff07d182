"""Helpers shared by the services: loading what a rule needs, and the session's phases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from registration import errors
from storage.db import UnitOfWork
from storage.dto import (
    CampusDTO,
    EntryDTO,
    ExamSessionDTO,
    OfferedSubjectDTO,
    RegistrationDTO,
    StudentRecordDTO,
)

F = TypeVar("F", bound=Callable[..., Any])

# The mark of `refuses_before_writing` (read by bot.conversation.context.Ctx.call).
REFUSES_BEFORE_WRITING = "refuses_before_writing"


def refuses_before_writing(service: F) -> F:
    """Marks a service whose refusals (DomainError) all come before any write of it that
    stands: each write that may be followed by a refusal is undone by a savepoint of the
    service's own. On PostgreSQL it then needs no savepoint around it (two round trips):
    a refusal leaves nothing to undo. It holds there because the registration's lock
    (`lock_for_booking`, `lock_for_payment`) is a row lock that writes nothing; the
    version bump goes with the write. On SQLite that lock is the bump, and a savepoint
    costs no round trip: the caller keeps it. `Ctx.call` checks the mark: a refusal after
    a write that stands fails the whole update instead (nothing of it is committed)."""
    setattr(service, REFUSES_BEFORE_WRITING, True)
    return service


class Phase(StrEnum):
    """Where a session stands at an instant (R2-R4)."""

    UNPUBLISHED = "unpublished"
    BEFORE_WINDOW = "before-window"
    OPEN = "open"
    CLOSED = "closed"


def phase(session: ExamSessionDTO, now: datetime) -> Phase:
    if now < session.published_at:
        return Phase.UNPUBLISHED
    if now < session.opens_at:
        return Phase.BEFORE_WINDOW
    if now < session.closes_at:
        return Phase.OPEN
    return Phase.CLOSED


async def get_session(uow: UnitOfWork, session_id: int) -> ExamSessionDTO:
    session = await uow.sessions.get(session_id)
    if session is None:
        raise errors.NotFound(what="session")
    return session


def require_open(session: ExamSessionDTO, now: datetime) -> None:
    """R2/R3/R4: saving, registering, changing and waitlisting need the open window."""
    current = phase(session, now)
    if current is Phase.UNPUBLISHED:
        raise errors.SessionNotPublished()
    if current is Phase.BEFORE_WINDOW:
        raise errors.WindowNotOpen(opens_at=session.opens_at)
    if current is Phase.CLOSED:
        raise errors.WindowClosed(closed_at=session.closes_at)


def require_published(session: ExamSessionDTO, now: datetime) -> None:
    if phase(session, now) is Phase.UNPUBLISHED:
        raise errors.SessionNotPublished()


async def lock_registration(uow: UnitOfWork, registration_id: int) -> RegistrationDTO:
    """Serializes one candidate's changes (row lock on PostgreSQL, write lock on SQLite)."""
    reg = await uow.registrations.lock(registration_id)
    if reg is None:
        raise errors.NotRegistered()
    return reg


async def offered_subject(uow: UnitOfWork, session_id: int, subject_code: str) -> OfferedSubjectDTO:
    offered = await uow.sessions.offered(session_id)
    found = offered.get(subject_code)
    if found is None:
        raise errors.UnknownSubject(subject=subject_code)
    return found


async def campus_for(
    uow: UnitOfWork, session_id: int, campus_id: int, record: StudentRecordDTO | None
) -> CampusDTO:
    """The campus, which must be of the session and of the candidate's school."""
    campus = await uow.sessions.campus(campus_id)
    if campus is None or campus.session_id != session_id:
        raise errors.UnknownCampus(campus=campus_id)
    if record is not None and campus.school != record.school:
        # [decision] A candidate sits at a campus of their own school.
        raise errors.UnknownCampus(campus=campus_id)
    return campus


async def own_entry(uow: UnitOfWork, registration_id: int, entry_id: int) -> EntryDTO:
    return owned(registration_id, await uow.entries.get(entry_id))


def owned(registration_id: int, entry: EntryDTO | None) -> EntryDTO:
    """`entry`, read by id, if it is one of the registration's own (else NotFound, Forbidden)."""
    if entry is None:
        raise errors.NotFound(what="entry")
    if entry.registration_id != registration_id:
        raise errors.Forbidden(what="entry")
    return entry


async def registration_record(uow: UnitOfWork, registration: RegistrationDTO) -> StudentRecordDTO:
    record = await uow.records.get(registration.record_id)
    if record is None:  # pragma: no cover - foreign key
        raise errors.NotFound(what="record")
    return record
