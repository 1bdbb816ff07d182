"""Simulated candidates for bench/rush.py, acting inside the emulator's process.

Each candidate sends its updates straight into the emulator's state (what
`/control/say` and `/control/press` do, without an HTTP round trip per action) and
waits until the emulator's webhook delivery of that update was answered with a 2xx:
the bot answers only once the update's replies are out, so its screen is then in the
chat. A step's latency is from queueing the update to that answer (the queue in the
emulator included, as a user would see it).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from emulator.server import RunningEmulator
from emulator.state import BotState, CallbackRecord, StoredMessage
from emulator.textparse import command_entities
from emulator.webhook import WebhookWorker


class StepFailed(Exception):
    """The bot showed something else than the step expects (or nothing in time)."""


@dataclass
class Tracker:
    """Futures of updates waiting for their webhook answer; counts every delivery."""

    waiting: dict[int, asyncio.Future[None]] = field(default_factory=dict)
    pushed: int = 0
    answered: int = 0
    failed_deliveries: int = 0  # non-2xx or connection errors (the emulator retries them)
    # update id -> [queued, delivery started, answered] (time.perf_counter()), for --timeline
    times: dict[int, list[float]] = field(default_factory=dict)


_TRACKER = Tracker()
_ORIGINAL_DELIVER = WebhookWorker._deliver


async def _traced_deliver(self: WebhookWorker, session: Any, update: dict[str, Any]) -> None:
    uid = update["update_id"]
    times = _TRACKER.times.get(uid)
    if times is not None:
        times[1] = time.perf_counter()  # the last attempt's start
    await _ORIGINAL_DELIVER(self, session, update)
    if uid in self._attempts:  # the emulator recorded a failed attempt and will retry
        _TRACKER.failed_deliveries += 1
        return
    _TRACKER.answered += 1
    if times is not None:
        times[2] = time.perf_counter()
    waiter = _TRACKER.waiting.pop(uid, None)
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


def install_tracer() -> Tracker:
    """Wraps the emulator's webhook delivery in this process (the bench owns it)."""
    WebhookWorker._deliver = _traced_deliver  # type: ignore[method-assign]
    _TRACKER.waiting.clear()
    _TRACKER.pushed = _TRACKER.answered = _TRACKER.failed_deliveries = 0
    _TRACKER.times.clear()
    return _TRACKER


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    completed: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    first_start: float = 0.0
    last_done: float = 0.0
    # Every step that succeeded: (name, started, ended, its updates' ids), for --timeline.
    spans: list[tuple[str, float, float, list[int]]] = field(default_factory=list)


