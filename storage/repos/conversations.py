"""Conversation (UI) state per chat user, and the ids of updates already applied."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Executable,
    Row,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    literal,
    literal_column,
    null,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import NoResultFound

from storage import direct
from storage.models import Conversation, ProcessedUpdate
from storage.repos import snapshot
from storage.repos.base import Repository, insert_or_skip, table
from storage.repos.snapshot import CandidateSnapshot

CV = table(Conversation)
PU = table(ProcessedUpdate)

# The statements every update runs, built once: building a statement and its cache key
# costs about as much as executing it (~0.2 ms each, measured on this project's machine).
_WHO = (
    CV.c.platform == bindparam("b_platform"),
    CV.c.user_id == bindparam("b_user_id"),
    CV.c.chat_id == bindparam("b_chat_id"),
)
_TOUCH = update(CV).where(*_WHO).values(updated_at=bindparam("b_now")).returning(*CV.c)
_GET = select(CV).where(*_WHO)
_SET_MENU = (
    update(CV)
    .where(*_WHO)
    .values(menu_message_id=bindparam("b_menu"), updated_at=bindparam("b_now"))
)
_SAVE = (
    update(CV)
    .where(*_WHO)
    .values(
        state=bindparam("b_state"),
        data=bindparam("b_data"),
        locale=bindparam("b_locale"),
        menu_message_id=bindparam("b_menu"),
        version=bindparam("b_version"),
        updated_at=bindparam("b_now"),
    )
)
# The same, keeping the update's reply until it is out (one statement either way).
_SAVE_WITH_REPLY = _SAVE.values(
    reply=bindparam("b_reply"),
    reply_update_id=bindparam("b_reply_update_id"),
    reply_at=bindparam("b_now"),
)
# The reply of update `b_update_id` is out: forgotten, unless a later update replaced it.
_MINE = CV.c.reply_update_id == bindparam("b_update_id", type_=BigInteger)
_REPLY_SENT = (
    update(CV).where(*_WHO, _MINE).values(reply=null(), reply_update_id=null(), reply_at=null())
)
# The same with the new menu message recorded (set whatever the reply).
_REPLY_SENT_WITH_MENU = (
    update(CV)
    .where(*_WHO)
    .values(
        menu_message_id=bindparam("b_menu"),
        updated_at=bindparam("b_now"),
        reply=case((_MINE, null()), else_=CV.c.reply),
        reply_update_id=case((_MINE, null()), else_=CV.c.reply_update_id),
        reply_at=case((_MINE, null()), else_=CV.c.reply_at),
    )
)
# Kept replies of several chats forgotten at once (`replies_cleared`), each only if the
# row still keeps that update's reply. PostgreSQL: the keys as four arrays, one statement
# text whatever their number (prepared once per connection).
_CLEARED_KEYS = (
    func.unnest(
        bindparam("b_platforms", type_=ARRAY(String)),
        bindparam("b_user_ids", type_=ARRAY(BigInteger)),
        bindparam("b_chat_ids", type_=ARRAY(BigInteger)),
        bindparam("b_update_ids", type_=ARRAY(BigInteger)),
    )
    .table_valued("platform", "user_id", "chat_id", "update_id")
    .render_derived(name="cleared")
)
_REPLIES_CLEARED_PG = (
    update(CV)
    .where(
        CV.c.platform == _CLEARED_KEYS.c.platform,
        CV.c.user_id == _CLEARED_KEYS.c.user_id,
        CV.c.chat_id == _CLEARED_KEYS.c.chat_id,
        CV.c.reply_update_id == _CLEARED_KEYS.c.update_id,
    )
    .values(reply=null(), reply_update_id=null(), reply_at=null())
)
# SQLite: the keys as row values, `(platform, user_id, chat_id, reply_update_id) IN (...)`.
_REPLIES_CLEARED = (
    update(CV)
    .where(
        tuple_(CV.c.platform, CV.c.user_id, CV.c.chat_id, CV.c.reply_update_id).in_(
            bindparam("b_keys", expanding=True)
        )
    )
    .values(reply=null(), reply_update_id=null(), reply_at=null())
)
_NEW_VALUES = {
    "platform": bindparam("b_platform"),
    "user_id": bindparam("b_user_id"),
    "chat_id": bindparam("b_chat_id"),
    "state": "start",
    "data": {},
    "version": 0,
    "updated_at": bindparam("b_now"),
}
_CREATE = insert_or_skip(CV, _NEW_VALUES, CV.c)


def _processed(key_param: str) -> dict[str, Any]:
    """The INSERT of a processed update id, its bot key bound as `key_param`."""
    values: dict[str, Any] = {
        "platform": bindparam(key_param),
        "update_id": bindparam("b_update_id"),
        "processed_at": bindparam("b_now"),
    }
    return insert_or_skip(PU, values, (PU.c.update_id,))


_MARK_PROCESSED = _processed("b_platform")

# PostgreSQL: the update id recorded and the conversation row locked in one round trip.
# The UPDATE only runs when the INSERT recorded a new id (a re-delivery locks nothing);
# `fresh` tells a re-delivery (0) from a user without a conversation row yet (1, no row).
# The bot key gets its own parameter: `b_platform` is the chat platform here.
_RECORDED = _processed("b_updates_key")["postgresql"].cte("recorded")
_TOUCHED = (
    update(CV)
    .where(*_WHO, exists(select(literal(1)).select_from(_RECORDED)))
    .values(updated_at=bindparam("b_now"))
    .returning(*CV.c)
    .cte("touched")
)
_ONE = select(literal(1).label("one")).subquery("one")
_START_UPDATE_PG = select(
    select(func.count()).select_from(_RECORDED).scalar_subquery().label("fresh"),
    *_TOUCHED.c,
).select_from(_ONE.outerjoin(_TOUCHED, true()))

# PostgreSQL, an optimistic update (no transaction, no lock; bot/conversation/engine.py):
# the row's version is its `xmin`, the transaction that wrote this version of the row;
# any UPDATE of the row (another update of the chat, the adapter's `set_menu` and
# `reply_sent`, a claimed replay) makes a new version with another `xmin`.
_ROW_VERSION = cast(literal_column("conversations.xmin"), String)
_ALREADY = exists(
    select(literal(1))
    .select_from(PU)
    .where(
        PU.c.platform == bindparam("b_updates_key", type_=String),
        PU.c.update_id == bindparam("b_update_id", type_=BigInteger),
    )
)
# One autocommit statement: whether the update id was applied before, and the row (all
# NULL without one) with its version.
_PEEK_PG = select(
    _ALREADY.label("processed"), _ROW_VERSION.label("row_version"), *CV.c
).select_from(_ONE.outerjoin(CV, and_(*_WHO)))
# One autocommit statement: the state saved only if the row is still the version read and
# the update id still unrecorded, and the id recorded only if the state was saved. A
# concurrent writer of the row holds its lock until it commits; the UPDATE waits, then
# finds the new version (READ COMMITTED re-checks the WHERE on it) and saves nothing.
_SAVED = (
    _SAVE.where(_ROW_VERSION == bindparam("b_row_version"), ~_ALREADY)
    .returning(literal(1).label("one"))
    .cte("saved")
)


def _recorded_if(saved: Any) -> Executable:
    """The update id recorded only if `saved` (a CTE) wrote the row; both counts back."""
    recorded = (
        pg_insert(PU)
        .from_select(
            ["platform", "update_id", "processed_at"],
            select(
                bindparam("b_updates_key", type_=String),
                bindparam("b_update_id", type_=BigInteger),
                bindparam("b_now", type_=PU.c.processed_at.type),
            ).where(exists(select(literal(1)).select_from(saved))),
        )
        .on_conflict_do_nothing()
        .returning(literal(1).label("one"))
        .cte("recorded_if_saved")
    )
    return select(
        select(func.count()).select_from(saved).scalar_subquery().label("saved"),
        select(func.count()).select_from(recorded).scalar_subquery().label("recorded"),
    )


_SAVE_UNCHANGED_PG = _recorded_if(_SAVED)
# The same for a chat without a conversation row when it was read (a new chat's first
# update, usually /start): the row created with the new state only if there is still none
# (ON CONFLICT DO NOTHING: a concurrent creator, another update of the chat or the
# transactional redo of this one, wins and this saves nothing) and the update id still
# unrecorded. What the transactional path sent as BEGIN, the update id with the lock, the
# lock again, the INSERT, the save and COMMIT (issue 17).
_STATE_COLUMNS = ("state", "data", "locale", "menu_message_id", "version", "updated_at")
_STATE_PARAMS = ("b_state", "b_data", "b_locale", "b_menu", "b_version", "b_now")
_CREATED_AS_SAVED = (
    pg_insert(CV)
    .from_select(
        ["platform", "user_id", "chat_id", *_STATE_COLUMNS],
        select(
            bindparam("b_platform", type_=CV.c.platform.type),
            bindparam("b_user_id", type_=CV.c.user_id.type),
            bindparam("b_chat_id", type_=CV.c.chat_id.type),
            *(
                bindparam(p, type_=CV.c[c].type)
                for c, p in zip(_STATE_COLUMNS, _STATE_PARAMS, strict=True)
            ),
        ).where(~_ALREADY),
    )
    .on_conflict_do_nothing()
    .returning(literal(1).label("one"))
    .cte("saved")
)
_CREATE_UNCHANGED_PG = _recorded_if(_CREATED_AS_SAVED)


# PostgreSQL, the two reads above fused with the candidate's snapshot (storage/repos/
# snapshot.py, whose statement takes the same `b_platform` and `b_user_id`, and the session
# as `b_session_id`): the snapshot's rows, then the row of `_PEEK_PG` or `_START_UPDATE_PG`
# as one more part. One round trip where the step would read the snapshot next.
_PEEK_WITH_SNAPSHOT_PG = snapshot.with_row(
    [_ALREADY.label("processed"), _ROW_VERSION.label("row_version"), *CV.c],
    _ONE.outerjoin(CV, and_(*_WHO)),
)
# Locking the row, a statement may wait for another transaction that holds it; it then
# updates the row as that one left it, but its other parts (the snapshot) still see the
# data as of the statement's start, without that transaction's writes. So the row is only
# touched if it is still the version the statement's own snapshot sees (`seen`: a
# sub-select is computed once, not again for the newer version); otherwise no row comes
# back, as for a new user, and `start_update` locks it by itself (a new statement, which
# sees everything committed before it got the lock) and leaves the snapshot unread.
_SEEN = CV.alias("seen")
_SEEN_VERSION = (
    select(cast(literal_column("seen.xmin"), String))
    .where(
        _SEEN.c.platform == bindparam("b_platform"),
        _SEEN.c.user_id == bindparam("b_user_id"),
        _SEEN.c.chat_id == bindparam("b_chat_id"),
    )
    .scalar_subquery()
)
_TOUCHED_AS_SEEN = (
    update(CV)
    .where(*_WHO, exists(select(literal(1)).select_from(_RECORDED)), _ROW_VERSION == _SEEN_VERSION)
    .values(updated_at=bindparam("b_now"))
    .returning(*CV.c)
    .cte("touched")
)
_START_UPDATE_WITH_SNAPSHOT_PG = snapshot.with_row(
    [
        select(func.count()).select_from(_RECORDED).scalar_subquery().label("fresh"),
        *_TOUCHED_AS_SEEN.c,
    ],
    _ONE.outerjoin(_TOUCHED_AS_SEEN, true()),
)


@dataclass(frozen=True, slots=True)
class Peek:
    """What an optimistic update read (`peek`): the conversation (None: no row yet), its
    row version for `save_unchanged`, and whether the update id was applied before."""

    conversation: ConversationDTO | None
    row_version: str | None
    processed: bool
    # Read with it when asked (`session_id`), and only with a conversation row.
    snapshot: CandidateSnapshot | None = None


@dataclass(frozen=True, slots=True)
class Started:
    """An update started in a transaction (`start_update`): the conversation, locked until
    commit, and the candidate's snapshot when it was asked for and read with it."""

    conversation: ConversationDTO
    snapshot: CandidateSnapshot | None = None


