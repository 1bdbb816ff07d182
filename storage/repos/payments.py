"""Payments of entries through a gateway, and callback nonces (R28-R30)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Executable, and_, bindparam, delete, insert, select, text, true, update
from sqlalchemy.exc import IntegrityError

from storage import direct
from storage.dto import EntryDTO, RegistrationDTO
from storage.errors import Conflict
from storage.models import Entry, Payment, PaymentNonce, Registration
from storage.repos.audit import AU, without
from storage.repos.base import Repository, insert_or_skip, status_is, table, to_dto
from storage.repos.registrations import (
    _ENTRY,
    _LOCK,
    _LOCKED,
    _R_PREFIX,
    _REG_FIELDS,
    _SEEN,
    _prefixed,
    _unchanged,
)

PAY = table(Payment)
NONCE = table(PaymentNonce)
REG = table(Registration)
EN = table(Entry)


@dataclass(frozen=True, slots=True)
class PaymentDTO:
    id: str
    entry_id: int
    gateway: str
    amount_fen: int
    status: str
    link: str
    gateway_ref: str | None
    created_at: datetime
    finished_at: datetime | None


_NEW_PAYMENT_COLUMNS = ("id", "entry_id", "gateway", "amount_fen", "link", "created_at")
_NEW_PAYMENT = {
    "status": "pending",
    **{c: bindparam(f"b_{c}") for c in _NEW_PAYMENT_COLUMNS},
}
# R29: the partial unique index uq_payments_pending_entry refuses a second pending one.
_PENDING_INDEX = {"index_elements": ["entry_id"], "index_where": text("status = 'pending'")}
_PAYMENT = select(PAY).where(PAY.c.id == bindparam("b_payment_id"))
# A nonce seen before is skipped by the INSERT itself: no savepoint around it (issue 17).
_REMEMBER_NONCE = insert_or_skip(
    NONCE,
    {"nonce": bindparam("b_nonce"), "seen_at": bindparam("b_seen_at")},
    [NONCE.c.nonce],
    index_elements=["nonce"],
)
_FINISH_COMMON: dict[str, Any] = {
    "status": bindparam("b_status"),
    "finished_at": bindparam("b_finished_at"),
}
_FINISH_WHERE = (PAY.c.id == bindparam("b_payment_id"), PAY.c.status == bindparam("b_from"))
# Keyed by whether the gateway named its reference (without one the column stays).
_FINISH = {
    with_ref: update(PAY)
    .where(*_FINISH_WHERE)
    .values(**_FINISH_COMMON, **({"gateway_ref": bindparam("b_gateway_ref")} if with_ref else {}))
    for with_ref in (False, True)
}
_CREATE_PENDING = insert_or_skip(PAY, _NEW_PAYMENT, PAY.c, **_PENDING_INDEX)

# Asked on every pay step, built once (see storage/repos/conversations.py).
_PENDING_OF_ENTRY = select(PAY).where(
    PAY.c.entry_id == bindparam("b_entry_id"), PAY.c.status == "pending"
)

# PostgreSQL, the pay step: the registration's lock, the entry and the entry's pending
# payment in one round trip. As in RegistrationRepository.lock_for_booking, the reads
# see the snapshot taken before the UPDATE may wait for the row lock; `_unchanged`
# (the snapshot's registration row against the locked one) tells whether someone changed
# the registration meanwhile (every change of its entries and payments goes through
# `lock`), and then the entry and the payment are read again, after the lock.
_E_PREFIX = "_e_"
_P_PREFIX = "_p_"
_ENTRY_FIELDS = tuple(c.name for c in EN.c)
_PAY_FIELDS = tuple(c.name for c in PAY.c)
_LOCK_ENTRY_PENDING = select(
    *(_LOCKED.c[n].label(_R_PREFIX + n) for n in _REG_FIELDS),
    _unchanged(_LOCKED, _SEEN),
    *(EN.c[n].label(_E_PREFIX + n) for n in _ENTRY_FIELDS),
    *(PAY.c[n].label(_P_PREFIX + n) for n in _PAY_FIELDS),
).select_from(
    _LOCKED.join(_SEEN, _SEEN.c.id == _LOCKED.c.id)
    .outerjoin(EN, EN.c.id == bindparam("b_entry_id"))
    # The literal status lets the plan use the partial index of pending payments.
    .outerjoin(PAY, and_(PAY.c.entry_id == EN.c.id, status_is(PAY.c.status, "pending")))
)

# PostgreSQL: a new pending payment, its audit row and the registration's version bump
# in one statement (as an entry and its seat, storage/repos/registrations.py). No row:
# the entry has a pending payment already (R29), and nothing was written either.
_A_PREFIX = "a_"
_AUDIT_ID = "_audit_id"
_AUDIT_COLUMNS = ("at", "actor", "action", "object_type", "before", "after")
_AUDITED_PAYMENT = _CREATE_PENDING["postgresql"].cte("payment")
_PAYMENT_AUDIT = (
    insert(AU)
    .from_select(
        [*_AUDIT_COLUMNS, "object_id"],
        select(
            *(bindparam(_A_PREFIX + c, type_=AU.c[c].type) for c in _AUDIT_COLUMNS),
            _AUDITED_PAYMENT.c.id,
        ),
    )
    .returning(AU.c.id)
    .cte("audit")
)
# The version bump of the entry's registration (see registrations._LOCKED: the pay
# step's lock writes nothing on PostgreSQL), only when the payment was inserted.
_BUMP_WITH_PAYMENT = (
    update(REG)
    .where(REG.c.id == EN.c.registration_id, EN.c.id == _AUDITED_PAYMENT.c.entry_id)
    .values(version=REG.c.version + 1)
    .returning(REG.c.id)
    .cte("bump")
)
_CREATE_PENDING_AUDITED: Executable = (
    select(*_AUDITED_PAYMENT.c, _PAYMENT_AUDIT.c.id.label(_AUDIT_ID))
    .select_from(_AUDITED_PAYMENT.join(_PAYMENT_AUDIT, true()))
    .add_cte(_BUMP_WITH_PAYMENT)
)


def _payment_as_returned(values: dict[str, Any]) -> dict[str, Any]:
    """The audit `after` of a new pending payment (its columns but the id and the link, as
    RETURNING gives them), known before the INSERT; checked against the row itself."""
    out: dict[str, Any] = {}
    for name in _PAY_FIELDS:
        if name in ("id", "link"):
            continue
        value = "pending" if name == "status" else values.get(name)
        out[name] = value.astimezone(UTC) if isinstance(value, datetime) else value
    return out


@dataclass(frozen=True, slots=True)
class PayState:
    """What the pay step reads under the registration's lock (see `lock_for_payment`)."""

    registration: RegistrationDTO
    entry: EntryDTO | None
    pending: PaymentDTO | None


