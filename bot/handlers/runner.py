"""Runs Events through the conversation engine, one user's updates strictly in arrival order."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from bot.conversation.types import (
    Action,
    AnswerButton,
    Event,
    EventKind,
    Performer,
    SendDocument,
    SendResult,
    SendText,
)
from foundation.i18n import pick_locale, t

log = logging.getLogger(__name__)

# Outcomes of an action after which sending it again may still succeed later: a reply
# with one of these stays kept for a replay (see bot/conversation/replies.py).
UNDELIVERED = ("transient", "retry-after")
# One user's updates waiting in this process (the running one included). A person types a
# few; a script may send tens of thousands, each held in memory: beyond this the excess is
# dropped (acknowledged, so Telegram does not re-deliver it) with one note per burst.
MAX_PENDING_PER_USER = 100


class ConversationEngine(Protocol):
    """The two calls the adapters make into `bot/conversation/` (nothing else couples them)."""

    async def handle(self, event: Event) -> list[Action]: ...

    async def remember_menu(self, event: Event, message_id: int) -> None: ...


@dataclass
class RunnerStats:
    """Counters for the log, tests and the bench."""

    events: int = 0
    failed_events: int = 0
    actions: int = 0
    failed_actions: int = 0
    dropped_events: int = 0
    blocked_users: set[int] = field(default_factory=set)


class EventRunner:
    """Hands Events to the engine and carries out the returned Actions through a Performer.

    `submit` is synchronous and called in update order by the adapter, so per-user FIFO
    queues keep one user's updates in order while different users run concurrently
    (the engine's row lock keeps the order across processes; here it also avoids two
    updates of one user waiting on each other's lock in one process).
    """

    def __init__(self, engine: ConversationEngine, performer: Performer) -> None:
        self.engine = engine
        self.performer = performer
        self.stats = RunnerStats()
        self._queues: dict[int, deque[tuple[Event, asyncio.Future[None]]]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._in_flight: dict[int, asyncio.Future[None]] = {}
        # The last update ids carried out, and who waits for one (tests, the bench).
        self._processed: OrderedDict[int, None] = OrderedDict()
        self._waiters: dict[int, list[asyncio.Future[None]]] = {}
        # Users whose current burst went over MAX_PENDING_PER_USER: how many were dropped.
        self._dropped: dict[int, int] = {}
        self._notes: set[asyncio.Task[SendResult]] = set()

    def submit(self, event: Event) -> asyncio.Future[None]:
        """Queue `event` behind the user's earlier ones; the future resolves when it is done.

        Beyond MAX_PENDING_PER_USER waiting updates of one user the event is dropped: its
        future is already done, and the user is told once per burst."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        pending = self._queues.get(event.user_id)
        if pending is not None and len(pending) >= MAX_PENDING_PER_USER:
            self._drop(event)
            done.set_result(None)
            return done
        self._in_flight[event.update_id] = done
        done.add_done_callback(lambda f: self._forget(event.update_id, f))
        queue = self._queues.setdefault(event.user_id, deque())
        queue.append((event, done))
        if event.user_id not in self._workers:
            self._workers[event.user_id] = asyncio.create_task(
                self._drain_user(event.user_id), name=f"user-{event.user_id}"
            )
        return done

    def _drop(self, event: Event) -> None:
        self.stats.dropped_events += 1
        self._mark_processed(event.update_id)
        dropped = self._dropped.get(event.user_id, 0)
        self._dropped[event.user_id] = dropped + 1
        if dropped:
            return  # told already in this burst
        log.warning(
            "user %s: more than %d updates pending; dropping the excess",
            event.user_id,
            MAX_PENDING_PER_USER,
        )
        note = SendText(
            event.chat_id,
            t(pick_locale(event.language_code), "bot-too-many-pending"),
            remember_as_menu=False,
        )
        task = asyncio.create_task(self._perform(note), name=f"note-{event.user_id}")
        self._notes.add(task)  # held until sent: a bare task may be collected mid-way
        task.add_done_callback(self._notes.discard)

    def _forget(self, update_id: int, done: asyncio.Future[None]) -> None:
        # A re-delivered update may have replaced the entry: only remove our own.
        if self._in_flight.get(update_id) is done:
            del self._in_flight[update_id]

    def in_flight(self, update_id: int) -> asyncio.Future[None] | None:
        """The completion of an update still queued or running (webhook mode waits on it)."""
        return self._in_flight.get(update_id)

    async def wait_processed(self, update_id: int, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the update has been carried out (its actions performed or given up)."""
        if update_id in self._processed:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(update_id, []).append(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        finally:
            waiters = self._waiters.get(update_id, [])
            if waiter in waiters:
                waiters.remove(waiter)
            if not waiters:
                self._waiters.pop(update_id, None)

    def _mark_processed(self, update_id: int) -> None:
        self._processed[update_id] = None
        while len(self._processed) > 4096:
            self._processed.popitem(last=False)
        for waiter in self._waiters.pop(update_id, []):
            if not waiter.done():
                waiter.set_result(None)

    async def drain(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a shutdown bound
        """Wait for queued work to finish (on shutdown), then cancel what is left."""
        workers = [*self._workers.values(), *self._notes]
        if not workers:
            return
        _done, pending = await asyncio.wait(workers, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("shutdown: %d users' updates cancelled mid-way", len(pending))
            await asyncio.gather(*pending, return_exceptions=True)

    async def _drain_user(self, user_id: int) -> None:
        queue = self._queues[user_id]
        try:
            while queue:
                event, done = queue[0]
                try:
                    await self.process(event)
                except Exception:  # keep serving the user's next updates
                    log.exception("update %s: unexpected failure", event.update_id)
                finally:
                    queue.popleft()
                    self._mark_processed(event.update_id)
                    if not done.done():
                        done.set_result(None)
        finally:
            # On cancellation the waiters are released too, so a webhook answer never hangs.
            for _event, done in queue:
                if not done.done():
                    done.cancel()
            self._queues.pop(user_id, None)
            self._workers.pop(user_id, None)
            dropped = self._dropped.pop(user_id, 0)  # the burst is over: a new one is told again
            if dropped:
                log.warning("user %s: %d updates dropped in one burst", user_id, dropped)

    async def process(self, event: Event) -> None:
        """One event: engine, then its actions in order."""
        self.stats.events += 1
        try:
            actions = await self.engine.handle(event)
        except Exception:
            # The engine rolls back its unit of work; the user gets an apology, the log the id.
            self.stats.failed_events += 1
            log.exception(
                "update %s (user %s) failed in the engine", event.update_id, event.user_id
            )
            actions = self._apology(event)
        await self.perform_all(event, actions)

    async def replay_unsent(self) -> int:
        """Sends the kept replies whose process died (or could not send) before they were
        out; at start-up and now and then. Returns how many updates' replies went."""
        unsent = getattr(self.engine, "unsent_replies", None)
        if unsent is None:
            return 0
        replies = await unsent()
        for event, actions in replies:
            log.info("update %s: sending its kept reply again", event.update_id)
            await self.perform_all(event, actions)
        flush = getattr(self.engine, "flush_clears", None)
        if replies and flush is not None:
            await flush()  # the replayed replies forgotten together, now
        return len(replies)

    async def perform_all(self, event: Event, actions: Iterable[Action]) -> None:
        answered = False
        blocked = False
        delivered = True
        menu_message_id: int | None = None
        replies_sent = getattr(self.engine, "replies_sent", None)
        for action in actions:
            if isinstance(action, AnswerButton):
                answered = True
            elif blocked:
                continue  # the chat is closed to us: further messages would fail the same way
            result = await self._perform(action)
            if result.error in UNDELIVERED and not isinstance(action, AnswerButton):
                delivered = False
            if result.error == "blocked":
                blocked = True
                self.stats.blocked_users.add(event.user_id)
                log.info("user %s has blocked the bot (update %s)", event.user_id, event.update_id)
                continue
            if isinstance(action, SendText) and self._is_new_menu(action, result):
                assert result.message_id is not None
                if replies_sent is None:
                    await self.engine.remember_menu(event, result.message_id)
                else:
                    menu_message_id = result.message_id  # recorded with the confirmation
            elif isinstance(action, SendDocument) and action.cache_key and result.file_id:
                await self._remember_file(action.cache_key, result.file_id, action.file_id)
        if event.kind is EventKind.BUTTON and event.callback_id and not answered:
            # The client shows a spinner until the query is answered: always answer it.
            await self._perform(AnswerButton(event.callback_id))
        if replies_sent is not None:
            # One statement: the new menu, and the kept reply forgotten once it is out.
            await replies_sent(event, menu_message_id=menu_message_id, delivered=delivered)

    async def _remember_file(self, cache_key: str, file_id: str, sent_as: str | None) -> None:
        # Optional engine hook: the next send of this document reuses Telegram's copy.
        remember = getattr(self.engine, "remember_file", None)
        if remember is None or file_id == sent_as:
            return
        try:
            await remember(cache_key, file_id)
        except Exception:
            log.exception("could not remember file id for %s", cache_key)

    @staticmethod
    def _is_new_menu(action: SendText, result: SendResult) -> bool:
        # A failed edit falls back to a new message: that one becomes the menu, too.
        return (
            action.remember_as_menu
            and result.ok
            and result.message_id is not None
            and result.message_id != action.edit_message_id
        )

    async def _perform(self, action: Action) -> SendResult:
        self.stats.actions += 1
        try:
            result = await self.performer.perform(action)
        except Exception:
            log.exception("action %s failed", type(action).__name__)
            result = SendResult(ok=False, error="failed")
        if not result.ok and result.error not in ("blocked", "not-modified"):
            self.stats.failed_actions += 1
        return result

    @staticmethod
    def _apology(event: Event) -> list[Action]:
        text = t(pick_locale(event.language_code), "bot-error-apology")
        actions: list[Action] = []
        if event.callback_id:
            actions.append(AnswerButton(event.callback_id))
        actions.append(SendText(event.chat_id, text, remember_as_menu=False))
        return actions
