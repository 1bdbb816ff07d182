"""Admission tickets: numbers, rooms and seats, rendered PDFs; rate-limit events (R38, R39)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import AuditRecord, Campus, Entry, RateEvent, Ticket, TicketFile
from storage.repos.base import Repository, table, to_dto

T = table(Ticket)
TF = table(TicketFile)
EN = table(Entry)
C = table(Campus)
RE = table(RateEvent)
AU = table(AuditRecord)

# Namespace of the PostgreSQL advisory locks taken here (high 32 bits of the lock key),
# so a session id cannot collide with another feature's advisory lock.
_ASSIGN_LOCK_SPACE = 0x7E_C7_00_01


@dataclass(frozen=True, slots=True)
class TicketDTO:
    entry_id: int
    ticket_no: str
    campus_id: int
    subject_code: str
    room: str
    seat: int
    issued_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class TicketFileDTO:
    entry_id: int
    locale: str
    pdf: bytes
    file_id: str | None
    rendered_at: datetime


@dataclass(frozen=True, slots=True)
class RoomFillDTO:
    """How far one room of one (campus, subject) is filled: its highest seat taken."""

    campus_id: int
    subject_code: str
    room: str
    last_seat: int


@dataclass(frozen=True, slots=True)
class PendingRenderDTO:
    """A ticket that has no rendered PDF in `locale` yet."""

    ticket: TicketDTO
    locale: str


class TicketRepository(Repository):
    # --- Assignment ---

    async def lock_assignment(self, session_id: int) -> None:
        """Serializes seat assignment of one session until the transaction ends.

        PostgreSQL: a transaction-level advisory lock (it blocks nothing but other
        assigners). SQLite: nothing to do, a writing unit of work already holds the
        database's single write lock from BEGIN IMMEDIATE on.
        """
        if self.dialect == "postgresql":
            await self.conn.execute(
                text("SELECT pg_advisory_xact_lock(:space, :session)"),
                {"space": _ASSIGN_LOCK_SPACE, "session": session_id},
            )

    async def unassigned_paid(self, session_id: int, kinds: Sequence[str]) -> list[Any]:
        """Paid entries of the session (of these kinds) without a ticket, by entry id."""
        has_ticket = exists().where(T.c.entry_id == EN.c.id)
        rows = await self.conn.execute(
            select(EN.c.id, EN.c.campus_id, EN.c.subject_code, EN.c.kind, EN.c.level)
            .where(
                EN.c.session_id == session_id,
                EN.c.status == "paid",
                EN.c.kind.in_(list(kinds)),
                ~has_ticket,
            )
            .order_by(EN.c.id)
        )
        return list(rows.all())

    async def room_fill(self, session_id: int) -> list[RoomFillDTO]:
        """Every room in use at the session's campuses, with its highest seat taken."""
        rows = await self.conn.execute(
            select(T.c.campus_id, T.c.subject_code, T.c.room, func.max(T.c.seat).label("last_seat"))
            .join(C, C.c.id == T.c.campus_id)
            .where(C.c.session_id == session_id)
            .group_by(T.c.campus_id, T.c.subject_code, T.c.room)
        )
        return [to_dto(RoomFillDTO, r) for r in rows]

    async def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self.conn.execute(insert(T), list(rows))

    # --- Lookups ---

    async def of_entries(self, entry_ids: Sequence[int]) -> dict[int, TicketDTO]:
        if not entry_ids:
            return {}
        rows = await self.conn.execute(select(T).where(T.c.entry_id.in_(list(entry_ids))))
        return {r.entry_id: to_dto(TicketDTO, r) for r in rows}

    async def by_number(self, ticket_no: str) -> TicketDTO | None:
        row = (await self.conn.execute(select(T).where(T.c.ticket_no == ticket_no))).first()
        return to_dto(TicketDTO, row) if row else None

    async def of_session(self, session_id: int) -> list[TicketDTO]:
        rows = await self.conn.execute(
            select(T)
            .join(EN, EN.c.id == T.c.entry_id)
            .where(EN.c.session_id == session_id)
            .order_by(T.c.entry_id)
        )
        return [to_dto(TicketDTO, r) for r in rows]

    async def revoke(
        self, ticket_no: str, now: datetime, *, reason: str, actor: str
    ) -> TicketDTO | None:
        """Marks a ticket revoked (once), drops its rendered PDFs and logs the reason."""
        row = (
            await self.conn.execute(
                update(T)
                .where(T.c.ticket_no == ticket_no, T.c.revoked_at.is_(None))
                .values(revoked_at=now)
                .returning(*T.c)
            )
        ).first()
        if row is None:
            return await self.by_number(ticket_no)
        # A cached PDF of a revoked ticket must never be sent again.
        await self.conn.execute(delete(TF).where(TF.c.entry_id == row.entry_id))
        # The tickets table has no column for the reason; the audit log keeps it.
        await self.conn.execute(
            insert(AU).values(
                at=now,
                actor=actor,
                action="ticket-revoke",
                object_type="ticket",
                object_id=ticket_no,
                before=None,
                after={"reason": reason, "entry_id": row.entry_id},
            )
        )
        return to_dto(TicketDTO, row)

    async def revoked_numbers(self, session_id: int | None = None) -> list[str]:
        q = select(T.c.ticket_no).where(T.c.revoked_at.is_not(None))
        if session_id is not None:
            q = q.join(EN, EN.c.id == T.c.entry_id).where(EN.c.session_id == session_id)
        rows = await self.conn.execute(q.order_by(T.c.ticket_no))
        return list(rows.scalars())

    # --- Rendered files ---

    async def files(self, entry_ids: Sequence[int], locale: str) -> dict[int, TicketFileDTO]:
        if not entry_ids:
            return {}
        rows = await self.conn.execute(
            select(TF).where(TF.c.entry_id.in_(list(entry_ids)), TF.c.locale == locale)
        )
        return {r.entry_id: to_dto(TicketFileDTO, r) for r in rows}

    async def save_files(self, rows: Sequence[tuple[int, str, bytes]], now: datetime) -> None:
        """Stores rendered PDFs; a PDF another worker stored meanwhile is kept as it is.

        Rendering is deterministic (same ticket, same key: same bytes), so losing that
        race loses nothing, and keeping the other row keeps its file id.
        """
        if not rows:
            return
        values = [
            {"entry_id": e, "locale": loc, "pdf": pdf, "file_id": None, "rendered_at": now}
            for e, loc, pdf in rows
        ]
        dialect_insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        stmt = dialect_insert(TF).on_conflict_do_nothing(index_elements=["entry_id", "locale"])
        await self.conn.execute(stmt, values)

    async def set_file_id(self, entry_id: int, locale: str, file_id: str) -> bool:
        res = await self.conn.execute(
            update(TF)
            .where(TF.c.entry_id == entry_id, TF.c.locale == locale)
            .values(file_id=file_id)
        )
        return bool(res.rowcount)

    async def pending_renders(
        self, session_id: int, kinds: Sequence[str], locales: Sequence[str], limit: int
    ) -> list[PendingRenderDTO]:
        """Live tickets (of entries of these kinds) with no PDF in a locale, by entry id."""
        out: list[PendingRenderDTO] = []
        for locale in locales:
            if len(out) >= limit:
                break
            rendered = exists().where(TF.c.entry_id == T.c.entry_id, TF.c.locale == locale)
            rows = await self.conn.execute(
                select(T)
                .join(EN, EN.c.id == T.c.entry_id)
                .where(
                    EN.c.session_id == session_id,
                    EN.c.kind.in_(list(kinds)),
                    T.c.revoked_at.is_(None),
                    ~rendered,
                )
                .order_by(T.c.entry_id)
                .limit(limit - len(out))
            )
            out.extend(PendingRenderDTO(to_dto(TicketDTO, r), locale) for r in rows)
        return out

    # --- Rate-limit events (sliding windows) ---

    async def add_rate_event(self, key: str, at: datetime) -> None:
        await self.conn.execute(insert(RE).values(key=key, at=at))

    async def rate_events_since(self, key: str, since: datetime) -> tuple[int, datetime | None]:
        """How many events `key` has after `since`, and the oldest of them."""
        row = (
            await self.conn.execute(
                select(func.count(), func.min(RE.c.at)).where(RE.c.key == key, RE.c.at > since)
            )
        ).one()
        # min() keeps the column type, so `oldest` comes back as an aware UTC datetime.
        return int(row[0]), row[1]

    async def rate_events_latest(self, key: str, since: datetime) -> tuple[int, datetime | None]:
        """How many events `key` has after `since`, and the newest of them."""
        row = (
            await self.conn.execute(
                select(func.count(), func.max(RE.c.at)).where(RE.c.key == key, RE.c.at > since)
            )
        ).one()
        return int(row[0]), row[1]

    async def delete_rate_events(self, key: str) -> int:
        res = await self.conn.execute(delete(RE).where(RE.c.key == key))
        return int(res.rowcount)

    async def prune_rate_events(self, before: datetime, prefix: str | None = None) -> int:
        """Deletes events up to `before`; only keys starting with `prefix` when given."""
        where = [RE.c.at <= before]
        if prefix is not None:
            # Prefixes are plain words and colons: no LIKE wildcards to escape.
            where.append(RE.c.key.startswith(prefix, autoescape=True))
        res = await self.conn.execute(delete(RE).where(*where))
        return int(res.rowcount)
