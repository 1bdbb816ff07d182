"""The worker's loop: runs the background jobs and sends the outbox through a Performer,
within Telegram's limits (30 messages/s overall, 1 per second per chat)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from background import jobs
from bot.conversation import callbacks
from bot.conversation.types import Button, Keyboard, Notice, Performer, SendResult, SendText
from bot.send_limits import Limiter, SendLimiter
from foundation import i18n
from foundation.clock import Clock
from foundation.i18n import DEFAULT_LOCALE, LOCALES, t
from foundation.settings import Settings
from registration.gateways.base import Gateway
from storage.db import Database, UnitOfWork
from storage.repos.outbox import OutboxDTO

log = logging.getLogger(__name__)

# Times in notices are shown in the session's zone; all example sessions are Beijing time.
DEFAULT_TZ = "Asia/Shanghai"
# A notice with no channel now (WeChat outside the 48-hour window, its kind without a
# template) is looked at again this often, and given up this long after it was queued.
WAIT_RETRY = timedelta(minutes=10)
WAIT_LIMIT = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Rendered:
    message: OutboxDTO
    text: str | None  # None: obsolete (e.g. a reminder for an entry paid meanwhile)
    keyboard: Keyboard = ()
    # The recipient's language and the arguments `text` was rendered with: a platform
    # that sends a notice in another form (WeChat's template messages) fills it from them.
    locale: str = DEFAULT_LOCALE
    args: Mapping[str, Any] = field(default_factory=dict)


class NoticeRenderer:
    """Renders an outbox row in its recipient's language (`notice-<kind>` in notices.ftl)."""

    def __init__(self) -> None:
        self._subjects: dict[str, Any] | None = None
        self._campuses: dict[int, Any] = {}

    async def render(self, uow: UnitOfWork, m: OutboxDTO, now: datetime | None = None) -> Rendered:
        """The text of `m` as it should read when sent at `now` (default: as queued)."""
        p = m.payload
        entry = None
        left: timedelta | None = None
        if "entry_id" in p and m.kind == "reminder":
            entry = await uow.entries.get(int(p["entry_id"]))
            if entry is None or entry.status != "unpaid":
                return Rendered(m, None)  # R32: no reminder once paid (or gone)
            if now is not None:
                # R32: a reminder sent late (worker down, chat refusing) states the time
                # actually left, not the offset it was queued for.
                left = entry.expires_at - now
                if left <= timedelta(0):
                    return Rendered(m, None)  # the sweep is about to delete it
        locale = m.recipient_locale
        if locale is None:  # not read by the claim
            locale = await uow.conversations.locale_of(m.platform, m.chat_id)
        locale = locale or DEFAULT_LOCALE
        locale = locale if locale in LOCALES else DEFAULT_LOCALE
        args: dict[str, Any] = {k: v for k, v in p.items() if isinstance(v, str | int)}
        if "subject" in p:
            if self._subjects is None:
                self._subjects = await uow.sessions.subjects()
            subject = self._subjects.get(p["subject"])
            args["subject"] = subject.name(locale) if subject else p["subject"]
        if "campus_id" in p:
            cid = int(p["campus_id"])
            if cid not in self._campuses:
                self._campuses[cid] = await uow.sessions.campus(cid)
            campus = self._campuses[cid]
            args["campus"] = campus.name(locale) if campus else str(cid)
        for name in ("expires_at", "at"):
            if name in p:
                at = datetime.fromisoformat(p[name]).astimezone(ZoneInfo(DEFAULT_TZ))
                args[name] = at.strftime("%Y-%m-%d %H:%M")
        if left is not None:
            hours = max(0.1, round(left.total_seconds() / 3600, 1))
            args["hours"] = int(hours) if hours.is_integer() else hours
        elif "offset_minutes" in p:
            hours = int(p["offset_minutes"]) / 60
            args["hours"] = int(hours) if hours.is_integer() else round(hours, 1)
        if "amount_fen" in p:
            fen = int(p["amount_fen"])
            args["amount"] = f"{fen // 100}.{fen % 100:02d}"
        if m.kind == "review-decided":
            args["decision"] = t(locale, f"notice-review-{p.get('status', 'rejected')}")
        key = f"notice-{m.kind}"
        text = t(locale, key, args)
        if text == key:
            log.error("outbox %s: no text for kind %r", m.id, m.kind)
        keyboard: Keyboard = ()
        if m.kind == "signed-in-elsewhere":
            # R7: "not me" signs every chat out and starts a reset; the button carries
            # no conversation version (flows.VERSIONLESS_BUTTONS), so it works at any step.
            label = t(locale, "notice-signed-in-elsewhere-button")
            keyboard = ((Button(label, payload=callbacks.encode(0, "notme")),),)
        return Rendered(m, text, keyboard, locale, args)


