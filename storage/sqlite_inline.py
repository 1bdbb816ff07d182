"""An aiosqlite stand-in that runs sqlite3 on the event-loop thread.

Why: aiosqlite runs every call on a worker thread and wakes the loop with
call_soon_threadsafe when it is done. SQLAlchemy's adapter makes about four such
calls per statement (cursor, execute+fetch, close), so a booking of seven statements
paid ~3 ms of thread hops and epoll idling for well under 0.1 ms of SQLite work.
Our statements are tiny indexed lookups and single-row writes, so calling sqlite3
directly from the coroutine is far cheaper; the price is that a long statement (a
bulk roster import) holds the loop for its duration.

Use it through SQLAlchemy's own ``sqlite+aiosqlite`` dialect:
``create_async_engine(url, module=dbapi())``. The dialect's adapter only needs the
aiosqlite surface it awaits: ``connect()`` returning an awaitable connection, and on
the connection ``cursor()`` (an async context manager), ``commit``, ``rollback``,
``close``, ``create_function``, ``stop`` and the private ``_conn``/``_connection``/
``_tx``/``_thread`` attributes that the adapter touches.

Locks: SQLite's own busy handler sleeps inside sqlite3_step, which here would freeze
the whole event loop, and it could never succeed when the lock holder is a coroutine
of this very loop (it cannot run while we sleep). So the connection is opened with a
busy timeout of 0, and a statement refused with SQLITE_BUSY is retried after an
``asyncio.sleep`` with backoff, within the ``timeout`` budget (sqlite3's own
parameter, 5 s by default). Then the last "database is locked" error is raised, as
sqlite3 would have raised it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from collections.abc import Callable, Generator, Iterable, Sequence
from sqlite3 import (
    DatabaseError,
    Error,
    IntegrityError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    sqlite_version,
    sqlite_version_info,
)
from types import TracebackType
from typing import Any, TypeVar

__version__ = "1.0"
paramstyle = "qmark"

__all__ = [
    "Connection",
    "Cursor",
    "DatabaseError",
    "Error",
    "IntegrityError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "connect",
    "dbapi",
    "paramstyle",
    "sqlite_version",
    "sqlite_version_info",
]

T = TypeVar("T")

_SQLITE_BUSY = 5
# The snapshot this transaction read is stale: only a new transaction can succeed.
_SQLITE_BUSY_SNAPSHOT = 517
# First pause after a refusal, and the longest one: a writer of this project holds
# the lock for well under a millisecond, a CLI import for seconds.
_FIRST_PAUSE = 0.0005
_MAX_PAUSE = 0.05


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY and its retryable variants (recovery, timeout), not a stale snapshot."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:  # pragma: no cover - sqlite3 before Python 3.11
        return "database is locked" in str(exc)
    return code & 0xFF == _SQLITE_BUSY and code != _SQLITE_BUSY_SNAPSHOT


class _NoThread:
    """SQLAlchemy's adapter marks aiosqlite's worker thread as daemon; there is none."""

    daemon = True


class _InlineQueue:
    """Stands in for aiosqlite's queue to its worker thread.

    SQLAlchemy's adapter sets ``isolation_level`` by putting ``(future, function)``
    on ``connection._tx``; here the function simply runs now.
    """

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)


class Cursor:
    """An async face over a sqlite3 cursor; every call runs on the caller's thread."""

    def __init__(self, conn: Connection, cursor: sqlite3.Cursor) -> None:
        self._conn = conn
        self._cursor = cursor

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __aiter__(self) -> Cursor:
        return self

    async def __anext__(self) -> Any:
        row = self._cursor.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row

    async def execute(self, sql: str, parameters: Any = ()) -> Cursor:
        # One statement either runs or, refused with SQLITE_BUSY, changes nothing:
        # running it again is always safe.
        await self._conn._retry_busy(lambda: self._cursor.execute(sql, parameters))
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> Cursor:
        # Rows before a refused one may already be written (in autocommit mode even
        # committed): retry only when nothing changed, else raise as sqlite3 would.
        rows = parameters if isinstance(parameters, Sequence) else list(parameters)
        await self._conn._retry_busy(
            lambda: self._cursor.executemany(sql, rows), only_if_unchanged=True
        )
        return self

    async def executescript(self, sql_script: str) -> Cursor:
        await self._conn._retry_busy(
            lambda: self._cursor.executescript(sql_script), only_if_unchanged=True
        )
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        if size is None:
            size = self._cursor.arraysize
        return self._cursor.fetchmany(size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def setinputsizes(self, *sizes: Any) -> None:
        return None

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def connection(self) -> sqlite3.Connection:
        return self._cursor.connection


class Connection:
    """An awaitable, aiosqlite-shaped connection over a sqlite3 connection.

    ``await connect(...)`` opens it. ``timeout`` (seconds) is how long a statement
    keeps retrying while another connection holds the lock; SQLite itself is told
    never to wait (see the module's docstring).
    """

    def __init__(self, database: str, timeout: float, kwargs: dict[str, Any]) -> None:
        self._database = database
        self._kwargs = kwargs
        self.busy_budget = timeout
        self._connection: sqlite3.Connection | None = None
        self._thread = _NoThread()
        self._tx = _InlineQueue()

    def __await__(self) -> Generator[Any, None, Connection]:
        return self._connect().__await__()

    async def _connect(self) -> Connection:
        if self._connection is None:
            # timeout=0: SQLite's busy handler must never sleep on the loop thread.
            self._connection = sqlite3.connect(self._database, timeout=0, **self._kwargs)
        return self

    async def __aenter__(self) -> Connection:
        return await self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    async def _retry_busy(self, call: Callable[[], T], *, only_if_unchanged: bool = False) -> T:
        """Runs `call`; on SQLITE_BUSY sleeps (yielding the loop) and tries again."""
        conn = self._conn
        deadline: float | None = None
        pause = _FIRST_PAUSE
        while True:
            before = conn.total_changes
            try:
                return call()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                if only_if_unchanged and conn.total_changes != before:
                    raise
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self.busy_budget
                if now >= deadline:
                    raise
                await asyncio.sleep(min(pause, deadline - now))
                pause = min(pause * 2, _MAX_PAUSE)

    def cursor(self) -> Cursor:
        return Cursor(self, self._conn.cursor())

    async def execute(self, sql: str, parameters: Any = ()) -> Cursor:
        return await self.cursor().execute(sql, parameters)

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> Cursor:
        return await self.cursor().executemany(sql, parameters)

    async def commit(self) -> None:
        # COMMIT can be refused too (in rollback-journal mode, while readers remain);
        # the transaction then stays open and committing again is safe.
        await self._retry_busy(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Closes at once; also what SQLAlchemy's terminate() calls."""
        conn, self._connection = self._connection, None
        if conn is not None:
            conn.close()

    async def create_function(
        self, name: str, num_params: int, func: Callable[..., Any], deterministic: bool = False
    ) -> None:
        self._conn.create_function(name, num_params, func, deterministic=deterministic)

    async def interrupt(self) -> None:
        self._conn.interrupt()

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        self._conn.isolation_level = value

    @property
    def total_changes(self) -> int:
        return self._conn.total_changes


def connect(
    database: str | bytes | Any,
    *,
    timeout: float = 5.0,
    iter_chunk_size: int | None = None,
    loop: Any = None,
    **kwargs: Any,
) -> Connection:
    """Like aiosqlite.connect (same arguments); the connection opens when awaited."""
    if isinstance(database, bytes):
        database = database.decode("utf-8")
    return Connection(str(database), timeout, kwargs)


def dbapi() -> Any:
    """This module adapted the way SQLAlchemy adapts aiosqlite, for ``module=``."""
    from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi

    return AsyncAdapt_aiosqlite_dbapi(sys.modules[__name__], sqlite3)  # type: ignore[arg-type]
