"""The outbox of messages that are not direct replies, and reminder bookkeeping (R32)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Integer,
    and_,
    any_,
    bindparam,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from storage import direct
from storage.models import Conversation, Entry, EntryReminder, OutboxMessage
from storage.repos.base import Repository, insert_or_skip, status_is, table, to_dto

OB = table(OutboxMessage)
CV = table(Conversation)
ER = table(EntryReminder)
EN = table(Entry)

# The columns of a new outbox row (also written by the payment callback's notice).
NEW_COLUMNS = (
    "platform",
    "chat_id",
    "kind",
    "payload",
    "status",
    "due_at",
    "attempts",
    "created_at",
    "dedupe_key",
)
# Keyed by (sent, with an error): the columns a finish sets besides the status and lease.
_FINISH = {
    (sent, with_error): update(OB)
    .where(
        OB.c.id == bindparam("b_id"),
        OB.c.status == "sending",
        OB.c.lease_owner == bindparam("b_owner"),
    )
    .values(
        status=bindparam("b_status"),
        lease_owner=None,
        lease_until=None,
        **({"sent_at": bindparam("b_now")} if sent else {}),
        **({"last_error": bindparam("b_error")} if with_error else {}),
    )
    for sent in (False, True)
    for with_error in (False, True)
}
# PostgreSQL: several leased rows marked sent by one statement (the ids as one array, so
# one prepared statement whatever their number); the ids returned are those still ours.
_FINISH_SENT_PG = (
    update(OB)
    .where(
        OB.c.id == any_(bindparam("b_ids", type_=ARRAY(Integer))),
        OB.c.status == "sending",
        OB.c.lease_owner == bindparam("b_owner"),
    )
    .values(status="sent", sent_at=bindparam("b_now"), lease_owner=None, lease_until=None)
    .returning(OB.c.id)
)
# A message whose dedupe_key was queued before is skipped by the INSERT itself, without a
# savepoint around it (issue 17: the worker's payment callbacks queue one each).
_ADD_ONCE = insert_or_skip(
    OB, {c: bindparam(f"b_{c}") for c in NEW_COLUMNS}, [OB.c.id], index_elements=["dedupe_key"]
)


def _claim_pg(by_platform: bool) -> Any:
    """PostgreSQL's claim in one statement, built once (issue 17): the due rows picked with
    FOR UPDATE SKIP LOCKED and leased, each with its recipient's remembered language, which
    the worker renders it in ('' when the recipient has none). Sent without a BEGIN of its
    own (`direct.rows(alone=True)`), it commits by itself: one round trip where the claim
    used to take five (BEGIN, the pick, the lease, the language, COMMIT)."""
    now: Any = bindparam("b_now")
    due = or_(
        and_(status_is(OB.c.status, "pending"), OB.c.due_at <= now),
        and_(status_is(OB.c.status, "sending"), OB.c.lease_until < now),
    )
    if by_platform:
        due = and_(OB.c.platform == bindparam("b_platform"), due)
    picked = (
        select(OB.c.id)
        .where(due)
        .order_by(OB.c.due_at, OB.c.id)
        .limit(bindparam("b_limit"))
        .with_for_update(skip_locked=True)
        .cte("picked")
    )
    language = (
        select(CV.c.locale)
        .where(CV.c.platform == OB.c.platform, CV.c.user_id == OB.c.chat_id)
        .limit(1)
        .scalar_subquery()
    )
    return (
        update(OB)
        .where(OB.c.id.in_(select(picked.c.id)))
        .values(
            status="sending", lease_owner=bindparam("b_owner"), lease_until=bindparam("b_until")
        )
        .returning(*OB.c, func.coalesce(language, literal("")).label("recipient_locale"))
    )


_CLAIM_PG = {by_platform: _claim_pg(by_platform) for by_platform in (False, True)}


@dataclass(frozen=True, slots=True)
class OutboxDTO:
    id: int
    platform: str
    chat_id: int
    kind: str
    payload: dict[str, Any]
    status: str
    due_at: datetime
    attempts: int
    lease_owner: str | None
    lease_until: datetime | None
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    dedupe_key: str | None
    # The recipient's remembered language as the claim read it ('' for none); None where
    # the claim did not read it (SQLite, or a row not claimed): the renderer looks it up.
    recipient_locale: str | None = None


@dataclass(frozen=True, slots=True)
class ReminderCandidate:
    """An unpaid entry inside the reminder horizon, and the offsets already recorded."""

    entry_id: int
    registration_id: int
    subject_code: str
    campus_id: int
    expires_at: datetime
    recorded: frozenset[int]


class OutboxRepository(Repository):
    async def add(
        self,
        *,
        platform: str,
        chat_id: int,
        kind: str,
        payload: dict[str, Any],
        now: datetime,
        due_at: datetime | None = None,
        dedupe_key: str | None = None,
    ) -> int | None:
        """Queues a message in the caller's transaction; None if `dedupe_key` was queued before."""
        values = {
            "platform": platform,
            "chat_id": chat_id,
            "kind": kind,
            "payload": payload,
            "status": "pending",
            "due_at": due_at or now,
            "attempts": 0,
            "created_at": now,
            "dedupe_key": dedupe_key,
        }
        if dedupe_key is None:
            res = await self.conn.execute(insert(OB).values(**values).returning(OB.c.id))
            return int(res.scalar_one())
        params = {f"b_{c}": v for c, v in values.items()}
        row = await direct.first(self.conn, _ADD_ONCE[self.dialect], params)
        return None if row is None else int(row[0])

    async def claim(
        self,
        owner: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        platform: str | None = None,
    ) -> list[OutboxDTO]:
        """Leases up to `limit` due rows to `owner`: pending ones and those whose lease ran
        out (a worker died between claiming and marking).

        PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent workers take disjoint rows
        without waiting. SQLite: the transaction holds the write lock (BEGIN IMMEDIATE),
        so the select and the update are one step for every other writer. `platform`:
        only that platform's rows (each is sent through its own platform's performer).
        """
        if self.dialect == "postgresql" and direct.wanted(self.conn):
            params = {"b_now": now, "b_limit": limit, "b_owner": owner, "b_until": lease_until}
            if platform is not None:
                params["b_platform"] = platform
            found = await direct.rows(
                self.conn, _CLAIM_PG[platform is not None], params, alone=True
            )
            leased = [to_dto(OutboxDTO, r) for r in found]
            leased.sort(key=lambda m: (m.due_at, m.id))
            return leased
        due = or_(
            and_(status_is(OB.c.status, "pending"), OB.c.due_at <= now),
            and_(status_is(OB.c.status, "sending"), OB.c.lease_until < now),
        )
        if platform is not None:
            due = and_(OB.c.platform == platform, due)
        pick = select(OB.c.id).where(due).order_by(OB.c.due_at, OB.c.id).limit(limit)
        if self.dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        ids = list((await self.conn.execute(pick)).scalars())
        if not ids:
            return []
        rows = await self.conn.execute(
            update(OB)
            .where(OB.c.id.in_(ids))
            .values(status="sending", lease_owner=owner, lease_until=lease_until)
            .returning(*OB.c)
        )
        claimed = [to_dto(OutboxDTO, r) for r in rows]
        claimed.sort(key=lambda m: (m.due_at, m.id))
        return claimed

    async def renew(self, message_id: int, owner: str, lease_until: datetime) -> bool:
        """Extends a lease still held; False if another worker took the row over."""
        res = await self.conn.execute(
            update(OB)
            .where(OB.c.id == message_id, OB.c.status == "sending", OB.c.lease_owner == owner)
            .values(lease_until=lease_until)
        )
        return bool(res.rowcount)

    async def finish(
        self,
        message_id: int,
        owner: str,
        status: str,
        now: datetime,
        *,
        error: str | None = None,
    ) -> bool:
        """Marks a leased row sent / undeliverable / failed. One UPDATE; as the unit of
        work's first statement, on PostgreSQL without a BEGIN and COMMIT of its own
        (`direct.rowcount(alone=True)`: the worker marks each message in a unit of its
        own, and the mark may stand by itself)."""
        params: dict[str, Any] = {"b_id": message_id, "b_owner": owner, "b_status": status}
        sent = status == "sent"
        if sent:
            params["b_now"] = now
        if error is not None:
            params["b_error"] = error[:200]
        statement = _FINISH[sent, error is not None]
        return bool(await direct.rowcount(self.conn, statement, params, alone=True))

    async def finish_sent(self, message_ids: Sequence[int], owner: str, now: datetime) -> set[int]:
        """Marks leased rows sent, as `finish` does each; returns the ids that were still
        leased to `owner` (the others were taken over). One UPDATE, on PostgreSQL without
        a BEGIN and COMMIT of its own (as `finish`)."""
        if not message_ids:
            return set()
        if self.dialect == "postgresql":
            params = {"b_ids": list(message_ids), "b_owner": owner, "b_now": now}
            found = await direct.rows(self.conn, _FINISH_SENT_PG, params, alone=True)
        else:
            found = (
                await self.conn.execute(
                    update(OB)
                    .where(
                        OB.c.id.in_(list(message_ids)),
                        OB.c.status == "sending",
                        OB.c.lease_owner == owner,
                    )
                    .values(status="sent", sent_at=now, lease_owner=None, lease_until=None)
                    .returning(OB.c.id)
                )
            ).all()
        return {int(r[0]) for r in found}

    async def retry_later(
        self, message_id: int, owner: str, due_at: datetime, error: str, *, attempt: bool = True
    ) -> bool:
        """Back to pending until `due_at`; `attempt=False` when nothing was tried (the
        notice waits for a channel), so the row's attempts are not used up by waiting."""
        res = await self.conn.execute(
            update(OB)
            .where(OB.c.id == message_id, OB.c.status == "sending", OB.c.lease_owner == owner)
            .values(
                status="pending",
                due_at=due_at,
                attempts=OB.c.attempts + (1 if attempt else 0),
                last_error=error[:200],
                lease_owner=None,
                lease_until=None,
            )
        )
        return bool(res.rowcount)

    async def counts(self) -> dict[str, int]:
        rows = await self.conn.execute(select(OB.c.status, func.count()).group_by(OB.c.status))
        return {r[0]: int(r[1]) for r in rows}

    async def next_due(self) -> datetime | None:
        """When the earliest waiting row falls due (lets an idle worker sleep). The status
        is written into the SQL (`status_is`): the due rows' index is partial, and the
        worker's generic plans (storage/db.py) match it only so."""
        q = select(func.min(OB.c.due_at)).where(status_is(OB.c.status, "pending"))
        return (await self.conn.execute(q)).scalar()

    # R32: reminder bookkeeping.
    async def reminder_candidates(
        self, now: datetime, horizon_end: datetime, limit: int
    ) -> list[ReminderCandidate]:
        """Unpaid entries expiring in (now, horizon_end], with offsets already recorded."""
        rows = (
            await self.conn.execute(
                select(
                    EN.c.id,
                    EN.c.registration_id,
                    EN.c.subject_code,
                    EN.c.campus_id,
                    EN.c.expires_at,
                )
                .where(
                    status_is(EN.c.status, "unpaid"),  # the partial index of unpaid expiries
                    EN.c.expires_at > now,
                    EN.c.expires_at <= horizon_end,
                )
                .order_by(EN.c.expires_at, EN.c.id)
                .limit(limit)
            )
        ).all()
        if not rows:
            return []
        recorded: dict[int, set[int]] = {}
        for entry_id, offset in await self.conn.execute(
            select(ER.c.entry_id, ER.c.offset_minutes).where(
                ER.c.entry_id.in_([r[0] for r in rows])
            )
        ):
            recorded.setdefault(entry_id, set()).add(offset)
        return [
            ReminderCandidate(r[0], r[1], r[2], r[3], r[4], frozenset(recorded.get(r[0], ())))
            for r in rows
        ]

    async def record_reminders(self, entry_id: int, offsets: Sequence[int], now: datetime) -> bool:
        """Records reminders of an entry as done; False if another worker recorded them."""
        try:
            async with self.conn.begin_nested():
                await self.conn.execute(
                    insert(ER),
                    [
                        {"entry_id": entry_id, "offset_minutes": o, "queued_at": now}
                        for o in offsets
                    ],
                )
        except IntegrityError:
            return False
        return True