@dataclass
class DispatchStats:
    sent: int = 0
    undeliverable: int = 0
    retried: int = 0
    failed: int = 0
    obsolete: int = 0
    lost_lease: int = 0


class OutboxDispatcher:
    """Claims due outbox rows with a lease, sends them, marks each one.

    A crash between sending and marking leaves the row "sending" until its lease
    runs out; then it is claimed again and sent once more: at most one duplicate
    per crash, never a loss.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        performer: Performer,
        *,
        owner: str | None = None,
        limiter: Limiter | None = None,
        batch: int = 60,
        concurrency: int = 32,
        lease: timedelta = timedelta(seconds=60),
        max_attempts: int = 8,
        platform: str | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.performer = performer
        self.owner = owner or f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.limiter: Limiter = limiter or SendLimiter()
        self.batch = batch
        self.concurrency = concurrency
        self.lease = lease
        self.max_attempts = max_attempts
        # Only this platform's rows (None: all, for a deployment on one platform).
        self.platform = platform
        self.renderer = NoticeRenderer()
        self.stats = DispatchStats()
        # Sent messages waiting to be marked, and the task marking them (see `_mark_sent`).
        self._to_mark: list[tuple[int, asyncio.Future[bool]]] = []
        self._marking: asyncio.Task[None] | None = None

    async def claim(self) -> list[Rendered]:
        async def work(uow: UnitOfWork) -> list[Rendered]:
            now = self.clock.now()
            rows = await uow.outbox.claim(
                self.owner, now, now + self.lease, self.batch, self.platform
            )
            rendered = [await self.renderer.render(uow, m, now) for m in rows]
            await uow.commit()
            return rendered

        return await self.db.run(work)

    async def _mark_sent(self, message_id: int) -> bool:
        """Marks a sent message (False: its lease was taken over). The messages sent while
        one mark is on its way are marked together by the next one: in a rush one UPDATE
        for many messages instead of one each. Returns once the mark is committed, so a
        crash before it is the same crash as before (the lease runs out, the message goes
        once more: at most one duplicate per crash)."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._to_mark.append((message_id, done))
        if self._marking is None or self._marking.done():
            # A task of its own: a sender cancelled while it waits leaves the others' marks.
            self._marking = asyncio.create_task(self._mark_waiting())
        return await asyncio.shield(done)

    async def _mark_waiting(self) -> None:
        while self._to_mark:
            batch, self._to_mark = self._to_mark, []
            ids = [message_id for message_id, _ in batch]

            async def work(uow: UnitOfWork, ids: list[int] = ids) -> set[int]:
                marked = await uow.outbox.finish_sent(ids, self.owner, self.clock.now())
                await uow.commit()
                return marked

            try:
                marked = await self.db.run(work)
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for message_id, done in batch:
                if not done.done():
                    done.set_result(message_id in marked)

    async def _mark(self, m: OutboxDTO, result: SendResult | None, error: str = "") -> None:
        if result is not None and result.ok:
            if not await self._mark_sent(m.id):
                self.stats.lost_lease += 1
            return

        async def work(uow: UnitOfWork) -> bool:
            now = self.clock.now()
            if result is not None and result.error == "blocked":
                done = await uow.outbox.finish(m.id, self.owner, "undeliverable", now, error="403")
            elif result is not None and result.error == "uncertain":
                # No answer after the request went out: it may have arrived. Sending it
                # again could show it twice; recorded as it is, not retried.
                done = await uow.outbox.finish(m.id, self.owner, "failed", now, error="uncertain")
            elif result is not None and result.error == "waiting":
                # No channel now (WeChat: outside the 48-hour window, no template for the
                # kind): looked at again every WAIT_RETRY, so it goes out as a chat message
                # soon after the candidate writes again; given up only after WAIT_LIMIT.
                if now - m.created_at >= WAIT_LIMIT:
                    done = await uow.outbox.finish(
                        m.id, self.owner, "failed", now, error="no-channel"
                    )
                else:
                    done = await uow.outbox.retry_later(
                        m.id, self.owner, now + WAIT_RETRY, "waiting", attempt=False
                    )
            elif m.attempts + 1 >= self.max_attempts:
                done = await uow.outbox.finish(m.id, self.owner, "failed", now, error=error)
            else:
                backoff = timedelta(seconds=min(600, 5 * 2**m.attempts))
                done = await uow.outbox.retry_later(m.id, self.owner, now + backoff, error)
            await uow.commit()
            return done

        if not await self.db.run(work):
            self.stats.lost_lease += 1

    async def _still_ours(self, m: OutboxDTO) -> bool:
        """Renews a lease that is running short (a long wait for a busy chat)."""
        assert m.lease_until is not None
        now = self.clock.now()
        if m.lease_until - now > self.lease / 3:
            return True

        async def work(uow: UnitOfWork) -> bool:
            ok = await uow.outbox.renew(m.id, self.owner, now + self.lease)
            await uow.commit()
            return ok

        return await self.db.run(work)

    async def send_one(self, r: Rendered) -> None:
        m = r.message
        if r.text is None:

            async def obsolete(uow: UnitOfWork) -> None:
                await uow.outbox.finish(
                    m.id, self.owner, "failed", self.clock.now(), error="obsolete"
                )
                await uow.commit()

            await self.db.run(obsolete)
            self.stats.obsolete += 1
            return
        await self.limiter.acquire(m.chat_id)
        if not await self._still_ours(m):
            self.stats.lost_lease += 1
            return
        result: SendResult | None = None
        try:
            send = SendText(chat_id=m.chat_id, text=r.text, keyboard=r.keyboard)
            # A performer that sends notices in a form of its own (WeChat: a template
            # message outside the 48-hour window) gets what the text was made of.
            notify = getattr(self.performer, "perform_notice", None)
            if notify is not None:
                notice = Notice(m.kind, r.args, r.locale, f"outbox-{m.id}")
                result = await notify(send, notice)
            else:
                result = await self.performer.perform(send)
            error = result.error or ""
        except Exception as exc:  # an adapter bug must not stop the other messages
            log.exception("outbox %s: perform raised", m.id)
            error = f"{type(exc).__name__}: {exc}"
        await self._mark(m, result, error)
        if result is not None and result.ok:
            self.stats.sent += 1
        elif result is not None and result.error == "blocked":
            self.stats.undeliverable += 1
        else:
            self.stats.retried += 1

    async def run(self, stop: asyncio.Event, *, idle: float = 1.0) -> None:
        """Sends until `stop` is set: one claimer feeding `concurrency` senders."""
        queue: asyncio.Queue[Rendered] = asyncio.Queue(maxsize=self.batch * 2)

        async def sender() -> None:
            while True:
                r = await queue.get()
                try:
                    await self.send_one(r)
                finally:
                    queue.task_done()

        senders = [asyncio.create_task(sender()) for _ in range(self.concurrency)]
        try:
            while not stop.is_set():
                # Claim only what can be sent soon, so leases do not run out in the queue.
                if queue.qsize() > self.batch:
                    await asyncio.sleep(0.05)
                    continue
                try:
                    claimed = await self.claim()
                except Exception:
                    log.exception("outbox claim failed")
                    claimed = []
                for r in claimed:
                    await queue.put(r)
                if len(claimed) < self.batch:
                    # Less than a full batch: what was due is on its way. Claiming again at
                    # once found the few queued meanwhile, one claim per notice or two in
                    # a rush (issue 17); the next round takes them together. A notice
                    # waits no longer than after an empty claim before.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), idle)
            await queue.join()
        finally:
            for task in senders:
                task.cancel()
            await asyncio.gather(*senders, return_exceptions=True)
            if self._marking is not None:  # the marks of messages already sent
                await asyncio.gather(self._marking, return_exceptions=True)

    async def drain(self) -> DispatchStats:
        """Sends everything due now, batch by batch, then returns (tests, `--once`)."""
        while claimed := await self.claim():
            await asyncio.gather(*(self.send_one(r) for r in claimed))
        return self.stats


