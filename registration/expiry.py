"""The 24-hour expiry of unpaid entries and empty registrations (R31)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cetbot.clock import Clock
from registration.entries import UNPAID_LIFETIME, Promotion
from registration.waitlist import free_seat
from storage.db import UnitOfWork
from storage.dto import EntryDTO


@dataclass
class ExpiryResult:
    expired: list[EntryDTO] = field(default_factory=list)
    promotions: list[Promotion] = field(default_factory=list)
    deleted_registrations: list[int] = field(default_factory=list)


async def expire_due(uow: UnitOfWork, clock: Clock, *, limit: int = 200) -> ExpiryResult:
    """Deletes unpaid entries 24 h after creation and hands their seats on (R31, R37).

    An oral entry whose written entry expires goes with it (R21). A registration
    left with no entries is deleted 24 h after it was created.
    """
    now = clock.now()
    result = ExpiryResult()
    subjects = await uow.sessions.subjects()
    for entry in await uow.entries.due_unpaid(now, limit):
        await uow.registrations.lock(entry.registration_id)
        going = [entry]
        if entry.kind == "written":
            going += [
                e
                for e in await uow.entries.of_registration(entry.registration_id)
                if e.kind == "oral"
                and e.status == "unpaid"
                and subjects[e.subject_code].requires == entry.subject_code
            ]
        for e in going:
            # `end` only touches an entry still unpaid: one paid meanwhile stays.
            if await uow.entries.end(e.id, "expired", "unpaid-24h", now):
                result.expired.append(e)
                result.promotions += await free_seat(uow, now, e.campus_id, e.subject_code)
    for reg_id in await uow.registrations.empty_and_due(now - UNPAID_LIFETIME, limit):
        await uow.registrations.delete(reg_id, now)
        result.deleted_registrations.append(reg_id)
    return result
