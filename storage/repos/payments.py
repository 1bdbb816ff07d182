"""Payments of entries through a gateway, and callback nonces (R28-R30)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from storage.errors import Conflict
from storage.models import Entry, Payment, PaymentNonce, Registration
from storage.repos.audit import without
from storage.repos.base import Repository, insert_or_skip, to_dto

PAY = Payment.__table__
NONCE = PaymentNonce.__table__
REG = Registration.__table__
EN = Entry.__table__


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
_CREATE_PENDING = insert_or_skip(PAY, _NEW_PAYMENT, PAY.c, **_PENDING_INDEX)

# Asked on every pay step, built once (see storage/repos/conversations.py).
_PENDING_OF_ENTRY = select(PAY).where(
    PAY.c.entry_id == bindparam("b_entry_id"), PAY.c.status == "pending"
)


class PaymentRepository(Repository):
    async def get(self, payment_id: str) -> PaymentDTO | None:
        row = (await self.conn.execute(select(PAY).where(PAY.c.id == payment_id))).first()
        return to_dto(PaymentDTO, row) if row else None

    async def pending_of_entry(self, entry_id: int) -> PaymentDTO | None:
        row = (await self.conn.execute(_PENDING_OF_ENTRY, {"b_entry_id": entry_id})).first()
        return to_dto(PaymentDTO, row) if row else None

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
        """Inserts a pending payment; Conflict if the entry has one pending already (R29)."""
        # ON CONFLICT on the pending-payment index instead of a savepoint around a failing
        # INSERT: two statements fewer on every pay step, and the transaction stays usable.
        params = {f"b_{k}": values[k] for k in _NEW_PAYMENT_COLUMNS}
        row = (await self.conn.execute(_CREATE_PENDING[self.dialect], params)).first()
        if row is None:
            raise Conflict("payments.pending_entry")
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
        if gateway_ref is not None:
            values["gateway_ref"] = gateway_ref
        res = await self.conn.execute(
            update(PAY).where(PAY.c.id == payment_id, PAY.c.status == from_status).values(**values)
        )
        if not res.rowcount:
            return False
        await self._audited("finish", "payment", payment_id, {"status": from_status}, values)
        return True

    async def remember_nonce(self, nonce: str, now: datetime) -> bool:
        """Records a callback nonce; False if it was seen before (a replay)."""
        try:
            async with self.conn.begin_nested():
                await self.conn.execute(insert(NONCE).values(nonce=nonce, seen_at=now))
        except IntegrityError:
            return False
        return True

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
