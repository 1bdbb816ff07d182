"""The candidate's snapshot: what a chat step reads of the candidate, in one PostgreSQL statement.

Nearly every candidate step asks, one statement each, for the bound account with its
active registration, the registration's student record with its eligibility, the active
entries, and on the overview the waitlists and CET-6 reviews. On PostgreSQL each of those
is a round trip (issue 17: ~0.1 ms of the bot's CPU and ~0.05-0.1 ms of the server's).
`STATEMENT` reads them all at once, one row per part:

* part 0, at most one row: the account (bound to the chat user), its active registration
  in the session, the registration's record and its eligible subjects (an array);
* part 1: the registration's active entries; part 2: its waitlists (any status);
  part 3: the reviews of its record in the session.

Each part has its own columns, NULL in the other parts' rows; the columns are cast to the
model's types, so `storage.direct` passes them through the same result processors
(UTCDateTime...) as the repositories' own reads, and the DTOs come out equal (checked by
tests/test_candidate_snapshot.py). SQLite keeps the one-by-one reads: there a statement
costs no round trip.

`with_row` adds one more part to the statement: the conversation's own read (the chat
engine's optimistic peek, or the transaction's start_update, in
storage/repos/conversations.py), so a step that shows the candidate reads its
conversation and its snapshot in one round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    func,
    literal_column,
    select,
    true,
    tuple_,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select
from sqlalchemy.types import UserDefinedType

from storage import direct
from storage.dto import (
    AccountDTO,
    EntryDTO,
    RegistrationDTO,
    ReviewDTO,
    StudentRecordDTO,
    WaitlistDTO,
)
from storage.models import (
    Account,
    ChatBinding,
    Entry,
    RecordEligibility,
    Registration,
    Review,
    StudentRecord,
    Waitlist,
)
from storage.repos.base import status_is, table
from storage.repos.registrations import ACTIVE

A = table(Account)
B = table(ChatBinding)
REG = table(Registration)
SR = table(StudentRecord)
ELIG = table(RecordEligibility)
EN = table(Entry)
WL = table(Waitlist)
RV = table(Review)


@dataclass(frozen=True, slots=True)
class CandidateSnapshot:
    """The chat user's bound account and, in one session, its active registration with
    the registration's record, active entries (by id), waitlists (by id) and the record's
    reviews (by id): as the repositories read them one by one."""

    account: AccountDTO | None
    registration: RegistrationDTO | None = None
    record: StudentRecordDTO | None = None
    entries: tuple[EntryDTO, ...] = ()
    waitlists: tuple[WaitlistDTO, ...] = ()
    reviews: tuple[ReviewDTO, ...] = ()


def _names(dto: type[Any]) -> list[str]:
    return [f.name for f in fields(dto)]


class _Rows(UserDefinedType[tuple[Any, ...]]):
    """The type of an array of anonymous records (`array_agg((a, b, ...))`), one record per
    row of `tbl`, its fields in `dto`'s order: the result is a tuple of `dto`s, each field
    through its column's own result processor (UTCDateTime...), as the repositories' reads
    give it; an empty tuple for NULL (no rows). asyncpg decodes such an array into a list
    of tuples; nothing is ever bound with this type."""

    cache_ok = True

    def __init__(self, dto: type[Any], tbl: Any) -> None:
        self.dto = dto
        self.tbl = tbl

    def get_col_spec(self, **_kw: Any) -> str:
        return "RECORD[]"

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        dto = self.dto
        processors = [
            (i, p)
            for i, n in enumerate(_names(dto))
            if (p := self.tbl.c[n].type.dialect_impl(dialect).result_processor(dialect, None))
            is not None
        ]

        def process(value: Any) -> tuple[Any, ...]:
            if not value:
                return ()
            out = []
            for record in value:
                fields_ = list(record)
                for i, processor in processors:
                    fields_[i] = processor(fields_[i])
                out.append(dto(*fields_))
            return tuple(out)

        return process


def _rows(dto: type[Any], tbl: Any, *where: Any) -> Any:
    """`tbl`'s rows that match `where`, by id, as one array-valued column (see `_Rows`)."""
    names = _names(dto)
    records = (
        select(func.array_agg(aggregate_order_by(tuple_(*(tbl.c[n] for n in names)), tbl.c.id)))
        .where(*where)
        .scalar_subquery()
    )
    return type_coerce(records, _Rows(dto, tbl))


