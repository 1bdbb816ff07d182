"""External user ids (WeChat OpenIDs) as internal user numbers; the per-user state of a
platform that limits what may be sent (WeChat's customer-service quota) and remembers the
choices offered; access tokens shared by every process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.models import PlatformToken, PlatformUser
from storage.repos.base import Repository, insert_or_skip, table

PU = table(PlatformUser)
PT = table(PlatformToken)

# Internal user numbers of platform users start here: Telegram ids have at most 52
# significant bits, so the two ranges never meet.
PLATFORM_USER_BASE = 2**53


@dataclass(frozen=True, slots=True)
class Intake:
    """What the adapter needs of a user for one incoming push."""

    user_id: int  # the internal number
    offers: list[str]
    offers_seq: int


@dataclass(frozen=True, slots=True)
class QuotaRule:
    """After a user action of `kind`, at most `limit` messages until `window_seconds` pass."""

    kind: str
    limit: int
    window_seconds: int


@dataclass(frozen=True, slots=True)
class SharedToken:
    token: str | None
    expires_at: datetime | None
    lease_until: datetime | None


_INTAKE_RETURNING = (PU.c.id, PU.c.offers, PU.c.offers_seq)


def _upsert_action() -> dict[str, Any]:
    """INSERT the user, or on conflict record the action unless it is the one recorded (a
    retried push) or older: the quota starts again."""
    values = {
        "platform": bindparam("b_platform"),
        "external_id": bindparam("b_external"),
        "created_at": bindparam("b_now"),
        "action_kind": bindparam("b_kind"),
        "action_at": bindparam("b_now"),
        "action_update": bindparam("b_update"),
        "custom_used": 0,
        "offers_seq": 0,
    }
    out: dict[str, Any] = {}
    for name, make in (("postgresql", pg_insert), ("sqlite", sqlite_insert)):
        stmt = make(PU).values(values)
        new = stmt.excluded
        newer = or_(
            PU.c.action_at.is_(None),
            PU.c.action_update.is_(None),
            and_(
                new.action_at >= PU.c.action_at,
                new.action_update != PU.c.action_update,
            ),
        )
        out[name] = stmt.on_conflict_do_update(
            index_elements=[PU.c.platform, PU.c.external_id],
            set_={
                "action_kind": case((newer, stmt.excluded.action_kind), else_=PU.c.action_kind),
                "action_at": case((newer, stmt.excluded.action_at), else_=PU.c.action_at),
                "action_update": case(
                    (newer, stmt.excluded.action_update), else_=PU.c.action_update
                ),
                "custom_used": case((newer, 0), else_=PU.c.custom_used),
            },
        ).returning(*_INTAKE_RETURNING)
    return out


_UPSERT_ACTION = _upsert_action()
_CREATE_QUIET = insert_or_skip(
    PU,
    {
        "platform": bindparam("b_platform"),
        "external_id": bindparam("b_external"),
        "created_at": bindparam("b_now"),
        "custom_used": 0,
        "offers_seq": 0,
    },
    _INTAKE_RETURNING,
)
_FIND = select(*_INTAKE_RETURNING).where(
    PU.c.platform == bindparam("b_platform"), PU.c.external_id == bindparam("b_external")
)
_EXTERNAL = select(PU.c.platform, PU.c.external_id).where(PU.c.id == bindparam("b_id"))
_SET_OFFERS = (
    update(PU)
    .where(PU.c.id == bindparam("b_id"))
    .values(offers=bindparam("b_offers"), offers_seq=bindparam("b_seq"))
)
_OFFERS_SEQ = select(PU.c.offers_seq).where(PU.c.id == bindparam("b_id"))
_RELEASE = (
    update(PU)
    .where(PU.c.id == bindparam("b_id"), PU.c.custom_used >= bindparam("b_count"))
    .values(custom_used=PU.c.custom_used - bindparam("b_count"))
)
_SPENT = update(PU).where(PU.c.id == bindparam("b_id")).values(custom_used=bindparam("b_limit"))


def number_of(row_id: int) -> int:
    return PLATFORM_USER_BASE + row_id


def row_of(user_number: int) -> int:
    return user_number - PLATFORM_USER_BASE


def is_platform_user(user_number: int) -> bool:
    """Whether a user id is a platform user's internal number (not a Telegram id)."""
    return user_number > PLATFORM_USER_BASE


