"""Messages a candidate did not ask for (promotion, review decision, reminders...),
queued in the outbox in the same transaction as the change that causes them.

The outbox row names a message `kind` (a locale key suffix) and its arguments;
the worker renders it in the recipient's language when it sends (pretix-style:
addressed by id, rendered for the recipient).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from registration.seats import Promotion
from storage.db import UnitOfWork
from storage.dto import ReviewDTO


async def notify_account(
    uow: UnitOfWork,
    now: datetime,
    *,
    account_id: int,
    kind: str,
    payload: dict[str, Any],
    dedupe_key: str | None = None,
    due_at: datetime | None = None,
) -> int:
    """Queues `kind` for every chat bound to the account; returns how many were queued."""
    queued = 0
    for platform, chat_user_id in await uow.accounts.bindings(account_id):
        key = f"{dedupe_key}:{platform}:{chat_user_id}" if dedupe_key else None
        if await uow.outbox.add(
            platform=platform,
            chat_id=chat_user_id,
            kind=kind,
            payload=payload,
            now=now,
            due_at=due_at,
            dedupe_key=key,
        ):
            queued += 1
    return queued


async def notify_registration(
    uow: UnitOfWork,
    now: datetime,
    *,
    registration_id: int,
    kind: str,
    payload: dict[str, Any],
    dedupe_key: str | None = None,
) -> int:
    reg = await uow.registrations.get(registration_id)
    if reg is None:
        return 0
    return await notify_account(
        uow, now, account_id=reg.account_id, kind=kind, payload=payload, dedupe_key=dedupe_key
    )


async def tell_promotions(uow: UnitOfWork, now: datetime, promotions: Iterable[Promotion]) -> None:
    """R37: a waiter who got a seat is told at once, with the new entry's deadline."""
    for p in promotions:
        await notify_registration(
            uow,
            now,
            registration_id=p.registration_id,
            kind="promoted",
            payload={
                "entry_id": p.entry.id,
                "subject": p.entry.subject_code,
                "campus_id": p.entry.campus_id,
                "expires_at": p.entry.expires_at.isoformat(),
            },
            dedupe_key=f"promoted:{p.waitlist_id}",
        )


async def notify_review_decision(uow: UnitOfWork, now: datetime, review: ReviewDTO) -> int:
    """R19: tells the candidate that the school decided their CET-6 review (call it in
    the transaction that decides it)."""
    return await notify_account(
        uow,
        now,
        account_id=review.account_id,
        kind="review-decided",
        payload={
            "review_id": review.id,
            "status": review.status,
            "note": review.note,
            "ticket_no": review.ticket_no,
        },
        dedupe_key=f"review:{review.id}:{review.status}",
    )
