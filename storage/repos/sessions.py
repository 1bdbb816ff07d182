"""Exam sessions, the subject catalogue, campuses and their seats."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update

from storage.dto import CampusDTO, ExamSessionDTO, OfferedSubjectDTO, SeatsDTO, SubjectDTO
from storage.models import Campus, CampusSeats, ExamSession, SessionSubject, Subject
from storage.repos.base import Repository, to_dto

S = ExamSession.__table__
SUB = Subject.__table__
SS = SessionSubject.__table__
C = Campus.__table__
SEATS = CampusSeats.__table__


class SessionRepository(Repository):
    async def by_code(self, code: str) -> ExamSessionDTO | None:
        row = (await self.conn.execute(select(S).where(S.c.code == code))).first()
        return to_dto(ExamSessionDTO, row) if row else None

    async def get(self, session_id: int) -> ExamSessionDTO | None:
        row = (await self.conn.execute(select(S).where(S.c.id == session_id))).first()
        return to_dto(ExamSessionDTO, row) if row else None

    async def all(self) -> list[ExamSessionDTO]:
        rows = await self.conn.execute(select(S).order_by(S.c.opens_at.desc()))
        return [to_dto(ExamSessionDTO, r) for r in rows]

    async def current(self, now: datetime) -> ExamSessionDTO | None:
        """The published session whose window is nearest: the latest published one."""
        row = (
            await self.conn.execute(
                select(S).where(S.c.published_at <= now).order_by(S.c.opens_at.desc()).limit(1)
            )
        ).first()
        return to_dto(ExamSessionDTO, row) if row else None

    async def upsert(self, values: dict[str, Any]) -> int:
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
        rows = await self.conn.execute(select(SUB))
        return {r.code: to_dto(SubjectDTO, r) for r in rows}

    async def set_offered(
        self, session_id: int, code: str, fee_fen: int, exam_start: datetime, exam_end: datetime
    ) -> None:
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
        rows = await self.conn.execute(
            select(SS, SUB)
            .join(SUB, SUB.c.code == SS.c.subject_code)
            .where(SS.c.session_id == session_id)
            .order_by(SUB.c.level, SUB.c.kind.desc(), SUB.c.code)
        )
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
        return out

    # Campuses and seats.
    async def upsert_campus(self, session_id: int, values: dict[str, Any]) -> int:
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
        q = select(C).where(C.c.session_id == session_id).order_by(C.c.id)
        if school is not None:
            q = q.where(C.c.school == school)
        return [to_dto(CampusDTO, r) for r in await self.conn.execute(q)]

    async def campus(self, campus_id: int) -> CampusDTO | None:
        row = (await self.conn.execute(select(C).where(C.c.id == campus_id))).first()
        return to_dto(CampusDTO, row) if row else None

    async def campus_by_code(self, session_id: int, code: str) -> CampusDTO | None:
        row = (
            await self.conn.execute(select(C).where(C.c.session_id == session_id, C.c.code == code))
        ).first()
        return to_dto(CampusDTO, row) if row else None

    async def seats(self, campus_id: int, subject_code: str) -> SeatsDTO | None:
        row = (
            await self.conn.execute(
                select(SEATS).where(
                    SEATS.c.campus_id == campus_id, SEATS.c.subject_code == subject_code
                )
            )
        ).first()
        return to_dto(SeatsDTO, row) if row else None

    async def seats_of_session(self, session_id: int) -> list[SeatsDTO]:
        rows = await self.conn.execute(
            select(SEATS)
            .join(C, C.c.id == SEATS.c.campus_id)
            .where(C.c.session_id == session_id)
            .order_by(SEATS.c.campus_id, SEATS.c.subject_code)
        )
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
        await self.conn.execute(
            insert(SEATS).values(
                campus_id=campus_id, subject_code=subject_code, capacity=capacity, taken=0
            )
        )
        return True

    async def take_seat(self, campus_id: int, subject_code: str) -> bool:
        """R23: one conditional UPDATE; False when the (campus, subject) is full."""
        res = await self.conn.execute(
            update(SEATS)
            .where(
                SEATS.c.campus_id == campus_id,
                SEATS.c.subject_code == subject_code,
                SEATS.c.taken < SEATS.c.capacity,
            )
            .values(taken=SEATS.c.taken + 1)
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
        await self.conn.execute(
            delete(SEATS).where(
                SEATS.c.campus_id == campus_id,
                SEATS.c.subject_code.not_in(keep),
                SEATS.c.taken == 0,
            )
        )

    async def count(self) -> int:
        return int((await self.conn.execute(select(func.count()).select_from(S))).scalar_one())
