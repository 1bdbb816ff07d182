"""Exam sessions, the subject catalogue, campuses and their seats."""

from __future__ import annotations

import time
from collections.abc import Hashable
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Integer, and_, any_, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import direct
from storage.dto import CampusDTO, ExamSessionDTO, OfferedSubjectDTO, SeatsDTO, SubjectDTO
from storage.models import Campus, CampusSeats, ExamSession, SessionSubject, Subject
from storage.repos.base import Repository, table, to_dto

S = table(ExamSession)
SUB = table(Subject)
SS = table(SessionSubject)
C = table(Campus)
SEATS = table(CampusSeats)

# The hot statements, built once (SQLAlchemy then reuses their cache key and compiled form).
_GET = select(S).where(S.c.id == bindparam("session_id"))
# One (campus, subject) row of seats, by bound parameters.
_SEAT_KEY = (
    SEATS.c.campus_id == bindparam("b_campus_id"),
    SEATS.c.subject_code == bindparam("b_subject_code"),
)
_SEATS = select(SEATS).where(*_SEAT_KEY)
_SEATS_OF_SUBJECT = select(SEATS).where(
    SEATS.c.campus_id.in_(bindparam("b_campus_ids", expanding=True)),
    SEATS.c.subject_code == bindparam("b_subject_code"),
)
# PostgreSQL: the campuses as one array parameter, so the statement's text is fixed and
# `storage.direct` can send it (an IN list is rendered per call).
_SEATS_OF_SUBJECT_ANY = select(SEATS).where(
    SEATS.c.campus_id == any_(bindparam("b_campus_ids", type_=ARRAY(Integer))),
    SEATS.c.subject_code == bindparam("b_subject_code"),
)
_SEATS_OF_SESSION = (
    select(SEATS)
    .join(C, C.c.id == SEATS.c.campus_id)
    .where(C.c.session_id == bindparam("session_id"))
    .order_by(SEATS.c.campus_id, SEATS.c.subject_code)
)
_CAMPUS = select(C).where(C.c.id == bindparam("campus_id"))
_SUBJECTS = select(SUB)
_OFFERED = (
    select(SS, SUB)
    .join(SUB, SUB.c.code == SS.c.subject_code)
    .where(SS.c.session_id == bindparam("session_id"))
    .order_by(SUB.c.level, SUB.c.kind.desc(), SUB.c.code)
)
_TAKE_SEAT = (
    update(SEATS)
    .where(*_SEAT_KEY, SEATS.c.taken < SEATS.c.capacity)
    .values(taken=SEATS.c.taken + 1)
)

_MISSING = object()


class SessionCache:
    """Sessions, offered subjects, campuses and the catalogue, shared by units of work.

    This data changes only when the authority loads a session (admin), yet every booking
    reads it. Any write through a SessionRepository clears the cache, at the write and
    again at its commit; a unit that wrote reads past the cache until it ends (its own
    uncommitted rows must never be shared). A generation number stops a reader that
    started before a clear from storing what it read. Entries older than `ttl` seconds
    are read again, so a change committed by another process (the admin CLI) is seen
    within `ttl` seconds.
    """

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self.generation = 0
        self._data: dict[Hashable, tuple[float, Any]] = {}

    def get(self, key: Hashable) -> Any:
        hit = self._data.get(key)
        if hit is None or time.monotonic() - hit[0] >= self.ttl:
            return _MISSING
        return hit[1]

    def put(self, key: Hashable, value: Any, generation: int) -> None:
        if generation == self.generation:
            self._data[key] = (time.monotonic(), value)

    def clear(self) -> None:
        self.generation += 1
        self._data.clear()


