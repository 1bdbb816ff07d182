"""Issue 19, what the WeChat adapter keeps in the database, on SQLite and PostgreSQL: OpenIDs
as internal user numbers above every Telegram id, the customer-service quota counted so
that processes sharing the database never exceed it, the shared token's fetch lease."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.handlers.wechat.store import EVENT_RULE, MESSAGE_RULE, QUOTA_RULES, updates_key
from storage.db import Database, UnitOfWork
from storage.repos.platform_users import PLATFORM_USER_BASE, Intake

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
TELEGRAM_MAX_ID = 2**52  # Telegram: at most 52 significant bits


async def _intake(
    db: Database, openid: str, at: datetime, action: str | None, update_id: int | None = None
) -> Intake:
    async def work(uow: UnitOfWork) -> Intake:
        got = await uow.platform_users.intake("wechat", openid, at, action, update_id)
        await uow.commit()
        return got

    return await db.run(work)


async def _claim(db: Database, user: int, now: datetime, count: int = 1) -> bool:
    async def work(uow: UnitOfWork) -> bool:
        got = await uow.platform_users.claim_messages(user, now, QUOTA_RULES, count)
        await uow.commit()
        return got

    return await db.run(work)


async def test_openids_become_stable_numbers_above_every_telegram_id(db: Database) -> None:
    first = await _intake(db, "o_first", T0, "message", 1)
    again = await _intake(db, "o_first", T0, None)
    other = await _intake(db, "o_other", T0, None)
    assert first.user_id == again.user_id != other.user_id
    assert min(first.user_id, other.user_id) > PLATFORM_USER_BASE > TELEGRAM_MAX_ID
    async with db.uow(readonly=True) as uow:
        assert await uow.platform_users.external_id(first.user_id) == ("wechat", "o_first")
        assert await uow.platform_users.external_id(PLATFORM_USER_BASE + 999) is None


async def test_a_user_message_allows_five_messages_within_48_hours(db: Database) -> None:
    user = (await _intake(db, "o_q", T0, "message", 1)).user_id
    assert not await _claim(db, user, T0, MESSAGE_RULE.limit + 1)  # all or none
    assert [await _claim(db, user, T0) for _ in range(6)] == [True] * 5 + [False]
    # A retry of the same push (same id, same time) opens no new quota ...
    await _intake(db, "o_q", T0, "message", 1)
    assert not await _claim(db, user, T0)
    # ... a new message does, even within the same second.
    await _intake(db, "o_q", T0, "message", 2)
    assert await _claim(db, user, T0 + timedelta(hours=47), 3)
    # And 48 hours after it, nothing.
    await _intake(db, "o_q", T0 + timedelta(hours=1), "message", 3)
    assert not await _claim(db, user, T0 + timedelta(hours=49, seconds=1))


async def test_a_menu_click_allows_three_messages_within_a_minute(db: Database) -> None:
    user = (await _intake(db, "o_c", T0, "event", 7)).user_id
    assert EVENT_RULE.limit == 3
    assert await _claim(db, user, T0 + timedelta(seconds=30), 3)
    assert not await _claim(db, user, T0 + timedelta(seconds=30))
    await _intake(db, "o_c", T0 + timedelta(minutes=5), "event", 8)
    assert not await _claim(db, user, T0 + timedelta(minutes=6, seconds=1))
    # An older push arriving late changes nothing.
    await _intake(db, "o_c", T0, "message", 6)
    assert not await _claim(db, user, T0 + timedelta(minutes=6, seconds=1))


async def test_concurrent_senders_never_take_more_than_the_quota(db: Database) -> None:
    user = (await _intake(db, "o_race", T0, "message", 1)).user_id
    results = await asyncio.gather(*(_claim(db, user, T0) for _ in range(20)))
    assert sum(results) == MESSAGE_RULE.limit


async def test_one_process_at_a_time_holds_the_token_fetch_lease(db: Database) -> None:
    async def lease(now: datetime) -> bool:
        async def work(uow: UnitOfWork) -> bool:
            got = await uow.platform_users.take_token_lease(
                "wx:app", now, now + timedelta(seconds=10)
            )
            await uow.commit()
            return got

        return await db.run(work)

    assert sum(await asyncio.gather(*(lease(T0) for _ in range(8)))) == 1
    assert not await lease(T0 + timedelta(seconds=5))
    assert await lease(T0 + timedelta(seconds=11))  # its holder died: another takes over


def test_updates_key_fits_the_processed_updates_column() -> None:
    assert updates_key("wx1234") == "wx:wx1234"
    long = updates_key("wx5f1e2d3c4b5a6978")
    assert len(long) == 16 and long.startswith("wx:") and long != updates_key("wx5f1e2d3c4b5a6979")


async def test_kept_replies_are_claimed_by_their_own_platform_only(db: Database) -> None:
    """A Telegram and a WeChat bot on one database: each replays its own kept replies
    (the other's are not claimed and pushed back)."""
    wechat_user = PLATFORM_USER_BASE + 5

    async def keep(platform: str, user: int) -> None:
        async def work(uow: UnitOfWork) -> None:
            conv = await uow.conversations.lock_or_create(platform, user, user, T0)
            await uow.conversations.save(conv, T0, reply=(1, [{"t": "text", "text": "x"}]))
            await uow.commit()

        await db.run(work)

    async def claim(platform: str) -> list[tuple[str, int]]:
        async def work(uow: UnitOfWork) -> list[tuple[str, int]]:
            rows = await uow.conversations.claim_unsent_replies(
                T0 + timedelta(minutes=1), T0 + timedelta(minutes=2), 10, platform=platform
            )
            await uow.commit()
            return [(r.platform, r.user_id) for r in rows]

        return await db.run(work)

    await keep("telegram", 42)
    await keep("wechat", wechat_user)
    assert await claim("wechat") == [("wechat", wechat_user)]
    assert await claim("telegram") == [("telegram", 42)]
