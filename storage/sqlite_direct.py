"""Units of work on a SQLite file through SQLAlchemy's synchronous Connection, on the loop.

Why: with the on-loop driver (storage/sqlite_inline.py) no statement ever waits for a
thread, yet SQLAlchemy's asyncio layer still wraps each one: a greenlet spawned per call,
the async-adapted DBAPI cursor, several greenlet switches. Measured on this project's
machine for one prebuilt UPDATE ... RETURNING: ~190 us through AsyncConnection against
~75 us through a plain Connection (sqlite3 itself: ~11 us), and an empty unit of work
(connect, BEGIN IMMEDIATE, COMMIT, close) ~250 us. A chat update runs about ten
statements, so the adaptation was a fifth of the bot's CPU (bench/chat.py). With the
Connections kept open between units of work (`DirectPool`) and BEGIN and savepoints sent
to sqlite3 directly, the empty unit of work costs ~30 us.

`DirectConnection` offers the part of AsyncConnection that the repositories and the unit
of work use (`execute`, `exec_driver_sql`, `begin_nested`, `commit`, `rollback`, ...) as
coroutines that run the synchronous call at once. Nothing in them awaits, so a unit of
work on SQLite never yields to the loop between its statements (as with the inline
driver), and this process's writers are queued by the Database's asyncio lock.

Locks: the connections have SQLite's busy handler off (it would sleep on the loop thread,
and the holder may be a coroutine of this very loop). BEGIN IMMEDIATE is where another
process's write lock is met (in WAL mode a transaction holding the write lock is not
refused later, and readers are never blocked), so `begin` retries a refused BEGIN after an
`asyncio.sleep` with backoff within SQLITE_LOCK_WAIT. A later refusal, should one ever
happen, surfaces as "database is locked", which `Database.run` retries as a whole.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Generator
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Connection, CursorResult, Engine, create_engine
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.base import SQLiteExecutionContext
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.cursor import FullyBufferedCursorFetchStrategy

# The first pause after a refused BEGIN and the longest one, in seconds.
FIRST_PAUSE = 0.001
LONGEST_PAUSE = 0.05


class _BufferedContext(SQLiteExecutionContext):
    """Reads a statement's rows as soon as it has run, as SQLAlchemy's asyncio adapter does.

    sqlite3 steps a statement lazily: an INSERT ... RETURNING whose row nobody fetched is
    still "in progress", and SQLite then refuses RELEASE SAVEPOINT and COMMIT. Code written
    for AsyncConnection may leave a result unread, so rows are always read up front."""

    def post_exec(self) -> None:
        super().post_exec()
        if self.cursor.description is not None:
            self.cursor_fetch_strategy = FullyBufferedCursorFetchStrategy(self.cursor)


class DirectDialect(SQLiteDialect_pysqlite):
    """pysqlite with every result buffered (`_BufferedContext`)."""

    driver = "cetbot_direct"
    supports_statement_cache = True
    execution_ctx_cls = _BufferedContext


registry.register("sqlite.cetbot_direct", __name__, "DirectDialect")


def make_direct_engine(url: str, *, pool_size: int) -> Engine:
    """A synchronous sqlite3 engine for the file of a ``sqlite+aiosqlite`` URL."""
    sync_url = url.replace("sqlite+aiosqlite:", "sqlite+cetbot_direct:", 1)
    return create_engine(
        sync_url,
        # Errors name the SQL, never its parameters (ID numbers...): storage.db.HIDE_PARAMETERS.
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        # One event loop thread uses them, but pytest and tools may hand a Database over.
        connect_args={"check_same_thread": False, "timeout": 0},
    )


def _locked(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    return "database is locked" in str(orig).lower()


class DirectPool:
    """Keeps this process's SQLAlchemy Connections open between units of work.

    A unit of work used to check a Connection out of the engine's pool and back in: a new
    Connection object, the pool's checkout bookkeeping and its reset-on-return rollback,
    about a tenth of a chat update's database time (py-spy). Here an idle Connection
    (not in a transaction, not invalidated) is simply handed to the next unit of work;
    at most `keep` wait, the rest are closed."""

    def __init__(self, engine: Engine, *, keep: int) -> None:
        self.engine = engine
        self._keep = keep
        self._idle: list[Connection] = []
        # Told of every statement sent to sqlite3 directly (BEGIN, SAVEPOINT, ...), which
        # SQLAlchemy's cursor events do not see: `Database.watching_statements` counts both.
        self.observers: list[Callable[[str], None]] = []

    def take(self) -> Connection:
        return self._idle.pop() if self._idle else self.engine.connect()

    def give(self, conn: Connection) -> None:
        if (
            conn.closed
            or conn.invalidated
            or conn.in_transaction()
            or len(self._idle) >= self._keep
        ):
            conn.close()
        else:
            self._idle.append(conn)

    def dispose(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        self.engine.dispose()


class NamedSavepoint:
    """A savepoint sent as fixed text straight to the driver: awaitable (``point = await
    uow.savepoint()``) and an async context manager (``async with uow.savepoint(): ...``),
    with `commit` and `rollback`, like the AsyncTransaction of `begin_nested`.

    SQLAlchemy compiles a new savepoint clause each time (its name is not cached), which
    cost more than the statements themselves. SQLAlchemy's connection stays in its root
    transaction and never learns of the savepoint, which it does not need to: Core keeps
    no state of rows. A subclass names the savepoint and sends the statements."""

    def __init__(self) -> None:
        self._name: str | None = None

    def _new_name(self) -> str:
        raise NotImplementedError

    async def _send(self, *statements: str) -> None:
        raise NotImplementedError

    async def _start(self) -> Self:
        name = self._new_name()
        await self._send(f"SAVEPOINT {name}")
        self._name = name
        return self

    def __await__(self) -> Generator[Any, None, Self]:
        return self._start().__await__()

    async def __aenter__(self) -> Self:
        return await self._start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._name is None:
            return
        if exc_type is None:
            await self.commit()
        else:
            await self.rollback()

    @property
    def is_active(self) -> bool:
        return self._name is not None

    async def commit(self) -> None:
        """RELEASE: the savepoint's writes become part of the enclosing transaction."""
        name, self._name = self._name, None
        if name is not None:
            await self._send(f"RELEASE SAVEPOINT {name}")

    async def rollback(self) -> None:
        """Undoes the savepoint's writes and drops it."""
        name, self._name = self._name, None
        if name is not None:
            await self._send(f"ROLLBACK TO SAVEPOINT {name}", f"RELEASE SAVEPOINT {name}")