class Candidate:
    """One user in the emulator; every action waits for the bot's answer."""

    def __init__(
        self, emulator: RunningEmulator, bot: BotState, user_id: int, step_timeout: float
    ) -> None:
        self.state = emulator.state
        self.bot = bot
        self.user = self.state.add_user(user_id, f"考生{user_id}", language_code="zh-hans")
        self.chat = bot.chat(self.user)
        self.chat.started = True
        self.step_timeout = step_timeout
        self.pushed: list[int] = []  # the ids of the updates of the current step

    def next_step(self) -> None:
        self.pushed = []

    async def _push(self, kind: str, payload: dict[str, Any]) -> None:
        uid = self.bot.push_update(kind, payload)
        if uid is None:
            raise StepFailed("update dropped by allowed_updates")
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        _TRACKER.waiting[uid] = waiter
        queued = time.perf_counter()
        _TRACKER.times[uid] = [queued, queued, queued]
        self.pushed.append(uid)
        _TRACKER.pushed += 1
        try:
            await asyncio.wait_for(waiter, self.step_timeout)
        except TimeoutError:
            _TRACKER.waiting.pop(uid, None)
            raise StepFailed("no answer in time") from None

    async def command(self, name: str) -> None:
        text = f"/{name}"
        msg = StoredMessage(
            message_id=self.chat.new_message_id(),
            chat_id=self.user.id,
            from_bot=False,
            date=self.state.now(),
            text=text,
            entities=command_entities(text),
        )
        self.chat.messages[msg.message_id] = msg
        await self._push("message", msg.to_api(self.bot, self.user))

    def menu(self) -> tuple[StoredMessage, list[dict[str, Any]]]:
        """The bot's latest message with buttons, and its buttons."""
        for msg in reversed(self.chat.messages.values()):
            if msg.from_bot and not msg.deleted and msg.reply_markup:
                rows = msg.reply_markup.get("inline_keyboard") or []
                return msg, [b for row in rows for b in row]
        raise StepFailed("no buttons shown")

    def actions(self) -> set[str]:
        _, buttons = self.menu()
        return {_action(b) for b in buttons if b.get("callback_data")}

    async def press(self, action: str | None, *args: str) -> None:
        """Press the button for `action` (with these first args); None: the first button."""
        msg, buttons = self.menu()
        for button in buttons:
            data = button.get("callback_data")
            if not data:
                continue
            parts = data.split(":")
            wanted = parts[2:3] == [action] and tuple(parts[3 : 3 + len(args)]) == args
            if action is None or wanted:
                break
        else:
            shown = sorted(self.actions())
            text = (msg.text or "")[:60]
            raise StepFailed(f"no button {action} {args} (shown: {shown}; {text!r})")
        query_id = str(secrets.randbits(63))
        payload = {
            "id": query_id,
            "from": self.user.as_user(),
            "message": msg.to_api(self.bot, self.user),
            "chat_instance": str(self.user.id),
            "data": data,
        }
        # The record lets answerCallbackQuery find the query, as after /control/press.
        self.bot.callbacks[query_id] = CallbackRecord(
            query_id, self.user.id, msg.message_id, data, time.monotonic(), 0
        )
        await self._push("callback_query", payload)
        self.bot.callbacks.pop(query_id, None)

    def pay_url(self) -> str:
        _, buttons = self.menu()
        for b in buttons:
            if b.get("url"):
                return str(b["url"])
        raise StepFailed("no pay link shown")


def _action(button: dict[str, Any]) -> str:
    parts = (button.get("callback_data") or "").split(":")
    return parts[2] if len(parts) > 2 else ""


Step = Callable[[Candidate], Awaitable[None]]


async def sandbox_pay(http: aiohttp.ClientSession, url: str) -> None:
    """Opens the pay link (the sandbox records the payment) and presses Pay."""
    async with http.get(url) as resp:
        if resp.status != 200:
            raise StepFailed(f"pay page {resp.status}")
        await resp.read()
    parts = urlsplit(url)
    payment_id = parts.path.rstrip("/").rsplit("/", 1)[-1]
    base = f"{parts.scheme}://{parts.netloc}"
    async with http.post(f"{base}/pay/{payment_id}/pay?lang=en") as resp:
        page = await resp.text()
    if resp.status != 200 or "Payment successful" not in page:
        raise StepFailed(f"sandbox pay {resp.status}")
    if "has not been told yet" in page:  # the callback to the bot failed
        raise StepFailed("sandbox callback not delivered")


async def run_candidates(
    candidates: list[Candidate],
    script: list[tuple[str, Step]],
    *,
    arrival_rate: float,
    deadline: float,
) -> Results:
    """Runs every candidate through `script`; all at once, or `arrival_rate` per second."""
    results = Results()
    results.first_start = time.perf_counter()
    end = time.monotonic() + deadline

    async def one(index: int, candidate: Candidate) -> None:
        if arrival_rate > 0:
            await asyncio.sleep(index / arrival_rate)
        for name, step in script:
            if time.monotonic() > end:
                results.failed += 1
                results.errors["deadline"] += 1
                return
            started = time.perf_counter()
            candidate.next_step()
            try:
                await step(candidate)
            except StepFailed as failed:
                results.failed += 1
                results.errors[f"{name}: {str(failed)[:90]}"] += 1
                return
            except (aiohttp.ClientError, TimeoutError) as exc:
                results.failed += 1
                results.errors[f"{name}: {type(exc).__name__}"] += 1
                return
            ended = time.perf_counter()
            results.latencies[name].append(ended - started)
            results.spans.append((name, started, ended, candidate.pushed))
        results.completed += 1
        results.last_done = time.perf_counter()

    await asyncio.gather(*(one(i, c) for i, c in enumerate(candidates)))
    return results
