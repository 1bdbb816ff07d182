"""How fast this process may send: Telegram's 30 messages/s overall and 1/s per chat.

Its own module so that the Redis-backed limiter (`bot.redis_limiter`), which falls back
on these buckets, and the worker loop (`bot.worker_runtime`), which picks one of the two,
do not import each other."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Limiter(Protocol):
    """Waits until a message to `chat_id` may go out (and books it)."""

    async def acquire(self, chat_id: int) -> None: ...


class SendLimiter:
    """Token buckets for the whole bot (`per_second`) and for each chat (`per_chat`).

    The overall bucket holds only a few tokens: after a stall it does not fire a
    burst, so Telegram's own bucket is never overdrawn (no 429s caused by us).
    """

    def __init__(
        self, per_second: float = 30.0, per_chat_interval: float = 1.0, burst: float = 3.0
    ) -> None:
        self.rate = per_second
        self.capacity = max(1.0, burst)
        self.tokens = 1.0
        self.stamp = time.monotonic()
        self.per_chat_interval = per_chat_interval
        self._chat_next: dict[int, float] = {}
        self._lock = asyncio.Lock()

    def _wait(self, chat_id: int, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        overall = 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate
        return max(overall, self._chat_next.get(chat_id, 0.0) - now)

    async def acquire(self, chat_id: int) -> None:
        while True:
            async with self._lock:
                now = time.monotonic()
                wait = self._wait(chat_id, now)
                if wait <= 0:
                    self.tokens -= 1
                    self._chat_next[chat_id] = now + self.per_chat_interval
                    if len(self._chat_next) > 50_000:
                        self._chat_next = {c: n for c, n in self._chat_next.items() if n > now}
                    return
            await asyncio.sleep(wait)
