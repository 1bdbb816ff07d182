"""The hottest statements sent straight to the driver, in the unit of work's transaction.

SQLAlchemy's execution layer (the compiled-cache look-up, the execution context, the
DB-API adapter, the result objects) cost about as much CPU as the database round trip
itself on the statements every chat update runs (issue 17: ~0.18 against ~0.09 ms per
statement on PostgreSQL, measured on this machine). `rows`, `first` and `rowcount` run a
Core statement built once at import (the repositories' `_TOUCH`, `_SAVE`, ...) on the
driver connection under the unit of work's connection:

* PostgreSQL over asyncpg: on the asyncpg connection under the unit of work's
  `AsyncConnection`; asyncpg prepares each statement once per connection (its statement
  cache); asyncpg's BEGIN is sent by SQLAlchemy's adapter, started here when this is the
  first statement;
* a SQLite file: on the sqlite3 connection under the unit of work's `DirectConnection`
  (storage/sqlite_direct.py), which already began the transaction; sqlite3 keeps its own
  cache of prepared statements, and every row is read at once (as `_BufferedContext` does:
  SQLite refuses COMMIT while a RETURNING statement is unread);
* the statement is compiled once per dialect by SQLAlchemy itself (the same SQL, casts
  and parameter order as `conn.execute` sends);
* the parameters go through the columns' own bind processors (JSON, UTCDateTime...), the
  results through their result processors, so a row holds what SQLAlchemy's would;
* an error goes through SQLAlchemy's own handling of a driver error (the same exception
  classes, hidden parameters and DETAIL, a lost connection invalidated and retried by
  `Database.run`);
* SQLAlchemy's `before_cursor_execute` listeners see each statement, so the statement
  budget test and the benches count them as before;
* a read-only unit of work (an optimistic chat update, issue 17: no transaction, each
  statement by itself) gets no write past this module: `ReadOnlyGuard` refuses it before
  anything is sent, here and, through `refuse_writes`, in SQLAlchemy's `conn.execute`.

Everything else (other drivers, an in-memory SQLite database, statements not passed here)
goes through `conn.execute` unchanged; SQLAlchemy keeps the models, the migrations and the
cold paths.
"""

from __future__ import annotations

import itertools
import logging
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, NoReturn, cast

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.expression import Executable

from storage.sqlite_direct import DirectConnection, NamedSavepoint

log = logging.getLogger(__name__)

# Where the asyncpg connection of a pooled connection is kept: `AsyncConnection.info`
# lives as long as the driver connection (SQLAlchemy clears it on a reconnect).
_DRIVER = "cetbot_asyncpg"
_STATUS_COUNT = re.compile(r"(?:SELECT|UPDATE|DELETE|INSERT \d+) (\d+)")


class DirectRow(tuple[Any, ...]):
    """A result row with the faces of SQLAlchemy's Row that the repositories use:
    positions, attributes (`row.platform`), `_fields` and `_mapping`."""

    __slots__ = ()
    # Set on each statement's subclass.
    _fields: ClassVar[tuple[str, ...]] = ()
    _index: ClassVar[dict[str, int]] = {}

    def __getattr__(self, name: str) -> Any:
        try:
            return self[self._index[name]]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def _mapping(self) -> dict[str, Any]:
        return dict(zip(self._fields, self, strict=True))


