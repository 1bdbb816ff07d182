"""Background jobs driven by database rows; each is idempotent and safe with several workers.

The expiry sweep (R31, R33), reminders before expiry (R32), handing free seats to
waitlists with their notices (R37), closing waitlists with the window (R37), the
review decision notice hook (R19), and the admission tickets once printing opens
(seats, pre-rendered PDFs, old quick-print attempts; R5, R38, R39). Every job runs
in its own unit of work and queues its messages in the outbox in that same transaction.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Concatenate, ParamSpec, TypeVar

from admission import tickets
from foundation.clock import Clock
from foundation.settings import Settings
from registration.common import Phase, phase
from registration.expiry import ExpiryResult, expire_due
from registration.gateways.base import Gateway
from registration.gateways.sandbox import REPLAY_WINDOW
from registration.notices import (
    notify_registration,
    tell_promotions,
)
from registration.waitlist import close_waitlists, promote_all
from storage.db import Database, UnitOfWork, acting_as

P = ParamSpec("P")
R = TypeVar("R")
WORKER = "worker"  # the audit log's name for the changes the jobs make


def _job(
    fn: Callable[Concatenate[Database, Clock, P], Awaitable[R]],
) -> Callable[Concatenate[Database, Clock, P], Awaitable[R]]:
    """A job's units of work act as the worker, their audit rows timed by the job's clock."""

    @functools.wraps(fn)
    async def run(db: Database, clock: Clock, *args: P.args, **kwargs: P.kwargs) -> R:
        async with acting_as(WORKER, clock):
            return await fn(db, clock, *args, **kwargs)

    return run


def reminder_offsets(text: str) -> tuple[int, ...]:
    """R32: "6,1" (hours, fractions allowed) -> (360, 60) minutes, largest first."""
    minutes = {round(float(part) * 60) for part in text.replace(" ", "").split(",") if part}
    if any(m <= 0 for m in minutes):
        raise ValueError(f"reminder offsets must be positive hours: {text!r}")
    return tuple(sorted(minutes, reverse=True))


@_job
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


@_job
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


@_job
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


@_job
async def close_finished_windows(db: Database, clock: Clock) -> int:
    """R37: waitlists close when the registration window closes."""

    async def work(uow: UnitOfWork) -> int:
        closed = 0
        for session in await uow.sessions.all():
            closed += await close_waitlists(uow, clock, session.id)
        await uow.commit()
        return closed

    return await db.run(work)


@_job
async def forget_old_nonces(db: Database, clock: Clock) -> int:
    """Callback nonces outside the replay window are refused by timestamp anyway."""

    async def work(uow: UnitOfWork) -> int:
        n = await uow.payments.forget_nonces_before(clock.now() - 2 * REPLAY_WINDOW)
        await uow.commit()
        return n

    return await db.run(work)


@dataclass(frozen=True, slots=True)
class TicketReport:
    seats: int  # tickets issued (number, room, seat)
    rendered: int  # PDFs drawn and kept
    pruned: int  # quick-print attempts older than every window
    more: bool  # the time budget ran out with PDFs still to draw: call again soon


@_job
async def ticket_jobs(
    db: Database,
    clock: Clock,
    settings: Settings,
    *,
    batch: int | None = None,
    budget_seconds: float = 3.0,
) -> TicketReport:
    """R5/R38/R39: for every session whose print time has come, issue the seats of paid
    entries, then pre-render their PDFs batch by batch; then forget old rate events.

    Each step is idempotent: a rerun issues nothing twice (issued seats never move) and
    draws nothing already kept. With two workers (PostgreSQL) the session's assignment
    lock serializes them: seats are never handed out twice, and the second worker's
    batch, read after the first one committed, holds the next tickets, not the same ones.
    Each batch is its own transaction; on SQLite it holds the only write lock while it
    draws, so batches stay small (20 tickets, about half a second) and the bot's own
    writes wait no longer than that. `budget_seconds` bounds one call, so the other jobs
    are not held up by a rush of thousands of tickets; `more` says to come back at once.
    """
    size = batch or (20 if db.is_sqlite else 50)

    async def due_sessions(uow: UnitOfWork) -> list[int]:
        now = clock.now()
        return [s.id for s in await uow.sessions.all() if tickets.printable_kinds(s, now)]

    async with db.uow(readonly=True) as uow:
        session_ids = await due_sessions(uow)
    seats = rendered = 0
    more = False
    deadline = time.monotonic() + budget_seconds
    # Seats first, for every session: issuing is quick, and a late payer's ticket must not
    # wait behind another session's drawing.
    for session_id in session_ids:

        async def assign(uow: UnitOfWork, session_id: int = session_id) -> int:
            issued = await tickets.assign_seats(uow, clock, session_id=session_id)
            await uow.commit()
            return issued

        seats += await db.run(assign)
    for session_id in session_ids:

        async def render(uow: UnitOfWork, session_id: int = session_id) -> int:
            # Taken first, so what `prerender` reads includes the other worker's PDFs.
            await uow.tickets.lock_assignment(session_id)
            drawn = await tickets.prerender(
                uow, clock, session_id=session_id, settings=settings, limit=size
            )
            await uow.commit()
            return drawn

        while not more:
            if time.monotonic() >= deadline:
                more = True
                break
            drawn = await db.run(render)
            rendered += drawn
            if drawn < size:
                break

    async def prune(uow: UnitOfWork) -> int:
        n = await tickets.prune_rate_events(uow, clock)
        await uow.commit()
        return n

    return TicketReport(seats, rendered, await db.run(prune), more)
