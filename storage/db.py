"""Engine creation and the unit of work: one transaction, committed in one place."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import pkgutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import Connection, Dialect, Engine, event, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.expression import Executable

from storage import direct, sqlite_direct, sqlite_inline
from storage.direct import GUARD, ReadOnlyGuard, WriteWatch, begin_autocommit, end_autocommit
from storage.repos import (
    AccountRepository,
    AdministrationRepository,
    ConversationRepository,
    EntryRepository,
    OutboxRepository,
    PaymentRepository,
    PlatformUserRepository,
    RecordRepository,
    RegistrationRepository,
    ReviewRepository,
    ScoreRepository,
    SessionRepository,
    TicketRepository,
    WaitlistRepository,
)
from storage.repos.audit import AuditSink
from storage.repos.sessions import SessionCache

T = TypeVar("T")
log = logging.getLogger(__name__)


class Clock(Protocol):
    """What the unit of work needs of foundation.clock.Clock (storage imports nothing above it)."""

    def now(self) -> datetime: ...


# Who acts, and on which clock, for the units of work opened in this task without
# saying so: the worker's jobs run inside `acting_as("worker", clock)`.
_ACTOR: ContextVar[str] = ContextVar("cetbot_actor", default="system")
_CLOCK: ContextVar[Clock | None] = ContextVar("cetbot_audit_clock", default=None)


@asynccontextmanager
async def acting_as(actor: str, clock: Clock | None = None) -> AsyncIterator[None]:
    """The default actor (and audit clock) of the units of work opened inside.

    Also a decorator of async functions (`@acting_as("worker")`).
    """
    actor_token, clock_token = _ACTOR.set(actor), _CLOCK.set(clock)
    try:
        yield
    finally:
        _CLOCK.reset(clock_token)
        _ACTOR.reset(actor_token)


def is_sqlite_url(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL and for an in-memory SQLite database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
        return None
    return Path(database)


def url_without_password(url: str) -> str:
    """The URL with its password left out: names a database without holding its secret."""
    return make_url(url).set(password=None).render_as_string(hide_password=False)


# Every engine the product creates passes this: a database error's message and log line
# never carry the statement's parameters (an ID number, a phone, a code), only the SQL.
HIDE_PARAMETERS = {"hide_parameters": True}


# How long a SQLite statement waits for another connection's write lock, in seconds.
SQLITE_LOCK_WAIT = 30


def sqlite_inline_wanted(url: str) -> bool:
    """Whether a SQLite URL runs sqlite3 on the loop thread: the units of work through
    storage.sqlite_direct, the AsyncEngine (migrations, tools) through storage.sqlite_inline.

    Our SQLite statements take microseconds, while aiosqlite spends ~0.45 ms of thread
    hand-offs on each: running sqlite3 on the loop thread triples booking throughput.
    Only for files (a :memory: database is one shared connection, used by tests and
    tools where speed does not matter) and only for the aiosqlite driver, so the
    DATABASE_URL contract stays ``sqlite+aiosqlite:///path``. CETBOT_SQLITE_THREADED=1
    brings back plain aiosqlite for both, e.g. if some work ever runs long statements that
    must not hold the event loop.
    """
    if os.environ.get("CETBOT_SQLITE_THREADED", "") not in ("", "0"):
        return False
    parsed = make_url(url)
    if parsed.get_driver_name() != "aiosqlite":
        return False
    database = parsed.database or ""
    return database not in ("", ":memory:") and parsed.query.get("mode") != "memory"


# asyncpg prepares a statement once per connection only up to this size (its default,
# 15 KiB, would leave the conversation read with the candidate's snapshot, ~17 KiB,
# parsed and planned again at every execution: 2 ms of the server's CPU instead of 0.2).
MAX_PREPARED_STATEMENT = 64 * 1024
# Generic plans from a prepared statement's first execution (issue 17, tenth round). By
# default PostgreSQL plans the first five executions of each prepared statement on each
# connection with the parameters' values (a custom plan), and our fused statements (the
# conversation with the snapshot, the booking's and the pay link's) take over 1 ms each to
# plan: with 20 pooled connections, planning was 17% of the backends' CPU in a rush. No hot
# statement needs the values to find its index: every partial index's condition is written
# into the statement (`status_is`), which tests/conversation/test_generic_plans.py checks.
GENERIC_PLANS = {"plan_cache_mode": "force_generic_plan"}
# asyncpg drops every statement from its cache (and DEALLOCATEs it on the server) five
# minutes after preparing it, used or not (`max_cached_statement_lifetime`, 300 s by
# default): each hot statement was prepared and planned again on each connection every five
# minutes, and what `Database.warm_up` prepares at start-up would be gone before a rush that
# comes later. Kept without a time limit (0); the cache stays bounded by its size (100
# statements, ~75 of them the repositories'), and PostgreSQL replans a statement itself
# when a table's schema or statistics change.
PREPARED_LIFETIME = 0
_ASYNCPG_ARGS: dict[str, Any] = {
    "max_cacheable_statement_size": MAX_PREPARED_STATEMENT,
    "max_cached_statement_lifetime": PREPARED_LIFETIME,
    "server_settings": GENERIC_PLANS,
}


def make_engine(url: str, *, pool_size: int = 20, echo: bool = False) -> AsyncEngine:
    """An engine tuned for this project on SQLite or PostgreSQL."""
    if is_sqlite_url(url):
        inline = sqlite_inline_wanted(url)
        engine = create_async_engine(
            url,
            echo=echo,
            **HIDE_PARAMETERS,
            pool_size=pool_size,
            max_overflow=pool_size,
            # With the inline driver `timeout` is its own asyncio-sleeping retry budget
            # (SQLite's busy handler is off); with aiosqlite it is SQLite's busy_timeout.
            connect_args={"timeout": SQLITE_LOCK_WAIT, "check_same_thread": False},
            **({"module": sqlite_inline.dbapi()} if inline else {}),
        )
        _tune_sqlite(engine.sync_engine, busy_timeout_ms=0 if inline else SQLITE_LOCK_WAIT * 1000)
        return engine
    # No overflow on PostgreSQL: an overflow connection is closed when it comes back, so
    # a burst above the pool size opened and closed a server connection per unit of work
    # (a backend fork each; seen as asyncpg.connect in the rush profile). Units of work
    # beyond the pool wait for a connection instead, and none holds two at once.
    engine = create_async_engine(
        url,
        echo=echo,
        **HIDE_PARAMETERS,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=60,
        pool_pre_ping=False,
        connect_args=_ASYNCPG_ARGS if make_url(url).get_driver_name() == "asyncpg" else {},
    )
    hide_error_details(engine.sync_engine)
    # A read-only unit of work (an optimistic chat update) sends no write through
    # SQLAlchemy either (storage/direct.py checks its own statements itself).
    event.listen(engine.sync_engine, "before_cursor_execute", direct.refuse_writes)
    return engine


# What PostgreSQL adds to an error message that may quote the row: "Key (id_number)=(...)".
_HIDDEN_DETAIL = "(hidden: it may quote the row's values)"


def hide_error_details(sync_engine: Engine) -> None:
    """PostgreSQL's DETAIL of an error quotes values (a unique violation names the key, ID
    number included): hidden_parameters does not cover it, so it is blanked here, in the
    driver's exception and in SQLAlchemy's wrapper of it, before anything logs them."""

    @event.listens_for(sync_engine, "handle_error")
    def _on_error(context: Any) -> None:
        wrapper = context.original_exception
        seen: set[int] = set()
        err: BaseException | None = wrapper
        while err is not None and id(err) not in seen:
            seen.add(id(err))
            if getattr(err, "detail", None):
                with contextlib.suppress(AttributeError):
                    err.detail = _HIDDEN_DETAIL  # type: ignore[attr-defined]
            if err.args and isinstance(err.args[0], str) and "DETAIL:" in err.args[0]:
                head = err.args[0].split("DETAIL:", 1)[0]
                err.args = (head + "DETAIL:  " + _HIDDEN_DETAIL, *err.args[1:])
            err = err.__cause__ or err.__context__


def make_direct_engine(url: str, *, pool_size: int = 20) -> Engine | None:
    """The synchronous engine the units of work use on a SQLite file (storage/sqlite_direct.py),
    or None where they go through the AsyncEngine (PostgreSQL, :memory:, aiosqlite's thread)."""
    if not is_sqlite_url(url) or not sqlite_inline_wanted(url):
        return None
    engine = sqlite_direct.make_direct_engine(url, pool_size=pool_size)
    # No begin listener: DirectConnection.begin says BEGIN IMMEDIATE (or DEFERRED) itself.
    _tune_sqlite(engine, busy_timeout_ms=0, begin_listener=False)
    return engine


def _tune_sqlite(sync_engine: Engine, *, busy_timeout_ms: int, begin_listener: bool = True) -> None:
    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the driver so we can say BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # 0 with the inline driver: SQLite's busy handler would sleep on the loop thread,
        # and the lock holder may be a coroutine of that very loop; the driver retries
        # with asyncio.sleep instead (storage/sqlite_inline.py).
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    if not begin_listener:
        return

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A writing transaction takes SQLite's write lock up front: otherwise a
        # read-then-write transaction can fail with "database is locked" when
        # another writer committed in between (no retry can fix a stale read).
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


class UnitOfWork:
    """One transaction over one connection, with the repositories bound to it.

    Repositories never commit; the caller does, once (`await uow.commit()`).
    Leaving the block without commit rolls everything back.

    Every change of an entry, review, waitlist, payment or eligibility is written to
    the audit log in this transaction by the repository that makes it, as `actor`:
    ``candidate:<account id>`` (or ``chat:<user id>`` before an account is bound),
    ``admin:<platform>:<user id>``, ``worker``, ``gateway:<name>``, ``cli``; ``system``
    when nobody said. The chat sets `find_actor`, asked at each audit write, because it
    learns the candidate's account only during the event (and usually had to anyway).
    The audit time comes from `clock` when the caller sets one (the rules' clock, so the
    trail reads on the same time line as the entries' own times, also in tests and the
    demo), else from the wall clock. Rules never read it: they take their clock (R6).
    """

    sessions: SessionRepository
    records: RecordRepository
    scores: ScoreRepository
    accounts: AccountRepository
    registrations: RegistrationRepository
    entries: EntryRepository
    reviews: ReviewRepository
    waitlists: WaitlistRepository
    conversations: ConversationRepository
    outbox: OutboxRepository
    payments: PaymentRepository
    platform_users: PlatformUserRepository
    tickets: TicketRepository
    administration: AdministrationRepository

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        readonly: bool = False,
        write_lock: asyncio.Lock | None = None,
        session_cache: SessionCache | None = None,
        direct: sqlite_direct.DirectPool | None = None,
        optimistic: bool = False,
        straight: bool = False,
    ) -> None:
        self._engine = engine
        # Optimistic (PostgreSQL only): no transaction; every statement is sent by itself
        # (autocommit) and only reads go out, until `finish_optimistic` (see `Database.uow`).
        self._guard = ReadOnlyGuard() if optimistic else None
        # SQLite files: statements go through this synchronous engine, not the AsyncEngine.
        self._direct = direct
        self._readonly = readonly
        self._write_lock = None if readonly else write_lock
        self._locked = False
        # Without the Database's shared cache, the session data is cached for this unit only.
        self._session_cache = session_cache if session_cache is not None else SessionCache()
        self._conn: AsyncConnection | None = None
        # `straight` (PostgreSQL over asyncpg only, see `Database.straight`): BEGIN, COMMIT
        # and ROLLBACK go straight to the driver (storage.direct.begin/commit/rollback),
        # SQLAlchemy keeping its bookkeeping.
        self._straight = straight and direct is None
        self._committed = False
        # Set once COMMIT is sent: a connection lost after this point may have committed,
        # so the unit is never tried again (Database.run).
        self.commit_sent = False
        self.after_commit: list[Callable[[], Awaitable[None]]] = []
        self.actor: str = _ACTOR.get()
        self.clock: Clock | None = _CLOCK.get()
        # Asked at each audit write when set; its answer, if not None, stands for `actor`.
        self.find_actor: Callable[[], Awaitable[str | None]] | None = None

    @property
    def conn(self) -> AsyncConnection:
        assert self._conn is not None, "unit of work not entered"
        return self._conn

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    async def __aenter__(self) -> UnitOfWork:
        if self._write_lock is not None:
            await self._write_lock.acquire()
            self._locked = True
        try:
            return await self._enter()
        except BaseException:
            self._unlock()
            raise

    def _unlock(self) -> None:
        if self._locked:
            self._locked = False
            assert self._write_lock is not None
            self._write_lock.release()

    async def _enter(self) -> UnitOfWork:
        if self._direct is not None:
            sync_conn = self._direct.take()
            lite = sqlite_direct.DirectConnection(
                sync_conn, lock_wait=SQLITE_LOCK_WAIT, observers=self._direct.observers
            )
            try:
                # A writer takes SQLite's write lock up front: otherwise a read-then-write
                # transaction can fail with "database is locked" when another writer
                # committed in between (no retry can fix a stale read).
                await lite.begin("DEFERRED" if self._readonly else "IMMEDIATE")
            except BaseException:
                sync_conn.close()
                raise
            # The repositories are written against AsyncConnection; DirectConnection has
            # every part of it they use (storage/sqlite_direct.py).
            conn = cast(AsyncConnection, lite)
        else:
            found = direct.connect(self._engine) if self._straight else None
            conn = found if found is not None else await self._engine.connect()
            if self._readonly and self._engine.dialect.name == "sqlite":
                conn = await conn.execution_options(sqlite_begin="DEFERRED")
            elif self._guard is not None:
                # No BEGIN reaches the server (asyncpg's adapter in autocommit sends none;
                # SQLAlchemy's begin below is only its own bookkeeping) until __aexit__.
                # Set on the adapter itself: SQLAlchemy's isolation_level option costs
                # about a round trip's CPU on the way in and out of the pool.
                try:
                    # No I/O: only SQLAlchemy's own dictionary of the connection's options.
                    cast(Connection, conn.sync_connection).execution_options(**{GUARD: self._guard})
                    await begin_autocommit(conn)
                except BaseException:
                    await conn.close()
                    raise
            if self._straight:
                direct.begin(conn)  # no I/O: asyncpg's BEGIN goes with the first statement
            else:
                await conn.begin()
        self._conn = conn
        audit = AuditSink(conn, self._audit_actor, self._audit_now)
        self.sessions = SessionRepository(conn, self._session_cache)
        self.records = RecordRepository(conn, audit)
        self.scores = ScoreRepository(conn)
        self.accounts = AccountRepository(conn)
        self.registrations = RegistrationRepository(conn)
        self.entries = EntryRepository(conn, audit)
        self.reviews = ReviewRepository(conn, audit)
        self.waitlists = WaitlistRepository(conn, audit)
        self.conversations = ConversationRepository(conn)
        self.outbox = OutboxRepository(conn)
        self.payments = PaymentRepository(conn, audit)
        self.platform_users = PlatformUserRepository(conn)
        self.tickets = TicketRepository(conn)
        self.administration = AdministrationRepository(conn)
        return self

    async def _audit_actor(self) -> str:
        if self.find_actor is not None:
            found = await self.find_actor()
            if found is not None:
                return found
        return self.actor

    def _audit_now(self) -> datetime:
        return self.clock.now() if self.clock is not None else datetime.now(UTC)

    def savepoint(self) -> Any:
        """A nested transaction: `async with uow.savepoint(): ...` undoes only its own
        writes when the block raises (e.g. a domain error after a partial change).
        Sent straight to the driver (storage/direct.py, storage/sqlite_direct.py)."""
        if self._guard is not None and self._guard.on:
            self._guard.refuse("savepoint")
        return direct.savepoint(self.conn)

    @contextmanager
    def watching_writes(self) -> Iterator[WriteWatch | None]:
        """Counts the statements sent inside the block that change rows and stand (a
        savepoint inside rolled back what it undid): on PostgreSQL over asyncpg, in a
        transaction (None elsewhere: a SQLite file, where savepoints cost no round trip,
        and an optimistic unit of work, which refuses every write anyway). For a service
        run without a savepoint (`Ctx.call`): a refusal after a write that stands is
        caught by it."""
        if (
            self._guard is not None
            or self._direct is not None
            or not direct.postgres(self._engine.dialect)
        ):
            yield None
            return
        sync = cast(Connection, self.conn.sync_connection)
        outer = direct.guard_of(sync)
        watch = WriteWatch()
        # No I/O: SQLAlchemy's own dictionary of the connection's options.
        sync.execution_options(**{GUARD: watch})
        try:
            yield watch
        finally:
            if not (sync.closed or sync.invalidated):
                sync.execution_options(**{GUARD: outer})
            if isinstance(outer, WriteWatch):
                outer.writes += watch.writes

    @property
    def optimistic(self) -> bool:
        """Whether this unit of work only reads, outside a transaction (see `Database.uow`)."""
        return self._guard is not None

    async def finish_optimistic(self, save: Callable[[], Awaitable[T]]) -> T:
        """Ends an optimistic unit of work with its one write, `save` (a single statement
        that stands by itself, conditional on what was read: storage.repos.conversations'
        `save_unchanged`). Refused when anything tried to write before (even if the
        refusal was caught and ignored) or queued work for after a commit (mail)."""
        guard = self._guard
        assert guard is not None, "not an optimistic unit of work"
        if guard.refused or self.after_commit:
            guard.refuse("a write before the save")
        guard.on = False
        self.commit_sent = True  # from here a lost connection may have applied the save
        try:
            result = await save()
        except DBAPIError as exc:
            if not lost_connection(exc):
                # One statement that failed applied nothing (e.g. a deadlock with a
                # transactional delivery of the same update, which records its id before
                # it locks the row): the caller may redo it all in a transaction.
                self.commit_sent = False
            raise
        self._committed = True
        return result

    async def commit(self) -> None:
        if self._guard is not None:
            self._guard.refuse("commit")  # only `finish_optimistic` ends such a unit
        self.commit_sent = True
        if self._straight:
            await direct.commit(self.conn)
        else:
            await self.conn.commit()
        self._committed = True
        if self.sessions.wrote:
            # Cleared at the write and again now, so no reader keeps the old data.
            self._session_cache.clear()
        # The transaction is over: the next writer may start while this one tidies up.
        self._unlock()
        hooks, self.after_commit = self.after_commit, []
        for hook in hooks:
            await hook()

    async def rollback(self) -> None:
        if self._straight:
            await direct.rollback(self.conn)
        else:
            await self.conn.rollback()
        self._unlock()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        try:
            if conn is not None:
                try:
                    if self._straight:
                        # Also after an optimistic unit's save (SQLAlchemy's transaction
                        # is only bookkeeping there): nothing is sent then.
                        await direct.rollback(conn)
                    elif not self._committed and conn.in_transaction():
                        await conn.rollback()
                finally:
                    if self._guard is not None:
                        end_autocommit(conn)
                    if self._direct is not None:
                        self._direct.give(
                            cast(sqlite_direct.DirectConnection, conn).sync_connection
                        )
                    elif self._straight:
                        await direct.close(conn)
                    else:
                        await conn.close()
        finally:
            self._unlock()


