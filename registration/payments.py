"""Paying entries through a gateway: links, callbacks, "Update" and late payments (R26-R30)."""

from __future__ import annotations

import functools
import logging
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from foundation.clock import Clock
from registration import errors
from registration.common import owned, refuses_before_writing
from registration.entries import check_payable
from registration.gateways.base import (
    CallbackRefused,
    Gateway,
    GatewayUnavailable,
    PaymentState,
)
from registration.notices import notify_registration
from storage.db import UnitOfWork
from storage.dto import EntryDTO
from storage.errors import Conflict
from storage.repos.payments import Notice, PaymentDTO, PayState

log = logging.getLogger(__name__)

# A pending payment this old is asked about before its link is handed out again:
# a failure whose callback was lost must not block paying for good.
PENDING_RECHECK = timedelta(minutes=15)
DEFAULT_SANDBOX_URL = "http://127.0.0.1:8090"

Settled = Literal["paid", "failed", "restored", "refund", "unchanged"]


@dataclass(frozen=True, slots=True)
class PaymentLink:
    url: str
    amount_fen: int
    payment_id: str
    # The entry paid for, as read under the registration's lock (a link changes nothing
    # of it): the chat shows it without reading it again.
    entry: EntryDTO | None = None


@dataclass(frozen=True, slots=True)
class CallbackOutcome:
    payment_id: str
    result: Settled
    entry_id: int


def gateway_from_settings(settings: Any) -> Gateway:
    """The configured gateway (PAYMENT_GATEWAY); the sandbox is the default (R28)."""
    from registration.gateways.sandbox import SandboxGateway

    name = (getattr(settings, "payment_gateway", None) or "sandbox").lower()
    configured = getattr(settings, "payment_secret", None)
    # Unset (library use, tests): a secret nobody else knows, never a constant. `cetbot run`
    # and `cetbot worker` refuse to start without a real one (cetbot/checklist.py).
    secret = configured.get_secret_value() if configured is not None else _process_secret()
    if name == "sandbox":
        url = getattr(settings, "payment_sandbox_url", None) or DEFAULT_SANDBOX_URL
        return SandboxGateway(url, secret)
    raise ValueError(f"unknown PAYMENT_GATEWAY {name!r}")


@functools.cache
def _process_secret() -> str:
    return secrets.token_urlsafe(32)


def new_payment_id() -> str:
    # Unguessable: the id appears in links and callbacks.
    return "P" + uuid.uuid4().hex


@refuses_before_writing
async def payment_link(
    uow: UnitOfWork,
    clock: Clock,
    *,
    registration_id: int,
    entry_id: int,
    gateway: Gateway,
    return_url: str = "",
    seen: tuple[int, EntryDTO] | None = None,
) -> PaymentLink:
    """The link to pay one entry (R28); while a payment is pending, the same link (R29).

    `seen`: the registration's version and the entry `entry_id` as the caller read them
    (the candidate's snapshot). On PostgreSQL, when that entry is payable, the payment is
    written with the lock in one statement, if the registration is still that version
    (`create_at_version`); otherwise, as without it, everything is judged on what the
    lock read."""
    now = clock.now()
    fast = await _at_version(uow, now, registration_id, entry_id, gateway, return_url, seen)
    if isinstance(fast, PaymentLink):
        return fast
    # The lock, the entry and its pending payment: one round trip on PostgreSQL.
    state = fast or await uow.payments.lock_for_payment(registration_id, entry_id)
    if state is None:
        raise errors.NotRegistered()
    entry = owned(state.registration.id, state.entry)
    await check_payable(uow, now, entry)  # R4, R26, R27
    pending = state.pending
    if pending is not None and now - pending.created_at >= PENDING_RECHECK:
        # Writes that a refusal may follow (EntryPaid once settled, the gateway down after
        # a failure): undone by a savepoint of their own (`refuses_before_writing`), with
        # the version bump the lock left to the writes (PostgreSQL).
        async with uow.savepoint():
            await uow.registrations.lock(state.registration.id)
            pending = await _recheck_stale(uow, now, pending, gateway)
            return await _pending_or_new(uow, now, entry, pending, gateway, return_url)
    return await _pending_or_new(uow, now, entry, pending, gateway, return_url)