class DirectTransaction(NamedSavepoint):
    """A savepoint of a `DirectConnection`, sent to sqlite3 (a statement per call)."""

    def __init__(self, owner: DirectConnection) -> None:
        super().__init__()
        self._owner = owner

    def _new_name(self) -> str:
        return self._owner._savepoint_name()

    async def _send(self, *statements: str) -> None:
        for sql in statements:
            self._owner._raw(sql)


class DirectConnection:
    """AsyncConnection's surface, as used here, over a synchronous Connection."""

    def __init__(
        self,
        sync_connection: Connection,
        *,
        lock_wait: float,
        observers: list[Callable[[str], None]] | None = None,
    ) -> None:
        self.sync_connection = sync_connection
        self._lock_wait = lock_wait
        self._observers = observers if observers is not None else []
        self._savepoints = 0

    @property
    def dialect(self) -> Dialect:
        return self.sync_connection.dialect

    @property
    def driver_connection(self) -> sqlite3.Connection:
        """The sqlite3 connection itself (storage/direct.py runs the hot statements on it)."""
        return self.sync_connection.connection.driver_connection  # type: ignore[return-value]

    def _raw(self, sql: str) -> None:
        # The sqlite3 connection itself: transaction control needs none of SQLAlchemy's
        # statement machinery (so its cursor events do not see it: the observers do).
        for observe in self._observers:
            observe(sql)
        self.driver_connection.execute(sql)

    def _savepoint_name(self) -> str:
        self._savepoints += 1
        return f"cetbot_sp_{self._savepoints}"

    async def begin(self, mode: str = "IMMEDIATE") -> None:
        """BEGIN IMMEDIATE (or DEFERRED for a reader), waiting with asyncio.sleep while
        another process holds the write lock. The last try goes through SQLAlchemy, so a
        lock that outlasts the wait is raised as its OperationalError."""
        deadline = time.monotonic() + self._lock_wait
        pause = FIRST_PAUSE
        while time.monotonic() + pause <= deadline:
            try:
                self._raw(f"BEGIN {mode}")
            except sqlite3.OperationalError as exc:
                if not _locked(exc):
                    raise
                await asyncio.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE)
                continue
            # The transaction is open; SQLAlchemy's own begin only does its bookkeeping
            # (pysqlite's do_begin is a no-op and this engine has no begin listener).
            self.sync_connection.begin()
            return
        self.sync_connection.exec_driver_sql(f"BEGIN {mode}")

    async def execute(
        self,
        statement: Any,
        parameters: Any = None,
        *,
        execution_options: Any = None,
    ) -> CursorResult[Any]:
        return self.sync_connection.execute(
            statement, parameters, execution_options=execution_options
        )

    async def exec_driver_sql(
        self, statement: str, parameters: Any = None, execution_options: Any = None
    ) -> CursorResult[Any]:
        return self.sync_connection.exec_driver_sql(statement, parameters, execution_options)

    def begin_nested(self) -> DirectTransaction:
        return DirectTransaction(self)

    def in_transaction(self) -> bool:
        return self.sync_connection.in_transaction()

    async def commit(self) -> None:
        self.sync_connection.commit()

    async def rollback(self) -> None:
        self.sync_connection.rollback()

    async def get_raw_connection(self) -> Any:
        return self.sync_connection.connection

    def get_execution_options(self) -> Any:
        return self.sync_connection.get_execution_options()
