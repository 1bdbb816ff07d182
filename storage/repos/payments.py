"""Payments of entries through a gateway, and callback nonces (R28-R30)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Executable,
    String,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from storage import direct
from storage.dto import EntryDTO, RegistrationDTO
from storage.errors import Conflict
from storage.models import ChatBinding, Entry, OutboxMessage, Payment, PaymentNonce, Registration
from storage.repos.audit import AU, without
from storage.repos.base import Repository, insert_or_skip, status_is, table, to_dto
from storage.repos.outbox import NEW_COLUMNS
from storage.repos.registrations import (
    _ENTRY,
    _IS_ACTIVE_REG,
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
OB = table(OutboxMessage)
BIND = table(ChatBinding)


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


def _audit_of(payment: Any) -> Any:
    """The audit row of the payment a CTE inserts (none when it inserted none), as a CTE."""
    return (
        insert(AU)
        .from_select(
            [*_AUDIT_COLUMNS, "object_id"],
            select(
                *(bindparam(_A_PREFIX + c, type_=AU.c[c].type) for c in _AUDIT_COLUMNS),
                payment.c.id,
            ),
        )
        .returning(AU.c.id)
        .cte("audit")
    )


_PAYMENT_AUDIT = _audit_of(_AUDITED_PAYMENT)
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


# PostgreSQL, the pay step when the caller read the entry with its registration's
# version (the candidate's snapshot) and checked it payable (issue 17): the lock, the
# reads of `_LOCK_ENTRY_PENDING` and, when the locked registration is still that version
# (so the entry is as the caller read it: every change of a candidate's entries and
# payments bumps the version), the new pending payment with its audit row and the
# version bump, in one round trip instead of two. Nothing is written otherwise, nor when
# the entry has a pending payment (R29, the index): the caller goes on from the reads.
# The reads see the statement's snapshot, taken before the writes (the new payment is
# not among them), as in `_LOCK_ENTRY_PENDING`.
_N_PREFIX = "_n_"
_LOCKED_AT_VERSION = exists(
    select(_LOCKED.c.id).where(
        _LOCKED.c.version == bindparam("b_version", type_=REG.c.version.type)
    )
)
_PAYMENT_AT_VERSION = (
    pg_insert(PAY)
    .from_select(
        ["status", *_NEW_PAYMENT_COLUMNS],
        select(
            literal_column("'pending'", PAY.c.status.type),
            *(bindparam(f"b_{c}", type_=PAY.c[c].type) for c in _NEW_PAYMENT_COLUMNS),
        ).where(_LOCKED_AT_VERSION),
    )
    .on_conflict_do_nothing(index_elements=["entry_id"], index_where=text("status = 'pending'"))
    .returning(*PAY.c)
    .cte("payment")
)
_AUDIT_AT_VERSION = _audit_of(_PAYMENT_AT_VERSION)
_BUMP_AT_VERSION = (
    update(REG)
    .where(REG.c.id == _LOCKED.c.id, exists(select(_PAYMENT_AT_VERSION.c.id)))
    .values(version=REG.c.version + 1)
    .returning(REG.c.id)
    .cte("bump")
)
_PAY_AT_VERSION: Executable = (
    select(
        *(_LOCKED.c[n].label(_R_PREFIX + n) for n in _REG_FIELDS),
        _unchanged(_LOCKED, _SEEN),
        *(EN.c[n].label(_E_PREFIX + n) for n in _ENTRY_FIELDS),
        *(PAY.c[n].label(_P_PREFIX + n) for n in _PAY_FIELDS),
        *(_PAYMENT_AT_VERSION.c[n].label(_N_PREFIX + n) for n in _PAY_FIELDS),
        _AUDIT_AT_VERSION.c.id.label(_AUDIT_ID),
    )
    .select_from(
        _LOCKED.join(_SEEN, _SEEN.c.id == _LOCKED.c.id)
        .outerjoin(EN, EN.c.id == bindparam("b_entry_id"))
        .outerjoin(PAY, and_(PAY.c.entry_id == EN.c.id, status_is(PAY.c.status, "pending")))
        .outerjoin(_PAYMENT_AT_VERSION, true())
        .outerjoin(_AUDIT_AT_VERSION, true())
    )
    .add_cte(_BUMP_AT_VERSION)
)

# PostgreSQL, a gateway's callback (R28-R30), first statement: the nonce remembered, the
# payment and its entry read, and the entry's registration locked when the nonce is new,
# the payment pending and the caller asks for it. The lock is the booking's and the pay
# link's (registrations._LOCKED): a row lock that writes nothing, the version bump going
# with the write (`_SETTLE_LOCKED`). As in `_LOCK_ENTRY_PENDING`, the reads see the
# snapshot taken before the lock may wait for the row; `_unchanged` tells whether the
# registration changed meanwhile (every change of its entries and payments bumps its
# version), and then the caller reads again. One row always (a one-row base, the rest
# outer-joined): a replay is told from an unknown payment. A payment not pending in the
# snapshot is finished for good.
_CB_NONCE = _REMEMBER_NONCE["postgresql"].cte("nonce")
_CB_PAYMENT_ID = bindparam("b_payment_id", type_=PAY.c.id.type)
_CB_PENDING = bindparam("b_from", type_=PAY.c.status.type)
_CB_PAYING_REGISTRATION = (
    select(EN.c.registration_id)
    .select_from(PAY.join(EN, EN.c.id == PAY.c.entry_id))
    # The status bound, not written in: with 'pending' written in, a generic plan reads
    # the partial index of every pending payment (hundreds in a rush) for the one id.
    .where(PAY.c.id == _CB_PAYMENT_ID, PAY.c.status == _CB_PENDING)
    .scalar_subquery()
)
_CB_LOCKED = (
    select(REG)
    .where(
        REG.c.id == _CB_PAYING_REGISTRATION,
        _IS_ACTIVE_REG,
        bindparam("b_lock", type_=Boolean),
        exists(select(_CB_NONCE.c.nonce)),
    )
    .with_for_update(key_share=True)
    .cte("locked")
)
_CB_ONE = select(literal(1).label("one")).subquery("one")
_OPEN_CALLBACK: Executable = select(
    exists(select(_CB_NONCE.c.nonce)).label("_new_nonce"),
    *(PAY.c[n].label(_P_PREFIX + n) for n in _PAY_FIELDS),
    *(EN.c[n].label(_E_PREFIX + n) for n in _ENTRY_FIELDS),
    *(_CB_LOCKED.c[n].label(_R_PREFIX + n) for n in _REG_FIELDS),
    _unchanged(_CB_LOCKED, _SEEN),
).select_from(
    _CB_ONE.outerjoin(PAY, PAY.c.id == _CB_PAYMENT_ID)
    .outerjoin(EN, EN.c.id == PAY.c.entry_id)
    .outerjoin(_CB_LOCKED, true())
    .outerjoin(_SEEN, _SEEN.c.id == _CB_LOCKED.c.id)
)


def _audit_from(source: Any, prefix: str, after: Any = None) -> Any:
    """INSERT INTO audit_log ... SELECT the bound columns (named `prefix` + column), the
    id of `source`'s row; none when `source` returned none. `after`: a CTE whose rows are
    all written first (the trail keeps the order in which the old path wrote it)."""
    row = select(
        *(bindparam(prefix + c, type_=AU.c[c].type) for c in _AUDIT_COLUMNS),
        cast(source.c.id, AU.c.object_id.type),
    ).select_from(source)
    if after is not None:
        # An uncorrelated subquery: an InitPlan run before `source` is read at all.
        row = row.where(select(func.count()).select_from(after).scalar_subquery() >= 0)
    return insert(AU).from_select([*_AUDIT_COLUMNS, "object_id"], row).returning(AU.c.id)


# PostgreSQL, a callback's second statement, under the lock the first one took: the
# entry marked paid (when b_entry_id is set, and only from unpaid), the payment finished
# (only from pending), an audit row for each change made, the notice queued for every
# chat bound to the account (b_account_id; none when NULL), each once (its dedupe_key, as
# `notify_account` builds it), and the registration's version bump (the lock wrote
# nothing; without the bump a booking, pay link or callback that waited for the lock
# would act on its older snapshot). What the old path sent as eight statements.
_CB_ENTRY_PAID = (
    update(EN)
    .where(EN.c.id == bindparam("b_entry_id", type_=EN.c.id.type), status_is(EN.c.status, "unpaid"))
    .values(status="paid", paid_at=bindparam("b_paid_at", type_=EN.c.paid_at.type))
    .returning(EN.c.id)
    .cte("entry_paid")
)
_CB_ENTRY_AUDIT = _audit_from(_CB_ENTRY_PAID, "ae_").cte("entry_audit")
_CB_FINISHED = (
    update(PAY)
    .where(PAY.c.id == _CB_PAYMENT_ID, PAY.c.status == _CB_PENDING)  # bound: see above
    .values(
        status=bindparam("b_status", type_=PAY.c.status.type),
        finished_at=bindparam("b_finished_at", type_=PAY.c.finished_at.type),
        # Without a reference from the gateway the column stays (as `finish`).
        gateway_ref=func.coalesce(
            bindparam("b_gateway_ref", type_=PAY.c.gateway_ref.type), PAY.c.gateway_ref
        ),
    )
    .returning(PAY.c.id)
    .cte("finished")
)
_CB_FINISH_AUDIT = _audit_from(_CB_FINISHED, "ap_", after=_CB_ENTRY_AUDIT).cte("finish_audit")
_CB_NOW = bindparam("b_now", type_=OB.c.created_at.type)
_CB_NOTICE = (
    pg_insert(OB)
    .from_select(
        list(NEW_COLUMNS),
        select(
            BIND.c.platform,
            BIND.c.chat_user_id,
            bindparam("b_kind", type_=OB.c.kind.type),
            bindparam("b_payload", type_=OB.c.payload.type),
            literal("pending", OB.c.status.type),
            _CB_NOW,
            literal(0),
            _CB_NOW,
            bindparam("b_dedupe", type_=String)
            + ":"
            + BIND.c.platform
            + ":"
            + cast(BIND.c.chat_user_id, String),
        ).where(BIND.c.account_id == bindparam("b_account_id", type_=BIND.c.account_id.type)),
    )
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(OB.c.id)
    .cte("notice")
)
_CB_BUMP = (
    update(REG)
    .where(REG.c.id == bindparam("b_registration_id", type_=REG.c.id.type))
    .values(version=REG.c.version + 1)
    .returning(REG.c.id)
    .cte("bump")
)
_SETTLE_LOCKED: Executable = select(
    select(func.count()).select_from(_CB_ENTRY_PAID).scalar_subquery().label("entry_paid"),
    select(func.count()).select_from(_CB_FINISHED).scalar_subquery().label("finished"),
    select(func.count()).select_from(_CB_NOTICE).scalar_subquery().label("notices"),
).add_cte(_CB_ENTRY_AUDIT, _CB_FINISH_AUDIT, _CB_BUMP)


@dataclass(frozen=True, slots=True)
class CallbackState:
    """What a callback's first statement read (see `open_callback`)."""

    new_nonce: bool
    payment: PaymentDTO | None
    entry: EntryDTO | None
    # The registration, when this statement locked it.
    locked: RegistrationDTO | None
    # Locked, and nobody changed the registration since the snapshot the payment and the
    # entry were read in: they are current.
    fresh: bool


