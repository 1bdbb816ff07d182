"""Telegram's send limits shared by every process of one bot through Redis (`REDIS_URL`).

Each worker process keeps its own `SendLimiter` otherwise, so N processes could send
N x 30 messages a second. Here the buckets live in Redis and one Lua script decides
atomically, on Redis' own clock (so the processes' clocks need not agree):

* overall: a generic cell rate (GCRA) bucket, `per_second` with a burst of `burst`;
* per chat: the earliest time the next message to that chat may go.

The script either grants a send (and books it in both buckets) or answers how many
milliseconds to wait; nothing is booked then, so a waiting sender holds no place.
If Redis cannot be reached the limiter falls back to this process's own buckets and
says so once in the log: messages are delayed at worst, never dropped.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis.exceptions import RedisError

from bot.send_limits import SendLimiter

log = logging.getLogger(__name__)

# KEYS[1]: the overall bucket's "theoretical arrival time" (ms); KEYS[2]: the chat's next
# allowed time (ms). ARGV: emission interval (ms), burst tolerance (ms), chat interval (ms).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local chat_interval = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local overall_wait = tat - tolerance - now
local chat_next = tonumber(redis.call('GET', KEYS[2]) or 0)
local chat_wait = chat_next - now
local wait = math.max(overall_wait, chat_wait)
if wait > 0 then return math.ceil(wait) end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.ceil(tolerance + interval) + 1000)
if chat_interval > 0 then
  redis.call('SET', KEYS[2], now + chat_interval, 'PX', math.ceil(chat_interval) + 1000)
end
return 0
"""


class RedisSendLimiter:
    """The `SendLimiter` interface (`acquire(chat_id)`) with its buckets in Redis."""

    def __init__(
        self,
        redis_url: str,
        *,
        bot_key: str,
        per_second: float = 30.0,
        per_chat_interval: float = 1.0,
        burst: float = 3.0,
    ) -> None:
        from redis import asyncio as aioredis

        self._redis: Any = aioredis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._redis.register_script(_ACQUIRE)
        self._prefix = f"cetbot:send:{bot_key}"
        self._interval_ms = 1000.0 / per_second
        self._tolerance_ms = max(0.0, burst - 1) * self._interval_ms
        self._chat_ms = per_chat_interval * 1000.0
        self._fallback = SendLimiter(per_second, per_chat_interval, burst)
        self._warned = False

    async def acquire(self, chat_id: int) -> None:
        keys = [f"{self._prefix}:all", f"{self._prefix}:chat:{chat_id}"]
        args = [self._interval_ms, self._tolerance_ms, self._chat_ms]
        task = asyncio.current_task()
        while True:
            try:
                wait_ms = int(await self._script(keys=keys, args=args))
            except (RedisError, OSError) as exc:
                _raise_if_cancelled(task)
                self._fall_back(exc)
                await self._fallback.acquire(chat_id)
                return
            _raise_if_cancelled(task)
            if wait_ms <= 0:
                self._warned = False
                return
            await asyncio.sleep(wait_ms / 1000)

    def _fall_back(self, exc: BaseException) -> None:
        if not self._warned:
            log.warning("send limits: Redis unreachable (%s); this process limits alone", exc)
            self._warned = True

    async def close(self) -> None:
        await self._redis.aclose()


def _raise_if_cancelled(task: asyncio.Task[Any] | None) -> None:
    """redis-py has been reported to swallow a cancellation that lands inside a command
    (a test here once hung in `gather` over its cancelled senders while the loop kept
    waking at the limiter's 50 ms interval). The task still counts the request, so it is
    honoured here."""
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