class _Compiled:
    """One statement compiled for one dialect, with its parameter and result processors."""

    __slots__ = ("binds", "keep", "names", "results", "row_type", "sql")

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        # A SQLCompiler: positional parameters, binds and literals are its own.
        compiled: Any = cast(ClauseElement, statement).compile(dialect=dialect)
        if compiled.positiontup is None:
            raise TypeError("direct statements need a positional paramstyle ($n or ?)")
        if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
            # A Python-side column default is computed by SQLAlchemy's execution context.
            raise TypeError("direct statements refuse a statement with Python-side column defaults")
        self.keep = statement  # the cache is keyed by id(): keep the object alive
        # Values fixed when the statement was built (string_agg's separator) go into the
        # SQL as literals, as SQLAlchemy renders them at each execution; a list bound per
        # call (IN) is refused.
        sql = compiled.string
        literal = set()
        for bind in compiled.literal_execute_params:
            name = compiled.bind_names[bind]
            if bind.expanding or bind.value is None or bind.callable is not None:
                raise TypeError(f"direct statements refuse a parameter rendered per call ({name})")
            rendered = compiled.render_literal_value(bind.value, bind.type)
            sql = sql.replace(f"__[POSTCOMPILE_{name}]", rendered)
            literal.add(name)
        if "__[POSTCOMPILE_" in sql:
            raise TypeError("direct statements refuse a parameter rendered per call")
        fixed = compiled.params
        binds: list[tuple[str, bool, Any, Callable[[Any], Any] | None]] = []
        for name in compiled.positiontup:
            if name in literal:
                continue
            bind = compiled.binds[name]
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            binds.append((name, bind.required, fixed.get(name), processor))
        # The rest of the parameters are numbered $1... (asyncpg) or are the ?s (sqlite3),
        # in that order.
        if dialect.paramstyle == "qmark":
            numbered = sql.count("?") == len(binds)
        else:
            numbers = {int(n) for n in re.findall(r"\$(\d+)", sql)}
            numbered = numbers == set(range(1, len(binds) + 1))
        if not numbered:
            raise TypeError(f"direct statements cannot number the parameters of {sql[:80]!r}")
        self.sql = sql
        self.binds = tuple(binds)
        columns = list(getattr(statement, "exported_columns", ()))
        names = tuple(_column_name(c) for c in columns)
        self.names = names
        self.results = tuple(
            (i, p)
            for i, c in enumerate(columns)
            if (p := c.type.dialect_impl(dialect).result_processor(dialect, None)) is not None
        )
        self.row_type = type(
            "DirectRow",
            (DirectRow,),
            {"__slots__": (), "_fields": names, "_index": {n: i for i, n in enumerate(names)}},
        )

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        out = []
        for name, required, fixed, processor in self.binds:
            if name in params:
                value = params[name]
            elif required:
                raise KeyError(f"no value for the parameter {name!r}")
            else:
                value = fixed
            out.append(processor(value) if processor is not None else value)
        return out

    def row(self, record: Any) -> DirectRow:
        if not self.results:
            return self.row_type(record)  # type: ignore[no-any-return]
        values = list(record)
        for i, processor in self.results:
            values[i] = processor(values[i])
        return self.row_type(values)  # type: ignore[no-any-return]


def _column_name(column: Any) -> str:
    """The key SQLAlchemy's Row gives a returned column: its label, else its name."""
    name = getattr(column, "name", None) or getattr(column, "key", None)
    if not isinstance(name, str):
        raise TypeError(f"direct statements need named result columns, not {column!r}")
    return name


_COMPILED: dict[tuple[int, int], _Compiled] = {}
_DIALECTS: dict[int, Dialect] = {}


def _compiled(statement: Executable, dialect: Dialect) -> _Compiled:
    key = (id(statement), id(dialect))
    found = _COMPILED.get(key)
    if found is None:
        found = _COMPILED[key] = _Compiled(statement, dialect)
        # The dialect is kept alive with its entries, so its id is never reused meanwhile.
        _DIALECTS[id(dialect)] = dialect
    return found


def postgres(dialect: Dialect) -> bool:
    """PostgreSQL over asyncpg: the database whose statements this module sends itself."""
    return dialect.name == "postgresql" and dialect.driver == "asyncpg"


def wanted(conn: AsyncConnection) -> bool:
    """Whether `conn` runs statements through this module: PostgreSQL over asyncpg, or a
    SQLite file's `DirectConnection`, in a transaction begun by the caller (`conn.execute`
    would begin one itself)."""
    if isinstance(conn, DirectConnection):
        return conn.in_transaction()
    return postgres(conn.dialect) and conn.in_transaction()


# -- read-only attempts ---------------------------------------------------------------------

# The execution option of a connection whose unit of work only reads (an optimistic chat
# update: storage.db, `UnitOfWork(optimistic=True)`); its value is that unit's ReadOnlyGuard.
GUARD = "cetbot_read_only"
# What a read-only unit of work may send: a SELECT (or WITH ... SELECT) that changes and
# locks nothing. Anything naming a write, a row lock, a sequence or an advisory lock is
# refused, as is any other statement (a false alarm only costs the transactional redo).
_READ = re.compile(r"\s*(SELECT|WITH)\b", re.IGNORECASE)
_NOT_READ = re.compile(
    r"\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE|SHARE|NEXTVAL|SETVAL|SET_CONFIG|PG_NOTIFY"
    r"|PG_ADVISORY\w*|PG_TRY_ADVISORY\w*|LO_\w+)\b",
    re.IGNORECASE,
)