async def _at_version(
    uow: UnitOfWork,
    now: datetime,
    registration_id: int,
    entry_id: int,
    gateway: Gateway,
    return_url: str,
    seen: tuple[int, EntryDTO] | None,
) -> PaymentLink | PayState | None:
    """The new payment written with the lock (`payment_link`'s `seen`): its link, or what
    the lock read when nothing was written, or None when this way is not open (SQLite, a
    gateway that registers payments remotely, an entry not seen payable: a refusal is
    judged on what the lock reads, never on the caller's read)."""
    if seen is None or not uow.payments.creates_at_version:
        return None
    version, entry = seen
    # Remotely registered payments would be registered on every press of a pending one.
    if entry.id != entry_id or not gateway.creates_offline:
        return None
    if entry.registration_id != registration_id:
        return None
    try:
        await check_payable(uow, now, entry)  # R4, R26, R27 on the caller's read
    except errors.DomainError:
        return None  # judged again under the lock
    values = await _new_payment(now, entry, gateway, return_url)
    state, created = await uow.payments.create_at_version(registration_id, version, values)
    if state is None:
        raise errors.NotRegistered()  # not active: nothing locked, nothing written
    if created is None:
        return state
    # At `version`: the entry is the caller's, unchanged (the payment bumped the version).
    return PaymentLink(created.link, created.amount_fen, created.id, entry)


async def _new_payment(
    now: datetime, entry: EntryDTO, gateway: Gateway, return_url: str
) -> dict[str, object]:
    """A new payment of the entry, its link made by the gateway: the row to insert."""
    payment_id = new_payment_id()
    link = await gateway.create_payment(
        payment_id, entry.fee_fen, f"{entry.subject_code} #{entry.id}", return_url
    )
    return {
        "id": payment_id,
        "entry_id": entry.id,
        "gateway": gateway.name,
        "amount_fen": entry.fee_fen,
        "link": link,
        "created_at": now,
    }


async def _pending_or_new(
    uow: UnitOfWork,
    now: datetime,
    entry: EntryDTO,
    pending: PaymentDTO | None,
    gateway: Gateway,
    return_url: str,
) -> PaymentLink:
    """The link of the entry's pending payment, or of a new one (its only write: the
    payment with its audit row, and on PostgreSQL the registration's version bump)."""
    if pending is not None:
        return PaymentLink(pending.link, pending.amount_fen, pending.id, entry)
    try:
        created = await uow.payments.create(await _new_payment(now, entry, gateway, return_url))
    except Conflict:
        # A concurrent "pay" of the same entry won; hand out its link (R29).
        raced = await uow.payments.pending_of_entry(entry.id)
        assert raced is not None
        created = raced
    return PaymentLink(created.link, created.amount_fen, created.id, entry)


async def _recheck_stale(
    uow: UnitOfWork, now: datetime, pending: PaymentDTO, gateway: Gateway
) -> PaymentDTO | None:
    """Asks about an old pending payment; None when it failed and a new one may start."""
    try:
        state = await gateway.query(pending.id)
    except GatewayUnavailable:
        return pending  # R29: never risk a second charge; the same link again.
    if state.status == "failed":
        await uow.payments.finish(pending.id, "failed", now, gateway_ref=state.gateway_ref)
        return None
    if state.status == "paid":
        await settle(uow, now, pending, state, tell=False)
        raise errors.EntryPaid(entry=pending.entry_id)
    return pending


