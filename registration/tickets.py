"""Which entries may have their admission ticket printed, and when (R5)."""

from __future__ import annotations

from datetime import datetime

from cetbot.clock import Clock
from registration import errors
from registration.common import get_session
from storage.db import UnitOfWork
from storage.dto import EntryDTO, ExamSessionDTO


def print_opens_at(session: ExamSessionDTO, kind: str) -> datetime:
    """R5: written and oral tickets each have their own print-open time."""
    return session.print_oral_at if kind == "oral" else session.print_written_at


async def printable_entries(
    uow: UnitOfWork, clock: Clock, *, registration_id: int
) -> list[EntryDTO]:
    """R5: the paid entries whose print time has come.

    Raises TicketNotYet (with the earliest print time) when paid entries exist
    but none can be printed yet, and NotRegistered/NotFound when nothing is paid.
    """
    now = clock.now()
    reg = await uow.registrations.get(registration_id)
    if reg is None or reg.status != "active":
        raise errors.NotRegistered()
    session = await get_session(uow, reg.session_id)
    paid = [e for e in await uow.entries.of_registration(reg.id) if e.status == "paid"]
    if not paid:
        raise errors.NotFound(what="paid-entry")
    ready = [e for e in paid if now >= print_opens_at(session, e.kind)]
    if not ready:
        raise errors.TicketNotYet(opens_at=min(print_opens_at(session, e.kind) for e in paid))
    return ready