@dataclass
class WorkerRuntime:
    """`cetbot worker`: the jobs every few seconds, the dispatcher all the time."""

    db: Database
    clock: Clock
    performer: Performer
    gateway: Gateway | None
    reminder_offsets_minutes: tuple[int, ...] = (360, 60)
    jobs_interval: float = 10.0
    dispatcher: OutboxDispatcher | None = None
    reports: list[dict[str, int]] = field(default_factory=list)
    # The ticket jobs need the signing key and data folder; without settings they are off
    # (tests of the other jobs, and no key generated where nobody asked for one).
    settings: Settings | None = None

    def __post_init__(self) -> None:
        if self.dispatcher is None:
            self.dispatcher = OutboxDispatcher(self.db, self.clock, self.performer)

    async def warm_up(self) -> int:
        """What a standalone worker (`cetbot worker`) does before its first callback or
        notice, as the bot does at start-up (`BotApp.startup`): the pool's connections
        opened with the hot statements prepared and planned on each (the callback's, the
        outbox's claim and marks among them: `Database.warm_up`), and the notices' texts
        parsed and compiled (`i18n.warm`). In a rush they were paid inside it (issue 17):
        new backends, plans, and Fluent parsing the locales at the first notice. Returns
        how many connections the pool holds (0 on SQLite)."""
        i18n.warm()
        return await self.db.warm_up()

    async def tick(self) -> dict[str, int]:
        """Runs every job once; each is idempotent, so a tick may repeat another's work."""
        expiry = await jobs.sweep_expired(self.db, self.clock, self.gateway)
        reminders = await jobs.queue_reminders(self.db, self.clock, self.reminder_offsets_minutes)
        report = {
            "expired": len(expiry.expired),
            "promoted": len(expiry.promotions) + await jobs.promote_free_seats(self.db, self.clock),
            "registrations_deleted": len(expiry.deleted_registrations),
            "paid_at_gateway": len(expiry.paid_at_gateway),
            "reminders": reminders.queued,
            "waitlists_closed": await jobs.close_finished_windows(self.db, self.clock),
            "nonces_forgotten": await jobs.forget_old_nonces(self.db, self.clock),
        }
        if self.settings is not None:
            issued = await jobs.ticket_jobs(self.db, self.clock, self.settings)
            report |= {
                "seats_assigned": issued.seats,
                "tickets_rendered": issued.rendered,
                "rate_events_pruned": issued.pruned,
                "tickets_more": int(issued.more),
            }
        if any(report.values()):
            log.info("worker tick: %s", report)
        return report

    async def run(self, stop: asyncio.Event) -> None:
        assert self.dispatcher is not None
        sending = asyncio.create_task(self.dispatcher.run(stop))
        try:
            while not stop.is_set():
                pause = self.jobs_interval
                try:
                    if (await self.tick()).get("tickets_more"):
                        pause = 0.05  # tickets still to draw at print-open time: go on soon
                except Exception:
                    log.exception("worker jobs failed; trying again next tick")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
        finally:
            stop.set()
            await sending