@refuses_before_writing
async def refresh_payment(
    uow: UnitOfWork,
    clock: Clock,
    *,
    registration_id: int,
    entry_id: int,
    gateway: Gateway,
    entry: EntryDTO | None = None,
) -> EntryDTO:
    """R29 "Update": asks the gateway about the entry's pending payment and applies it.

    `entry`: the entry `entry_id` as the caller read it in this unit of work, so it is not
    read again; returned as it is when the gateway says the payment is still pending (or
    there is none: nothing was applied), else read again after the settling."""
    now = clock.now()
    if entry is None or entry.id != entry_id:
        entry = await uow.entries.get(entry_id)
    if entry is None:
        raise errors.NotFound(what="entry")
    # No active-registration lock here: the entry may have expired with its
    # registration (R30), and the settling below takes the locks it needs.
    if entry.registration_id != registration_id:
        raise errors.Forbidden(what="entry")
    pending = await uow.payments.pending_of_entry(entry.id)
    if pending is None:
        # Nothing to apply; read again all the same: the payment may have been settled
        # (a callback) between the caller's read of the entry and this one.
        updated = await uow.entries.get(entry.id)
        assert updated is not None
        return updated
    state = await gateway.query(pending.id)
    if state.amount_fen != pending.amount_fen and state.status == "paid":
        log.error("payment %s: gateway amount %s differs", pending.id, state.amount_fen)
        raise GatewayUnavailable(reason="amount")
    if state.status == "pending":
        # Still pending (as read after the entry): the entry is as read, nothing applied.
        return entry
    await settle(uow, now, pending, state, tell=False)
    updated = await uow.entries.get(entry.id)
    assert updated is not None
    return updated


async def apply_callback(
    uow: UnitOfWork,
    clock: Clock,
    *,
    gateway: Gateway,
    body: bytes,
    headers: Mapping[str, str],
) -> CallbackOutcome:
    """Applies a gateway callback (R28-R30); refuses forged, stale and replayed ones.

    The nonce is recorded in the caller's transaction, so a callback that fails
    half-way leaves no nonce behind and the gateway's retry is accepted.
    """
    now = clock.now()
    verified = gateway.verify_callback(body, headers, now)
    state = verified.state
    if uow.payments.folds_callbacks:
        return await _apply_callback_folded(uow, now, gateway, verified.nonce, state)
    if not await uow.payments.remember_nonce(verified.nonce, now):
        raise CallbackRefused(reason="replay")
    payment = await uow.payments.get(state.payment_id)
    _check_callback(payment, state, gateway)
    assert payment is not None
    result = await settle(uow, now, payment, state, tell=True)
    return CallbackOutcome(payment.id, result, payment.entry_id)


def _check_callback(payment: PaymentDTO | None, state: PaymentState, gateway: Gateway) -> None:
    if payment is None or payment.gateway != gateway.name:
        raise CallbackRefused(reason="unknown-payment")
    if state.amount_fen != payment.amount_fen:
        raise CallbackRefused(reason="amount")


async def _apply_callback_folded(
    uow: UnitOfWork, now: datetime, gateway: Gateway, nonce: str, state: PaymentState
) -> CallbackOutcome:
    """`apply_callback` on PostgreSQL: the nonce, the payment, the entry and the lock in
    one statement, and (usually) the changes, their audit rows and the notice in a second
    one. The same checks in the same order, the same outcome (tests/worker/
    test_callback_budget.py)."""
    opened = await uow.payments.open_callback(
        nonce, now, state.payment_id, lock=state.status != "pending"
    )
    if not opened.new_nonce:
        raise CallbackRefused(reason="replay")
    payment = opened.payment
    _check_callback(payment, state, gateway)
    assert payment is not None
    entry = opened.entry
    assert entry is not None
    outcome = functools.partial(CallbackOutcome, payment.id, entry_id=payment.entry_id)
    if state.status == "pending" or payment.status != "pending":
        # Not pending in the snapshot: finished for good (nothing goes back to pending).
        return outcome("unchanged")
    if opened.locked is not None and opened.fresh:
        account_id = opened.locked.account_id
        return outcome(await _settle_locked(uow, now, payment, entry, state, True, account_id))
    # The registration was not active (then locked as `settle` does: perhaps no row), or
    # someone changed it while this waited for the lock: read again, after the lock (the
    # folded settle then bumps the version, as it does above).
    account: int | None = None
    if opened.locked is None:
        await uow.registrations.lock(entry.registration_id)
    else:
        account = opened.locked.account_id
    current = await uow.payments.get(payment.id)
    assert current is not None
    if current.status != "pending":
        return outcome("unchanged")
    entry = await uow.entries.get(payment.entry_id)
    assert entry is not None
    return outcome(await _settle_locked(uow, now, current, entry, state, True, account))


