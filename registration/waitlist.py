"""Waitlists for full (campus, subject) pairs, and handing freed seats on (R34-R37)."""

from __future__ import annotations

from foundation.clock import Clock
from registration import errors
from registration.common import (
    Phase,
    campus_for,
    get_session,
    lock_registration,
    offered_subject,
    phase,
    registration_record,
    require_open,
)
from registration.seats import Promotion, check_can_hold, promote
from storage.db import UnitOfWork
from storage.dto import WaitlistDTO

# R36: the reasons a candidate may pick when leaving a waitlist.
CANCEL_REASONS = ("plans-changed", "other-campus", "schedule-conflict", "other")


async def join_waitlist(
    uow: UnitOfWork, clock: Clock, *, registration_id: int, campus_id: int, subject_code: str
) -> WaitlistDTO:
    """R34/R35: joins the queue of a full (campus, subject)."""
    now = clock.now()
    registration = await lock_registration(uow, registration_id)
    session = await get_session(uow, registration.session_id)
    require_open(session, now)
    offered = await offered_subject(uow, session.id, subject_code)
    subject = offered.subject
    record = await registration_record(uow, registration)
    campus = await campus_for(uow, session.id, campus_id, record)
    active = await uow.entries.of_registration(registration.id)
    check_can_hold(record, subject, active)
    waiting = await uow.waitlists.of_registration(registration.id, waiting_only=True)
    same_level = next(
        (w for w in waiting if w.kind == subject.kind and w.level == subject.level), None
    )
    if same_level is not None:
        raise errors.WaitlistLevelTaken(level=subject.level, held=same_level.subject_code)
    seats = await uow.sessions.seats(campus.id, subject.code)
    if seats is None:
        raise errors.UnknownCampus(campus=campus.id)
    if seats.free > 0:
        raise errors.NotFull(campus=campus.id, subject=subject.code, free=seats.free)
    return await uow.waitlists.create(
        {
            "registration_id": registration.id,
            "session_id": session.id,
            "campus_id": campus.id,
            "subject_code": subject.code,
            "kind": subject.kind,
            "level": subject.level,
            "status": "waiting",
            "created_at": now,
        }
    )


async def cancel_waitlist(
    uow: UnitOfWork, clock: Clock, *, registration_id: int, waitlist_id: int, reason: str
) -> WaitlistDTO:
    """R36: leaves a queue with a reason picked from CANCEL_REASONS."""
    if reason not in CANCEL_REASONS:
        raise errors.BadCancelReason(reason=reason)
    now = clock.now()
    registration = await lock_registration(uow, registration_id)
    waitlist = await uow.waitlists.get(waitlist_id)
    if waitlist is None:
        raise errors.NotFound(what="waitlist")
    if waitlist.registration_id != registration.id:
        raise errors.Forbidden(what="waitlist")
    if not await uow.waitlists.finish(waitlist.id, "cancelled", now, reason=reason):
        raise errors.WaitlistNotActive(waitlist=waitlist.id)
    done = await uow.waitlists.get(waitlist.id)
    assert done is not None
    return done


async def waitlists_of(uow: UnitOfWork, registration_id: int) -> list[tuple[WaitlistDTO, int]]:
    """R36: all waitlists of a candidate, with the queue position of the waiting ones."""
    out = []
    for w in await uow.waitlists.of_registration(registration_id):
        out.append((w, await uow.waitlists.position(w) if w.status == "waiting" else 0))
    return out


async def promote_all(uow: UnitOfWork, clock: Clock, session_id: int) -> list[Promotion]:
    """Hands every free seat of a session to its queues (after capacity was raised)."""
    now = clock.now()
    promotions: list[Promotion] = []
    for campus_id, subject_code in await uow.waitlists.queues_with_waiters(session_id):
        promotions += await promote(uow, now, campus_id, subject_code)
    return promotions


async def close_waitlists(uow: UnitOfWork, clock: Clock, session_id: int) -> int:
    """R37: waitlists close when the window closes."""
    now = clock.now()
    session = await get_session(uow, session_id)
    if phase(session, now) is not Phase.CLOSED:
        return 0
    return await uow.waitlists.close_session(session_id, now)