class WriteRefused(Exception):
    """A read-only unit of work was asked to write (or to take a savepoint, commit, lock):
    nothing was sent. The caller redoes the work in a transaction."""


class ReadOnlyGuard:
    """Refuses the writes of one read-only unit of work while `on`, and remembers that it
    did (`refused`), so a refusal a handler caught and ignored still voids the attempt."""

    __slots__ = ("on", "refused")

    def __init__(self) -> None:
        self.on = True
        self.refused = False

    def refuse(self, what: str) -> NoReturn:
        self.refused = True
        raise WriteRefused(what)

    def check(self, sql: str) -> None:
        if self.on and not _reads_only(sql):
            self.refuse(sql[:60])

    observe = check


class WriteWatch:
    """Counts the statements of a stretch of a unit of work that change rows (`writes`),
    leaving out those a savepoint inside the stretch rolled back: a service run without a
    savepoint of its own (`Ctx.call`, issue 17) is checked by it. Set under the same
    execution option as a ReadOnlyGuard (a unit of work has one or the other), so every
    statement sent here, and through `refuse_writes` every one sent through SQLAlchemy,
    passes `check` before it is sent. A row lock (`FOR UPDATE`), an advisory lock or a
    savepoint is no change of rows. Statements are counted as they are told to SQLAlchemy's
    `before_cursor_execute` listeners (`observe`), once each."""

    __slots__ = ("_marks", "writes")

    def __init__(self) -> None:
        self.writes = 0
        self._marks: list[int] = []

    def check(self, sql: str) -> None:
        """Before a statement is sent: nothing to refuse (`observe` counts it)."""

    def observe(self, sql: str) -> None:
        verdict = _CHANGES.get(sql)
        if verdict is None:
            if len(_CHANGES) >= _MAX_VERDICTS:
                _CHANGES.clear()
            verdict = _CHANGES[sql] = _change_of(sql)
        if verdict == "write":
            self.writes += 1
        elif verdict == "savepoint":
            self._marks.append(self.writes)
        elif verdict == "release":
            if self._marks:
                self._marks.pop()
        elif verdict == "rollback" and self._marks:
            # "ROLLBACK TO SAVEPOINT x" (with its RELEASE, or without): the writes since
            # that savepoint are undone.
            self.writes = self._marks.pop()


def wrote_nothing(conn: AsyncConnection) -> None:
    """Tells the watch of a stretch (if any) that the last statement, one that may write,
    wrote nothing after all (it said so by its result, e.g. a data-modifying statement
    whose every write feeds the one row it returns, and that returned none)."""
    guard = guard_of(cast(Connection, conn.sync_connection))
    if isinstance(guard, WriteWatch) and guard.writes:
        guard.writes -= 1


_CHANGES: dict[str, str] = {}
_CHANGES_ROWS = re.compile(
    r"\b(INSERT|DELETE|MERGE|TRUNCATE)\b|(?<!FOR )(?<!KEY )\bUPDATE\b", re.IGNORECASE
)


def _change_of(sql: str) -> str:
    head = sql.lstrip()[:12].upper()
    if head.startswith("SAVEPOINT"):
        return "savepoint"
    if head.startswith("RELEASE"):
        return "release"
    if head.startswith("ROLLBACK TO"):
        return "rollback"
    return "write" if _CHANGES_ROWS.search(sql) else "read"


# Verdicts by statement text: the regular expressions cost ~50 us on a long statement, about
# half a round trip, and the same few texts come back (compiled once: the same str objects).
_VERDICTS: dict[str, bool] = {}
_MAX_VERDICTS = 4096


def _reads_only(sql: str) -> bool:
    verdict = _VERDICTS.get(sql)
    if verdict is None:
        if len(_VERDICTS) >= _MAX_VERDICTS:
            _VERDICTS.clear()
        verdict = _VERDICTS[sql] = _READ.match(sql) is not None and _NOT_READ.search(sql) is None
    return verdict