def runtime_from_settings(
    settings: Settings,
    db: Database,
    clock: Clock,
    performer: Performer,
    platform: str | None = None,
) -> WorkerRuntime:
    """The worker as configured (gateway, reminder offsets, ticket jobs), sending through
    `performer`: the standalone worker's own, or the bot's inside `cetbot run`."""
    from registration.payments import gateway_from_settings

    return WorkerRuntime(
        db,
        clock,
        performer,
        gateway_from_settings(settings),
        jobs.reminder_offsets(settings.reminder_offsets_hours),
        dispatcher=OutboxDispatcher(
            db,
            clock,
            performer,
            limiter=limiter_from_settings(settings, platform),
            platform=platform,
        ),
        settings=settings,
    )


def limiter_from_settings(settings: Settings, platform: str | None = None) -> Limiter:
    """Shared send limits through Redis when `REDIS_URL` is set, else this process's own.

    With Redis every worker process of the same bot (keyed by the token's bot id, or on
    WeChat by the account's AppID) draws on one 30/s bucket and one 1/s bucket per chat."""
    if not settings.redis_url:
        return SendLimiter()
    from bot.handlers import bot_key
    from bot.redis_limiter import RedisSendLimiter

    if platform == "wechat":
        return RedisSendLimiter(settings.redis_url, bot_key=f"wx:{settings.wechat_app_id}")
    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    return RedisSendLimiter(settings.redis_url, bot_key=bot_key(token) or "local")


