"""Registrations, entries, CET-6 reviews and waitlists of candidates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Executable,
    and_,
    bindparam,
    cast,
    exists,
    func,
    insert,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.exc import NoResultFound

from storage import direct
from storage.dto import EntryDTO, RegistrationDTO, ReviewDTO, StudentRecordDTO, WaitlistDTO
from storage.models import Entry, RecordEligibility, Registration, Review, StudentRecord, Waitlist
from storage.repos.audit import AU, without
from storage.repos.base import D, Repository, status_is, table, to_dto
from storage.repos.sessions import _TAKE_SEAT, SEATS

REG = table(Registration)
EN = table(Entry)
RV = table(Review)
WL = table(Waitlist)
SR = table(StudentRecord)
ELIG = table(RecordEligibility)

ACTIVE = ("unpaid", "paid")

# Status constants compared with a column that a partial index is conditioned on are
# written into the SQL, not bound: SQLite re-prepares a statement on every execution
# when a bound value decides whether a partial index applies (~50 us each time), and
# PostgreSQL's generic plan of a prepared statement cannot use the partial index.
_IS_ACTIVE_REG = REG.c.status == literal_column("'active'")
_IS_ACTIVE_ENTRY = EN.c.status.in_([literal_column(f"'{s}'") for s in ACTIVE])
_IS_WAITING = WL.c.status == literal_column("'waiting'")

# The hot statements of a booking, built once (SQLAlchemy then reuses their cache key).
_LOCK = (
    update(REG)
    .where(REG.c.id == bindparam("registration_id"), _IS_ACTIVE_REG)
    .values(version=REG.c.version + 1)
    .returning(*REG.c)
)
_ACTIVE_ENTRIES = (
    select(EN)
    .where(EN.c.registration_id == bindparam("registration_id"), _IS_ACTIVE_ENTRY)
    .order_by(EN.c.id)
)
_CREATE_ENTRY: dict[tuple[str, ...], Executable] = {}


def _create_entry(columns: tuple[str, ...]) -> Executable:
    """INSERT INTO entries (columns) VALUES (...) RETURNING *, built once per column set
    (a statement sent straight to the driver names its parameters when it is built)."""
    stmt = _CREATE_ENTRY.get(columns)
    if stmt is None:
        values = {c: bindparam(c, type_=EN.c[c].type) for c in columns}
        stmt = _CREATE_ENTRY[columns] = insert(EN).values(values).returning(*EN.c)
    return stmt


# Read on most chat updates, built once too.
_REGISTRATION = select(REG).where(REG.c.id == bindparam("registration_id"))
_ACTIVE_OF_ACCOUNT = select(REG).where(
    REG.c.session_id == bindparam("b_session_id"),
    REG.c.account_id == bindparam("b_account_id"),
    status_is(REG.c.status, "active"),
)
_ENTRY = select(EN).where(EN.c.id == bindparam("b_entry_id"))
_MARK_PAID = (
    update(EN)
    .where(EN.c.id == bindparam("b_entry_id"), status_is(EN.c.status, "unpaid"))
    .values(status="paid", paid_at=bindparam("b_paid_at"))
)
_REVIEWS_OF_RECORD = (
    select(RV)
    .where(RV.c.session_id == bindparam("b_session_id"), RV.c.record_id == bindparam("b_record_id"))
    .order_by(RV.c.id)
)
_WAITLISTS = select(WL).where(WL.c.registration_id == bindparam("registration_id"))
_WAITLISTS_ALL = _WAITLISTS.order_by(WL.c.id)
_WAITLISTS_WAITING = _WAITLISTS.where(status_is(WL.c.status, "waiting")).order_by(WL.c.id)
# What a booking checks (see RegistrationRepository.booking_state): the student record
# with its eligible subjects, whether a waiting place of the level exists (R37 closes
# it) and the active entries, one row each (or one row of NULLs).
_E_PREFIX = "_e_"
_R_PREFIX = "_r_"


def _state_columns(registration_id: Any) -> list[Any]:
    return [
        *SR.c,
        select(func.aggregate_strings(ELIG.c.subject_code, ","))
        .where(ELIG.c.record_id == SR.c.id)
        .scalar_subquery()
        .label("_eligible"),
        exists()
        .where(
            WL.c.registration_id == registration_id,
            WL.c.kind == bindparam("b_kind"),
            WL.c.level == bindparam("b_level"),
            _IS_WAITING,
        )
        .label("_waiting"),
        *(c.label(_E_PREFIX + c.name) for c in EN.c),
    ]


def _active_of(registration_id: Any) -> Any:
    return and_(EN.c.registration_id == registration_id, _IS_ACTIVE_ENTRY)


# Read after the lock (a separate statement, so a fresh snapshot on PostgreSQL).
_BOOKING_STATE = (
    select(*_state_columns(bindparam("b_registration_id")))
    .select_from(SR.outerjoin(EN, _active_of(bindparam("b_registration_id"))))
    .where(SR.c.id == bindparam("b_record_id"))
    .order_by(EN.c.id)
)

# PostgreSQL: the lock and that read in one statement. All of it reads one snapshot,
# taken before the lock may wait for another holder of the row lock; whatever that
# holder committed is then invisible to the read. So the statement also compares the
# registration row as the snapshot saw it (`seen`) with the locked one (after a wait,
# the newest version of the row): when they differ (`_unchanged` false), someone changed
# the registration meanwhile and the caller reads again, after the lock.
#
# The lock itself is a row lock that writes nothing (FOR NO KEY UPDATE, the lock an
# UPDATE of the row takes), so a refusal before the booking's or the pay link's write
# leaves nothing to undo (no savepoint around them, issue 17). The version bump, a new
# row version a later holder sees, goes with the write instead: every transaction that
# changes a candidate's entries, waitlists or payments bumps the version before it
# commits (`lock` first, or the booking's, the payment's and the payment callback's own
# statements; the callback locks as these do, storage/repos/payments.py). A lock
# without any bump would leave a booking that waited blind to the entry booked
# meanwhile (tests/rules/test_entries.py, "waited for the lock").
_LOCK_ONLY = (
    select(REG)
    .where(REG.c.id == bindparam("b_registration_id"), _IS_ACTIVE_REG)
    .with_for_update(key_share=True)
)
_LOCKED = _LOCK_ONLY.cte("locked")
_SEEN = REG.alias("seen")
_UNCHANGED = "_unchanged"


def _unchanged(locked: Any, seen: Any) -> Any:
    """True when `seen` is `locked`, column by column (compared by the database: one
    column back instead of the snapshot's whole row)."""
    return and_(*(seen.c[c.name].is_not_distinct_from(locked.c[c.name]) for c in REG.c)).label(
        _UNCHANGED
    )


_LOCK_AND_STATE = (
    select(
        *(_LOCKED.c[c.name].label(_R_PREFIX + c.name) for c in REG.c),
        _unchanged(_LOCKED, _SEEN),
        # The entries and the waiting places are found by the bound id, not by
        # `locked.id` (the same value): a condition on their table alone, which the
        # plan applies as the index condition of the candidate's rows. Joined on
        # `locked.id`, a generic plan made while the statistics counted no active
        # entry read every active entry (of every candidate) on each booking. (Over a
        # table of a few pages a whole-table scan is still the cheaper plan.)
        *_state_columns(bindparam("b_registration_id")),
    )
    .select_from(
        _LOCKED.join(_SEEN, _SEEN.c.id == _LOCKED.c.id)
        .join(SR, SR.c.id == _LOCKED.c.record_id)
        .outerjoin(EN, _active_of(bindparam("b_registration_id")))
    )
    .order_by(EN.c.id)
)
_REG_FIELDS = tuple(c.name for c in REG.c)
_CLOSE_LEVEL = (
    update(WL)
    .where(
        WL.c.registration_id == bindparam("b_registration_id"),
        WL.c.kind == bindparam("b_kind"),
        WL.c.level == bindparam("b_level"),
        _IS_WAITING,
    )
    .values(status="closed", finished_at=bindparam("b_now"), cancel_reason=bindparam("b_reason"))
    # The ids closed: one audit row each.
    .returning(WL.c.id)
)

# Seat and entry statements per set of entry columns and whether the audit row goes
# along (see EntryRepository.create_with_seat).
_V_PREFIX = "v_"
_A_PREFIX = "a_"
_AUDIT_ID = "_audit_id"
_SEAT_AND_ENTRY: dict[tuple[tuple[str, ...], bool], Executable] = {}
_B_CAMPUS = bindparam("b_campus_id", type_=SEATS.c.campus_id.type)
_B_SUBJECT = bindparam("b_subject_code", type_=SEATS.c.subject_code.type)
# Fairness for the last seats (tests/rules/test_fairness.py): row-lock waiters are
# first come, first served only per row version, and every booking makes a new
# version, so later bookers could overtake earlier ones. This advisory lock's queue is
# one per (campus, subject) and strictly in arrival order. (A void is never NULL.)
_FAIR = select(
    func.pg_advisory_xact_lock(_B_CAMPUS, func.hashtext(_B_SUBJECT)).is_not(None).label("held")
).cte("fair")
# The seat UPDATE's WHERE reads the lock's output: an uncorrelated subquery, so an
# InitPlan in a one-time filter, run before the seat row is read at all. The
# statement's snapshot predates the wait, but an UPDATE under READ COMMITTED re-checks
# `taken < capacity` on the newest row version (the previous holder's commit).
_TAKE_FAIRLY = (
    update(SEATS)
    .where(
        SEATS.c.campus_id == _B_CAMPUS,
        SEATS.c.subject_code == _B_SUBJECT,
        SEATS.c.taken < SEATS.c.capacity,
        select(_FAIR.c.held).scalar_subquery(),
    )
    .values(taken=SEATS.c.taken + 1)
    .returning(SEATS.c.campus_id)
    .cte("seat")
)
_AUDIT_COLUMNS = ("at", "actor", "action", "object_type", "before", "after")
# The registration's version bump (see `_LOCKED`), only when a seat was taken (and so the
# entry inserted): a booking refused for a full campus writes nothing at all.
_BUMP_WITH_SEAT = (
    update(REG)
    .where(
        REG.c.id == bindparam(_V_PREFIX + "registration_id", type_=EN.c.registration_id.type),
        select(_TAKE_FAIRLY.c.campus_id).exists(),
    )
    .values(version=REG.c.version + 1)
    .returning(REG.c.id)
    .cte("bump")
)


def _seat_and_entry(columns: tuple[str, ...], audited: bool) -> Executable:
    """PostgreSQL: WITH fair AS (SELECT pg_advisory_xact_lock(...)), seat AS (UPDATE
    campus_seats ... RETURNING), entry AS (INSERT ... FROM seat RETURNING), audit AS
    (INSERT INTO audit_log ... FROM entry), bump AS (UPDATE registrations SET version =
    version + 1 ... if a seat was taken) SELECT ... FROM entry: one round trip, and the
    booking's only write (its lock, `lock_for_booking`, writes nothing).

    The conditional UPDATE stays the only gate (R23): no seat, no row from `seat`, no
    entry, no audit row. PostgreSQL refuses a data-modifying WITH nested below the top
    level; SQLAlchemy renders every CTE in the top-level WITH.
    """
    stmt = _SEAT_AND_ENTRY.get((columns, audited))
    if stmt is None:
        # Prefixed names: a parameter named like a campus_seats column (campus_id)
        # would otherwise become a SET value of the UPDATE.
        values = select(
            *(bindparam(_V_PREFIX + c, type_=EN.c[c].type) for c in columns)
        ).select_from(_TAKE_FAIRLY)
        insert_entry = insert(EN).from_select(list(columns), values).returning(*EN.c)
        if not audited:
            stmt = insert_entry.add_cte(_TAKE_FAIRLY, _BUMP_WITH_SEAT)
        else:
            entry = insert_entry.cte("entry")
            row = select(
                *(bindparam(_A_PREFIX + c, type_=AU.c[c].type) for c in _AUDIT_COLUMNS),
                cast(entry.c.id, AU.c.object_id.type),
            ).select_from(entry)
            audit = (
                insert(AU)
                .from_select([*_AUDIT_COLUMNS, "object_id"], row)
                .returning(AU.c.id)
                .cte("audit")
            )
            stmt = (
                select(*entry.c, audit.c.id.label(_AUDIT_ID))
                .select_from(entry.join(audit, true()))
                .add_cte(_BUMP_WITH_SEAT)
            )
        _SEAT_AND_ENTRY[(columns, audited)] = stmt
    return stmt


# The columns of a booked entry (registration.seats.entry_values): its booking statement is
# built at import, so that `Database.warm_up` finds it among the module's statements and
# prepares it on each pooled connection (tests/conversation/test_prepared_at_start.py
# books through it).
BOOKED_ENTRY_COLUMNS = tuple(
    sorted(
        (
            "registration_id",
            "session_id",
            "subject_code",
            "campus_id",
            "kind",
            "level",
            "written_level",
            "status",
            "paper_report",
            "fee_fen",
            "created_at",
            "expires_at",
        )
    )
)
for _audited in (False, True):
    _seat_and_entry(BOOKED_ENTRY_COLUMNS, _audited)


def _entry_as_returned(values: dict[str, Any]) -> dict[str, Any]:
    """The columns of an entry inserted with `values`, but its id, as RETURNING gives them
    (instants in UTC; a column not given is NULL); checked against the row itself."""
    out: dict[str, Any] = {}
    for name in _ENTRY_FIELDS:
        if name != "id":
            value = values.get(name)
            out[name] = value.astimezone(UTC) if isinstance(value, datetime) else value
    return out


@dataclass(frozen=True, slots=True)
class BookingState:
    """What registering a subject checks, read at once (see RegistrationRepository)."""

    record: StudentRecordDTO | None
    active: list[EntryDTO]
    # A waiting place of the booked subject's (kind, level) exists.
    level_waiting: bool


class RegistrationRepository(Repository):
    async def get(self, registration_id: int) -> RegistrationDTO | None:
        row = await direct.first(self.conn, _REGISTRATION, {"registration_id": registration_id})
        return to_dto(RegistrationDTO, row) if row else None

    async def active_of_account(self, session_id: int, account_id: int) -> RegistrationDTO | None:
        params = {"b_session_id": session_id, "b_account_id": account_id}
        row = (await self.conn.execute(_ACTIVE_OF_ACCOUNT, params)).first()
        return to_dto(RegistrationDTO, row) if row else None

    async def active_of_record(self, session_id: int, record_id: int) -> RegistrationDTO | None:
        row = (
            await self.conn.execute(
                select(REG).where(
                    REG.c.session_id == session_id,
                    REG.c.record_id == record_id,
                    status_is(REG.c.status, "active"),
                )
            )
        ).first()
        return to_dto(RegistrationDTO, row) if row else None

    async def of_record_any(self, record_id: int) -> list[RegistrationDTO]:
        rows = await self.conn.execute(
            select(REG).where(REG.c.record_id == record_id).order_by(REG.c.id.desc())
        )
        return [to_dto(RegistrationDTO, r) for r in rows]

    async def create(
        self, session_id: int, record_id: int, account_id: int, phone: str, now: datetime
    ) -> RegistrationDTO:
        res = await self.conn.execute(
            insert(REG)
            .values(
                session_id=session_id,
                record_id=record_id,
                account_id=account_id,
                phone=phone,
                status="active",
                created_at=now,
                version=0,
            )
            .returning(REG.c.id)
        )
        reg = await self.get(int(res.scalar_one()))
        assert reg is not None
        return reg

    async def lock(self, registration_id: int) -> RegistrationDTO | None:
        """Bumps the version: the row lock serializes one candidate's changes."""
        row = await direct.first(self.conn, _LOCK, {"registration_id": registration_id})
        return to_dto(RegistrationDTO, row) if row else None

    async def booking_state(
        self, registration_id: int, record_id: int, kind: str, level: int
    ) -> BookingState:
        """The record (with eligibility), the active entries and whether a waiting place
        of (kind, level) exists, in one statement. Call it after `lock`: the lock keeps
        the entries and waitlists of the registration from changing under us."""
        params = {
            "b_registration_id": registration_id,
            "b_record_id": record_id,
            "b_kind": kind,
            "b_level": level,
        }
        return _state_of(await direct.rows(self.conn, _BOOKING_STATE, params))

    async def lock_for_booking(
        self, registration_id: int, kind: str, level: int
    ) -> tuple[RegistrationDTO, BookingState] | None:
        """`lock`, then `booking_state`; on PostgreSQL usually in one round trip, and
        the lock a row lock that writes nothing: `create_with_seat` bumps the version
        (see `_LOCKED`), so the caller's writes start with that statement.

        None when the registration is not active (as `lock`)."""
        if self.dialect != "postgresql":
            reg = await self.lock(registration_id)
            if reg is None:
                return None
            return reg, await self.booking_state(reg.id, reg.record_id, kind, level)
        rows = await direct.rows(
            self.conn,
            _LOCK_AND_STATE,
            {"b_registration_id": registration_id, "b_kind": kind, "b_level": level},
        )
        if not rows:
            # Not active, or (foreign key, never) no record: the lock alone tells which.
            found = await direct.first(
                self.conn, _LOCK_ONLY, {"b_registration_id": registration_id}
            )
            reg = to_dto(RegistrationDTO, found) if found else None
            if reg is None:
                return None
            return reg, await self.booking_state(reg.id, reg.record_id, kind, level)
        first = rows[0]
        reg = _prefixed(RegistrationDTO, first, _R_PREFIX)
        if not first._unchanged:
            # The snapshot predates a change committed while we waited for the lock.
            return reg, await self.booking_state(reg.id, reg.record_id, kind, level)
        return reg, _state_of(rows)

    async def set_phone(self, registration_id: int, phone: str) -> None:
        await self.conn.execute(update(REG).where(REG.c.id == registration_id).values(phone=phone))

    async def delete(self, registration_id: int, now: datetime) -> None:
        await self.conn.execute(
            update(REG).where(REG.c.id == registration_id).values(status="deleted", deleted_at=now)
        )

    async def empty_and_due(self, created_before: datetime, limit: int) -> list[int]:
        """R31: active registrations created before the cutoff that expiry left empty.

        Only deleting unpaid entries empties registration information: one that never
        had an entry stays (the campus may have been full), and so does one holding an
        active waitlist place, which would otherwise be closed silently before its seat.
        """
        has_entry = exists().where(EN.c.registration_id == REG.c.id, EN.c.status.in_(ACTIVE))
        had_expired = exists().where(
            EN.c.registration_id == REG.c.id, status_is(EN.c.status, "expired")
        )
        waiting = exists().where(
            WL.c.registration_id == REG.c.id, status_is(WL.c.status, "waiting")
        )
        rows = await self.conn.execute(
            select(REG.c.id)
            .where(
                status_is(REG.c.status, "active"),
                REG.c.created_at <= created_before,
                ~has_entry,
                had_expired,
                ~waiting,
            )
            .limit(limit)
        )
        return list(rows.scalars())

    async def count_active(self, session_id: int) -> int:
        q = (
            select(func.count())
            .select_from(REG)
            .where(REG.c.session_id == session_id, status_is(REG.c.status, "active"))
        )
        return int((await self.conn.execute(q)).scalar_one())


_ENTRY_FIELDS = tuple(c.name for c in EN.c)


def _state_of(rows: Sequence[Any]) -> BookingState:
    """A BookingState from the rows of _BOOKING_STATE or _LOCK_AND_STATE."""
    if not rows:
        return BookingState(None, [], False)
    first = rows[0]
    codes = first._eligible
    record = to_dto(
        StudentRecordDTO, first, eligible=frozenset(codes.split(",")) if codes else frozenset()
    )
    active = [_prefixed(EntryDTO, r, _E_PREFIX) for r in rows if r._e_id is not None]
    return BookingState(record, active, bool(first._waiting))


# (DTO class, prefix, the row's column names) -> (field, column position) pairs: a DTO
# read from the columns named prefix + field, planned once per statement shape.
_PREFIXED_PLANS: dict[tuple[type, str, tuple[str, ...]], tuple[tuple[str, int], ...]] = {}


def _prefixed(cls: type[D], row: Any, prefix: str) -> D:
    """The DTO `cls` from the columns of `row` named `prefix` + field (a joined statement
    labels each table's columns with a prefix)."""
    keys = tuple(row._fields)
    plan = _PREFIXED_PLANS.get((cls, prefix, keys))
    if plan is None:
        at = {key: i for i, key in reversed(list(enumerate(keys)))}
        plan = tuple(
            (f.name, at[prefix + f.name])
            for f in dataclass_fields(cls)  # type: ignore[arg-type]
            if prefix + f.name in at
        )
        _PREFIXED_PLANS[(cls, prefix, keys)] = plan
    return cls(**{name: row[i] for name, i in plan})


class EntryRepository(Repository):
    async def get(self, entry_id: int) -> EntryDTO | None:
        row = await direct.first(self.conn, _ENTRY, {"b_entry_id": entry_id})
        return to_dto(EntryDTO, row) if row else None

    async def of_registration(
        self, registration_id: int, *, active_only: bool = True
    ) -> list[EntryDTO]:
        if active_only:
            params = {"registration_id": registration_id}
            rows = await direct.rows(self.conn, _ACTIVE_ENTRIES, params)
        else:
            q = select(EN).where(EN.c.registration_id == registration_id)
            rows = (await self.conn.execute(q.order_by(EN.c.id))).all()
        return [to_dto(EntryDTO, r) for r in rows]

    async def create(self, values: dict[str, Any]) -> EntryDTO:
        row = await direct.first(self.conn, _create_entry(tuple(sorted(values))), values)
        if row is None:
            raise NoResultFound("INSERT ... RETURNING returned no entry")
        await self._created(row)
        return to_dto(EntryDTO, row)

    async def _created(self, row: Any) -> None:
        await self._audited("create", "entry", row.id, None, without(row._mapping, "id"))

    async def create_with_seat(self, values: dict[str, Any]) -> EntryDTO | None:
        """R23: takes a seat of the entry's (campus, subject) and inserts the entry.

        None, with nothing written, when the (campus, subject) is full. On PostgreSQL
        one statement (a round trip less), which also bumps the registration's version
        (its lock, `lock_for_booking`, does not there); elsewhere the same conditional
        UPDATE, then the INSERT (the lock bumped the version).
        """
        seat = {"b_campus_id": values["campus_id"], "b_subject_code": values["subject_code"]}
        if self.dialect == "postgresql":
            params = {_V_PREFIX + k: v for k, v in values.items()}
            sink = self.audit_sink
            after = None
            if sink is not None:
                # The audit row is written by the same statement, so the lock of the
                # seat is held one round trip instead of three. Its `after` is what
                # `_created` would write, known before the row exists.
                after = _entry_as_returned(values)
                audit = await sink.fields("create", "entry", None, after)
                params.update({_A_PREFIX + k: v for k, v in audit.items()})
            stmt = _seat_and_entry(tuple(sorted(values)), sink is not None)
            row = await direct.first(self.conn, stmt, {**params, **seat})
            if row is None:
                # No seat: nothing was written (the entry, the audit row and the bump
                # all hang off the seat taken).
                direct.wrote_nothing(self.conn)
                return None
            if sink is not None:
                got = without(row._mapping, "id", _AUDIT_ID)
                if got != after:  # never so far: a default of the database, say
                    await sink.correct_after(row._mapping[_AUDIT_ID], got)
            return to_dto(EntryDTO, row)
        if not await direct.rowcount(self.conn, _TAKE_SEAT, seat):
            return None
        return await self.create(values)

    async def update_fields(self, entry_id: int, **values: Any) -> EntryDTO:
        """Sets some columns (campus, paper report); not on the booking path."""
        if self.audit_sink is not None:
            # The old values are known to no one here: the audit INSERT reads them from
            # the row itself, just before the UPDATE (still one extra statement).
            await self.audit_sink.record_read(
                "update", "entry", entry_id, EN, EN.c.id == entry_id, values
            )
        res = await self.conn.execute(
            update(EN).where(EN.c.id == entry_id).values(**values).returning(*EN.c)
        )
        return to_dto(EntryDTO, res.one())

    async def end(self, entry_id: int, status: str, reason: str, now: datetime) -> bool:
        """Ends an unpaid entry; False if it was no longer unpaid (paid meanwhile)."""
        res = await self.conn.execute(
            update(EN)
            .where(EN.c.id == entry_id, EN.c.status == "unpaid")
            .values(status=status, end_reason=reason, ended_at=now)
        )
        if not res.rowcount:
            return False
        after = {"status": status, "end_reason": reason, "ended_at": now}
        await self._audited("end", "entry", entry_id, {"status": "unpaid"}, after)
        return True

    async def mark_paid(self, entry_id: int, now: datetime) -> bool:
        params = {"b_entry_id": entry_id, "b_paid_at": now}
        if not await direct.rowcount(self.conn, _MARK_PAID, params):
            return False
        after = {"status": "paid", "paid_at": now}
        await self._audited("pay", "entry", entry_id, {"status": "unpaid"}, after)
        return True

    async def due_unpaid(self, now: datetime, limit: int) -> list[EntryDTO]:
        rows = await self.conn.execute(
            select(EN)
            .where(status_is(EN.c.status, "unpaid"), EN.c.expires_at <= now)
            .order_by(EN.c.expires_at, EN.c.id)
            .limit(limit)
        )
        return [to_dto(EntryDTO, r) for r in rows]

    async def count_active(self, campus_id: int, subject_code: str) -> int:
        q = (
            select(func.count())
            .select_from(EN)
            .where(
                EN.c.campus_id == campus_id,
                EN.c.subject_code == subject_code,
                EN.c.status.in_(ACTIVE),
            )
        )
        return int((await self.conn.execute(q)).scalar_one())

    async def counts_by_status(self, session_id: int) -> dict[str, int]:
        rows = await self.conn.execute(
            select(EN.c.status, func.count())
            .where(EN.c.session_id == session_id)
            .group_by(EN.c.status)
        )
        return {r[0]: int(r[1]) for r in rows}

    async def active_counts(self, session_id: int) -> dict[tuple[int, str, str], int]:
        rows = await self.conn.execute(
            select(EN.c.campus_id, EN.c.subject_code, EN.c.status, func.count())
            .where(EN.c.session_id == session_id, EN.c.status.in_(ACTIVE))
            .group_by(EN.c.campus_id, EN.c.subject_code, EN.c.status)
        )
        return {(r[0], r[1], r[2]): int(r[3]) for r in rows}

    async def active_with_records(self, session_id: int) -> list[tuple[EntryDTO, StudentRecordDTO]]:
        """Active entries of a session with their student records (for the exam office)."""
        R = table(StudentRecord)
        rows = await self.conn.execute(
            select(
                EN,
                R.c.name,
                R.c.gender,
                R.c.id_type,
                R.c.id_number,
                R.c.school,
                R.c.campus_code,
                R.c.student_no,
                R.c.phone,
                R.c.has_photo,
                R.c.id.label("record_id_"),
                R.c.session_id.label("record_session_"),
            )
            .join(REG, REG.c.id == EN.c.registration_id)
            .join(R, R.c.id == REG.c.record_id)
            .where(EN.c.session_id == session_id, EN.c.status.in_(ACTIVE))
            .order_by(EN.c.id)
        )
        out = []
        for r in rows:
            m = r._mapping
            record = StudentRecordDTO(
                id=m["record_id_"],
                session_id=m["record_session_"],
                name=m["name"],
                gender=m["gender"],
                id_type=m["id_type"],
                id_number=m["id_number"],
                school=m["school"],
                campus_code=m["campus_code"],
                student_no=m["student_no"],
                phone=m["phone"],
                has_photo=m["has_photo"],
            )
            out.append((to_dto(EntryDTO, r), record))
        return out


class ReviewRepository(Repository):
    async def get(self, review_id: int) -> ReviewDTO | None:
        row = (await self.conn.execute(select(RV).where(RV.c.id == review_id))).first()
        return to_dto(ReviewDTO, row) if row else None

    async def of_record(self, session_id: int, record_id: int) -> list[ReviewDTO]:
        params = {"b_session_id": session_id, "b_record_id": record_id}
        rows = await direct.rows(self.conn, _REVIEWS_OF_RECORD, params)
        return [to_dto(ReviewDTO, r) for r in rows]

    async def create(self, values: dict[str, Any]) -> ReviewDTO:
        row = (await self.conn.execute(insert(RV).values(**values).returning(*RV.c))).one()
        await self._audited("create", "review", row.id, None, without(row._mapping, "id"))
        return to_dto(ReviewDTO, row)

    async def decide(
        self, review_id: int, status: str, note: str, by: str, now: datetime
    ) -> ReviewDTO | None:
        """Decides a 'not reviewed' request; None if it was decided already."""
        res = await self.conn.execute(
            update(RV)
            .where(RV.c.id == review_id, RV.c.status == "not_reviewed")
            .values(status=status, note=note, decided_by=by, decided_at=now)
            .returning(*RV.c)
        )
        row = res.first()
        if row is None:
            return None
        after = {"status": status, "note": note, "decided_by": by, "decided_at": now}
        await self._audited("decide", "review", review_id, {"status": "not_reviewed"}, after)
        return to_dto(ReviewDTO, row)

    async def pending(
        self,
        session_id: int | None,
        school: str | None = None,
    ) -> list[ReviewDTO]:
        R = table(StudentRecord)
        q = select(RV).where(RV.c.status == "not_reviewed")
        if session_id is not None:
            q = q.where(RV.c.session_id == session_id)
        if school is not None:
            q = q.join(R, R.c.id == RV.c.record_id).where(R.c.school == school)
        rows = await self.conn.execute(q.order_by(RV.c.id))
        return [to_dto(ReviewDTO, r) for r in rows]


class WaitlistRepository(Repository):
    async def get(self, waitlist_id: int) -> WaitlistDTO | None:
        row = (await self.conn.execute(select(WL).where(WL.c.id == waitlist_id))).first()
        return to_dto(WaitlistDTO, row) if row else None

    async def of_registration(
        self, registration_id: int, *, waiting_only: bool = False
    ) -> list[WaitlistDTO]:
        q = _WAITLISTS_WAITING if waiting_only else _WAITLISTS_ALL
        rows = await direct.rows(self.conn, q, {"registration_id": registration_id})
        return [to_dto(WaitlistDTO, r) for r in rows]

    async def create(self, values: dict[str, Any]) -> WaitlistDTO:
        row = (await self.conn.execute(insert(WL).values(**values).returning(*WL.c))).one()
        await self._audited("create", "waitlist", row.id, None, without(row._mapping, "id"))
        return to_dto(WaitlistDTO, row)

    async def position(self, waitlist: WaitlistDTO) -> int:
        """1-based place in the queue of its (campus, subject)."""
        q = (
            select(func.count())
            .select_from(WL)
            .where(
                WL.c.campus_id == waitlist.campus_id,
                WL.c.subject_code == waitlist.subject_code,
                status_is(WL.c.status, "waiting"),
                WL.c.id <= waitlist.id,
            )
        )
        return int((await self.conn.execute(q)).scalar_one())

    async def length(self, campus_id: int, subject_code: str) -> int:
        q = (
            select(func.count())
            .select_from(WL)
            .where(
                WL.c.campus_id == campus_id,
                WL.c.subject_code == subject_code,
                status_is(WL.c.status, "waiting"),
            )
        )
        return int((await self.conn.execute(q)).scalar_one())

    async def claim_first(self, campus_id: int, subject_code: str) -> WaitlistDTO | None:
        """R37: the earliest waiting place, locked so that no other promoter takes it."""
        q = (
            select(WL)
            .where(
                WL.c.campus_id == campus_id,
                WL.c.subject_code == subject_code,
                status_is(WL.c.status, "waiting"),
            )
            .order_by(WL.c.id)
            .limit(1)
        )
        if self.dialect == "postgresql":
            q = q.with_for_update(skip_locked=True)
        row = (await self.conn.execute(q)).first()
        return to_dto(WaitlistDTO, row) if row else None

    async def finish(
        self,
        waitlist_id: int,
        status: str,
        now: datetime,
        reason: str | None = None,
        entry_id: int | None = None,
    ) -> bool:
        res = await self.conn.execute(
            update(WL)
            .where(WL.c.id == waitlist_id, status_is(WL.c.status, "waiting"))
            .values(status=status, finished_at=now, cancel_reason=reason, entry_id=entry_id)
        )
        if not res.rowcount:
            return False
        after = {
            "status": status,
            "finished_at": now,
            "cancel_reason": reason,
            "entry_id": entry_id,
        }
        await self._audited("finish", "waitlist", waitlist_id, {"status": "waiting"}, after)
        return True

    async def close_level(
        self, registration_id: int, kind: str, level: int, reason: str, now: datetime
    ) -> int:
        res = await self.conn.execute(
            _CLOSE_LEVEL,
            {
                "b_registration_id": registration_id,
                "b_kind": kind,
                "b_level": level,
                "b_now": now,
                "b_reason": reason,
            },
        )
        return await self._closed(list(res.scalars()), reason, now)

    async def _closed(self, ids: list[int], reason: str, now: datetime) -> int:
        after = {"status": "closed", "finished_at": now, "cancel_reason": reason}
        await self._audited("close", "waitlist", ids, {"status": "waiting"}, after)
        return len(ids)

    async def close_session(self, session_id: int, now: datetime) -> int:
        res = await self.conn.execute(
            update(WL)
            .where(WL.c.session_id == session_id, status_is(WL.c.status, "waiting"))
            .values(status="closed", finished_at=now, cancel_reason="window-closed")
            .returning(WL.c.id)
        )
        return await self._closed(list(res.scalars()), "window-closed", now)

    async def queues_with_waiters(self, session_id: int) -> list[tuple[int, str]]:
        rows = await self.conn.execute(
            select(WL.c.campus_id, WL.c.subject_code)
            .where(WL.c.session_id == session_id, status_is(WL.c.status, "waiting"))
            .distinct()
        )
        return [(r[0], r[1]) for r in rows]

    async def lengths(self, session_id: int) -> dict[tuple[int, str], int]:
        rows = await self.conn.execute(
            select(WL.c.campus_id, WL.c.subject_code, func.count())
            .where(WL.c.session_id == session_id, status_is(WL.c.status, "waiting"))
            .group_by(WL.c.campus_id, WL.c.subject_code)
        )
        return {(r[0], r[1]): int(r[2]) for r in rows}
