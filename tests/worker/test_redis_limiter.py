"""Send limits shared through Redis (REDIS_URL): several processes, one 30/s budget.

Two limiters stand for two worker processes of one bot. The checks count grants in a
time window (an upper bound cannot be met by a machine being slow), and the same count
taken with two process-local limiters shows that the bound really is the shared one.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest

from bot.redis_limiter import RedisSendLimiter
from bot.worker_runtime import Limiter, SendLimiter, limiter_from_settings
from foundation.settings import Settings
from tests.conftest import service_unavailable

REDIS_URL = os.environ.get("CETBOT_TEST_REDIS", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    from redis import asyncio as aioredis

    client = aioredis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        service_unavailable(f"Redis unavailable at {REDIS_URL}: {exc!r}")
    finally:
        await client.aclose()
    yield REDIS_URL


async def _grants(limiters: list[Limiter], chats: list[int], seconds: float) -> int:
    """How many sends the limiters grant in `seconds`, each looping over `chats`."""
    granted = 0
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds

    async def sender(limiter: Limiter, chat_ids: list[int]) -> None:
        nonlocal granted
        i = 0
        while True:
            await limiter.acquire(chat_ids[i % len(chat_ids)])
            if loop.time() >= end:
                return  # a grant after the window is not counted
            granted += 1
            i += 1

    tasks = [asyncio.create_task(sender(lim, chats)) for lim in limiters for _ in range(3)]
    await asyncio.sleep(seconds)
    for task in tasks:
        task.cancel()
    # Bounded: a sender that missed its cancellation still stops at its next grant.
    await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
    return granted


async def test_two_processes_share_one_overall_rate(redis_url: str) -> None:
    key = f"test-{uuid.uuid4().hex}"
    shared = [
        RedisSendLimiter(redis_url, bot_key=key, per_second=20, per_chat_interval=0, burst=1)
        for _ in range(2)
    ]
    try:
        together = await _grants(list(shared), list(range(1000)), 1.0)
    finally:
        for limiter in shared:
            await limiter.close()
    # 20/s shared: at most 20 in one second, plus the first one at t=0.
    assert 5 <= together <= 21, together
    alone = await _grants(
        [SendLimiter(per_second=20, per_chat_interval=0, burst=1) for _ in range(2)],
        list(range(1000)),
        1.0,
    )
    assert alone > 21, alone  # each process-local bucket gives its own 20/s


async def test_one_chat_gets_one_message_per_interval_across_processes(redis_url: str) -> None:
    key = f"test-{uuid.uuid4().hex}"
    shared = [
        RedisSendLimiter(redis_url, bot_key=key, per_second=1000, per_chat_interval=0.4)
        for _ in range(2)
    ]
    try:
        granted = await _grants(list(shared), [42], 1.0)
    finally:
        for limiter in shared:
            await limiter.close()
    assert 1 <= granted <= 3, granted  # t = 0, 0.4, 0.8


async def test_bots_with_other_tokens_do_not_share_a_budget(redis_url: str) -> None:
    first = RedisSendLimiter(redis_url, bot_key=f"a-{uuid.uuid4().hex}", per_chat_interval=5)
    second = RedisSendLimiter(redis_url, bot_key=f"b-{uuid.uuid4().hex}", per_chat_interval=5)
    try:
        await asyncio.wait_for(first.acquire(7), 2)
        await asyncio.wait_for(second.acquire(7), 2)  # same chat id, another bot: no wait
    finally:
        await first.close()
        await second.close()


async def test_unreachable_redis_falls_back_to_the_local_limits() -> None:
    limiter = RedisSendLimiter("redis://127.0.0.1:1/0", bot_key="nowhere", per_chat_interval=0.3)
    try:
        await asyncio.wait_for(limiter.acquire(1), 10)  # granted locally, not raised
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.wait_for(limiter.acquire(1), 10)
        assert loop.time() - started >= 0.25  # and the local per-chat limit still holds
    finally:
        await limiter.close()


async def test_redis_url_setting_chooses_the_shared_limiter() -> None:
    local = Settings(_env_file=None)  # type: ignore[call-arg]
    assert isinstance(limiter_from_settings(local), SendLimiter)
    shared = Settings(_env_file=None, redis_url=REDIS_URL, bot_token="123:abc")  # type: ignore[call-arg]
    limiter = limiter_from_settings(shared)
    assert isinstance(limiter, RedisSendLimiter)
    await limiter.close()