class WorkerAlreadyRunning(RuntimeError):
    """SQLite: another process already runs this database's worker (it holds the lock file)."""


@dataclass
class BackgroundWorker:
    """The worker inside a bot process (`cetbot run`, `cetbot demo`).

    It sends with the bot's own performer, so notices go through the same adapter with
    the same retries as replies, and it stops before the bot closes its HTTP session and
    its database.
    """

    runtime: WorkerRuntime
    _stop: asyncio.Event
    _task: asyncio.Task[None]
    _locks: contextlib.ExitStack

    @classmethod
    def start(
        cls,
        settings: Settings,
        db: Database,
        clock: Clock,
        performer: Performer,
        platform: str | None = None,
    ) -> BackgroundWorker:
        """Starts the loop as a task; raises WorkerAlreadyRunning (SQLite, lock held).
        `platform`: the outbox rows it sends (those of the performer's platform)."""
        locks = contextlib.ExitStack()
        try:
            if db.is_sqlite:
                locks.enter_context(single_sqlite_worker(db.url))
            runtime = runtime_from_settings(settings, db, clock, performer, platform)
        except BaseException:
            locks.close()
            raise
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.run(stop), name="cetbot-worker")
        return cls(runtime, stop, task, locks)

    async def stop(self, grace: float = 10.0) -> None:
        """Lets messages being sent finish (up to `grace` seconds), then releases the lock.

        Cut off after `grace`, a message may stay "sending" until its lease runs out and
        then go once more: at most one duplicate, as after a crash.
        """
        self._stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace)
        except TimeoutError:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        except Exception:
            log.exception("worker stopped with an error")
        finally:
            self._locks.close()


@contextlib.contextmanager
def single_sqlite_worker(database_url: str) -> Iterator[None]:
    """SQLite: one worker per database file, held by a lock file next to it.

    SQLite has no SKIP LOCKED and one writer at a time; a second worker would add
    nothing but lock waits. PostgreSQL needs no such lock.
    """
    path = database_url.split("///", 1)[-1] if "///" in database_url else "cetbot.db"
    lock_path = Path(path + ".worker.lock")
    handle = lock_path.open("w")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkerAlreadyRunning(f"another worker holds {lock_path}") from None
        yield
    finally:
        handle.close()