def _who(platform: str, user_id: int, chat_id: int) -> dict[str, Any]:
    return {"b_platform": platform, "b_user_id": user_id, "b_chat_id": chat_id}


def _state_params(conv: ConversationDTO, now: datetime) -> dict[str, Any]:
    """The parameters of a save (`_SAVE` and its variants): whose row, and its new state."""
    return {
        **_who(conv.platform, conv.user_id, conv.chat_id),
        "b_state": conv.state,
        "b_data": conv.data,
        "b_locale": conv.locale,
        "b_menu": conv.menu_message_id,
        "b_version": conv.version,
        "b_now": now,
    }


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
    # The kept reply of an update not yet confirmed sent (see bot/conversation/replies.py).
    reply: list[dict[str, Any]] | None = None
    reply_update_id: int | None = None
    reply_at: datetime | None = None


class ConversationRepository(Repository):
    @staticmethod
    def new(platform: str, user_id: int, chat_id: int) -> ConversationDTO:
        """The conversation `lock_or_create` creates for a chat without one (`_NEW_VALUES`)."""
        return ConversationDTO(platform, user_id, chat_id, "start", {}, None, None, 0)

    async def lock_or_create(
        self, platform: str, user_id: int, chat_id: int, now: datetime
    ) -> ConversationDTO:
        """Loads the state, holding the row lock until commit (one user, one at a time).

        The bumped `updated_at` UPDATE takes the lock on both databases; a missing row
        is created by an INSERT that does nothing on a conflict (a racing creator), so
        a new user costs two statements and no savepoint.
        """
        params = {**_who(platform, user_id, chat_id), "b_now": now}
        row = await direct.first(self.conn, _TOUCH, params)
        if row is None:
            row = await direct.first(self.conn, _CREATE[self.dialect], params)
            if row is None:  # created by a concurrent update of the same user
                row = await direct.first(self.conn, _TOUCH, params)
                if row is None:
                    raise NoResultFound("the conversation row created meanwhile is gone")
        return _conversation(row)

    async def _with_snapshot(
        self, alone: Any, with_snapshot: Any, params: dict[str, Any], session_id: int | None
    ) -> tuple[CandidateSnapshot | None, Any]:
        """PostgreSQL: the conversation's row read by `alone`, or (`session_id` given) by
        `with_snapshot`, which reads the candidate's snapshot in that session too."""
        if session_id is None:
            row = await direct.first(self.conn, alone, params)
            found = None
        else:
            rows = await direct.rows(
                self.conn, with_snapshot, {**params, "b_session_id": session_id}
            )
            found, row = snapshot.split(rows)
        assert row is not None
        return found, row

    async def start_update(
        self,
        updates_key: str,
        update_id: int,
        platform: str,
        user_id: int,
        chat_id: int,
        now: datetime,
        *,
        session_id: int | None = None,
    ) -> Started | None:
        """`mark_processed` then `lock_or_create`: None for a re-delivered update (nothing
        locked), else the conversation, locked until commit. One statement on PostgreSQL
        for a known user; two on SQLite, whose write lock is taken at BEGIN anyway.

        `session_id` (PostgreSQL): the candidate's snapshot in that session is read in the
        same statement, as `snapshot.read` would read it right after the lock; it is
        None when the row had to be locked apart (a new user, or the row changed while
        the statement waited for its lock: see `_TOUCHED_AS_SEEN`)."""
        if self.dialect != "postgresql":
            if not await self.mark_processed(updates_key, update_id, now):
                return None
            return Started(await self.lock_or_create(platform, user_id, chat_id, now))
        params = {
            **_who(platform, user_id, chat_id),
            "b_now": now,
            "b_updates_key": updates_key,
            "b_update_id": update_id,
        }
        found, row = await self._with_snapshot(
            _START_UPDATE_PG, _START_UPDATE_WITH_SNAPSHOT_PG, params, session_id
        )
        if not row.fresh:
            return None
        if row.platform is None:  # no row locked: a new user (or one that changed meanwhile)
            return Started(await self.lock_or_create(platform, user_id, chat_id, now))
        return Started(_conversation(row), found)

    async def peek(
        self,
        updates_key: str,
        update_id: int,
        platform: str,
        user_id: int,
        chat_id: int,
        *,
        session_id: int | None = None,
    ) -> Peek:
        """PostgreSQL, outside a transaction: the conversation as it is now, with its row
        version, and whether `update_id` was applied before; one statement, no lock.
        `session_id`: the candidate's snapshot in that session too, in the same statement
        (so as of the same instant as the row version)."""
        params = {
            **_who(platform, user_id, chat_id),
            "b_updates_key": updates_key,
            "b_update_id": update_id,
        }
        found, row = await self._with_snapshot(_PEEK_PG, _PEEK_WITH_SNAPSHOT_PG, params, session_id)
        if row.platform is None:
            return Peek(None, None, bool(row.processed))
        return Peek(_conversation(row), row.row_version, bool(row.processed), found)

    async def save_unchanged(
        self,
        conv: ConversationDTO,
        row_version: str | None,
        updates_key: str,
        update_id: int,
        now: datetime,
    ) -> tuple[bool, bool]:
        """PostgreSQL, outside a transaction, one statement: `save` (a kept reply stays)
        only if the row is still at `row_version` (nobody wrote it since `peek`) and
        `update_id` is not recorded yet, and records `update_id` only if it saved.
        `row_version` None: `peek` found no row, and the row is created with the state only
        if there is still none. (saved, recorded): nothing saved means nothing written."""
        params = {
            **_state_params(conv, now),
            "b_updates_key": updates_key,
            "b_update_id": update_id,
        }
        statement = _SAVE_UNCHANGED_PG
        if row_version is None:
            statement = _CREATE_UNCHANGED_PG
        else:
            params["b_row_version"] = row_version
        row = await direct.first(self.conn, statement, params)
        assert row is not None
        return bool(row.saved), bool(row.recorded)

    async def set_menu(
        self, platform: str, user_id: int, chat_id: int, message_id: int, now: datetime
    ) -> bool:
        """Records the message carrying the menu in one UPDATE; False if there is no row.
        As the unit of work's first statement, on PostgreSQL without a BEGIN and COMMIT
        of its own (`direct.rowcount(alone=True)`): it may stand by itself."""
        params = {**_who(platform, user_id, chat_id), "b_menu": message_id, "b_now": now}
        return bool(await direct.rowcount(self.conn, _SET_MENU, params, alone=True))

    async def save(
        self,
        conv: ConversationDTO,
        now: datetime,
        *,
        reply: tuple[int, list[dict[str, Any]]] | None = None,
    ) -> None:
        """Writes the state; with `reply` (update id, actions) also the reply to keep
        until `reply_sent`, in the same statement. Without it a kept reply stays."""
        params = _state_params(conv, now)
        if reply is None:
            await direct.rowcount(self.conn, _SAVE, params)
            return
        params["b_reply_update_id"], params["b_reply"] = reply
        await direct.rowcount(self.conn, _SAVE_WITH_REPLY, params)

    async def reply_sent(
        self,
        platform: str,
        user_id: int,
        chat_id: int,
        update_id: int,
        now: datetime,
        *,
        menu_message_id: int | None = None,
    ) -> bool:
        """Forgets the kept reply of `update_id` (if still the kept one) and, when given,
        records the new menu message: one UPDATE. False if there is no row. As the unit of
        work's first statement, on PostgreSQL without a BEGIN and COMMIT of its own
        (`direct.rowcount(alone=True)`): forgetting a reply that is out may stand by
        itself, and a row it did not find (False) was not written."""
        params = {**_who(platform, user_id, chat_id), "b_update_id": update_id}
        if menu_message_id is None:
            await direct.rowcount(self.conn, _REPLY_SENT, params, alone=True)
            return True
        params |= {"b_menu": menu_message_id, "b_now": now}
        return bool(await direct.rowcount(self.conn, _REPLY_SENT_WITH_MENU, params, alone=True))

    async def replies_cleared(self, keys: list[tuple[str, int, int, int]]) -> int:
        """Forgets the kept replies of several chats in one UPDATE: `keys` are (platform,
        user id, chat id, update id), each cleared only if its row still keeps that
        update's reply (a newer kept reply stays). The number of replies forgotten. On
        PostgreSQL without a BEGIN and COMMIT of its own when it is the unit of work's
        first statement (`direct.rowcount(alone=True)`), as `reply_sent`."""
        if not keys:
            return 0
        if self.dialect == "postgresql":
            platforms, user_ids, chat_ids, update_ids = (list(c) for c in zip(*keys, strict=True))
            params = {
                "b_platforms": platforms,
                "b_user_ids": user_ids,
                "b_chat_ids": chat_ids,
                "b_update_ids": update_ids,
            }
            return await direct.rowcount(self.conn, _REPLIES_CLEARED_PG, params, alone=True)
        result = await self.conn.execute(_REPLIES_CLEARED, {"b_keys": keys})
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def claim_unsent_replies(
        self, kept_before: datetime, now: datetime, limit: int, platform: str | None = None
    ) -> list[ConversationDTO]:
        """Kept replies older than `kept_before`, claimed for sending by moving their time
        to `now` (so another process claims them only if this one dies too). `platform`:
        only that platform's (a Telegram and a WeChat bot on one database claim their own)."""
        due = (
            select(CV.c.platform, CV.c.user_id, CV.c.chat_id)
            .where(CV.c.reply_at.is_not(None), CV.c.reply_at <= kept_before)
            .order_by(CV.c.reply_at)
            .limit(limit)
        )
        if platform is not None:
            due = due.where(CV.c.platform == platform)
        if self.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        rows = (
            await self.conn.execute(
                update(CV)
                .where(
                    CV.c.reply_at <= kept_before,  # again: another process may have claimed it
                    tuple_(CV.c.platform, CV.c.user_id, CV.c.chat_id).in_(due),
                )
                .values(reply_at=now)
                .returning(*CV.c)
            )
        ).all()
        return [_conversation(r) for r in rows]

    async def get(self, platform: str, user_id: int, chat_id: int) -> ConversationDTO | None:
        row = (await self.conn.execute(_GET, _who(platform, user_id, chat_id))).first()
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
        params = {"b_platform": platform, "b_update_id": update_id, "b_now": now}
        return await direct.first(self.conn, _MARK_PROCESSED[self.dialect], params) is not None

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
        reply=row.reply,
        reply_update_id=row.reply_update_id,
        reply_at=row.reply_at,
    )
