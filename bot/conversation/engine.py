"""The entry point of the adapters: one Event in, a list of Actions out, one unit of work each."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from admission import tickets
from bot.conversation import callbacks, flows, inputs
from bot.conversation.context import (
    BUTTON_HANDLERS,
    CONTACT_HANDLERS,
    SCREENS,
    TEXT_HANDLERS,
    WITHOUT_SAVEPOINT,
    Ctx,
    PartialWrite,
    Screen,
)
from bot.conversation.replies import dump_actions, load_actions
from bot.conversation.steps import account as account_steps
from bot.conversation.steps import admin as admin_steps
from bot.conversation.steps import load as load_steps
from bot.conversation.types import (
    Action,
    AnswerButton,
    Button,
    DeleteMessage,
    Event,
    EventKind,
    SendText,
)
from foundation.clock import Clock
from foundation.i18n import pick_locale, t
from foundation.settings import Settings
from outgoing.mailer import Mailer
from registration import errors
from storage.db import Database, UnitOfWork
from storage.direct import WriteRefused

if TYPE_CHECKING:
    from storage.repos.conversations import ConversationDTO
    from storage.repos.snapshot import CandidateSnapshot

log = logging.getLogger(__name__)

# Transitions taken that flows.py does not declare (logged; the tests assert none).
UNDECLARED: list[tuple[str, str, str]] = []

_COMMANDS = {"start", "cancel", "help", "language"}
# The handlers of flows.VERSIONLESS_BUTTONS (pressed from an outbox notice, any step).
VERSIONLESS_HANDLERS = {"notme": account_steps.not_me}

# Telegram keeps an unconfirmed update for at most a day; a week of processed ids is ample.
KEEP_PROCESSED = timedelta(days=7)
# How often a bot process drops older processed ids (one indexed DELETE; several processes
# doing it is harmless). Done here and not in the worker, so a bot without a worker stays small.
PRUNE_EVERY = timedelta(hours=1)
# processed_updates.platform is VARCHAR(16).
MAX_UPDATES_KEY = 16
# "This step takes: ..." names at most this many buttons (the screen shows them all).
MAX_CHOICES_NAMED = 8
# A kept reply (see replies.py) not confirmed sent after this long is sent again, at
# start-up, by the runner's periodic replay, or before the user's next update: longer
# than a send with its retries takes, so a live process is not overtaken.
REPLAY_AFTER = timedelta(seconds=60)
# Update ids whose reply this process kept and has not yet confirmed (bounded).
MAX_KEPT = 10_000
# A kept reply confirmed out is forgotten this long after, in one statement with the
# others confirmed meanwhile (`replies_sent`, `flush_clears`), or at once when this many
# wait. A process that dies in between leaves them kept: they are sent again after
# REPLAY_AFTER, as when it dies between the sends and the clear.
CLEAR_AFTER = 0.02  # seconds
CLEAR_BATCH = 500
# Chats whose step this process remembers, to foresee an update that writes (bounded).
MAX_STEP_HINTS = 100_000


class Conversations:
    """Every candidate flow, platform-neutral; state lives in the database."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: Settings,
        mailer: Mailer,
        *,
        platform: str = "telegram",
        bot_key: str | None = None,
    ) -> None:
        """`bot_key` (e.g. `tg:<bot id>`) keys the processed update ids: update ids are
        only unique per bot, so a second bot on this database (or a restarted emulator)
        must not see its updates taken for re-deliveries. None keeps the bare platform."""
        load_steps()
        self.db = db
        self.clock = clock
        self.settings = settings
        self.mailer = mailer
        self.platform = platform
        self.updates_key = bot_key or platform
        if len(self.updates_key) > MAX_UPDATES_KEY:
            raise ValueError(f"bot key {self.updates_key!r} is over {MAX_UPDATES_KEY} characters")
        self._pruned_at: datetime | None = None
        # Update id -> (platform, user, chat) of replies kept by this process, until sent.
        self._kept: dict[int, tuple[str, int, int]] = {}
        # (user, chat) -> the step its last update in this process left it at: a hint
        # only (another process may have moved it), to send an update that will write
        # straight to a transaction instead of through a refused optimistic attempt.
        self._step_hints: dict[tuple[int, int], str] = {}
        # The kinds of update (step, event kind, button or command) whose optimistic
        # attempt was refused because they wrote (steps x buttons: bounded).
        self._writers: set[tuple[str, EventKind, str | None]] = set()
        # The kinds of update whose step asked for the candidate (account, registration)
        # the last time: on PostgreSQL their snapshot is read with the conversation.
        self._readers: set[tuple[str, EventKind, str | None]] = set()
        # Kept replies confirmed out and not yet forgotten: (platform, user, chat) -> the
        # update id, written together by `flush_clears`; the task that will, and early
        # flushes. A chat's later clear replaces its earlier one (a row keeps one reply).
        self._clears: dict[tuple[str, int, int], int] = {}
        self._clearing: asyncio.Task[None] | None = None
        self._flushes: set[asyncio.Task[int]] = set()
        # Clears written and the statements that wrote them (logged at `close`).
        self.clears_sent = 0
        self.clear_statements = 0

    async def handle(self, event: Event) -> list[Action]:
        """Applies one update; never raises (an unexpected error becomes an apology).

        On PostgreSQL an update is first tried optimistically (`_attempt`): without a
        transaction, as long as it only reads; whatever cannot stand that way (a write, a
        kept reply to replay, a new chat, the row changed meanwhile) is applied in a
        transaction from the start (`_apply`), as on SQLite."""
        try:
            optimistic = self.db.optimistic and not self._foresee_write(event)
            actions = await self._optimistically(event) if optimistic else None
            if actions is None:
                actions = await self._transactionally(event)
        except Exception:
            log.exception(
                "update %s (%s user %s) failed", event.update_id, self.platform, event.user_id
            )
            return await self._apologize(event)
        await self._prune_processed()
        return actions

    async def _transactionally(self, event: Event) -> list[Action]:
        """The update applied in a transaction (`_apply`). A service run without its
        savepoint that refused after a write (`PartialWrite`, see `Ctx.call`: never on
        purpose) rolled the whole transaction back, nothing of it committed or sent: the
        update is applied again with every savepoint taken."""
        try:
            return await self.db.run(lambda uow: self._apply(uow, event))
        except PartialWrite:
            log.error("update %s: a refusal after a write; applied again", event.update_id)
            return await self.db.run(lambda uow: self._apply(uow, event, savepoints=True))

    async def remember_menu(self, event: Event, message_id: int) -> None:
        """Records the message that now carries the menu (sent by the adapter just now)."""

        async def work(uow: UnitOfWork) -> None:
            now = self.clock.now()
            # One UPDATE; the row exists unless the update that sent the menu failed.
            if not await uow.conversations.set_menu(
                self.platform, event.user_id, event.chat_id, message_id, now
            ):
                conv = await uow.conversations.lock_or_create(
                    self.platform, event.user_id, event.chat_id, now
                )
                await uow.conversations.save(replace(conv, menu_message_id=message_id), now)
            await uow.commit()

        try:
            await self.db.run(work)
        except Exception:
            log.exception("could not remember menu message of update %s", event.update_id)

    async def replies_sent(
        self, event: Event, *, menu_message_id: int | None, delivered: bool
    ) -> None:
        """The adapter carried out the update's actions: records the new menu message, and
        forgets the kept reply when everything was `delivered`. A new menu goes in one
        UPDATE at once (with the clear), as the chat's next update must read it; a clear
        alone is only queued, written with the others of the next CLEAR_AFTER in one
        statement (`flush_clears`): the caller does not wait for it. An undelivered reply
        stays for a replay."""
        # Undelivered: the row keeps the reply for a replay; this process stops tracking it.
        clear = self._kept.pop(event.update_id, None) is not None and delivered
        if not clear and menu_message_id is None:
            return
        if menu_message_id is None:
            self._queue_clear(event)
            return

        async def work(uow: UnitOfWork) -> None:
            now = self.clock.now()
            # With nothing kept, an update id no row carries: only the menu is recorded.
            update_id = event.update_id if clear else -1
            if not await uow.conversations.reply_sent(
                self.platform,
                event.user_id,
                event.chat_id,
                update_id,
                now,
                menu_message_id=menu_message_id,
            ):
                conv = await uow.conversations.lock_or_create(
                    self.platform, event.user_id, event.chat_id, now
                )
                await uow.conversations.save(replace(conv, menu_message_id=menu_message_id), now)
            await uow.commit()

        try:
            await self.db.run(work)
        except Exception:
            log.exception("could not record the replies of update %s as sent", event.update_id)

    def _queue_clear(self, event: Event) -> None:
        self._clears[(self.platform, event.user_id, event.chat_id)] = event.update_id
        if len(self._clears) >= CLEAR_BATCH:
            flush = asyncio.create_task(self.flush_clears(), name="kept-reply-clears")
            self._flushes.add(flush)  # held until done: a bare task may be collected
            flush.add_done_callback(self._flushes.discard)
        elif self._clearing is None:
            self._clearing = asyncio.create_task(self._clear_later(), name="kept-reply-clears")

    async def _clear_later(self) -> None:
        await asyncio.sleep(CLEAR_AFTER)
        self._clearing = None  # clears queued from now on start the next wait
        await self.flush_clears()

    async def flush_clears(self) -> int:
        """Forgets the kept replies queued by `replies_sent`, in one statement, each only if
        its row still keeps that update's reply; the number forgotten. Never raises: a
        clear that fails leaves the reply kept, to be sent again after REPLAY_AFTER."""
        queued, self._clears = self._clears, {}
        if not queued:
            return 0
        keys = [(*chat, update_id) for chat, update_id in queued.items()]

        async def work(uow: UnitOfWork) -> int:
            cleared = await uow.conversations.replies_cleared(keys)
            await uow.commit()
            return cleared

        self.clears_sent += len(keys)
        self.clear_statements += 1
        try:
            return await self.db.run(work)
        except Exception:
            log.exception("could not forget %d kept replies (they will be sent again)", len(keys))
            return 0

    async def close(self) -> None:
        """On shutdown, before the database is released: the queued clears written."""
        if self._clearing is not None:
            self._clearing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clearing
            self._clearing = None
        if self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)
        await self.flush_clears()
        if self.clear_statements:
            log.info(
                "%d kept replies confirmed out were forgotten in %d statements",
                self.clears_sent,
                self.clear_statements,
            )

    async def unsent_replies(self, limit: int = 200) -> list[tuple[Event, list[Action]]]:
        """Kept replies older than REPLAY_AFTER (their process died, or could not send),
        claimed for this process: each with a stand-in Event for `replies_sent`. The
        clears this process queued are written first: a reply it knows is out is not
        claimed."""
        await self.flush_clears()

        async def work(uow: UnitOfWork) -> list[Any]:
            now = self.clock.now()
            rows = await uow.conversations.claim_unsent_replies(
                now - REPLAY_AFTER, now, limit, platform=self.platform
            )
            await uow.commit()
            return rows

        out: list[tuple[Event, list[Action]]] = []
        for conv in await self.db.run(work):
            if conv.platform != self.platform or conv.reply_update_id is None:
                continue
            event = Event(
                platform=conv.platform,
                update_id=conv.reply_update_id,
                user_id=conv.user_id,
                chat_id=conv.chat_id,
                kind=EventKind.OTHER,
            )
            self._remember_kept(event)
            out.append((event, load_actions(conv.reply or [])))
        return out

    def _replay_due(self, conv: ConversationDTO, now: datetime) -> bool:
        """A kept reply due for replay, unless this process confirmed it out and its clear
        is still queued (a send that took longer than REPLAY_AFTER)."""
        if not _replay_due(conv, now):
            return False
        queued = self._clears.get((conv.platform, conv.user_id, conv.chat_id))
        return queued is None or queued != conv.reply_update_id

    def _remember_kept(self, event: Event) -> None:
        if len(self._kept) >= MAX_KEPT:
            self._kept.pop(next(iter(self._kept)))
        self._kept[event.update_id] = (self.platform, event.user_id, event.chat_id)

    async def remember_file(self, cache_key: str, file_id: str) -> None:
        """Keeps the platform's id of a document just uploaded, so the next send of it is
        by id, without the bytes (issue 6: the print rush). Keys: `ticket:<entry id>:<locale>`."""
        kind, _, rest = cache_key.partition(":")
        entry_id, _, locale = rest.partition(":")
        if kind != "ticket" or not entry_id.isdigit() or not locale:
            log.warning("no cache for document key %r", cache_key)
            return

        async def work(uow: UnitOfWork) -> None:
            await tickets.remember_file_id(
                uow, entry_id=int(entry_id), locale=locale, file_id=file_id
            )
            await uow.commit()

        await self.db.run(work)

    async def _prune_processed(self) -> None:
        """Drops processed update ids older than KEEP_PROCESSED, at most once per PRUNE_EVERY."""
        now = self.clock.now()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now

        async def work(uow: UnitOfWork) -> int:
            dropped = await uow.conversations.forget_processed_before(now - KEEP_PROCESSED)
            await uow.commit()
            return dropped

        try:
            dropped = await self.db.run(work)
        except Exception:
            # Only housekeeping: the next hour tries again.
            log.exception("could not drop old processed update ids")
            return
        if dropped:
            log.info("dropped %d processed update ids before %s", dropped, now - KEEP_PROCESSED)

    # --- one update ----------------------------------------------------------------

    async def _optimistically(self, event: Event) -> list[Action] | None:
        """The update applied without a transaction (`_attempt`), or None when it must be
        applied in one: nothing of the attempt was written then, nor sent (the actions go
        out only once returned)."""
        uow = self.db.uow(optimistic=True)
        try:
            async with uow:
                return await self._attempt(uow, event)
        except WriteRefused as refused:
            log.debug("update %s writes (%s): applied in a transaction", event.update_id, refused)
            return None
        except Exception:
            if uow.commit_sent:
                raise  # the save may have been applied: as a COMMIT lost on the way
            # A read failed (a lost connection, say), or the save did and so applied nothing
            # (`finish_optimistic`): the transaction tries it all again.
            log.warning(
                "optimistic update %s failed; applied in a transaction",
                event.update_id,
                exc_info=True,
            )
            return None

    async def _attempt(self, uow: UnitOfWork, event: Event) -> list[Action] | None:
        """PostgreSQL: the update as `_apply` would apply it, for an update that only reads
        (navigation, screens, refusals): no BEGIN, no COMMIT, no row lock. The conversation
        is read with its row version (one statement, with whether the update was applied
        before); the step runs in a unit of work that refuses any write (WriteRefused:
        a savepoint, `Ctx.call`, a statement that writes or locks, a commit, mail queued
        for after one); and the new state is saved by one statement only if the row is
        still the version read, recording the update id in the same statement.

        Why it is safe, whatever runs at the same time:
        * another update of the chat (another process, or the transactional redo of one)
          writes the row: the save finds a new version and writes nothing (if that writer
          has not committed yet, the save waits for its row lock and then finds the new
          version), so this update is applied again in a transaction, after it;
        * the same update delivered twice at once: the first save changes the version, the
          second saves nothing and its transactional redo finds the id recorded (a
          re-delivery); one already recorded (committed) when read or saved is never saved;
        * the adapter's bookkeeping of an earlier reply (`remember_menu`, `replies_sent`),
          or the replay claiming a kept reply, write the row: the same as another update,
          so the menu message they recorded is never overwritten with the one read here;
        * the other reads are what they would be in a transaction: at READ COMMITTED each
          statement of a transaction has its own snapshot too, and only the conversation
          row was locked, which the row version now stands for.
        * a new chat (no conversation row when read): the save creates the row only if
          there is still none, so a concurrent creator makes it save nothing, as above.
        None: applied in a transaction instead (a kept reply due for replay, or the row
        changed, or was created, before the save)."""
        now = self.clock.now()
        session_id = self._foresee_snapshot(uow, event, now)
        peek = await uow.conversations.peek(
            self.updates_key,
            event.update_id,
            self.platform,
            event.user_id,
            event.chat_id,
            session_id=session_id,
        )
        if peek.processed:
            return self._redelivered(event)
        conv = peek.conversation
        if conv is None:
            # A new chat (its first update, usually /start): the row `lock_or_create` would
            # make, created by the save only if there is still none (`save_unchanged`).
            conv = uow.conversations.new(self.platform, event.user_id, event.chat_id)
        elif peek.row_version is None or self._replay_due(conv, now):
            return None
        found = _preloaded(session_id, peek.snapshot)
        try:
            actions, saved, keep = await self._step(uow, event, conv, [], found)
        except WriteRefused:
            self._writers.add(_write_key(event, _step_of(conv)))
            raise
        if keep:  # cannot be: whatever writes was refused; but never save it unkept
            return None
        row_version = peek.row_version
        was_saved, recorded = await uow.finish_optimistic(
            lambda: uow.conversations.save_unchanged(
                saved, row_version, self.updates_key, event.update_id, now
            )
        )
        if not was_saved:
            log.debug("conversation of update %s changed meanwhile: applied again", event.update_id)
            return None
        if not recorded:
            # Recorded between the save's UPDATE and its INSERT by an update that wrote no
            # state (an apology of a failed delivery of the same update): the state
            # saved stands, and so does the screen that shows it.
            log.warning("update %s was recorded meanwhile by another delivery", event.update_id)
        return actions

    def _foresee_write(self, event: Event) -> bool:
        """Whether the update will write, judged by the step this process last left the
        chat at and what updates of that kind did there before in this process (a handler
        may write through `Ctx.call` or not, by what it reads): such an update goes
        straight to a transaction. A wrong guess costs a refused attempt, or a
        transaction, never more."""
        state = self._step_hints.get((event.user_id, event.chat_id))
        return state is not None and _write_key(event, state) in self._writers

    def _foresee_snapshot(self, uow: UnitOfWork, event: Event, now: datetime) -> int | None:
        """The session whose candidate snapshot to read with the conversation (PostgreSQL),
        or None: when the chat's step is known to this process and updates of this kind
        there asked for the candidate the last time, and the current session is cached.
        A wrong guess costs a read the step does not use, or the step's own read."""
        if self.db.is_sqlite:
            return None
        state = self._step_hints.get((event.user_id, event.chat_id))
        if state is None or _write_key(event, state) not in self._readers:
            return None
        session = uow.sessions.cached_current(now)
        return session.id if session is not None else None

    def _hint_step(self, event: Event, state: str) -> None:
        key = (event.user_id, event.chat_id)
        self._step_hints.pop(key, None)  # moved to the end: the oldest goes first
        if len(self._step_hints) >= MAX_STEP_HINTS:
            self._step_hints.pop(next(iter(self._step_hints)))
        self._step_hints[key] = state

    def _learn_reader(self, key: tuple[str, EventKind, str | None], asked: bool) -> None:
        if asked:
            self._readers.add(key)  # steps x buttons and commands: bounded
        else:
            self._readers.discard(key)

    def _redelivered(self, event: Event) -> list[Action]:
        # Re-delivered: it was applied before. Only stop the button's spinner.
        return [AnswerButton(event.callback_id)] if event.callback_id else []

    async def _apply(
        self, uow: UnitOfWork, event: Event, *, savepoints: bool = False
    ) -> list[Action]:
        now = self.clock.now()
        session_id = self._foresee_snapshot(uow, event, now)
        started = await uow.conversations.start_update(
            self.updates_key,
            event.update_id,
            self.platform,
            event.user_id,
            event.chat_id,
            now,
            session_id=session_id,
        )
        if started is None:
            return self._redelivered(event)
        conv = started.conversation
        # A reply kept by an earlier update and not confirmed sent in time (its process
        # died): it goes out first, kept again with this update's until both are out.
        replayed = load_actions(conv.reply or []) if self._replay_due(conv, now) else []
        found = _preloaded(session_id, started.snapshot)
        actions, saved, keep = await self._step(
            uow, event, conv, replayed, found, savepoints=savepoints
        )
        if keep:
            # The update changed more than the chat's step: its reply is kept in the same
            # statement until the adapter confirms it is out (replies_sent).
            await uow.conversations.save(saved, now, reply=(event.update_id, dump_actions(actions)))
            self._remember_kept(event)
        else:
            await uow.conversations.save(saved, now)
        await uow.commit()
        return actions

    async def _step(
        self,
        uow: UnitOfWork,
        event: Event,
        conv: ConversationDTO,
        replayed: list[Action],
        found: tuple[int, CandidateSnapshot] | None = None,
        *,
        savepoints: bool = False,
    ) -> tuple[list[Action], ConversationDTO, bool]:
        """Runs the update's step and draws the reply, `replayed` first: the actions, the
        conversation to save, and whether the reply must be kept until it is out (the
        update wrote more than the chat's step, or replays a kept reply). `found`: the
        candidate's snapshot read with the conversation (session id, snapshot)."""
        state = _step_of(conv)
        ctx = Ctx(
            uow=uow,
            clock=self.clock,
            settings=self.settings,
            mailer=self.mailer,
            platform=self.platform,
            event=event,
            state=state,
            data=copy.deepcopy(conv.data),
            locale=conv.locale or pick_locale(event.language_code),
            version=conv.version + 1,
            snapshot=found,
        )
        ctx.savepoints = savepoints
        # Audit: this event's changes are the candidate's (their account once known),
        # timed by the rules' clock; the admin flow names the administrator instead.
        uow.clock = self.clock
        uow.actor = f"chat:{event.user_id}"
        uow.find_actor = ctx.audited_actor
        answer = await self._dispatch(ctx)
        if event.kind is not EventKind.BUTTON and (ctx.state, ctx.data) == (state, conv.data):
            # Nothing moved (a refusal, help, an empty message): the version stays, so the
            # buttons of the message before still work beside the ones shown again. A press
            # is left out: it edits its own message, and records itself for double taps.
            ctx.version = conv.version
        if ctx.audited and ctx.state != "menu":
            # /start from a later step knows something was saved meanwhile.
            ctx.data["_saved"] = True
        actions = await self._reply(ctx, answer)
        if answer is not None:
            actions = [actions[0], *replayed, *actions[1:]]
        else:
            actions = [*replayed, *actions]
        saved = replace(
            conv, state=ctx.state, data=ctx.data, locale=ctx.locale, version=ctx.version
        )
        self._learn_reader(_write_key(event, state), ctx.asked_candidate)
        self._hint_step(event, ctx.state)
        return actions, saved, ctx.wrote or bool(replayed)

    async def _dispatch(self, ctx: Ctx) -> AnswerButton | None:
        event = ctx.event
        if event.kind is EventKind.BUTTON:
            return await self._on_button(ctx)
        if event.kind is EventKind.COMMAND:
            await self._on_command(ctx)
        elif event.kind is EventKind.TEXT:
            await self._on_text(ctx)
        elif event.kind is EventKind.CONTACT:
            await self._on_contact(ctx)
        else:
            self._on_other(ctx)
        return None

    async def _on_button(self, ctx: Ctx) -> AnswerButton | None:
        event = ctx.event
        callback_id = event.callback_id or ""
        cb = callbacks.decode(event.payload)
        current = ctx.version - 1
        if cb is not None and cb.action in flows.VERSIONLESS_BUTTONS:
            handler = VERSIONLESS_HANDLERS[cb.action]
            ctx.reply_as_new = True
            await self._run(ctx, cb.action, lambda: handler(ctx, cb))
            return AnswerButton(callback_id)
        if cb is not None and cb.version != current:
            if cb.version == current - 1 and ctx.data.get("_last") == event.payload:
                # The same button pressed twice: the first press acted, this one does not.
                ctx.version = current
                ctx.show_screen = False
                return AnswerButton(callback_id)
            return self._expired(ctx, callback_id)
        if cb is None or not flows.allowed(ctx.state, cb.action):
            if cb is not None:
                log.warning("button %r not offered at %s", cb.action, ctx.state)
            return self._expired(ctx, callback_id)
        ctx.data["_last"] = event.payload
        if not await self._press(ctx, cb):
            log.error("no handler for button %r at %s", cb.action, ctx.state)
            return self._expired(ctx, callback_id)
        return AnswerButton(callback_id)

    async def _press(self, ctx: Ctx, cb: callbacks.Callback) -> bool:
        """Runs the step's handler of a button (pressed, or typed as its label); False when
        the step has none."""
        handler = BUTTON_HANDLERS.get((ctx.state, cb.action))
        if handler is None and cb.action == flows.BACK:
            handler = _go_back
        elif handler is None and cb.action == "menu":
            handler = _go_menu
        if handler is None:
            return False
        await self._run(
            ctx, cb.action, lambda: handler(ctx, cb), savepoint=handler not in WITHOUT_SAVEPOINT
        )
        return True

    def _expired(self, ctx: Ctx, callback_id: str) -> AnswerButton:
        # Nothing changes: the version stays, so the newest menu keeps working, and a
        # fresh copy of the current step is sent as a new message.
        ctx.version -= 1
        ctx.notice("chat-menu-expired")
        ctx.expired = True
        return AnswerButton(callback_id, text=ctx.t("chat-menu-expired-toast"))

    async def _on_command(self, ctx: Ctx) -> None:
        command = ctx.event.command
        if command == "admin" and await admin_steps.may_administer(ctx):
            ctx.data.clear()
            self._move(ctx, "/admin", "admin")
            return
        if command in admin_steps.ADMIN_COMMANDS and await admin_steps.may_administer(ctx):
            args = ctx.event.text
            await self._run(
                ctx, f"/{command}", lambda: admin_steps.decide_by_command(ctx, command, args)
            )
            return
        # Anyone else's /admin (/approve, /reject) is answered like any unknown command:
        # no hint it exists.
        if command not in _COMMANDS:
            ctx.notice("chat-unknown-command", command=inputs.echo(command))
            return
        if command == "language":
            self._move(ctx, "/language", "language")
            return
        if command == "help":
            # Help, then the same step again: a code or a choice half made is not lost.
            ctx.notice("chat-help")
            return
        mid_flow = ctx.state != "menu"
        saved = bool(ctx.data.get("_saved"))
        ctx.data.clear()
        self._move(ctx, f"/{command}", "menu")
        if command == "start":
            if not mid_flow:
                ctx.notice("chat-welcome")
            else:
                # What the earlier steps of this flow saved stays saved: say so.
                ctx.notice("chat-left-step-saved" if saved else "chat-left-step")
        else:
            ctx.notice("chat-cancelled")

    async def _on_text(self, ctx: Ctx) -> None:
        from bot.conversation.steps import info

        step = flows.STEPS[ctx.state]
        text = ctx.event.text
        if inputs.is_blank(text):
            # Whitespace or zero-width characters only: nothing to read, nothing to answer.
            ctx.notice("chat-empty-message")
            return
        if not step.typed:
            buttons = await self._step_buttons(ctx)
            if len(text) <= inputs.MAX_INPUT and await self._text_as_button(ctx, text, buttons):
                return
            if ctx.state in flows.ASKING_STEPS:
                await self._run(ctx, "question", lambda: info.answer_free_text(ctx, text))
                return
            if inputs.looks_like_question(text):
                # Answered where the candidate is; the step and its buttons stay.
                await info.answer_at_step(ctx, text)
            self._name_the_choices(ctx, buttons)
            return
        if step.sensitive:
            # R8 and ID numbers: the message is deleted whatever it says.
            if ctx.event.deletes_user_messages:
                ctx.before.append(DeleteMessage(ctx.chat_id, ctx.event.message_id or 0))
            ctx.notice(f"chat-deleted-{'password' if step.expects.value == 'password' else 'id'}")
        # A password or an administrator's note is taken as typed, question mark or not.
        free_text = step.expects in (flows.Expect.PASSWORD, flows.Expect.NOTE)
        if not free_text and inputs.looks_like_question(text):
            # Documented in docs/flows.md: an obvious question is answered, the step stays.
            await info.answer_at_step(ctx, text)
            return
        if len(text) > inputs.MAX_INPUT:
            ctx.notice("chat-input-too-long", expects=ctx.t(f"chat-expects-{step.expects.value}"))
            return
        handler = TEXT_HANDLERS[ctx.state]
        await self._run(
            ctx, flows.TEXT, lambda: handler(ctx, text), savepoint=handler not in WITHOUT_SAVEPOINT
        )

    async def _step_buttons(self, ctx: Ctx) -> list[Button]:
        """The callback buttons the current step's screen shows now (links left out)."""
        try:
            screen = await SCREENS[ctx.state](ctx)
        except errors.DomainError:
            return []  # the step's data went away; the reply's screen says so
        return [b for row in screen.keyboard for b in row if b.payload]

    async def _text_as_button(self, ctx: Ctx, text: str, buttons: list[Button]) -> bool:
        """Typed text at a step that expects buttons, taken as pressing the button it names:
        a label typed in full, or a part of exactly one label. One mechanism for every
        button step; the press is checked and run like a tap."""
        typed = inputs.button_key(text)
        if not typed:
            return False
        keyed = [(inputs.button_key(b.label), b) for b in buttons]
        chosen = {b.payload for key, b in keyed if key == typed}
        if not chosen and len(typed) >= 2:
            # A part of a label ("haidian" for "Haidian Campus"), when only one label has it.
            chosen = {b.payload for key, b in keyed if typed in key}
        if len(chosen) != 1:
            return False
        cb = callbacks.decode(chosen.pop())
        if cb is None or not flows.allowed(ctx.state, cb.action):
            return False
        return await self._press(ctx, cb)

    def _name_the_choices(self, ctx: Ctx, buttons: list[Button]) -> None:
        """Text at a step that expects buttons and is none of them: say what the step
        takes; the step and its buttons are shown again."""
        labels = [b.label for b in buttons]
        ctx.notice(
            "chat-text-at-buttons",
            choices=ctx.t("chat-choices-separator").join(labels[:MAX_CHOICES_NAMED]),
        )

    async def _on_contact(self, ctx: Ctx) -> None:
        """A shared contact: at a phone step, the candidate's own number is the input."""
        handler = CONTACT_HANDLERS.get(ctx.state)
        if handler is None:
            ctx.notice("chat-contact-elsewhere")
            return
        if ctx.event.contact_user_id != ctx.user_id:
            # Someone else's card (or one without a platform account): not the candidate's.
            ctx.notice("chat-contact-not-yours")
            return
        phone = ctx.event.text
        await self._run(
            ctx,
            flows.CONTACT,
            lambda: handler(ctx, phone),
            savepoint=handler not in WITHOUT_SAVEPOINT,
        )

    def _on_other(self, ctx: Ctx) -> None:
        step = flows.STEPS[ctx.state]
        if step.typed:
            ctx.notice("chat-other-at-typed", expects=ctx.t(f"chat-expects-{step.expects.value}"))
        else:
            ctx.notice("chat-other-at-buttons")

    def _move(self, ctx: Ctx, trigger: str, target: str) -> None:
        _record(ctx.state, trigger, target)
        ctx.state = target

    async def _run(self, ctx: Ctx, trigger: str, work: Any, *, savepoint: bool = True) -> None:
        """Runs a step, inside a savepoint unless it writes nothing outside `Ctx.call`;
        a refusal restores the step and says why."""
        source, saved = ctx.state, copy.deepcopy(ctx.data)
        notices, before, after = len(ctx.notices), len(ctx.before), len(ctx.after)
        audited = ctx.audited
        point = await ctx.uow.savepoint() if savepoint else None
        try:
            await work()
        except errors.DomainError as err:
            if point is not None:
                if isinstance(err, ctx.keep_on):
                    await point.commit()  # R9, R39: the counted attempt must stay
                    ctx.wrote = True
                else:
                    await point.rollback()
                    ctx.audited = audited  # those writes are undone
            ctx.state, ctx.data = source, saved
            del ctx.notices[notices:]
            del ctx.before[before:]
            del ctx.after[after:]
            if point is not None or ctx.wrote:
                # What was read may have changed, or been undone: read it again. An
                # update that wrote nothing keeps it (the snapshot, say).
                ctx.forget_account()
            ctx.notices.append(ctx.error_text(err))
            return
        except BaseException:
            if point is not None:
                await point.rollback()
            raise
        if point is not None:
            await point.commit()
            ctx.wrote = True
            # The step wrote: what the screen shows is read again.
            ctx.forget_registration()
        _record(source, trigger, ctx.state)

    # --- the reply -------------------------------------------------------------------

    async def _reply(self, ctx: Ctx, answer: AnswerButton | None) -> list[Action]:
        actions: list[Action] = []
        if answer is not None:
            actions.append(answer)  # first, so the client's spinner stops at once
        actions += ctx.before
        if ctx.show_screen:
            screen = await self._screen(ctx)
            text = inputs.clip("\n\n".join([*ctx.notices, screen.text]).strip())
            keyboard = tuple(tuple(row) for row in screen.keyboard if row)
            edit = (
                ctx.event.message_id
                if ctx.event.kind is EventKind.BUTTON and not (ctx.expired or ctx.reply_as_new)
                else None
            )
            actions.append(SendText(ctx.chat_id, text, keyboard=keyboard, edit_message_id=edit))
        actions += ctx.after
        return actions

    async def _screen(self, ctx: Ctx) -> Screen:
        try:
            return await SCREENS[ctx.state](ctx)
        except errors.DomainError as err:
            # The step's data went away meanwhile (entry expired, registration deleted).
            ctx.notices.append(ctx.error_text(err))
        ctx.state = "menu"
        ctx.data.clear()
        return await SCREENS["menu"](ctx)

    async def _apologize(self, event: Event) -> list[Action]:
        locale = pick_locale(event.language_code)
        try:
            async with self.db.uow() as uow:
                conv = await uow.conversations.get(self.platform, event.user_id, event.chat_id)
                locale = (conv.locale if conv else None) or locale
                # So a re-delivery does not run the failing update again and again.
                await uow.conversations.mark_processed(
                    self.updates_key, event.update_id, self.clock.now()
                )
                await uow.commit()
        except Exception:
            log.exception("could not record failed update %s", event.update_id)
        actions: list[Action] = []
        if event.callback_id:
            actions.append(AnswerButton(event.callback_id))
        actions.append(SendText(event.chat_id, t(locale, "error-internal"), remember_as_menu=False))
        return actions


