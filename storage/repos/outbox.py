"""The outbox of messages that are not direct replies, and reminder bookkeeping (R32)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from storage.models import OutboxMessage
from storage.repos.base import Repository

OB = OutboxMessage.__table__


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
        try:
            async with self.conn.begin_nested():
                res = await self.conn.execute(insert(OB).values(**values).returning(OB.c.id))
                return int(res.scalar_one())
        except IntegrityError:
            return None
