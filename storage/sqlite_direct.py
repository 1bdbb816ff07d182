"""Units of work on a SQLite file through SQLAlchemy's synchronous Connection, on the loop.

Why: with the on-loop driver (storage/sqlite_inline.py) no statement ever waits for a
thread, yet SQLAlchemy's asyncio layer still wraps each one: a greenlet spawned per call,
the async-adapted DBAPI cursor, several greenlet switches. Measured on this project's
machine for one prebuilt UPDATE ... RETURNING: ~190 us through AsyncConnection against
~75 us through a plain Connection (sqlite3 itself: ~11 us), and an empty unit of work
(connect, BEGIN IMMEDIATE, COMMIT, close) ~250 us. A chat update runs about ten
statements, so the adaptation was a fifth of the bot's CPU (bench/chat.py).

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
import time
from collections.abc import Generator
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, NestedTransaction, create_engine
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.base import SQLiteExecutionContext
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.cursor import FullyBufferedCursorFetchStrategy
from sqlalchemy.exc import OperationalError

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
        pool_size=pool_size,
        max_overflow=pool_size,
        # One event loop thread uses them, but pytest and tools may hand a Database over.
        connect_args={"check_same_thread": False, "timeout": 0},
    )


def _locked(exc: OperationalError) -> bool:
    return "database is locked" in str(exc.orig).lower()


class DirectTransaction:
    """A savepoint: awaitable (``point = await conn.begin_nested()``) and an async context
    manager (``async with conn.begin_nested(): ...``), like AsyncTransaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._tx: NestedTransaction | None = None

    def _start(self) -> DirectTransaction:
        self._tx = self._conn.begin_nested()
        return self

    def __await__(self) -> Generator[Any, None, DirectTransaction]:
        return self._started().__await__()

    async def _started(self) -> DirectTransaction:
        return self._start()

    async def __aenter__(self) -> DirectTransaction:
        return self._start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tx = self._tx
        if tx is None or not tx.is_active:
            return
        if exc_type is None:
            tx.commit()
        else:
            tx.rollback()

    @property
    def is_active(self) -> bool:
        return self._tx is not None and self._tx.is_active

    async def commit(self) -> None:
        assert self._tx is not None, "savepoint not started"
        self._tx.commit()

    async def rollback(self) -> None:
        assert self._tx is not None, "savepoint not started"
        self._tx.rollback()


class DirectConnection:
    """AsyncConnection's surface, as used here, over a synchronous Connection."""

    def __init__(self, sync_connection: Connection, *, lock_wait: float) -> None:
        self.sync_connection = sync_connection
        self._lock_wait = lock_wait

    @property
    def dialect(self) -> Dialect:
        return self.sync_connection.dialect

    async def begin(self) -> None:
        """BEGIN (IMMEDIATE unless the `sqlite_begin` option says otherwise), waiting with
        asyncio.sleep while another process holds the write lock."""
        deadline = time.monotonic() + self._lock_wait
        pause = FIRST_PAUSE
        while True:
            try:
                self.sync_connection.begin()
                return
            except OperationalError as exc:
                if not _locked(exc) or time.monotonic() + pause > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)

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
        return DirectTransaction(self.sync_connection)

    def in_transaction(self) -> bool:
        return self.sync_connection.in_transaction()

    async def commit(self) -> None:
        self.sync_connection.commit()

    async def rollback(self) -> None:
        self.sync_connection.rollback()

    async def close(self) -> None:
        self.sync_connection.close()

    async def get_raw_connection(self) -> Any:
        return self.sync_connection.connection

    def get_execution_options(self) -> Any:
        return self.sync_connection.get_execution_options()
