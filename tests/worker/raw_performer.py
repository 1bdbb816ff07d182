"""A minimal Performer over the raw Bot API (HTTP), until the aiogram adapter's is there.

It does what the Performer protocol promises: 429 waits retry_after and tries
again, 5xx and dropped connections back off and try again, 403 is "blocked".
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from bot.conversation.types import Action, SendResult, SendText


class RawBotApiPerformer:
    def __init__(self, api_root: str, token: str, *, attempts: int = 5) -> None:
        self.base = f"{api_root.rstrip('/')}/bot{token}"
        self.attempts = attempts
        self.retries_429 = 0
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(self, method: str, params: dict[str, Any]) -> SendResult:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        for attempt in range(self.attempts):
            try:
                async with self._session.post(f"{self.base}/{method}", json=params) as resp:
                    data = await resp.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, ValueError):
                await asyncio.sleep(0.1 * 2**attempt)
                continue
            if data.get("ok"):
                return SendResult(ok=True, message_id=data["result"].get("message_id"))
            code = data.get("error_code")
            if code == 429:
                self.retries_429 += 1
                wait = (data.get("parameters") or {}).get("retry_after", 1)
                await asyncio.sleep(float(wait))
                continue
            if code == 403:
                return SendResult(ok=False, error="blocked")
            if code is not None and code >= 500:
                await asyncio.sleep(0.1 * 2**attempt)
                continue
            return SendResult(ok=False, error="failed")
        return SendResult(ok=False, error="failed")

    async def perform(self, action: Action) -> SendResult:
        if isinstance(action, SendText):
            return await self._call("sendMessage", {"chat_id": action.chat_id, "text": action.text})
        return SendResult(ok=False, error="failed")
