"""Background jobs driven by database rows; each is idempotent and safe with several workers.

The expiry sweep (R31, R33), reminders before expiry (R32), handing free seats to
waitlists with their notices (R37), closing waitlists with the window (R37), and
the review decision notice hook (R19). Every job runs in its own unit of work
and queues its messages in the outbox in that same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from cetbot.clock import Clock
from registration.common import Phase, phase
from registration.expiry import ExpiryResult, expire_due
from registration.gateways.base import Gateway
from registration.gateways.sandbox import REPLAY_WINDOW
from registration.notices import (
    notify_registration,
    tell_promotions,
)
from registration.waitlist import close_waitlists, promote_all
from storage.db import Database, UnitOfWork


def reminder_offsets(text: str) -> tuple[int, ...]:
    """R32: "6,1" (hours, fractions allowed) -> (360, 60) minutes, largest first."""
    minutes = {round(float(part) * 60) for part in text.replace(" ", "").split(",") if part}
    if any(m <= 0 for m in minutes):
        raise ValueError(f"reminder offsets must be positive hours: {text!r}")
    return tuple(sorted(minutes, reverse=True))


async def sweep_expired(
    db: Database, clock: Clock, gateway: Gateway | None, *, limit: int = 200
) -> ExpiryResult:
    """R31/R33/R37: one batch of the expiry sweep, committed."""

    async def work(uow: UnitOfWork) -> ExpiryResult:
        result = await expire_due(uow, clock, limit=limit, gateway=gateway)
        await uow.commit()
        return result

    return await db.run(work)


@dataclass(frozen=True, slots=True)
class ReminderReport:
    queued: int
    skipped: int  # offsets passed while no worker ran: recorded, not sent (one is enough)


async def queue_reminders(
    db: Database, clock: Clock, offsets_minutes: tuple[int, ...], *, limit: int = 1000
) -> ReminderReport:
    """R32: queues each due reminder once; none for a paid (or ended) entry.

    When several offsets have passed (the worker was down), only the latest one
    is sent and the earlier ones are recorded as done: two reminders in the same
    minute help nobody. Recording and queueing share one transaction, and the
    primary key of entry_reminders makes a second worker's attempt a no-op.
    """
    if not offsets_minutes:
        return ReminderReport(0, 0)

    async def work(uow: UnitOfWork) -> ReminderReport:
        now = clock.now()
        horizon = now + timedelta(minutes=max(offsets_minutes))
        queued = skipped = 0
        for c in await uow.outbox.reminder_candidates(now, horizon, limit):
            come = [o for o in offsets_minutes if c.expires_at - timedelta(minutes=o) <= now]
            new = [o for o in come if o not in c.recorded]
            if not new or not await uow.outbox.record_reminders(c.entry_id, new, now):
                continue
            offset = min(new)
            await notify_registration(
                uow,
                now,
                registration_id=c.registration_id,
                kind="reminder",
                payload={
                    "entry_id": c.entry_id,
                    "subject": c.subject_code,
                    "campus_id": c.campus_id,
                    "expires_at": c.expires_at.isoformat(),
                    "offset_minutes": offset,
                },
                dedupe_key=f"reminder:{c.entry_id}:{offset}",
            )
            queued += 1
            skipped += len(new) - 1
        await uow.commit()
        return ReminderReport(queued, skipped)

    return await db.run(work)


async def promote_free_seats(db: Database, clock: Clock) -> int:
    """R37: seats freed by any path (capacity raised, a cancellation) go to the queues,
    and the new holders are told; a no-op when nothing is free."""

    async def work(uow: UnitOfWork) -> int:
        now = clock.now()
        count = 0
        for session in await uow.sessions.all():
            if phase(session, now) is not Phase.OPEN:
                continue
            promotions = await promote_all(uow, clock, session.id)
            await tell_promotions(uow, now, promotions)
            count += len(promotions)
        await uow.commit()
        return count

    return await db.run(work)


async def close_finished_windows(db: Database, clock: Clock) -> int:
    """R37: waitlists close when the registration window closes."""

    async def work(uow: UnitOfWork) -> int:
        closed = 0
        for session in await uow.sessions.all():
            closed += await close_waitlists(uow, clock, session.id)
        await uow.commit()
        return closed

    return await db.run(work)


async def forget_old_nonces(db: Database, clock: Clock) -> int:
    """Callback nonces outside the replay window are refused by timestamp anyway."""

    async def work(uow: UnitOfWork) -> int:
        n = await uow.payments.forget_nonces_before(clock.now() - 2 * REPLAY_WINDOW)
        await uow.commit()
        return n

    return await db.run(work)