class PlatformUserRepository(Repository):
    async def intake(
        self,
        platform: str,
        external_id: str,
        now: datetime,
        action: str | None,
        update_id: int | None = None,
    ) -> Intake:
        """The user's number (created on first sight) and offers; with `action` (of push
        `update_id`, at `now`) the quota starts again (one statement)."""
        params = {
            "b_platform": platform,
            "b_external": external_id,
            "b_now": now,
            "b_kind": action,
            "b_update": update_id,
        }
        if action is not None:
            row = (await self.conn.execute(_UPSERT_ACTION[self.dialect], params)).first()
        else:
            row = (await self.conn.execute(_CREATE_QUIET[self.dialect], params)).first()
            if row is None:
                row = (await self.conn.execute(_FIND, params)).first()
        assert row is not None
        return Intake(number_of(row.id), list(row.offers or []), int(row.offers_seq))

    async def external_id(self, user_number: int) -> tuple[str, str] | None:
        """(platform, external id) of an internal number; None when unknown."""
        row = (await self.conn.execute(_EXTERNAL, {"b_id": row_of(user_number)})).first()
        return None if row is None else (row.platform, row.external_id)

    async def offers_seq(self, user_number: int) -> int:
        """The number of the offer made last (0: none yet)."""
        row = (await self.conn.execute(_OFFERS_SEQ, {"b_id": row_of(user_number)})).first()
        return 0 if row is None else int(row.offers_seq)

    async def set_offers(self, user_number: int, payloads: list[str], seq: int) -> None:
        """Remembers the buttons offered (sent), as offer number `seq`."""
        await self.conn.execute(
            _SET_OFFERS, {"b_id": row_of(user_number), "b_offers": payloads, "b_seq": seq}
        )

    async def claim_messages(
        self, user_number: int, now: datetime, rules: tuple[QuotaRule, ...], count: int = 1
    ) -> bool:
        """Counts `count` messages against the quota of the user's last action if it allows
        them all now (one UPDATE: processes sharing the database never exceed it)."""
        allowed = or_(
            *(
                and_(
                    PU.c.action_kind == rule.kind,
                    PU.c.action_at > now - timedelta(seconds=rule.window_seconds),
                    PU.c.custom_used <= rule.limit - count,
                )
                for rule in rules
            )
        )
        stmt = (
            update(PU)
            .where(PU.c.id == row_of(user_number), allowed)
            .values(custom_used=PU.c.custom_used + count)
        )
        res = await self.conn.execute(stmt)
        return bool(res.rowcount)

    async def release_messages(self, user_number: int, count: int) -> None:
        """Gives back claimed messages that surely did not go out."""
        await self.conn.execute(_RELEASE, {"b_id": row_of(user_number), "b_count": count})

    async def quota_spent(self, user_number: int, limit: int) -> None:
        """The platform refused for the quota: nothing more until the user's next action."""
        await self.conn.execute(_SPENT, {"b_id": row_of(user_number), "b_limit": limit})

    # --- shared access tokens -----------------------------------------------------------

    async def token(self, key: str) -> SharedToken:
        row = (await self.conn.execute(select(PT).where(PT.c.key == key))).first()
        if row is None:
            return SharedToken(None, None, None)
        return SharedToken(row.token, row.expires_at, row.lease_until)

    async def take_token_lease(self, key: str, now: datetime, until: datetime) -> bool:
        """One process at a time fetches a new token: True when this one holds the lease."""
        await self.conn.execute(
            insert_or_skip(PT, {"key": key}, (PT.c.key,))[self.dialect],
        )
        res = await self.conn.execute(
            update(PT)
            .where(PT.c.key == key, or_(PT.c.lease_until.is_(None), PT.c.lease_until <= now))
            .values(lease_until=until)
        )
        return bool(res.rowcount)

    async def store_token(self, key: str, token: str, expires_at: datetime) -> None:
        await self.conn.execute(
            update(PT)
            .where(PT.c.key == key)
            .values(token=token, expires_at=expires_at, lease_until=None)
        )

    async def drop_token_lease(self, key: str) -> None:
        await self.conn.execute(update(PT).where(PT.c.key == key).values(lease_until=None))

    async def expire_token(self, key: str, token: str, now: datetime) -> None:
        """The platform refused `token`: no process uses it again (a newer one stays)."""
        await self.conn.execute(
            update(PT).where(PT.c.key == key, PT.c.token == token).values(expires_at=now)
        )