class PaymentRepository(Repository):
    async def get(self, payment_id: str) -> PaymentDTO | None:
        row = await direct.first(self.conn, _PAYMENT, {"b_payment_id": payment_id})
        return to_dto(PaymentDTO, row) if row else None

    async def pending_of_entry(self, entry_id: int) -> PaymentDTO | None:
        row = await direct.first(self.conn, _PENDING_OF_ENTRY, {"b_entry_id": entry_id})
        return to_dto(PaymentDTO, row) if row else None

    async def lock_for_payment(self, registration_id: int, entry_id: int) -> PayState | None:
        """Locks the registration (`RegistrationRepository.lock`), then reads the entry
        `entry_id` (whoever's it is: the caller checks) and its pending payment; on
        PostgreSQL usually in one round trip, and the lock a row lock that writes nothing
        (`create` bumps the version with the payment; a caller that writes anything else
        calls `RegistrationRepository.lock` first). None when the registration is not
        active."""
        if self.dialect == "postgresql":
            params = {"b_registration_id": registration_id, "b_entry_id": entry_id}
            row = await direct.first(self.conn, _LOCK_ENTRY_PENDING, params)
            if row is None:
                return None  # not active: no row locked
            registration = _prefixed(RegistrationDTO, row, _R_PREFIX)
            if row._unchanged:
                entry = pay = None
                if row._e_id is not None:
                    entry = _prefixed(EntryDTO, row, _E_PREFIX)
                if row._p_id is not None:
                    pay = _prefixed(PaymentDTO, row, _P_PREFIX)
                return PayState(registration, entry, pay)
            # The snapshot predates a change committed while we waited for the lock.
        else:
            row = await direct.first(self.conn, _LOCK, {"registration_id": registration_id})
            if row is None:
                return None
            registration = to_dto(RegistrationDTO, row)
        entry_row = await direct.first(self.conn, _ENTRY, {"b_entry_id": entry_id})
        entry = to_dto(EntryDTO, entry_row) if entry_row else None
        pending = await self.pending_of_entry(entry.id) if entry is not None else None
        return PayState(registration, entry, pending)

    async def pending_of_entries(self, entry_ids: Sequence[int]) -> dict[int, PaymentDTO]:
        if not entry_ids:
            return {}
        rows = await self.conn.execute(
            select(PAY).where(PAY.c.entry_id.in_(list(entry_ids)), PAY.c.status == "pending")
        )
        return {r.entry_id: to_dto(PaymentDTO, r) for r in rows}

    async def of_entry(self, entry_id: int) -> list[PaymentDTO]:
        rows = await self.conn.execute(
            select(PAY).where(PAY.c.entry_id == entry_id).order_by(PAY.c.created_at)
        )
        return [to_dto(PaymentDTO, r) for r in rows]

    async def create(self, values: dict[str, Any]) -> PaymentDTO:
        """Inserts a pending payment; Conflict if the entry has one pending already (R29).

        On PostgreSQL it also bumps the version of the entry's registration (whose lock,
        `lock_for_payment`, writes nothing there), in the same statement."""
        # ON CONFLICT on the pending-payment index instead of a savepoint around a failing
        # INSERT: two statements fewer on every pay step, and the transaction stays usable.
        params = {f"b_{k}": values[k] for k in _NEW_PAYMENT_COLUMNS}
        sink = self.audit_sink
        if self.dialect == "postgresql" and sink is not None:
            after = _payment_as_returned(values)
            audit = await sink.fields("create", "payment", None, after)
            params.update({_A_PREFIX + k: v for k, v in audit.items()})
            row = await direct.first(self.conn, _CREATE_PENDING_AUDITED, params)
            if row is None:
                direct.wrote_nothing(self.conn)  # the audit row and bump hang off the payment
                raise Conflict("payments.pending_entry")
            got = without(row._mapping, "id", "link", _AUDIT_ID)
            if got != after:  # never so far: a default of the database, say
                await sink.correct_after(row._mapping[_AUDIT_ID], got)
            return to_dto(PaymentDTO, row)
        row = await direct.first(self.conn, _CREATE_PENDING[self.dialect], params)
        if row is None:
            raise Conflict("payments.pending_entry")
        if self.dialect == "postgresql":  # without an audit sink (never in a unit of work)
            entry = await direct.first(self.conn, _ENTRY, {"b_entry_id": row.entry_id})
            assert entry is not None  # foreign key
            await direct.first(self.conn, _LOCK, {"registration_id": entry.registration_id})
        # The link is long and says nothing the trail needs.
        await self._audited("create", "payment", row.id, None, without(row._mapping, "id", "link"))
        return to_dto(PaymentDTO, row)

    async def finish(
        self,
        payment_id: str,
        status: str,
        now: datetime,
        *,
        gateway_ref: str | None = None,
        from_status: str = "pending",
    ) -> bool:
        """Moves a payment on from `from_status`; False if it had moved already (idempotence)."""
        values: dict[str, Any] = {"status": status, "finished_at": now}
        params: dict[str, Any] = {"b_payment_id": payment_id, "b_from": from_status}
        params |= {"b_status": status, "b_finished_at": now}
        if gateway_ref is not None:
            values["gateway_ref"] = gateway_ref
            params["b_gateway_ref"] = gateway_ref
        statement = _FINISH[gateway_ref is not None]
        if not await direct.rowcount(self.conn, statement, params):
            return False
        await self._audited("finish", "payment", payment_id, {"status": from_status}, values)
        return True

    async def remember_nonce(self, nonce: str, now: datetime) -> bool:
        """Records a callback nonce; False if it was seen before (a replay)."""
        params = {"b_nonce": nonce, "b_seen_at": now}
        return await direct.first(self.conn, _REMEMBER_NONCE[self.dialect], params) is not None

    async def forget_nonces_before(self, cutoff: datetime) -> int:
        """Nonces older than the replay window are refused by their timestamp anyway."""
        res = await self.conn.execute(delete(NONCE).where(NONCE.c.seen_at < cutoff))
        return int(res.rowcount)

    # R30: a late payment brings an expired entry (and its registration) back.
    async def reactivate_registration(self, registration_id: int) -> bool:
        """Undeletes a registration; False if the record or account registered anew since."""
        reg = REG
        try:
            async with self.conn.begin_nested():
                res = await self.conn.execute(
                    update(reg)
                    .where(reg.c.id == registration_id, reg.c.status == "deleted")
                    .values(status="active", deleted_at=None, version=reg.c.version + 1)
                )
        except IntegrityError:
            return False
        return bool(res.rowcount)

    async def restore_entry_as_paid(self, entry_id: int, now: datetime) -> bool:
        """Turns an expired entry into a paid one; False if the candidate holds the
        subject (or the level) again meanwhile (the partial unique indexes refuse)."""
        en = EN
        try:
            async with self.conn.begin_nested():
                res = await self.conn.execute(
                    update(en)
                    .where(en.c.id == entry_id, en.c.status == "expired")
                    .values(status="paid", paid_at=now, ended_at=None, end_reason=None)
                )
        except IntegrityError:
            return False
        if not res.rowcount:
            return False
        after = {"status": "paid", "paid_at": now, "ended_at": None, "end_reason": None}
        await self._audited("restore", "entry", entry_id, {"status": "expired"}, after)
        return True
