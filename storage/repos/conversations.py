"""Conversation (UI) state per chat user, and the ids of updates already applied."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from storage.models import Conversation, ProcessedUpdate
from storage.repos.base import Repository, table

CV = table(Conversation)
PU = table(ProcessedUpdate)


@dataclass(frozen=True, slots=True)
class ConversationDTO:
    platform: str
    user_id: int
    chat_id: int
    state: str
    data: dict[str, Any] = field(default_factory=dict)
    locale: str | None = None
    menu_message_id: int | None = None
    version: int = 0


class ConversationRepository(Repository):
    async def lock_or_create(
        self, platform: str, user_id: int, chat_id: int, now: datetime
    ) -> ConversationDTO:
        """Loads the state, holding the row lock until commit (one user, one at a time).

        The bumped `updated_at` UPDATE takes the lock on both databases; a
        missing row is created first (a racing creator is tolerated).
        """
        where = (CV.c.platform == platform, CV.c.user_id == user_id, CV.c.chat_id == chat_id)
        res = await self.conn.execute(
            update(CV).where(*where).values(updated_at=now).returning(*CV.c)
        )
        row = res.first()
        if row is None:
            try:
                async with self.conn.begin_nested():
                    await self.conn.execute(
                        insert(CV).values(
                            platform=platform,
                            user_id=user_id,
                            chat_id=chat_id,
                            state="start",
                            data={},
                            version=0,
                            updated_at=now,
                        )
                    )
            except IntegrityError:
                pass  # created by a concurrent update of the same user
            res = await self.conn.execute(
                update(CV).where(*where).values(updated_at=now).returning(*CV.c)
            )
            row = res.one()
        return ConversationDTO(
            platform=row.platform,
            user_id=row.user_id,
            chat_id=row.chat_id,
            state=row.state,
            data=dict(row.data or {}),
            locale=row.locale,
            menu_message_id=row.menu_message_id,
            version=row.version,
        )

    async def save(self, conv: ConversationDTO, now: datetime) -> None:
        await self.conn.execute(
            update(CV)
            .where(
                CV.c.platform == conv.platform,
                CV.c.user_id == conv.user_id,
                CV.c.chat_id == conv.chat_id,
            )
            .values(
                state=conv.state,
                data=conv.data,
                locale=conv.locale,
                menu_message_id=conv.menu_message_id,
                version=conv.version,
                updated_at=now,
            )
        )

    async def get(self, platform: str, user_id: int, chat_id: int) -> ConversationDTO | None:
        row = (
            await self.conn.execute(
                select(CV).where(
                    CV.c.platform == platform, CV.c.user_id == user_id, CV.c.chat_id == chat_id
                )
            )
        ).first()
        if row is None:
            return None
        return ConversationDTO(
            platform=row.platform,
            user_id=row.user_id,
            chat_id=row.chat_id,
            state=row.state,
            data=dict(row.data or {}),
            locale=row.locale,
            menu_message_id=row.menu_message_id,
            version=row.version,
        )

    async def locale_of(self, platform: str, user_id: int) -> str | None:
        """The remembered language of a chat user (for messages they did not ask for)."""
        row = (
            await self.conn.execute(
                select(CV.c.locale).where(CV.c.platform == platform, CV.c.user_id == user_id)
            )
        ).first()
        return row[0] if row else None

    async def mark_processed(self, platform: str, update_id: int, now: datetime) -> bool:
        """Records an update id; False if it was applied before (re-delivery)."""
        try:
            async with self.conn.begin_nested():
                await self.conn.execute(
                    insert(PU).values(platform=platform, update_id=update_id, processed_at=now)
                )
        except IntegrityError:
            return False
        return True

    async def forget_processed_before(self, cutoff: datetime) -> int:
        res = await self.conn.execute(delete(PU).where(PU.c.processed_at < cutoff))
        return int(res.rowcount)
