"""Conversation (UI) state per chat user, and the ids of updates already applied."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

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

        The bumped `updated_at` UPDATE takes the lock on both databases; a missing row
        is created by an INSERT that does nothing on a conflict (a racing creator), so
        a new user costs two statements and no savepoint.
        """
        where = (CV.c.platform == platform, CV.c.user_id == user_id, CV.c.chat_id == chat_id)
        res = await self.conn.execute(
            update(CV).where(*where).values(updated_at=now).returning(*CV.c)
        )
        row = res.first()
        if row is None:
            created = await self.conn.execute(
                self._insert(CV)
                .values(
                    platform=platform,
                    user_id=user_id,
                    chat_id=chat_id,
                    state="start",
                    data={},
                    version=0,
                    updated_at=now,
                )
                .on_conflict_do_nothing()
                .returning(*CV.c)
            )
            row = created.first()
            if row is None:  # created by a concurrent update of the same user
                res = await self.conn.execute(
                    update(CV).where(*where).values(updated_at=now).returning(*CV.c)
                )
                row = res.one()
        return _conversation(row)

    def _insert(self, target: Any) -> Any:
        """An INSERT that can say ON CONFLICT DO NOTHING on either database."""
        if self.dialect == "postgresql":
            return pg_insert(target)
        return sqlite_insert(target)

    async def set_menu(
        self, platform: str, user_id: int, chat_id: int, message_id: int, now: datetime
    ) -> bool:
        """Records the message carrying the menu in one UPDATE; False if there is no row."""
        res = await self.conn.execute(
            update(CV)
            .where(CV.c.platform == platform, CV.c.user_id == user_id, CV.c.chat_id == chat_id)
            .values(menu_message_id=message_id, updated_at=now)
        )
        return bool(res.rowcount)

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
        return _conversation(row) if row is not None else None

    async def locale_of(self, platform: str, user_id: int) -> str | None:
        """The remembered language of a chat user (for messages they did not ask for)."""
        row = (
            await self.conn.execute(
                select(CV.c.locale).where(CV.c.platform == platform, CV.c.user_id == user_id)
            )
        ).first()
        return row[0] if row else None

    async def mark_processed(self, platform: str, update_id: int, now: datetime) -> bool:
        """Records an update id; False if it was applied before (re-delivery).

        One INSERT ... ON CONFLICT DO NOTHING RETURNING: a row comes back only when the
        id is new, and a re-delivery leaves the transaction usable without a savepoint."""
        res = await self.conn.execute(
            self._insert(PU)
            .values(platform=platform, update_id=update_id, processed_at=now)
            .on_conflict_do_nothing()
            .returning(PU.c.update_id)
        )
        return res.first() is not None

    async def forget_processed_before(self, cutoff: datetime) -> int:
        res = await self.conn.execute(delete(PU).where(PU.c.processed_at < cutoff))
        return int(res.rowcount)


def _conversation(row: Row[Any]) -> ConversationDTO:
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
