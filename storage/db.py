"""Engine creation and the unit of work: one transaction, committed in one place."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from storage.repos import (
    AccountRepository,
    AdministrationRepository,
    ConversationRepository,
    EntryRepository,
    OutboxRepository,
    PaymentRepository,
    RecordRepository,
    RegistrationRepository,
    ReviewRepository,
    ScoreRepository,
    SessionRepository,
    TicketRepository,
    WaitlistRepository,
)

T = TypeVar("T")


def is_sqlite_url(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, pool_size: int = 20, echo: bool = False) -> AsyncEngine:
    """An engine tuned for this project on SQLite or PostgreSQL."""
    if is_sqlite_url(url):
        engine = create_async_engine(
            url,
            echo=echo,
            pool_size=pool_size,
            max_overflow=pool_size,
            connect_args={"timeout": 30, "check_same_thread": False},
        )
        _tune_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
    )


def _tune_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the driver so we can say BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

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
    tickets: TicketRepository
    administration: AdministrationRepository

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        readonly: bool = False,
        write_lock: asyncio.Lock | None = None,
    ) -> None:
        self._engine = engine
        self._readonly = readonly
        self._write_lock = None if readonly else write_lock
        self._conn: AsyncConnection | None = None
        self._committed = False
        self.after_commit: list[Callable[[], Awaitable[None]]] = []

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
        try:
            return await self._enter()
        except BaseException:
            if self._write_lock is not None:
                self._write_lock.release()
            raise

    async def _enter(self) -> UnitOfWork:
        conn = await self._engine.connect()
        if self._readonly and self._engine.dialect.name == "sqlite":
            conn = await conn.execution_options(sqlite_begin="DEFERRED")
        await conn.begin()
        self._conn = conn
        self.sessions = SessionRepository(conn)
        self.records = RecordRepository(conn)
        self.scores = ScoreRepository(conn)
        self.accounts = AccountRepository(conn)
        self.registrations = RegistrationRepository(conn)
        self.entries = EntryRepository(conn)
        self.reviews = ReviewRepository(conn)
        self.waitlists = WaitlistRepository(conn)
        self.conversations = ConversationRepository(conn)
        self.outbox = OutboxRepository(conn)
        self.payments = PaymentRepository(conn)
        self.tickets = TicketRepository(conn)
        self.administration = AdministrationRepository(conn)
        return self

    def savepoint(self) -> Any:
        """A nested transaction: `async with uow.savepoint(): ...` undoes only its own
        writes when the block raises (e.g. a domain error after a partial change)."""
        return self.conn.begin_nested()

    async def commit(self) -> None:
        await self.conn.commit()
        self._committed = True
        hooks, self.after_commit = self.after_commit, []
        for hook in hooks:
            await hook()

    async def rollback(self) -> None:
        await self.conn.rollback()

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
                    if not self._committed and conn.in_transaction():
                        await conn.rollback()
                finally:
                    await conn.close()
        finally:
            if self._write_lock is not None:
                self._write_lock.release()


class Database:
    """The engine and a factory of units of work; one per process."""

    def __init__(self, url: str, *, pool_size: int = 20, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size, echo=echo)
        # SQLite has one writer at a time. Queueing this process's writers here
        # instead of in SQLite's busy handler (which sleeps and polls) keeps
        # throughput up; other processes still wait through busy_timeout.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def uow(self, *, readonly: bool = False) -> UnitOfWork:
        return UnitOfWork(self.engine, readonly=readonly, write_lock=self._write_lock)

    async def run(self, work: Callable[[UnitOfWork], Awaitable[T]], *, attempts: int = 5) -> T:
        """Runs `work` in a fresh unit of work, retrying transient conflicts.

        A deadlock or serialization failure on PostgreSQL and a lock timeout on
        SQLite leave nothing behind (the transaction rolled back), so trying the
        whole unit again is safe.
        """
        for attempt in range(attempts):
            try:
                async with self.uow() as uow:
                    return await work(uow)
            except (OperationalError, DBAPIError) as exc:
                if attempt + 1 >= attempts or not is_transient(exc):
                    raise
                await asyncio.sleep(0.01 * (2**attempt))
        raise AssertionError("unreachable")

    async def dispose(self) -> None:
        await self.engine.dispose()


def is_transient(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(
        word in text
        for word in ("deadlock", "could not serialize", "database is locked", "serializ")
    )