def _step_of(conv: ConversationDTO) -> str:
    """The step the chat is at (an unknown one, e.g. a row just created, is the menu)."""
    return conv.state if conv.state in flows.STEPS else "menu"


def _write_key(event: Event, state: str) -> tuple[str, EventKind, str | None]:
    """The kind of an update at a step, as `Conversations._writers` remembers it."""
    if event.kind is EventKind.BUTTON:
        cb = callbacks.decode(event.payload)
        return state, event.kind, cb.action if cb is not None else None
    return state, event.kind, event.command if event.kind is EventKind.COMMAND else None


def _preloaded(
    session_id: int | None, snapshot: CandidateSnapshot | None
) -> tuple[int, CandidateSnapshot] | None:
    """The snapshot read with the conversation, for `Ctx`: keyed by its session."""
    return (session_id, snapshot) if session_id and snapshot else None


def _replay_due(conv: ConversationDTO, now: datetime) -> bool:
    """Whether the conversation keeps a reply not confirmed sent within REPLAY_AFTER."""
    return bool(conv.reply) and conv.reply_at is not None and conv.reply_at <= now - REPLAY_AFTER


def _record(source: str, trigger: str, target: str) -> None:
    if not flows.declared(source, trigger, target):
        log.error("undeclared transition %s --%s--> %s", source, trigger, target)
        UNDECLARED.append((source, trigger, target))


async def _go_back(ctx: Ctx, cb: callbacks.Callback) -> None:
    """Back: to the step's single declared target, or the one its `origin` names."""
    targets = flows.STEPS[ctx.state].targets(flows.BACK)
    origin = ctx.data.get("origin")
    if origin in targets:
        ctx.state = origin
    elif len(targets) == 1:
        ctx.state = next(iter(targets))
    else:
        ctx.state = "menu"


async def _go_menu(ctx: Ctx, cb: callbacks.Callback) -> None:
    ctx.data.clear()
    ctx.state = "menu"


# Navigation only: no savepoint.
WITHOUT_SAVEPOINT.update((_go_back, _go_menu))