def guard_of(sync: Connection) -> ReadOnlyGuard | WriteWatch | None:
    """The guard of a read-only unit of work's connection (or the watch of a stretch run
    without a savepoint), None for any other."""
    return cast(ReadOnlyGuard | WriteWatch | None, sync.get_execution_options().get(GUARD))


def refuse_writes(sync: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    """A `before_cursor_execute` listener: a statement sent through SQLAlchemy
    (`conn.execute`) by a read-only unit of work must only read (storage.db installs it on
    PostgreSQL engines; the statements sent here are checked before anything is sent)."""
    guard = guard_of(sync)
    if guard is not None:
        guard.observe(statement)


async def _driver(conn: AsyncConnection, *, alone: bool = False) -> Any:
    """The asyncpg connection under `conn`, inside the unit of work's transaction (none
    yet with `alone`, when nothing ran before: see `rowcount`)."""
    info = conn.info
    found = info.get(_DRIVER)
    if found is None:
        pooled = await conn.get_raw_connection()
        found = info[_DRIVER] = (pooled.dbapi_connection, pooled.driver_connection)
    adapter: Any = found[0]
    driver: Any = found[1]
    # SQLAlchemy's asyncpg adapter sends BEGIN lazily, at the first statement it runs;
    # when that is ours, start it the same way (so COMMIT and ROLLBACK still end it).
    if adapter._transaction is None and not alone:
        try:
            await adapter._start_transaction()
        except Exception as error:  # BEGIN on a dead connection, say
            await _raise(conn, adapter, error, "BEGIN", ())
    return adapter, driver


async def begin_autocommit(conn: AsyncConnection) -> None:
    """PostgreSQL over asyncpg: the statements that follow are sent without a BEGIN, each
    committed by itself (SQLAlchemy's adapter in autocommit), until `end_autocommit`."""
    adapter, _ = await _driver(conn, alone=True)
    adapter.autocommit = True


def end_autocommit(conn: AsyncConnection) -> None:
    """Back to transactions (before the connection returns to the pool); nothing to do
    when the connection was lost meanwhile."""
    if conn.invalidated or conn.closed:
        return  # its driver connection is gone; the pool opens a fresh one, in transactions
    found = conn.info.get(_DRIVER)
    if found is not None:
        found[0].autocommit = False


# -- the unit of work's transaction ---------------------------------------------------------


def connect(engine: AsyncEngine) -> AsyncConnection | None:
    """A connection from `engine`'s pool without the trip through SQLAlchemy's greenlets
    `await engine.connect()` costs (~30 us of CPU), when the check-out has no I/O to do:
    the pool's queue holds a connection (SQLAlchemy's asyncio queue then hands it over
    without awaiting) whose driver connection is open and not due for a replacement (the
    pool reconnects an invalidated connection at check-out, which needs the greenlet), and
    no check-out listener or pre-ping is set. The same check-out as SQLAlchemy's, run
    synchronously; None otherwise (an empty pool, a connection to reconnect: the caller
    awaits `engine.connect()`, which waits or reconnects as before)."""
    pool = engine.sync_engine.pool
    if not isinstance(pool, AsyncAdaptedQueuePool) or pool._pre_ping or pool.dispatch.checkout:
        return None
    waiting = cast(Any, pool._pool)._queue._queue  # the asyncio.Queue's deque: next out at [0]
    if not waiting:
        return None
    record: Any = waiting[0]
    # What `_ConnectionRecord.get_connection` checks before it reconnects or recycles.
    if (
        record.dbapi_connection is None
        or pool._recycle > -1
        or pool._invalidate_time > record.starttime
        or record._soft_invalidate_time > record.starttime
    ):
        return None
    return AsyncConnection(engine, engine.sync_engine.connect())


def begin(conn: AsyncConnection) -> None:
    """Starts SQLAlchemy's transaction on `conn` (PostgreSQL over asyncpg) without I/O and
    without a trip through its asyncio layer: its `begin` does nothing on the driver there
    (asyncpg's BEGIN is sent at the first statement, by `_driver` or SQLAlchemy's
    adapter), so the synchronous call is the whole of it. SQLAlchemy sees the transaction
    as begun, exactly as after `await conn.begin()`: `conn.execute` on a cold path runs in
    it, and a connection closed with it still open is rolled back by SQLAlchemy."""
    cast(Connection, conn.sync_connection).begin()


async def commit(conn: AsyncConnection) -> None:
    """Ends the transaction `begin` started: asyncpg's COMMIT straight on the driver, when
    a statement began one (none ran: nothing to send, as through SQLAlchemy), then
    SQLAlchemy's own bookkeeping, which then has nothing left to send. A failed COMMIT
    goes up as SQLAlchemy's would (wrapped, a lost connection invalidated); either way the
    driver's transaction is over (asyncpg's COMMIT ends it, or the connection is gone) and
    SQLAlchemy's is rolled back by the caller (`rollback`, nothing sent)."""
    await _end(conn, "COMMIT")
    cast(Connection, conn.sync_connection).commit()


async def rollback(conn: AsyncConnection) -> None:
    """Rolls back the transaction `begin` started, as `commit` ends it: ROLLBACK on the
    driver when one is open there (nothing on a connection SQLAlchemy invalidated: the
    pool closes it), then SQLAlchemy's bookkeeping."""
    try:
        await _end(conn, "ROLLBACK")
    finally:
        sync = cast(Connection, conn.sync_connection)
        if sync.in_transaction():
            sync.rollback()


async def close(conn: AsyncConnection) -> None:
    """Returns `conn` to the pool after `commit` or `rollback`. When neither SQLAlchemy nor
    the driver holds a transaction (the usual end of a unit of work), SQLAlchemy's close has
    no I/O to do (the pool's reset-on-return finds nothing to roll back, the pool's queue
    takes the connection without waiting), so it is called as it is, without the trip
    through SQLAlchemy's greenlets `await conn.close()` costs (~25 us of CPU); otherwise,
    and for a connection SQLAlchemy invalidated, through it as before."""
    sync = cast(Connection, conn.sync_connection)
    if not (sync.invalidated or sync.closed or sync.in_transaction()):
        found = conn.info.get(_DRIVER)
        if found is not None and found[0]._transaction is None:
            if found[1].is_in_transaction():
                # The server holds a transaction the adapter does not know of (a COMMIT or
                # ROLLBACK cancelled on its way, say): no reset would end it, so the
                # connection is not reused; the pool opens a fresh one.
                await conn.invalidate()
            sync.close()
            return
    await conn.close()


async def _end(conn: AsyncConnection, sql: str) -> None:
    """COMMIT or ROLLBACK on the asyncpg connection under `conn`, if a transaction is open
    there; afterwards the adapter holds none (so SQLAlchemy's own commit or rollback, and
    the pool's reset when the connection is returned, send nothing)."""
    sync = cast(Connection, conn.sync_connection)
    if sync.invalidated or sync.closed:
        return
    adapter, _ = await _driver(conn, alone=True)
    transaction = adapter._transaction
    if transaction is None:
        return
    end = transaction.commit if sql == "COMMIT" else transaction.rollback
    try:
        # As SQLAlchemy's adapter does it: the transaction is dropped whether or not the
        # statement succeeded (a failed COMMIT ended it on the server too).
        await adapter._call_and_discard(end)
    except Exception as error:
        await _raise(conn, adapter, error, sql, ())


def _observe(sync: Connection, sql: str, args: Sequence[Any]) -> None:
    """Tells SQLAlchemy's `before_cursor_execute` listeners of a statement sent here."""
    listeners = sync.engine.dispatch.before_cursor_execute
    if listeners:
        for listener in listeners:
            listener(sync, None, sql, tuple(args), None, False)


async def _raise(
    conn: AsyncConnection, adapter: Any, error: Exception, sql: str, args: Sequence[Any]
) -> NoReturn:
    """Raises `error` as `conn.execute` would have: translated by SQLAlchemy's adapter,
    then wrapped, passed to the `handle_error` listeners (storage.db hides DETAIL), and
    on a lost connection with the connection invalidated. (A cancelled statement is not
    an Exception: it goes up as it is, and asyncpg recovers the connection at the
    rollback; tests/test_direct.py checks the pool afterwards.)"""
    translated: BaseException = error
    try:
        adapter._handle_exception(error)
    except Exception as dbapi_error:
        translated = dbapi_error
    if not isinstance(translated, conn.dialect.loaded_dbapi.Error):
        raise translated  # not the driver's error (a bad parameter, say): as it is

    def handle(sync_conn: Any) -> None:
        # Raised and caught here, so SQLAlchemy's handler sees it as the exception being
        # handled in this greenlet (it reads sys.exc_info()).
        try:
            raise translated
        except BaseException as raised:
            sync_conn._handle_dbapi_exception(raised, sql, tuple(args), None, None)

    await conn.run_sync(handle)
    raise AssertionError("unreachable: SQLAlchemy raised above")  # pragma: no cover


async def rows(
    conn: AsyncConnection,
    statement: Executable,
    params: Mapping[str, Any],
    *,
    alone: bool = False,
) -> Sequence[Any]:
    """All rows of `statement` (a SELECT, or a write with RETURNING) with `params`;
    `alone` as for `rowcount`."""
    if not wanted(conn):
        return (await conn.execute(statement, params)).all()  # type: ignore[arg-type]
    compiled, records = await _direct(conn, statement, params, fetch=True, alone=alone)
    return [compiled.row(r) for r in records]


async def _direct(
    conn: AsyncConnection,
    statement: Executable,
    params: Mapping[str, Any],
    *,
    fetch: bool,
    alone: bool = False,
) -> tuple[_Compiled, Any]:
    """Runs `statement` on the driver connection in the unit of work's transaction: its
    records (`fetch`), else the number of rows it matched; counted, and any error raised
    as SQLAlchemy's."""
    compiled = _compiled(statement, conn.dialect)
    args = compiled.args(params)
    if isinstance(conn, DirectConnection):
        return compiled, _sqlite(conn, compiled.sql, args, fetch=fetch)
    sync = cast(Connection, conn.sync_connection)
    guard = guard_of(sync)
    if guard is not None:
        guard.check(compiled.sql)  # before the driver is touched (`_observe` checks it too)
    adapter, driver = await _driver(conn, alone=alone)
    _observe(sync, compiled.sql, args)
    try:
        if fetch:
            return compiled, await driver.fetch(compiled.sql, *args)
        status = await driver.execute(compiled.sql, *args)
    except Exception as error:
        await _raise(conn, adapter, error, compiled.sql, args)
    match = _STATUS_COUNT.match(status or "")
    return compiled, int(match.group(1)) if match else -1


def _sqlite(conn: DirectConnection, sql: str, args: list[Any], *, fetch: bool) -> Any:
    """Runs `sql` on the sqlite3 connection under `conn`: its rows (`fetch`), else the
    number of rows it matched."""
    sync = conn.sync_connection
    _observe(sync, sql, args)
    cursor = None
    try:
        cursor = conn.driver_connection.cursor()
        cursor.execute(sql, args)
        if fetch:
            return cursor.fetchall()
        if cursor.description is not None:  # RETURNING: read, or COMMIT is refused
            cursor.fetchall()
        return cursor.rowcount
    except sqlite3.Error as error:
        # As `Connection.execute` would: wrapped (OperationalError for "database is
        # locked", which `Database.run` retries; IntegrityError...), parameters hidden.
        sync._handle_dbapi_exception(error, sql, tuple(args), None, None)
        raise  # pragma: no cover - SQLAlchemy raised above
    finally:
        if cursor is not None:
            cursor.close()


async def first(
    conn: AsyncConnection, statement: Executable, params: Mapping[str, Any]
) -> Any | None:
    """The first row of `statement`, or None."""
    found = await rows(conn, statement, params)
    return found[0] if found else None


async def rowcount(
    conn: AsyncConnection,
    statement: Executable,
    params: Mapping[str, Any],
    *,
    alone: bool = False,
) -> int:
    """Runs a write without RETURNING; the number of rows it matched.

    `alone`, on PostgreSQL: when no statement of the unit of work ran before, this one is
    sent without a BEGIN, and PostgreSQL commits it by itself (one round trip instead of
    three: BEGIN, the statement, COMMIT; the unit's COMMIT then has nothing to send).
    Statements after it run in a transaction of their own as usual. Only for a write that
    may stand whatever the unit of work does next (e.g. a unit of work of that one
    statement), and that may be applied twice: the unit's COMMIT is not what applies it,
    so `Database.run` tries the unit again after a connection lost on the way back. A
    SQLite file's transaction is local: there it changes nothing."""
    if not wanted(conn):
        return int((await conn.execute(statement, params)).rowcount)  # type: ignore[attr-defined]
    _, count = await _direct(conn, statement, params, fetch=False, alone=alone)
    return int(count)


# -- savepoints ---------------------------------------------------------------------------

_SAVEPOINT_NAMES = itertools.count(1)


def savepoint(conn: AsyncConnection) -> Any:
    """The nested transaction `UnitOfWork.savepoint` hands out: on PostgreSQL over asyncpg
    a `Savepoint` sent straight to the driver, else `conn.begin_nested()` (a SQLite file's
    `DirectConnection` already sends its savepoints to sqlite3)."""
    if isinstance(conn, DirectConnection) or not wanted(conn):
        return conn.begin_nested()
    return Savepoint(conn)


class Savepoint(NamedSavepoint):
    """A savepoint on the asyncpg connection, in the unit of work's transaction.

    Through SQLAlchemy each savepoint also took two trips through the asyncio adaptation;
    here each is one statement of fixed text, ROLLBACK TO and its RELEASE one round trip.
    The statements are counted like the others."""

    def __init__(self, conn: AsyncConnection) -> None:
        super().__init__()
        self._conn = conn

    def _new_name(self) -> str:
        return f"cetbot_sp_{next(_SAVEPOINT_NAMES)}"

    async def _send(self, *statements: str) -> None:
        await _control(self._conn, "; ".join(statements))


async def _control(conn: AsyncConnection, sql: str) -> None:
    """A statement of fixed text without parameters (asyncpg's simple query protocol)."""
    guard = guard_of(cast(Connection, conn.sync_connection))
    if guard is not None:
        guard.check(sql)
    adapter, driver = await _driver(conn)
    _observe(cast(Connection, conn.sync_connection), sql, ())
    try:
        await driver.execute(sql)
    except Exception as error:
        await _raise(conn, adapter, error, sql, ())


# -- prepared at start-up -------------------------------------------------------------------


def compiled_statements(dialect: Dialect) -> list[Executable]:
    """The statements compiled here for `dialect` so far (the ones sent in this process)."""
    return [found.keep for (_, dialect_id), found in _COMPILED.items() if dialect_id == id(dialect)]


async def prepare(conn: AsyncConnection, statements: Sequence[Executable]) -> int:
    """PostgreSQL over asyncpg: prepares `statements` on the asyncpg connection under `conn`
    into asyncpg's statement cache (the very SQL `rows`, `first` and `rowcount` send, so
    their first execution on this connection finds it there) and has PostgreSQL plan each
    now: under `plan_cache_mode = force_generic_plan` (storage.db) a prepared statement is
    planned at its first execution, not by PREPARE; `EXPLAIN EXECUTE` with NULL parameters
    builds that generic plan and keeps it with the statement, executing nothing (writes
    included). A statement that fails to compile for the driver or to prepare is left to
    its first execution. Outside a transaction, each planned by itself. Returns how many
    were prepared and planned."""
    if not postgres(conn.dialect):
        return 0
    _, driver = await _driver(conn, alone=True)
    done = 0
    failed: list[tuple[str, str]] = []
    for statement in statements:
        try:
            compiled = _compiled(statement, conn.dialect)
        except TypeError:
            continue  # not one this module can send (a parameter rendered per call, say)
        try:
            state = await driver._get_statement(compiled.sql, None)
            nulls = ", ".join(["NULL"] * len(state._get_parameters()))
            await driver.execute(f"EXPLAIN EXECUTE {state.name}{f'({nulls})' if nulls else ''}")
        except Exception as error:  # a table missing (no migrations yet), say: not fatal here
            failed.append((compiled.sql, type(error).__name__))
            continue
        done += 1
    if failed:
        sql, kind = failed[0]
        log.warning(
            "%d statements not prepared at start-up; the first: %.80r (%s)", len(failed), sql, kind
        )
    return done