def bound_account_and_registration(*columns: Any) -> Select[Any]:
    """`columns` of the account bound to the chat user (`b_platform`, `b_user_id`) and of
    its active registration in the session (`b_session_id`), if any: one row at most.
    The candidate's snapshot starts from it, and so does
    `AccountRepository.bound_account_and_registration` where there is no snapshot."""
    return (
        select(*columns)
        .select_from(A)
        .join(B, B.c.account_id == A.c.id)
        .outerjoin(
            REG,
            and_(
                REG.c.account_id == A.c.id,
                REG.c.session_id == bindparam("b_session_id"),
                status_is(REG.c.status, "active"),
            ),
        )
        .where(B.c.platform == bindparam("b_platform"), B.c.chat_user_id == bindparam("b_user_id"))
        .limit(1)
    )


_RECORD_NAMES = [n for n in _names(StudentRecordDTO) if n != "eligible"]
_ELIGIBLE = (
    select(func.array_agg(ELIG.c.subject_code)).where(ELIG.c.record_id == SR.c.id).scalar_subquery()
)
# The snapshot's one row: the account, the registration, the record with its eligible
# subjects (an array), then the registration's active entries, its waitlists and the
# record's reviews in the session, each an array of records (`_Rows`).
STATEMENT = bound_account_and_registration(
    *(A.c[n].label("a_" + n) for n in _names(AccountDTO)),
    *(REG.c[n].label("r_" + n) for n in _names(RegistrationDTO)),
    *(SR.c[n].label("s_" + n) for n in _RECORD_NAMES),
    _ELIGIBLE.label("s_eligible"),
    _rows(
        EntryDTO,
        EN,
        EN.c.registration_id == REG.c.id,
        # Written into the SQL, as registrations._IS_ACTIVE_ENTRY (partial indexes).
        EN.c.status.in_([literal_column(f"'{s}'") for s in ACTIVE]),
    ).label("e_rows"),
    _rows(WaitlistDTO, WL, WL.c.registration_id == REG.c.id).label("w_rows"),
    _rows(
        ReviewDTO,
        RV,
        RV.c.session_id == bindparam("b_session_id"),
        RV.c.record_id == REG.c.record_id,
    ).label("v_rows"),
).outerjoin(SR, SR.c.id == REG.c.record_id)

_A, _R, _S = len(_names(AccountDTO)), len(_names(RegistrationDTO)), len(_RECORD_NAMES) + 1
_WIDTH = _A + _R + _S + 3
_SNAPSHOT = STATEMENT.subquery("snapshot")


def with_row(tail: Sequence[Any], from_: Any) -> Select[Any]:
    """The snapshot and, in the same statement and row, `tail` (a list of labelled
    columns) selected from `from_`, which gives exactly one row; the snapshot's columns
    are NULL when there is no snapshot (no account bound). The conversation's reads fuse
    it with the snapshot (storage/repos/conversations.py): one round trip instead of two."""
    return select(*_SNAPSHOT.c, *tail).select_from(from_.outerjoin(_SNAPSHOT, true()))


def build(rows: Sequence[Sequence[Any]]) -> CandidateSnapshot:
    """The snapshot from the statement's rows."""
    return split(rows)[0]


def split(rows: Sequence[Sequence[Any]]) -> tuple[CandidateSnapshot, Sequence[Any] | None]:
    """The snapshot from the row of `STATEMENT` or `with_row`'s statement, and that row
    (None without one: `STATEMENT` for a chat user bound to no account)."""
    if not rows:
        return CandidateSnapshot(account=None), None
    row = rows[0]
    if row[0] is None:  # no account bound to the chat user
        return CandidateSnapshot(account=None), row
    account = AccountDTO(*row[:_A])
    if row[_A] is None:
        return CandidateSnapshot(account=account), row
    registration = RegistrationDTO(*row[_A : _A + _R])
    record = None
    at = _A + _R
    if row[at] is not None:
        values = list(row[at : at + _S])
        values[-1] = frozenset(values[-1] or ())  # eligible, the last field: an array
        record = StudentRecordDTO(*values)
    at += _S
    snap = CandidateSnapshot(
        account=account,
        registration=registration,
        record=record,
        entries=row[at],
        waitlists=row[at + 1],
        reviews=row[at + 2],
    )
    return snap, row


def available(conn: AsyncConnection) -> bool:
    """Whether the snapshot is read rather than its parts: on PostgreSQL (`storage.direct`
    sends it straight to asyncpg in the unit of work's transaction)."""
    return conn.dialect.name == "postgresql"


async def read(
    conn: AsyncConnection, platform: str, chat_user_id: int, session_id: int
) -> CandidateSnapshot:
    """The snapshot of the chat user in `session_id`, in one statement (see `available`)."""
    params = {"b_platform": platform, "b_user_id": chat_user_id, "b_session_id": session_id}
    return build(await direct.rows(conn, STATEMENT, params))
