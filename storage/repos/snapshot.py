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
    ARRAY,
    Integer,
    String,
    and_,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import CompoundSelect, Select

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

_HEAD, _ENTRY, _WAITLIST, _REVIEW, _OTHER = 0, 1, 2, 3, 4


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


# One block of columns per part, in the DTO's field order (so a DTO is built from a slice).
_BLOCKS: list[tuple[str, Any, list[str]]] = [
    ("a_", A, _names(AccountDTO)),
    ("r_", REG, _names(RegistrationDTO)),
    ("s_", SR, [n for n in _names(StudentRecordDTO) if n != "eligible"]),
    ("e_", EN, _names(EntryDTO)),
    ("w_", WL, _names(WaitlistDTO)),
    ("v_", RV, _names(ReviewDTO)),
]
_ELIGIBLE_TYPE = ARRAY(String)


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


# The account bound to the chat user, with its active registration in the session;
# referenced by every part.
_CANDIDATE = bound_account_and_registration(
    *(A.c[n].label("a_" + n) for n in _names(AccountDTO)),
    *(REG.c[n].label("r_" + n) for n in _names(RegistrationDTO)),
).cte("candidate")


def _columns(part: int, given: dict[str, Any]) -> list[Any]:
    """The columns of one part's rows: its own blocks from `given` (prefix -> the
    columns, by their DTO field names), every other block a typed NULL."""
    out: list[Any] = [literal_column(str(part), Integer).label("part")]
    for prefix, tbl, names in _BLOCKS:
        source = given.get(prefix)
        for n in names:
            col = source[n] if source is not None else cast(null(), tbl.c[n].type)
            out.append(col.label(prefix + n))
        if prefix == "s_":
            eligible = (
                select(func.array_agg(ELIG.c.subject_code))
                .where(ELIG.c.record_id == SR.c.id)
                .scalar_subquery()
                if source is not None
                else cast(null(), _ELIGIBLE_TYPE)
            )
            out.append(eligible.label("s_eligible"))
    return out


def _own(tbl: Any) -> dict[str, Any]:
    return {c.name: c for c in tbl.c}


_C = _CANDIDATE.c
_ACCOUNT = {n: _C["a_" + n] for n in _names(AccountDTO)}
_REGISTRATION = {n: _C["r_" + n] for n in _names(RegistrationDTO)}


def _parts(tail: Sequence[Any] = ()) -> list[Select[Any]]:
    """The snapshot's four parts, each followed by `tail`'s columns as typed NULLs."""
    nulls = [cast(null(), c.type).label(c.name) for c in tail]
    return [
        select(
            *_columns(_HEAD, {"a_": _ACCOUNT, "r_": _REGISTRATION, "s_": _own(SR)}), *nulls
        ).select_from(_CANDIDATE.outerjoin(SR, SR.c.id == _C.r_record_id)),
        select(*_columns(_ENTRY, {"e_": _own(EN)}), *nulls).select_from(
            _CANDIDATE.join(
                EN,
                and_(
                    EN.c.registration_id == _C.r_id,
                    # Written into the SQL, as registrations._IS_ACTIVE_ENTRY (partial indexes).
                    EN.c.status.in_([literal_column(f"'{s}'") for s in ACTIVE]),
                ),
            )
        ),
        select(*_columns(_WAITLIST, {"w_": _own(WL)}), *nulls).select_from(
            _CANDIDATE.join(WL, WL.c.registration_id == _C.r_id)
        ),
        select(*_columns(_REVIEW, {"v_": _own(RV)}), *nulls).select_from(
            _CANDIDATE.join(
                RV,
                and_(
                    RV.c.session_id == bindparam("b_session_id"), RV.c.record_id == _C.r_record_id
                ),
            )
        ),
    ]


STATEMENT = union_all(*_parts())


def with_row(tail: Sequence[Any], from_: Any) -> CompoundSelect:
    """The snapshot and, in the same statement, one more row (part `_OTHER`): `tail`, a
    list of labelled columns, selected from `from_` (its other columns NULL, as the
    snapshot's rows carry `tail`'s as NULLs). The conversation's reads fuse it with the
    snapshot (storage/repos/conversations.py): one round trip instead of two."""
    other = select(*_columns(_OTHER, {}), *tail).select_from(from_)
    return union_all(*_parts(tail), other)


def _spans() -> dict[str, tuple[int, int]]:
    """Where each block's columns are in a row: prefix -> (start, stop)."""
    spans: dict[str, tuple[int, int]] = {}
    at = 1  # after `part`
    for prefix, _, names in _BLOCKS:
        width = len(names) + (1 if prefix == "s_" else 0)
        spans[prefix] = (at, at + width)
        at += width
    return spans


_SPANS = _spans()


def _dto(cls: type[Any], row: Sequence[Any], prefix: str) -> Any:
    start, stop = _SPANS[prefix]
    return cls(*row[start:stop])


def _by_id(items: list[Any]) -> tuple[Any, ...]:
    return tuple(sorted(items, key=lambda item: item.id)) if len(items) > 1 else tuple(items)


def build(rows: Sequence[Sequence[Any]]) -> CandidateSnapshot:
    """The snapshot from the statement's rows."""
    return split(rows)[0]


def split(rows: Sequence[Sequence[Any]]) -> tuple[CandidateSnapshot, Sequence[Any] | None]:
    """The snapshot from the rows of `STATEMENT` or `with_row`'s statement, and the
    other row of the latter (None without it)."""
    head: Sequence[Any] | None = None
    other: Sequence[Any] | None = None
    entries: list[EntryDTO] = []
    waitlists: list[WaitlistDTO] = []
    reviews: list[ReviewDTO] = []
    for row in rows:
        part = row[0]
        if part == _HEAD:
            head = row
        elif part == _ENTRY:
            entries.append(_dto(EntryDTO, row, "e_"))
        elif part == _WAITLIST:
            waitlists.append(_dto(WaitlistDTO, row, "w_"))
        elif part == _REVIEW:
            reviews.append(_dto(ReviewDTO, row, "v_"))
        else:
            other = row
    return _snapshot(head, entries, waitlists, reviews), other


def _snapshot(
    head: Sequence[Any] | None,
    entries: list[EntryDTO],
    waitlists: list[WaitlistDTO],
    reviews: list[ReviewDTO],
) -> CandidateSnapshot:
    if head is None:
        return CandidateSnapshot(account=None)
    account = _dto(AccountDTO, head, "a_")
    reg_start = _SPANS["r_"][0]
    if head[reg_start] is None:
        return CandidateSnapshot(account=account)
    registration = _dto(RegistrationDTO, head, "r_")
    record = None
    start, stop = _SPANS["s_"]
    if head[start] is not None:
        values = list(head[start:stop])
        values[-1] = frozenset(values[-1] or ())  # eligible, the last field: an array
        record = StudentRecordDTO(*values)
    return CandidateSnapshot(
        account=account,
        registration=registration,
        record=record,
        entries=_by_id(entries),
        waitlists=_by_id(waitlists),
        reviews=_by_id(reviews),
    )


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
