"""Pushes a bot's pending updates to its webhook: in order per chat, retried with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from emulator.params import Params
from emulator.state import BotState, EmulatorState

# Runs one Bot API method as if the bot had called it (`emulator.botapi.call_method`).
# Passed in rather than imported: botapi starts this worker, so it cannot be imported here.
MethodRunner = Callable[[EmulatorState, BotState, str, Params], Awaitable[Any]]

log = logging.getLogger(__name__)


def _chat_key(update: dict[str, Any]) -> int | None:
    for kind, payload in update.items():
        if kind == "update_id" or not isinstance(payload, dict):
            continue
        if "chat" in payload:
            return payload["chat"].get("id")
        if "from" in payload:
            return payload["from"].get("id")
    return None


class WebhookWorker:
    """One background task per bot with a webhook; at most max_connections POSTs at once."""

    def __init__(self, state: EmulatorState, bot: BotState, run_method: MethodRunner) -> None:
        self.state = state
        self.bot = bot
        self._run_method = run_method
        self._task: asyncio.Task[None] | None = None
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._attempts: dict[int, int] = {}
        self._retry_at: dict[int, float] = {}

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for task in self._inflight.values():
            task.cancel()
        self._inflight.clear()

    async def _run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.state.config.webhook_timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                next_wake = self._start_ready(session)
                await self.bot.wait_change(next_wake)

    def _start_ready(self, session: aiohttp.ClientSession) -> float:
        """Start deliveries that may go now; return seconds until the next retry is due."""
        hook = self.bot.webhook
        if hook is None:
            return 3600.0
        now = time.monotonic()
        wake = 3600.0
        busy_chats = {_chat_key(u) for uid, u in self._inflight_updates()}
        seen: set[int | None] = set()
        for update in list(self.bot.updates):
            uid = update["update_id"]
            chat = _chat_key(update)
            if chat in seen:
                continue  # an earlier update of this chat must be delivered first
            seen.add(chat)
            if uid in self._inflight or chat in busy_chats:
                continue
            due = self._retry_at.get(uid, 0.0)
            if due > now:
                wake = min(wake, due - now)
                continue
            if len(self._inflight) >= hook.max_connections:
                break
            self._inflight[uid] = asyncio.get_running_loop().create_task(
                self._deliver(session, update)
            )
        return wake

    def _inflight_updates(self) -> list[tuple[int, dict[str, Any]]]:
        by_id = {u["update_id"]: u for u in self.bot.updates}
        return [(uid, by_id[uid]) for uid in self._inflight if uid in by_id]

    async def _deliver(self, session: aiohttp.ClientSession, update: dict[str, Any]) -> None:
        uid = update["update_id"]
        hook = self.bot.webhook
        try:
            if hook is None:
                return
            headers = {"Content-Type": "application/json"}
            if hook.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
            error: str | None = None
            reply: Any = None
            try:
                async with session.post(hook.url, data=json.dumps(update), headers=headers) as resp:
                    body = await resp.read()
                    if 200 <= resp.status < 300:
                        reply = _json_or_none(body)
                    else:
                        error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = f"Connection failed: {type(exc).__name__}"
            if error is None:
                self.bot.updates = [u for u in self.bot.updates if u["update_id"] != uid]
                self._attempts.pop(uid, None)
                self._retry_at.pop(uid, None)
                if isinstance(reply, dict) and isinstance(reply.get("method"), str):
                    await self._run_reply(reply)
            else:
                hook.last_error_date = self.state.now()
                hook.last_error_message = error
                attempts = self._attempts.get(uid, 0) + 1
                self._attempts[uid] = attempts
                cfg = self.state.config
                delay = min(cfg.webhook_retry_max, cfg.webhook_retry_initial * 2 ** (attempts - 1))
                self._retry_at[uid] = time.monotonic() + delay
        finally:
            self._inflight.pop(uid, None)
            self.bot.notify()

    async def _run_reply(self, reply: dict[str, Any]) -> None:
        # Telegram executes a method returned in the webhook response body, ignoring its result.
        values = {k: v for k, v in reply.items() if k != "method"}
        with contextlib.suppress(Exception):
            await self._run_method(self.state, self.bot, reply["method"], Params(values))


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body.strip() else None
    except ValueError:
        return None
