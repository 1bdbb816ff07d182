"""Registrations, entries, CET-6 reviews and waitlists of candidates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, insert, select, update

from storage.dto import EntryDTO, RegistrationDTO, ReviewDTO, WaitlistDTO
from storage.models import Entry, Registration, Review, Waitlist
from storage.repos.base import Repository, to_dto

REG = Registration.__table__
EN = Entry.__table__
RV = Review.__table__
WL = Waitlist.__table__

ACTIVE = ("unpaid", "paid")


class RegistrationRepository(Repository):
    async def get(self, registration_id: int) -> RegistrationDTO | None:
        row = (await self.conn.execute(select(REG).where(REG.c.id == registration_id))).first()
        return to_dto(RegistrationDTO, row) if row else None

    async def active_of_account(self, session_id: int, account_id: int) -> RegistrationDTO | None:
        row = (
            await self.conn.execute(
                select(REG).where(
                    REG.c.session_id == session_id,
                    REG.c.account_id == account_id,
                    REG.c.status == "active",
                )
            )
        ).first()
        return to_dto(RegistrationDTO, row) if row else None

    async def active_of_record(self, session_id: int, record_id: int) -> RegistrationDTO | None:
        row = (
            await self.conn.execute(
                select(REG).where(
                    REG.c.session_id == session_id,
                    REG.c.record_id == record_id,
                    REG.c.status == "active",
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
        res = await self.conn.execute(
            update(REG)
            .where(REG.c.id == registration_id, REG.c.status == "active")
            .values(version=REG.c.version + 1)
            .returning(*REG.c)
        )
        row = res.first()
        return to_dto(RegistrationDTO, row) if row else None

    async def set_phone(self, registration_id: int, phone: str) -> None:
        await self.conn.execute(update(REG).where(REG.c.id == registration_id).values(phone=phone))

    async def delete(self, registration_id: int, now: datetime) -> None:
        await self.conn.execute(
            update(REG).where(REG.c.id == registration_id).values(status="deleted", deleted_at=now)
        )

    async def empty_and_due(self, created_before: datetime, limit: int) -> list[int]:
        """R31: active registrations created before the cutoff with no active entry."""
        has_entry = exists().where(EN.c.registration_id == REG.c.id, EN.c.status.in_(ACTIVE))
        rows = await self.conn.execute(
            select(REG.c.id)
            .where(REG.c.status == "active", REG.c.created_at <= created_before, ~has_entry)
            .limit(limit)
        )
        return list(rows.scalars())

    async def count_active(self, session_id: int) -> int:
        q = (
            select(func.count())
            .select_from(REG)
            .where(REG.c.session_id == session_id, REG.c.status == "active")
        )
        return int((await self.conn.execute(q)).scalar_one())


class EntryRepository(Repository):
    async def get(self, entry_id: int) -> EntryDTO | None:
        row = (await self.conn.execute(select(EN).where(EN.c.id == entry_id))).first()
        return to_dto(EntryDTO, row) if row else None

    async def of_registration(
        self, registration_id: int, *, active_only: bool = True
    ) -> list[EntryDTO]:
        q = select(EN).where(EN.c.registration_id == registration_id)
        if active_only:
            q = q.where(EN.c.status.in_(ACTIVE))
        rows = await self.conn.execute(q.order_by(EN.c.id))
        return [to_dto(EntryDTO, r) for r in rows]

    async def create(self, values: dict[str, Any]) -> EntryDTO:
        res = await self.conn.execute(insert(EN).values(**values).returning(*EN.c))
        return to_dto(EntryDTO, res.one())

    async def update_fields(self, entry_id: int, **values: Any) -> EntryDTO:
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
        return bool(res.rowcount)

    async def mark_paid(self, entry_id: int, now: datetime) -> bool:
        res = await self.conn.execute(
            update(EN)
            .where(EN.c.id == entry_id, EN.c.status == "unpaid")
            .values(status="paid", paid_at=now)
        )
        return bool(res.rowcount)

    async def due_unpaid(self, now: datetime, limit: int) -> list[EntryDTO]:
        rows = await self.conn.execute(
            select(EN)
            .where(EN.c.status == "unpaid", EN.c.expires_at <= now)
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


class ReviewRepository(Repository):
    async def get(self, review_id: int) -> ReviewDTO | None:
        row = (await self.conn.execute(select(RV).where(RV.c.id == review_id))).first()
        return to_dto(ReviewDTO, row) if row else None

    async def of_record(self, session_id: int, record_id: int) -> list[ReviewDTO]:
        rows = await self.conn.execute(
            select(RV)
            .where(RV.c.session_id == session_id, RV.c.record_id == record_id)
            .order_by(RV.c.id)
        )
        return [to_dto(ReviewDTO, r) for r in rows]

    async def create(self, values: dict[str, Any]) -> ReviewDTO:
        res = await self.conn.execute(insert(RV).values(**values).returning(*RV.c))
        return to_dto(ReviewDTO, res.one())

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
        return to_dto(ReviewDTO, row) if row else None

    async def pending(
        self,
        session_id: int | None,
        record_ids: Sequence[int] | None = None,
        school: str | None = None,
    ) -> list[ReviewDTO]:
        from storage.models import StudentRecord

        R = StudentRecord.__table__
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
        q = select(WL).where(WL.c.registration_id == registration_id)
        if waiting_only:
            q = q.where(WL.c.status == "waiting")
        rows = await self.conn.execute(q.order_by(WL.c.id))
        return [to_dto(WaitlistDTO, r) for r in rows]

    async def create(self, values: dict[str, Any]) -> WaitlistDTO:
        res = await self.conn.execute(insert(WL).values(**values).returning(*WL.c))
        return to_dto(WaitlistDTO, res.one())

    async def position(self, waitlist: WaitlistDTO) -> int:
        """1-based place in the queue of its (campus, subject)."""
        q = (
            select(func.count())
            .select_from(WL)
            .where(
                WL.c.campus_id == waitlist.campus_id,
                WL.c.subject_code == waitlist.subject_code,
                WL.c.status == "waiting",
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
                WL.c.status == "waiting",
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
                WL.c.status == "waiting",
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
            .where(WL.c.id == waitlist_id, WL.c.status == "waiting")
            .values(status=status, finished_at=now, cancel_reason=reason, entry_id=entry_id)
        )
        return bool(res.rowcount)

    async def close_level(
        self, registration_id: int, kind: str, level: int, reason: str, now: datetime
    ) -> int:
        res = await self.conn.execute(
            update(WL)
            .where(
                and_(
                    WL.c.registration_id == registration_id,
                    WL.c.kind == kind,
                    WL.c.level == level,
                    WL.c.status == "waiting",
                )
            )
            .values(status="closed", finished_at=now, cancel_reason=reason)
        )
        return int(res.rowcount)

    async def close_session(self, session_id: int, now: datetime) -> int:
        res = await self.conn.execute(
            update(WL)
            .where(WL.c.session_id == session_id, WL.c.status == "waiting")
            .values(status="closed", finished_at=now, cancel_reason="window-closed")
        )
        return int(res.rowcount)

    async def queues_with_waiters(self, session_id: int) -> list[tuple[int, str]]:
        rows = await self.conn.execute(
            select(WL.c.campus_id, WL.c.subject_code)
            .where(WL.c.session_id == session_id, WL.c.status == "waiting")
            .distinct()
        )
        return [(r[0], r[1]) for r in rows]

    async def lengths(self, session_id: int) -> dict[tuple[int, str], int]:
        rows = await self.conn.execute(
            select(WL.c.campus_id, WL.c.subject_code, func.count())
            .where(WL.c.session_id == session_id, WL.c.status == "waiting")
            .group_by(WL.c.campus_id, WL.c.subject_code)
        )
        return {(r[0], r[1]): int(r[2]) for r in rows}