class SessionRepository(Repository):
    def __init__(self, conn: AsyncConnection, cache: SessionCache | None = None) -> None:
        super().__init__(conn)
        self._cache = cache if cache is not None else SessionCache()
        # Set by any write of session data in this unit of work.
        self.wrote = False

    def _written(self) -> None:
        self.wrote = True
        self._cache.clear()

    def _cached(self, key: Hashable) -> Any:
        return _MISSING if self.wrote else self._cache.get(key)

    def _keep(self, key: Hashable, value: Any, generation: int) -> None:
        if not self.wrote:
            self._cache.put(key, value, generation)

    async def by_code(self, code: str) -> ExamSessionDTO | None:
        row = (await self.conn.execute(select(S).where(S.c.code == code))).first()
        return to_dto(ExamSessionDTO, row) if row else None

    async def get(self, session_id: int) -> ExamSessionDTO | None:
        key = ("session", session_id)
        found = self._cached(key)
        if found is not _MISSING:
            return found  # type: ignore[no-any-return]
        generation = self._cache.generation
        row = (await self.conn.execute(_GET, {"session_id": session_id})).first()
        session = to_dto(ExamSessionDTO, row) if row else None
        self._keep(key, session, generation)
        return session

    async def all(self) -> list[ExamSessionDTO]:
        rows = await self.conn.execute(select(S).order_by(S.c.opens_at.desc()))
        return [to_dto(ExamSessionDTO, r) for r in rows]

    async def current(self, now: datetime) -> ExamSessionDTO | None:
        """The published session whose window is nearest: the latest published one.

        Chosen from the cached list of sessions (every update of the chat asks)."""
        found = self._cached("sessions")
        if found is _MISSING:
            generation = self._cache.generation
            found = await self.all()
            self._keep("sessions", found, generation)
        for session in found:  # newest window first, as `all` orders them
            if session.published_at is not None and session.published_at <= now:
                return session  # type: ignore[no-any-return]
        return None

    def cached_current(self, now: datetime) -> ExamSessionDTO | None:
        """`current` when the list of sessions is cached (None otherwise: nothing read)."""
        found = self._cached("sessions")
        if found is _MISSING:
            return None
        for session in found:
            if session.published_at is not None and session.published_at <= now:
                return session  # type: ignore[no-any-return]
        return None

    async def upsert(self, values: dict[str, Any]) -> int:
        self._written()
        existing = (
            await self.conn.execute(select(S.c.id).where(S.c.code == values["code"]))
        ).scalar()
        if existing is None:
            res = await self.conn.execute(insert(S).values(**values).returning(S.c.id))
            return int(res.scalar_one())
        await self.conn.execute(update(S).where(S.c.id == existing).values(**values))
        return int(existing)

    # R1: the catalogue.
    async def upsert_subject(self, values: dict[str, Any]) -> None:
        self._written()
        exists = (
            await self.conn.execute(select(SUB.c.code).where(SUB.c.code == values["code"]))
        ).scalar()
        if exists is None:
            await self.conn.execute(insert(SUB).values(**values))
        else:
            await self.conn.execute(
                update(SUB).where(SUB.c.code == values["code"]).values(**values)
            )

    async def subjects(self) -> dict[str, SubjectDTO]:
        found = self._cached("subjects")
        if found is not _MISSING:
            return dict(found)
        generation = self._cache.generation
        rows = await self.conn.execute(_SUBJECTS)
        subjects = {r.code: to_dto(SubjectDTO, r) for r in rows}
        self._keep("subjects", subjects, generation)
        return dict(subjects)

    async def set_offered(
        self, session_id: int, code: str, fee_fen: int, exam_start: datetime, exam_end: datetime
    ) -> None:
        self._written()
        where = and_(SS.c.session_id == session_id, SS.c.subject_code == code)
        res = await self.conn.execute(
            update(SS)
            .where(where)
            .values(fee_fen=fee_fen, exam_start=exam_start, exam_end=exam_end)
        )
        if res.rowcount == 0:
            await self.conn.execute(
                insert(SS).values(
                    session_id=session_id,
                    subject_code=code,
                    fee_fen=fee_fen,
                    exam_start=exam_start,
                    exam_end=exam_end,
                )
            )

    async def offered(self, session_id: int) -> dict[str, OfferedSubjectDTO]:
        key = ("offered", session_id)
        found = self._cached(key)
        if found is not _MISSING:
            return dict(found)
        generation = self._cache.generation
        rows = await self.conn.execute(_OFFERED, {"session_id": session_id})
        out: dict[str, OfferedSubjectDTO] = {}
        for r in rows:
            subject = to_dto(SubjectDTO, r)
            out[subject.code] = OfferedSubjectDTO(
                subject=subject,
                session_id=r.session_id,
                fee_fen=r.fee_fen,
                exam_start=r.exam_start,
                exam_end=r.exam_end,
            )
        self._keep(key, out, generation)
        return dict(out)

    # Campuses and seats.
    async def upsert_campus(self, session_id: int, values: dict[str, Any]) -> int:
        self._written()
        existing = (
            await self.conn.execute(
                select(C.c.id).where(C.c.session_id == session_id, C.c.code == values["code"])
            )
        ).scalar()
        if existing is None:
            res = await self.conn.execute(
                insert(C).values(session_id=session_id, **values).returning(C.c.id)
            )
            return int(res.scalar_one())
        await self.conn.execute(update(C).where(C.c.id == existing).values(**values))
        return int(existing)

    async def campuses(self, session_id: int, school: str | None = None) -> list[CampusDTO]:
        key = ("campuses", session_id)
        found = self._cached(key)
        if found is _MISSING:
            generation = self._cache.generation
            q = select(C).where(C.c.session_id == session_id).order_by(C.c.id)
            found = [to_dto(CampusDTO, r) for r in await self.conn.execute(q)]
            self._keep(key, found, generation)
            # Each campus by id too (`campus`): the step after a campus list reads one.
            for campus in found:
                self._keep(("campus", campus.id), campus, generation)
        return [c for c in found if school is None or c.school == school]

    async def campus(self, campus_id: int) -> CampusDTO | None:
        key = ("campus", campus_id)
        found = self._cached(key)
        if found is not _MISSING:
            return found  # type: ignore[no-any-return]
        generation = self._cache.generation
        row = (await self.conn.execute(_CAMPUS, {"campus_id": campus_id})).first()
        campus = to_dto(CampusDTO, row) if row else None
        self._keep(key, campus, generation)
        return campus

    async def campus_by_code(self, session_id: int, code: str) -> CampusDTO | None:
        row = (
            await self.conn.execute(select(C).where(C.c.session_id == session_id, C.c.code == code))
        ).first()
        return to_dto(CampusDTO, row) if row else None

    async def seats(self, campus_id: int, subject_code: str) -> SeatsDTO | None:
        params = {"b_campus_id": campus_id, "b_subject_code": subject_code}
        row = await direct.first(self.conn, _SEATS, params)
        return to_dto(SeatsDTO, row) if row else None

    async def seats_of_subject(
        self, campus_ids: list[int], subject_code: str
    ) -> dict[int, SeatsDTO]:
        """The seats of one subject at each of these campuses (campuses without any are
        left out), in one statement."""
        if not campus_ids:
            return {}
        params = {"b_campus_ids": list(campus_ids), "b_subject_code": subject_code}
        if self.dialect == "postgresql":
            rows = await direct.rows(self.conn, _SEATS_OF_SUBJECT_ANY, params)
        else:
            rows = (await self.conn.execute(_SEATS_OF_SUBJECT, params)).all()
        return {r.campus_id: to_dto(SeatsDTO, r) for r in rows}

    async def seat_pairs(self, session_id: int) -> frozenset[tuple[int, str]]:
        """The (campus, subject) pairs of the session that have seats at all (whatever
        their count): session data, cached as the campuses are (seat rows are added or
        removed only by the writes below, which clear the cache)."""
        key = ("seat pairs", session_id)
        found = self._cached(key)
        if found is _MISSING:
            generation = self._cache.generation
            seats = await self.seats_of_session(session_id)
            found = frozenset((s.campus_id, s.subject_code) for s in seats)
            self._keep(key, found, generation)
        return found  # type: ignore[no-any-return]

    async def seats_of_session(self, session_id: int) -> list[SeatsDTO]:
        rows = await direct.rows(self.conn, _SEATS_OF_SESSION, {"session_id": session_id})
        return [to_dto(SeatsDTO, r) for r in rows]

    async def set_capacity(self, campus_id: int, subject_code: str, capacity: int) -> bool:
        """Sets a capacity; refuses (False) to go below the seats already taken."""
        res = await self.conn.execute(
            update(SEATS)
            .where(
                SEATS.c.campus_id == campus_id,
                SEATS.c.subject_code == subject_code,
                SEATS.c.taken <= capacity,
            )
            .values(capacity=capacity)
        )
        if res.rowcount:
            return True
        if await self.seats(campus_id, subject_code) is not None:
            return False
        self._written()  # a new pair (`seat_pairs`)
        await self.conn.execute(
            insert(SEATS).values(
                campus_id=campus_id, subject_code=subject_code, capacity=capacity, taken=0
            )
        )
        return True

    async def take_seat(self, campus_id: int, subject_code: str) -> bool:
        """R23: one conditional UPDATE; False when the (campus, subject) is full."""
        res = await self.conn.execute(
            _TAKE_SEAT, {"b_campus_id": campus_id, "b_subject_code": subject_code}
        )
        return bool(res.rowcount)

    async def release_seat(self, campus_id: int, subject_code: str) -> None:
        await self.conn.execute(
            update(SEATS)
            .where(
                SEATS.c.campus_id == campus_id,
                SEATS.c.subject_code == subject_code,
                SEATS.c.taken > 0,
            )
            .values(taken=SEATS.c.taken - 1)
        )

    async def recount(self, campus_id: int, subject_code: str, active_entries: int) -> None:
        await self.conn.execute(
            update(SEATS)
            .where(SEATS.c.campus_id == campus_id, SEATS.c.subject_code == subject_code)
            .values(taken=active_entries)
        )

    async def delete_campus_seats(self, campus_id: int, keep: set[str]) -> None:
        self._written()  # pairs gone (`seat_pairs`)
        await self.conn.execute(
            delete(SEATS).where(
                SEATS.c.campus_id == campus_id,
                SEATS.c.subject_code.not_in(keep),
                SEATS.c.taken == 0,
            )
        )

    async def count(self) -> int:
        return int((await self.conn.execute(select(func.count()).select_from(S))).scalar_one())
