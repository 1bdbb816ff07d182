"""The 24-hour expiry of unpaid entries and empty registrations (R31, R33)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from foundation.clock import Clock
from registration.gateways.base import Gateway, GatewayUnavailable
from registration.notices import notify_registration, tell_promotions
from registration.seats import UNPAID_LIFETIME, Promotion, free_seat
from storage.db import UnitOfWork
from storage.dto import EntryDTO

log = logging.getLogger(__name__)


@dataclass
class ExpiryResult:
    expired: list[EntryDTO] = field(default_factory=list)
    promotions: list[Promotion] = field(default_factory=list)
    deleted_registrations: list[int] = field(default_factory=list)
    # R33: found paid at the gateway at the last moment (callback lost).
    paid_at_gateway: list[int] = field(default_factory=list)
    # R33: could not ask the gateway; left for the next sweep.
    postponed: list[int] = field(default_factory=list)


async def expire_due(
    uow: UnitOfWork, clock: Clock, *, limit: int = 200, gateway: Gateway | None = None
) -> ExpiryResult:
    """Deletes unpaid entries 24 h after creation and hands their seats on (R31, R37).

    An oral entry whose written entry expires goes with it (R21). A registration
    left with no entries is deleted 24 h after it was created. Before an entry
    with a pending payment goes, the gateway is asked once more (R33); without a
    gateway to ask, such entries are left for a sweep that has one. The
    candidates are told (expiry, promotion) in the same transaction.
    """
    from registration.payments import settle

    now = clock.now()
    result = ExpiryResult()
    subjects = await uow.sessions.subjects()
    due = await uow.entries.due_unpaid(now, limit)
    pending = await uow.payments.pending_of_entries([e.id for e in due])
    for entry in due:
        payment = pending.get(entry.id)
        if payment is not None:
            if gateway is None:
                result.postponed.append(entry.id)
                continue
            try:
                state = await gateway.query(payment.id)
            except GatewayUnavailable as exc:
                log.warning("R33: cannot ask about %s (%s); entry kept", payment.id, exc.params)
                result.postponed.append(entry.id)
                continue
            if state.status == "paid" and state.amount_fen == payment.amount_fen:
                if await settle(uow, now, payment, state, tell=True) == "paid":
                    result.paid_at_gateway.append(entry.id)
                    continue
            elif state.status == "failed":
                await settle(uow, now, payment, state, tell=False)
            # Still pending: the entry goes; a payment arriving later takes R30's path.
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
                await notify_registration(
                    uow,
                    now,
                    registration_id=e.registration_id,
                    kind="entry-expired",
                    payload={"entry_id": e.id, "subject": e.subject_code, "campus_id": e.campus_id},
                    dedupe_key=f"expired:{e.id}",
                )
    await tell_promotions(uow, now, result.promotions)  # R37: told at once
    for reg_id in await uow.registrations.empty_and_due(now - UNPAID_LIFETIME, limit):
        await uow.registrations.delete(reg_id, now)
        result.deleted_registrations.append(reg_id)
    return result