class Database:
    """The engine and a factory of units of work; one per process."""

    def __init__(self, url: str, *, pool_size: int = 20, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size, echo=echo)
        # On a SQLite file the units of work skip SQLAlchemy's asyncio layer (it cost a fifth
        # of a chat update's CPU); `engine` stays for migrations and tools.
        self.direct_engine = make_direct_engine(url, pool_size=pool_size)
        self._direct_pool: sqlite_direct.DirectPool | None = None
        if self.direct_engine is not None:
            self.direct_engine.echo = echo
            self._direct_pool = sqlite_direct.DirectPool(self.direct_engine, keep=pool_size)
        # SQLite has one writer at a time. Queueing this process's writers here
        # instead of in SQLite's busy handler (which sleeps and polls) keeps
        # throughput up; other processes' locks are still waited for (the inline
        # driver's asyncio-sleeping retries, or aiosqlite's busy_timeout).
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        # Sessions, offered subjects, campuses and the catalogue, shared by all units of work.
        self.session_cache = SessionCache()
        # Whether units of work may be optimistic (read-only, without a transaction): on
        # PostgreSQL over asyncpg, where storage/direct.py sends the statements, unless
        # CETBOT_OPTIMISTIC=0 (every update in a transaction, as before issue 17). Tests
        # turn it off to compare with the transactional path.
        self.optimistic = (
            direct.postgres(self.engine.dialect)
            and self._direct_pool is None
            and os.environ.get("CETBOT_OPTIMISTIC", "") != "0"
        )
        # Whether the units of work send BEGIN, COMMIT and ROLLBACK straight to asyncpg
        # (storage.direct.begin/commit/rollback) instead of through SQLAlchemy's asyncio
        # layer: on PostgreSQL over asyncpg, unless CETBOT_STRAIGHT_UOW=0 (bench/uow.py
        # compares both in one process).
        self.straight = (
            direct.postgres(self.engine.dialect)
            and os.environ.get("CETBOT_STRAIGHT_UOW", "") != "0"
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def uow(self, *, readonly: bool = False, optimistic: bool = False) -> UnitOfWork:
        """A unit of work. `optimistic` (only where `optimistic` holds): no transaction;
        each statement is sent by itself (PostgreSQL's READ COMMITTED gives each statement
        of a transaction its own snapshot anyway, so reads see what they would inside one),
        every write, savepoint and commit is refused (storage.direct.WriteRefused, nothing
        sent), and the unit ends with one conditional write (`finish_optimistic`)."""
        if optimistic and not self.optimistic:
            raise ValueError("optimistic units of work run on PostgreSQL over asyncpg only")
        return UnitOfWork(
            self.engine,
            readonly=readonly,
            write_lock=self._write_lock,
            session_cache=self.session_cache,
            direct=self._direct_pool,
            optimistic=optimistic,
            straight=self.straight,
        )

    @property
    def statement_engine(self) -> Engine:
        """The synchronous engine whose cursor events see the units of work's statements
        (on a SQLite file all but BEGIN and savepoints: see `watching_statements`)."""
        return self.direct_engine if self.direct_engine is not None else self.engine.sync_engine

    @contextmanager
    def watching_statements(self, observe: Callable[[str], None]) -> Iterator[None]:
        """Calls `observe(sql)` for every statement the units of work send, transaction
        control on a SQLite file included (to count them: the statement budget test, the
        benches). A listener on every execution slows them down: not for production."""

        def on_cursor(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            observe(statement)

        engine = self.statement_engine
        event.listen(engine, "before_cursor_execute", on_cursor)
        if self._direct_pool is not None:
            self._direct_pool.observers.append(observe)
        try:
            yield
        finally:
            event.remove(engine, "before_cursor_execute", on_cursor)
            if self._direct_pool is not None:
                self._direct_pool.observers.remove(observe)

    async def warm_up(self, *, prepare: bool = True) -> int:
        """PostgreSQL: opens every connection of the pool now, before the first update.

        A new pooled connection costs a backend's start and asyncpg's type look-ups (two
        queries whose planning alone took about 9 ms of the server's CPU each, issue 17):
        paid at start-up, not by the first candidates of a rush. With `prepare` (over
        asyncpg), the repositories' statements are also prepared and planned on each
        connection (`hot_statements`, `storage.direct.prepare`): the fused reads, the
        booking's and the pay link's statements take over a millisecond each to plan, once
        per statement and connection. Returns how many connections the pool holds; SQLite
        (connections cost nothing to open, sqlite3 prepares in microseconds): 0."""
        if self.is_sqlite:
            return 0
        pool = self.engine.pool
        wanted = pool.size() if isinstance(pool, QueuePool) else 1
        statements = hot_statements(self.engine.dialect) if prepare else []

        async def one() -> None:
            async with self.engine.connect() as conn:
                if statements:
                    await direct.prepare(conn, statements)

        # All at once, so that each checkout finds the pool empty and opens its own.
        await asyncio.gather(*(one() for _ in range(wanted)))
        return pool.checkedin() if isinstance(pool, QueuePool) else wanted

    async def run(self, work: Callable[[UnitOfWork], Awaitable[T]], *, attempts: int = 5) -> T:
        """Runs `work` in a fresh unit of work, retrying transient conflicts.

        A deadlock or serialization failure on PostgreSQL and a lock timeout on
        SQLite leave nothing behind (the transaction rolled back), so trying the
        whole unit again is safe.
        """
        reconnected = False
        attempt = 0
        while True:
            uow = self.uow()
            try:
                async with uow:
                    return await work(uow)
            except (OperationalError, DBAPIError) as exc:
                if lost_connection(exc) and not uow.commit_sent and not reconnected:
                    # PostgreSQL dropped the pooled connection (a restart, a killed
                    # backend). SQLAlchemy has invalidated the pool's older connections
                    # too; the transaction never reached COMMIT, so it was rolled back
                    # and trying once more on a fresh connection applies it once. Free
                    # on the hot path, unlike a ping before every checkout.
                    reconnected = True
                    log.warning("database connection lost; trying the unit of work again")
                    continue
                attempt += 1
                if attempt >= attempts or not is_transient(exc):
                    raise
                await asyncio.sleep(0.01 * (2 ** (attempt - 1)))

    async def dispose(self) -> None:
        if self._direct_pool is not None:
            self._direct_pool.dispose()
        await self.engine.dispose()


def hot_statements(dialect: Dialect) -> list[Executable]:
    """The statements `Database.warm_up` prepares on each pooled connection: every statement
    the repositories build at import (a module-level statement, or the values of a
    module-level dict of them; of a dict keyed by dialect name, this dialect's), and every
    one storage.direct compiled for this dialect in this process so far. Statements only
    sent through SQLAlchemy are prepared too (a few of asyncpg's cache slots, no harm)."""
    from storage import repos

    found: dict[int, Executable] = {}
    for info in pkgutil.iter_modules(repos.__path__):
        module = importlib.import_module(f"{repos.__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Executable):
                found.setdefault(id(value), value)
            elif isinstance(value, dict) and value:
                if not all(isinstance(v, Executable) for v in value.values()):
                    continue
                if dialect.name in value:
                    value = {dialect.name: value[dialect.name]}
                elif any(k in _DIALECT_NAMES for k in value):
                    continue  # another dialect's only
                for statement in value.values():
                    found.setdefault(id(statement), statement)
    for statement in direct.compiled_statements(dialect):
        found.setdefault(id(statement), statement)
    return list(found.values())


_DIALECT_NAMES = frozenset({"postgresql", "sqlite"})


def lost_connection(exc: BaseException) -> bool:
    """The database connection was gone (SQLAlchemy invalidated it), not the statement wrong."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def is_transient(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(
        word in text
        for word in ("deadlock", "could not serialize", "database is locked", "serializ")
    )