async def settle(
    uow: UnitOfWork, now: datetime, payment: PaymentDTO, state: PaymentState, *, tell: bool
) -> Settled:
    """Applies what the gateway says about `payment`; a second time changes nothing (R29).

    `tell`: queue a notice for the candidate (callbacks and the sweep; an
    "Update" the candidate pressed is answered directly instead).
    """
    if state.status == "pending":
        return "unchanged"
    entry = await uow.entries.get(payment.entry_id)
    assert entry is not None
    # Serializes with the candidate's own changes (cancel, change campus) and the sweep.
    await uow.registrations.lock(entry.registration_id)
    current = await uow.payments.get(payment.id)
    assert current is not None
    if current.status != "pending":
        return "unchanged"
    entry = await uow.entries.get(payment.entry_id)
    assert entry is not None
    return await _settle_locked(uow, now, current, entry, state, tell, None)


async def _settle_locked(
    uow: UnitOfWork,
    now: datetime,
    payment: PaymentDTO,
    entry: EntryDTO,
    state: PaymentState,
    tell: bool,
    account_id: int | None,
) -> Settled:
    """`settle` once the registration is locked and `payment` is read pending. With the
    account (the callback's folded path on PostgreSQL, whose lock wrote nothing): the
    entry marked paid, the payment finished, their audit rows, the notice and the
    registration's version bump in one statement (`PaymentRepository.settle_locked`)."""
    folded = account_id is not None
    if state.status == "failed":
        if folded:
            await uow.payments.settle_locked(
                payment.id,
                "failed",
                now,
                registration_id=entry.registration_id,
                gateway_ref=state.gateway_ref,
                paid_entry_id=None,
                notice=None,
            )
        else:
            await uow.payments.finish(payment.id, "failed", now, gateway_ref=state.gateway_ref)
        return "failed"
    charged_at = state.paid_at or now
    campus = await uow.sessions.campus(entry.campus_id)
    assert campus is not None
    late = charged_at >= campus.pay_deadline  # R4: judged by when the bank charged
    result: Settled
    mark = False
    if entry.status == "unpaid" and not late:
        mark = True
        result = "paid"
    elif entry.status == "expired" and not late and await _restore(uow, now, entry):
        result = "restored"  # R30: a seat was free
    else:
        # R30: no seat (or paid twice, cancelled, too late): the money goes back.
        result = "refund"
    final = "refund" if result == "refund" else "paid"
    told = tell or result in ("refund", "restored")
    kind = "payment-" + ("paid" if result == "paid" else result)
    payload = {
        "entry_id": entry.id,
        "subject": entry.subject_code,
        "campus_id": entry.campus_id,
        "amount_fen": payment.amount_fen,
    }
    dedupe_key = f"pay:{payment.id}"
    if account_id is not None:
        await uow.payments.settle_locked(
            payment.id,
            final,
            now,
            registration_id=entry.registration_id,
            gateway_ref=state.gateway_ref,
            paid_entry_id=entry.id if mark else None,
            notice=Notice(account_id, kind, payload, dedupe_key) if told else None,
        )
        return result
    if mark:
        await uow.entries.mark_paid(entry.id, now)
    await uow.payments.finish(payment.id, final, now, gateway_ref=state.gateway_ref)
    if told:
        await notify_registration(
            uow,
            now,
            registration_id=entry.registration_id,
            kind=kind,
            payload=payload,
            dedupe_key=dedupe_key,
        )
    return result


class _CannotRestore(Exception):
    pass


async def _restore(uow: UnitOfWork, now: datetime, entry: EntryDTO) -> bool:
    """R30: brings an expired entry back as paid if its seat (and registration) can be had."""
    try:
        async with uow.savepoint():
            reg = await uow.registrations.get(entry.registration_id)
            if reg is None:
                raise _CannotRestore
            if reg.status != "active" and not await uow.payments.reactivate_registration(reg.id):
                raise _CannotRestore  # the candidate registered anew meanwhile
            if entry.kind == "oral":
                subjects = await uow.sessions.subjects()
                written = subjects[entry.subject_code].requires
                held = await uow.entries.of_registration(reg.id)
                if not any(e.subject_code == written and e.status == "paid" for e in held):
                    raise _CannotRestore  # R27: no paid written entry to hang off
            if not await uow.sessions.take_seat(entry.campus_id, entry.subject_code):
                raise _CannotRestore
            if not await uow.payments.restore_entry_as_paid(entry.id, now):
                raise _CannotRestore
    except _CannotRestore:
        return False
    return True
