"""School administrators, the audit log and the latest news (R40-R42)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select

from storage.models import Admin, AuditRecord, NewsItem
from storage.repos.base import Repository, table, to_dto

AD = table(Admin)
AU = table(AuditRecord)
NW = table(NewsItem)


@dataclass(frozen=True, slots=True)
class AdminDTO:
    platform: str
    user_id: int
    school: str | None  # None: the exam authority (all schools)
    added_at: datetime


@dataclass(frozen=True, slots=True)
class AuditDTO:
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class NewsDTO:
    id: int
    session_id: int | None
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    published_at: datetime


class AdministrationRepository(Repository):
    async def admin(self, platform: str, user_id: int) -> AdminDTO | None:
        row = (
            await self.conn.execute(
                select(AD).where(AD.c.platform == platform, AD.c.user_id == user_id)
            )
        ).first()
        return to_dto(AdminDTO, row) if row else None

    async def admins(self) -> list[AdminDTO]:
        rows = await self.conn.execute(select(AD).order_by(AD.c.platform, AD.c.user_id))
        return [to_dto(AdminDTO, r) for r in rows]

    async def put_admin(
        self, platform: str, user_id: int, school: str | None, now: datetime
    ) -> AdminDTO:
        await self.conn.execute(
            delete(AD).where(AD.c.platform == platform, AD.c.user_id == user_id)
        )
        await self.conn.execute(
            insert(AD).values(platform=platform, user_id=user_id, school=school, added_at=now)
        )
        found = await self.admin(platform, user_id)
        assert found is not None
        return found

    async def remove_admin(self, platform: str, user_id: int) -> bool:
        res = await self.conn.execute(
            delete(AD).where(AD.c.platform == platform, AD.c.user_id == user_id)
        )
        return bool(res.rowcount)

    async def audit(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        object_type: str,
        object_id: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        await self.conn.execute(
            insert(AU).values(
                at=at,
                actor=actor,
                action=action,
                object_type=object_type,
                object_id=object_id,
                before=before,
                after=after,
            )
        )

    async def audit_of(self, object_type: str, object_id: str) -> list[AuditDTO]:
        rows = await self.conn.execute(
            select(AU)
            .where(AU.c.object_type == object_type, AU.c.object_id == object_id)
            .order_by(AU.c.id)
        )
        return [to_dto(AuditDTO, r) for r in rows]

    async def add_news(self, values: dict[str, Any]) -> NewsDTO:
        res = await self.conn.execute(insert(NW).values(**values).returning(*NW.c))
        return to_dto(NewsDTO, res.one())

    async def latest_news(self, session_id: int | None, now: datetime, limit: int) -> list[NewsDTO]:
        q = select(NW).where(NW.c.published_at <= now)
        if session_id is not None:
            q = q.where((NW.c.session_id == session_id) | NW.c.session_id.is_(None))
        rows = await self.conn.execute(q.order_by(NW.c.published_at.desc()).limit(limit))
        return [to_dto(NewsDTO, r) for r in rows]