@dataclass(frozen=True, slots=True)
class Notice:
    """A notice for every chat of an account, as `notify_account` queues it."""

    account_id: int
    kind: str
    payload: dict[str, Any]
    dedupe_key: str


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

    @property
    def creates_at_version(self) -> bool:
        """Whether `create_at_version` may be used (PostgreSQL, audited)."""
        return self.dialect == "postgresql" and self.audit_sink is not None

    async def create_at_version(
        self, registration_id: int, version: int, values: dict[str, Any]
    ) -> tuple[PayState | None, PaymentDTO | None]:
        """PostgreSQL, audited (`creates_at_version`): `lock_for_payment` of the entry
        `values["entry_id"]`, and in the same statement `create`'s payment, audit row and
        version bump, only when the locked registration is at `version` and the entry has
        no pending payment. Returns what `lock_for_payment` returns and the new payment, or
        None when nothing was written (the registration changed since `version`, or a
        payment of the entry is pending: the state says which)."""
        sink = self.audit_sink
        assert self.creates_at_version and sink is not None
        after = _payment_as_returned(values)
        audit = await sink.fields("create", "payment", None, after)
        params = {f"b_{k}": values[k] for k in _NEW_PAYMENT_COLUMNS}
        params |= {_A_PREFIX + k: v for k, v in audit.items()}
        params |= {"b_registration_id": registration_id, "b_version": version}
        row = await direct.first(self.conn, _PAY_AT_VERSION, params)
        if row is None or row._mapping[_N_PREFIX + "id"] is None:
            direct.wrote_nothing(self.conn)  # the audit row and bump hang off the payment
        if row is None:
            return None, None  # not active: no row locked
        registration = _prefixed(RegistrationDTO, row, _R_PREFIX)
        created = None
        if row._mapping[_N_PREFIX + "id"] is not None:
            created = _prefixed(PaymentDTO, row, _N_PREFIX)
            got = without({n: row._mapping[_N_PREFIX + n] for n in _PAY_FIELDS}, "id", "link")
            if got != after:  # never so far: a default of the database, say
                await sink.correct_after(row._mapping[_AUDIT_ID], got)
        if not row._unchanged:
            # Changed while we waited for the lock (so nothing was written): read again.
            entry_row = await direct.first(self.conn, _ENTRY, {"b_entry_id": values["entry_id"]})
            entry = to_dto(EntryDTO, entry_row) if entry_row else None
            pending = await self.pending_of_entry(entry.id) if entry is not None else None
            return PayState(registration, entry, pending), created
        entry = _prefixed(EntryDTO, row, _E_PREFIX) if row._e_id is not None else None
        pay = _prefixed(PaymentDTO, row, _P_PREFIX) if row._p_id is not None else None
        return PayState(registration, entry, pay), created

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

    @property
    def folds_callbacks(self) -> bool:
        """Whether `open_callback` and `settle_locked` may be used (PostgreSQL, audited)."""
        return self.dialect == "postgresql" and self.audit_sink is not None

    async def open_callback(
        self, nonce: str, now: datetime, payment_id: str, *, lock: bool
    ) -> CallbackState:
        """PostgreSQL: remembers the nonce, reads the payment and its entry and, if the
        nonce is new, the payment pending and `lock`, locks the entry's registration (as
        `RegistrationRepository.lock`), in one statement."""
        params = {"b_nonce": nonce, "b_seen_at": now, "b_payment_id": payment_id}
        params |= {"b_lock": lock, "b_from": "pending"}
        row = await direct.first(self.conn, _OPEN_CALLBACK, params)
        assert row is not None  # one row always
        payment = _prefixed(PaymentDTO, row, _P_PREFIX) if row._p_id is not None else None
        entry = _prefixed(EntryDTO, row, _E_PREFIX) if row._e_id is not None else None
        locked = None
        if row._r_id is not None:
            locked = _prefixed(RegistrationDTO, row, _R_PREFIX)
        return CallbackState(bool(row._new_nonce), payment, entry, locked, bool(row._unchanged))

    async def settle_locked(
        self,
        payment_id: str,
        status: str,
        now: datetime,
        *,
        registration_id: int,
        gateway_ref: str | None,
        paid_entry_id: int | None,
        notice: Notice | None,
    ) -> None:
        """PostgreSQL, under the lock of the registration `registration_id` (taken by
        `open_callback`, which writes nothing): `EntryRepository.mark_paid` of
        `paid_entry_id` (if set), `finish` of the payment from pending, and the notice
        (`notify_account`), with the same audit rows, and the registration's version
        bump, in one statement."""
        sink = self.audit_sink
        assert sink is not None
        params: dict[str, Any] = {
            "b_payment_id": payment_id,
            "b_registration_id": registration_id,
            "b_from": "pending",
            "b_status": status,
            "b_finished_at": now,
            "b_gateway_ref": gateway_ref,
            "b_entry_id": paid_entry_id,
            "b_paid_at": now,
        }
        paid = {"status": "paid", "paid_at": now}
        entry_audit = await sink.fields("pay", "entry", {"status": "unpaid"}, paid)
        params.update({"ae_" + k: v for k, v in entry_audit.items()})
        finished: dict[str, Any] = {"status": status, "finished_at": now}
        if gateway_ref is not None:
            finished["gateway_ref"] = gateway_ref
        payment_audit = await sink.fields("finish", "payment", {"status": "pending"}, finished)
        params.update({"ap_" + k: v for k, v in payment_audit.items()})
        params |= {"b_now": now, "b_account_id": None, "b_kind": "", "b_payload": {}}
        params["b_dedupe"] = ""
        if notice is not None:
            params |= {"b_account_id": notice.account_id, "b_kind": notice.kind}
            params |= {"b_payload": notice.payload, "b_dedupe": notice.dedupe_key}
        await direct.first(self.conn, _SETTLE_LOCKED, params)

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
