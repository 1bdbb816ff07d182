"""What the WeChat adapter keeps in the database, shared by every process: the access token
row, OpenID <-> internal user number (cached here), the quota and the choices offered."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime

from bot.handlers.wechat.api import StoredToken
from storage.db import Database, UnitOfWork
from storage.repos.platform_users import Intake, QuotaRule

PLATFORM = "wechat"
# processed_updates keys are at most 16 characters; an AppID is 18 ("wx" + 16 hex).
MAX_KEY = 16

# What the documentation allows after each kind of user action (客服消息, rules since June
# 2023): a message from the user, 5 customer-service messages within 48 hours; a click on
# the custom menu, following the account or scanning its QR code, 3 within 1 minute.
MESSAGE_RULE = QuotaRule("message", 5, 48 * 3600)
EVENT_RULE = QuotaRule("event", 3, 60)
QUOTA_RULES = (MESSAGE_RULE, EVENT_RULE)
# Events that open a customer-service window (a menu click, following, a QR scan).
WINDOW_EVENTS = frozenset({"click", "subscribe", "scan"})
MAX_CACHED = 50_000


def updates_key(app_id: str) -> str:
    """`wx:<appid>` when it fits the 16 characters of the key, else `wx:` and a digest."""
    key = f"wx:{app_id}"
    if len(key) <= MAX_KEY:
        return key
    return "wx:" + hashlib.sha1(app_id.encode()).hexdigest()[: MAX_KEY - 3]


def _epoch(value: datetime | None) -> float:
    return 0.0 if value is None else value.timestamp()


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class DatabaseTokenStore:
    """The access token in `platform_tokens`, keyed `wx:<appid>`."""

    def __init__(
        self, database: Database, app_id: str, now: Callable[[], float] = time.time
    ) -> None:
        self.db = database
        self.key = f"wx:{app_id}"
        self.now = now

    async def load(self) -> StoredToken:
        async def work(uow: UnitOfWork) -> StoredToken:
            row = await uow.platform_users.token(self.key)
            return StoredToken(row.token, _epoch(row.expires_at))

        return await self.db.run(work)

    async def take_lease(self, seconds: float) -> bool:
        async def work(uow: UnitOfWork) -> bool:
            now = self.now()
            got = await uow.platform_users.take_token_lease(
                self.key, _utc(now), _utc(now + seconds)
            )
            await uow.commit()
            return got

        return await self.db.run(work)

    async def save(self, token: str, expires_at: float) -> None:
        async def work(uow: UnitOfWork) -> None:
            await uow.platform_users.store_token(self.key, token, _utc(expires_at))
            await uow.commit()

        await self.db.run(work)

    async def release(self) -> None:
        async def work(uow: UnitOfWork) -> None:
            await uow.platform_users.drop_token_lease(self.key)
            await uow.commit()

        await self.db.run(work)

    async def expire(self, token: str) -> None:
        async def work(uow: UnitOfWork) -> None:
            await uow.platform_users.expire_token(self.key, token, _utc(self.now()))
            await uow.commit()

        await self.db.run(work)


class Users:
    """OpenID <-> internal number (both ways cached in this process), the customer-service
    quota and the offered choices (in the database, for every process)."""

    def __init__(self, database: Database, now: Callable[[], float] = time.time) -> None:
        self.db = database
        self.now = now
        self._openids: OrderedDict[int, str] = OrderedDict()

    def _cache(self, number: int, openid: str) -> None:
        self._openids[number] = openid
        self._openids.move_to_end(number)
        while len(self._openids) > MAX_CACHED:
            self._openids.popitem(last=False)

    async def intake(
        self, openid: str, action: str | None, at: float, update_id: int | None = None
    ) -> Intake:
        """The user of a push (created on first sight); `action` ("message", "event") of
        push `update_id` starts the quota again from `at` (its CreateTime); a retried
        push of the same action does not."""

        async def work(uow: UnitOfWork) -> Intake:
            got = await uow.platform_users.intake(PLATFORM, openid, _utc(at), action, update_id)
            await uow.commit()
            return got

        got = await self.db.run(work)
        self._cache(got.user_id, openid)
        return got

    async def openid(self, number: int) -> str | None:
        cached = self._openids.get(number)
        if cached is not None:
            return cached

        async def work(uow: UnitOfWork) -> tuple[str, str] | None:
            return await uow.platform_users.external_id(number)

        found = await self.db.run(work)
        if found is None or found[0] != PLATFORM:
            return None
        self._cache(number, found[1])
        return found[1]

    async def next_offer(self, number: int) -> int:
        """The number the next offer of choices to the user will have."""

        async def work(uow: UnitOfWork) -> int:
            return await uow.platform_users.offers_seq(number) + 1

        return await self.db.run(work)

    async def offered(self, number: int, payloads: list[str], seq: int) -> None:
        """Remembers the choices the user now has (once the message is out)."""

        async def work(uow: UnitOfWork) -> None:
            await uow.platform_users.set_offers(number, payloads, seq)
            await uow.commit()

        await self.db.run(work)

    async def claim(self, number: int, count: int) -> bool:
        """Takes `count` customer-service messages from the user's quota, all or none."""

        async def work(uow: UnitOfWork) -> bool:
            got = await uow.platform_users.claim_messages(
                number, _utc(self.now()), QUOTA_RULES, count
            )
            await uow.commit()
            return got

        return await self.db.run(work)

    async def give_back(self, number: int, count: int) -> None:
        async def work(uow: UnitOfWork) -> None:
            await uow.platform_users.release_messages(number, count)
            await uow.commit()

        await self.db.run(work)

    async def spent(self, number: int) -> None:
        """WeChat said the quota or the window is used up: nothing until the next action."""

        async def work(uow: UnitOfWork) -> None:
            await uow.platform_users.quota_spent(number, max(rule.limit for rule in QUOTA_RULES))
            await uow.commit()

        await self.db.run(work)
