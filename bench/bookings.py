"""Measures seat bookings per second (R23) through the services and against a raw-SQL ceiling.

Run: .venv/bin/python bench/bookings.py [--bookings 4000] [--workers 50] [--runs 5]
     [--db sqlite postgresql] [--pg postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

Prints figures only (no pass/fail), the median of ``--runs`` runs per database, services and
raw interleaved. Beside bookings/s it prints the CPU milliseconds per booking (this process's
CPU time, plus on PostgreSQL the CPU of the bench database's backends read from /proc, see
bench/cpu.py): throughput on a shared 2-core machine moves +-30% between runs, CPU per
booking much less. "raw/services" is the raw ceiling's CPU per booking over the services'.

Setup (once per database): the example session (examples/session-2026-12.toml) is loaded,
the written (campus, subject) pairs in ``PAIRS`` get a capacity of one million, and
``--bookings`` candidates are created in bulk (a roster record eligible for one subject,
a verified account and saved registration information each). Candidate i belongs to the
school of ``PAIRS[i % len(PAIRS)]``, is eligible for its subject and books exactly that
pair once, so the bookings are spread evenly over the pairs and every one succeeds.

Each candidate also has one entry of the pair that expired unpaid earlier (R31), made at
set-up and kept across runs. A booking looks up the candidate's active entries; on
PostgreSQL each pooled connection's prepared statement gets its generic plan after five
executions, early in a run (the VACUUM ANALYZE before the run drops the older plans). Over
an emptied table that plan reads the whole table, which the run then fills: each booking
read every entry booked before it (about a thousand rows, some 0.1 ms of PostgreSQL CPU, on
average over 3,000 bookings), a cost the raw ceiling, which reads no entries, never paid,
and a live database, which holds the entries of earlier days and sessions, never pays.

Each run deletes the active entries and empties the seat counters, then books every
candidate:

* services: ``registration.entries.register_subject``, one unit of work per booking via
  ``Database.run`` (its retries included), ``--workers`` bookers at once;
* raw: the same seat work with the bare driver (aiosqlite / asyncpg, no SQLAlchemy):
  BEGIN (IMMEDIATE on SQLite); conditional UPDATE of campus_seats; INSERT of the entry;
  COMMIT. ``--workers`` workers at once. On PostgreSQL each worker holds its own pooled
  connection. On SQLite there is one connection shared by all workers, a transaction at a
  time under an asyncio lock: SQLite has a single writer anyway, and this is the same
  queueing the services' ``Database`` does with its in-process write lock.

After every run the seats are checked: for every (campus, subject), taken must equal the
number of active entries and be at most the capacity. "oversold" is the sum of the seats
beyond capacity plus the pairs whose counter disagrees with the entries (both must be 0).
"stmts/booking" counts the statements sent during an extra, untimed services run
(``Database.watching_statements``; a listener on every statement would slow the timed
runs, which the raw ceiling does not pay): on SQLite this includes BEGIN IMMEDIATE;
COMMIT never goes through a cursor, and asyncpg's BEGIN is not a cursor execution.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiosqlite  # noqa: E402
import asyncpg  # noqa: E402
from sqlalchemy import delete, func, insert, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from backoffice import authority  # noqa: E402
from backoffice.importing import parse_session_toml  # noqa: E402
from bench.cpu import postgres_cpu  # noqa: E402
from foundation import heap  # noqa: E402
from foundation.clock import FrozenClock  # noqa: E402
from registration import entries, seats  # noqa: E402
from registration.identity import make_id_card_number  # noqa: E402
from storage.db import Database, UnitOfWork  # noqa: E402
from storage.models import (  # noqa: E402
    Account,
    Base,
    CampusSeats,
    Entry,
    Registration,
)

SESSION_FILE = ROOT / "examples" / "session-2026-12.toml"
# Inside the example session's registration window.
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
# Written (campus code, subject code) pairs given a big capacity; candidates are spread
# over them round-robin. Only written subjects: an oral one needs its written entry first.
PAIRS = (
    ("BSU-HD", "CET4"),
    ("BSU-HD", "CET6"),
    ("BSU-HD", "CJT4"),
    ("JNIT-MAIN", "CET4"),
    ("JNIT-MAIN", "CET6"),
    ("JNIT-MAIN", "CFT4"),
)
BIG_CAPACITY = 1_000_000
PG_DEFAULT = os.environ.get(
    "CETBOT_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
# CETBOT_BENCH_DB: another name, so that two benches on one PostgreSQL server do not
# drop each other's database.
PG_BENCH_DB = os.environ.get("CETBOT_BENCH_DB", "cetbot_bench")

A = Account.__table__
REG = Registration.__table__
EN = Entry.__table__
SEATS = CampusSeats.__table__


@dataclass(frozen=True)
class Booking:
    registration_id: int
    session_id: int
    campus_id: int
    subject_code: str
    kind: str
    level: int
    fee_fen: int


@dataclass(frozen=True)
class RunResult:
    services: float  # bookings/s
    raw: float  # bookings/s
    oversold: int  # must be 0, worst of both runs
    statements: float  # per booking, services run
    services_cpu: Pumped | None = None
    raw_cpu: Pumped | None = None


@dataclass(frozen=True)
class Pumped:
    """One timed pass: its rate and the CPU milliseconds per booking it cost."""

    rate: float  # bookings/s
    app_ms: float  # this process (Python, the driver, SQLite's own thread)
    db_ms: float  # the PostgreSQL backends of the bench database (0 on SQLite)


# -- databases ---------------------------------------------------------------------------


def _pg_url(admin_url: str, dbname: str) -> str:
    """The admin URL naming another database (a query such as ``?host=/run/...`` kept)."""
    return make_url(admin_url).set(database=dbname).render_as_string(hide_password=False)


async def _pg_admin(admin_url: str, sql: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def _create_schema(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
    finally:
        await engine.dispose()


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# -- setup -------------------------------------------------------------------------------


async def _bulk(db: Database, n: int) -> list[Booking]:
    """Loads the session, widens PAIRS and creates n candidates; returns one booking each."""
    spec = parse_session_toml(SESSION_FILE)
    async with db.uow() as uow:
        session_id = await authority.load_session(uow, spec)
        campuses = {c.code: c for c in await uow.sessions.campuses(session_id)}
        offered = await uow.sessions.offered(session_id)
        for campus_code, subject in PAIRS:
            assert await uow.sessions.set_capacity(campuses[campus_code].id, subject, BIG_CAPACITY)
        await uow.commit()

    rows: list[dict[str, Any]] = []
    eligibility: dict[tuple[str, str], list[str]] = {}
    for i in range(n):
        campus_code, subject = PAIRS[i % len(PAIRS)]
        number = make_id_card_number("320102", date(2004, 1, 1) + timedelta(days=i // 900), i % 900)
        rows.append(
            {
                "name": f"考生{i}",
                "gender": "F",
                "id_type": "id_card",
                "id_number": number,
                "school": campuses[campus_code].school,
                "campus_code": campus_code,
                "student_no": f"B{i:07d}",
                "phone": "13800000000",
                "has_photo": False,
            }
        )
        eligibility[("id_card", number)] = [subject]
    async with db.uow() as uow:
        await uow.records.bulk_upsert(session_id, rows, eligibility, {})
        keys = await uow.records.keys_of_session(session_id)
        await uow.conn.execute(
            insert(A),
            [
                {
                    "email": f"bench{i}@example.com",
                    "password_hash": "x",
                    "email_verified_at": NOW,
                    "created_at": NOW,
                }
                for i in range(n)
            ],
        )
        account_ids = {
            email: account_id
            for account_id, email in await uow.conn.execute(
                select(A.c.id, A.c.email).where(A.c.email.like("bench%@example.com"))
            )
        }
        await uow.conn.execute(
            insert(REG),
            [
                {
                    "session_id": session_id,
                    "record_id": keys[("id_card", row["id_number"])],
                    "account_id": account_ids[f"bench{i}@example.com"],
                    "phone": "13912345678",
                    "status": "active",
                    "created_at": NOW,
                    "version": 0,
                }
                for i, row in enumerate(rows)
            ],
        )
        reg_ids = {
            record_id: reg_id
            for reg_id, record_id in await uow.conn.execute(
                select(REG.c.id, REG.c.record_id).where(REG.c.session_id == session_id)
            )
        }
        await uow.commit()

    bookings = []
    for i, row in enumerate(rows):
        campus_code, subject = PAIRS[i % len(PAIRS)]
        s = offered[subject]
        bookings.append(
            Booking(
                registration_id=reg_ids[keys[("id_card", row["id_number"])]],
                session_id=session_id,
                campus_id=campuses[campus_code].id,
                subject_code=subject,
                kind=s.subject.kind,
                level=s.subject.level,
                fee_fen=s.fee_fen,
            )
        )
    # The entries that expired earlier, one per candidate (see the module's docstring).
    async with db.uow() as uow:
        await uow.conn.execute(
            insert(EN),
            [
                {
                    **dict(zip(_ENTRY_COLUMNS, _entry_values(b), strict=True)),
                    # The raw values are naive UTC; the column type wants instants.
                    "created_at": NOW - timedelta(days=2),
                    "expires_at": NOW - timedelta(days=1),
                    "status": "expired",
                    "paper_report": "none",
                    "ended_at": NOW - timedelta(days=1),
                    "end_reason": "unpaid-24h",
                }
                for b in bookings
            ],
        )
        await uow.commit()
    return bookings


async def _reset(db: Database) -> None:
    """Deletes the active entries, empties the seat counters (and vacuums on PostgreSQL)."""
    async with db.uow() as uow:
        await uow.conn.execute(delete(EN).where(EN.c.status.in_(("unpaid", "paid"))))
        await uow.conn.execute(update(SEATS).values(taken=0))
        await uow.commit()
    if not db.is_sqlite:
        async with db.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))


async def _oversold(db: Database) -> int:
    """Seats beyond capacity plus pairs whose counter disagrees with their active entries."""
    active = (
        select(EN.c.campus_id, EN.c.subject_code, func.count().label("n"))
        .where(EN.c.status.in_(("unpaid", "paid")))
        .group_by(EN.c.campus_id, EN.c.subject_code)
        .subquery()
    )
    async with db.uow(readonly=True) as uow:
        rows = (
            await uow.conn.execute(
                select(SEATS.c.capacity, SEATS.c.taken, func.coalesce(active.c.n, 0)).outerjoin(
                    active,
                    (active.c.campus_id == SEATS.c.campus_id)
                    & (active.c.subject_code == SEATS.c.subject_code),
                )
            )
        ).all()
    bad = 0
    for capacity, taken, n in rows:
        bad += max(0, n - capacity) + max(0, taken - capacity) + (1 if taken != n else 0)
    return bad


# -- the two ways of booking ---------------------------------------------------------------


async def _pump(
    bookings: Sequence[Booking], workers: int, book: Callable[[Booking], Awaitable[None]]
) -> Pumped:
    """Runs every booking with `workers` concurrent workers; its rate and CPU per booking."""
    todo = iter(bookings)

    async def worker() -> None:
        for b in todo:
            await book(b)

    started, app, db = time.perf_counter(), time.process_time(), postgres_cpu(PG_BENCH_DB)
    await asyncio.gather(*(worker() for _ in range(workers)))
    elapsed = time.perf_counter() - started
    app_ms = (time.process_time() - app) * 1000 / len(bookings)
    db_ms = (postgres_cpu(PG_BENCH_DB) - db) * 1000 / len(bookings)
    return Pumped(len(bookings) / elapsed, app_ms, db_ms)


async def _services(
    db: Database, bookings: Sequence[Booking], workers: int, *, watch: bool = False
) -> tuple[Pumped, int]:
    """Bookings/s through the services; with `watch`, also the statements they sent (a
    listener on every statement slows them, so timed runs go without it)."""
    clock = FrozenClock(NOW)
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    async def book(b: Booking) -> None:
        async def work(uow: UnitOfWork) -> None:
            await entries.register_subject(
                uow,
                clock,
                registration_id=b.registration_id,
                subject_code=b.subject_code,
                campus_id=b.campus_id,
            )
            await uow.commit()

        await db.run(work)

    if not watch:
        return await _pump(bookings, workers, book), 0
    with db.watching_statements(count):
        rate = await _pump(bookings, workers, book)
    return rate, statements


# The columns of `_entry_values`, in its order.
_ENTRY_COLUMNS = (
    "registration_id",
    "session_id",
    "subject_code",
    "campus_id",
    "kind",
    "level",
    "written_level",
    "created_at",
    "expires_at",
    "fee_fen",
)


def _entry_values(b: Booking) -> tuple[Any, ...]:
    created = NOW.astimezone(UTC).replace(tzinfo=None)
    return (
        b.registration_id,
        b.session_id,
        b.subject_code,
        b.campus_id,
        b.kind,
        b.level,
        b.level if b.kind == "written" else None,
        created,
        created + seats.UNPAID_LIFETIME,
        b.fee_fen,
    )


async def _raw_sqlite(path: str, bookings: Sequence[Booking], workers: int) -> Pumped:
    take = (
        "UPDATE campus_seats SET taken = taken + 1"
        " WHERE campus_id = ? AND subject_code = ? AND taken < capacity"
    )
    add = (
        "INSERT INTO entries (registration_id, session_id, subject_code, campus_id, kind, level,"
        " written_level, status, paper_report, created_at, expires_at, fee_fen)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'unpaid', 'none', ?, ?, ?)"
    )
    lock = asyncio.Lock()
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        for pragma in ("journal_mode=WAL", "busy_timeout=30000", "synchronous=NORMAL"):
            await conn.execute(f"PRAGMA {pragma}")
        await conn.execute("PRAGMA foreign_keys=ON")

        async def book(b: Booking) -> None:
            values = _entry_values(b)
            # SQLAlchemy's SQLite DateTime is ISO text with a space; store the same.
            values = (*values[:7], str(values[7]), str(values[8]), values[9])
            async with lock:
                await conn.execute("BEGIN IMMEDIATE")
                try:
                    cur = await conn.execute(take, (b.campus_id, b.subject_code))
                    if cur.rowcount != 1:
                        raise RuntimeError("seat refused")
                    await conn.execute(add, values)
                except BaseException:
                    await conn.execute("ROLLBACK")
                    raise
                await conn.execute("COMMIT")

        return await _pump(bookings, workers, book)


async def _raw_pg(url: str, bookings: Sequence[Booking], workers: int) -> Pumped:
    take = (
        "UPDATE campus_seats SET taken = taken + 1"
        " WHERE campus_id = $1 AND subject_code = $2 AND taken < capacity"
    )
    add = (
        "INSERT INTO entries (registration_id, session_id, subject_code, campus_id, kind, level,"
        " written_level, status, paper_report, created_at, expires_at, fee_fen)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, 'unpaid', 'none', $8, $9, $10)"
    )
    pool = await asyncpg.create_pool(_asyncpg_dsn(url), min_size=workers, max_size=workers)
    try:

        async def book(b: Booking) -> None:
            async with pool.acquire() as conn, conn.transaction():
                if await conn.execute(take, b.campus_id, b.subject_code) != "UPDATE 1":
                    raise RuntimeError("seat refused")
                await conn.execute(add, *_entry_values(b))

        return await _pump(bookings, workers, book)
    finally:
        await pool.close()


# -- driver ------------------------------------------------------------------------------


async def _one_database(
    kind: str, pg_admin: str, n: int, workers: int, runs: int
) -> list[RunResult]:
    tmp = tempfile.TemporaryDirectory(prefix="cetbot-bench-")
    if kind == "sqlite":
        path = str(Path(tmp.name) / "bench.db")
        url = f"sqlite+aiosqlite:///{path}"
    else:
        await _pg_admin(pg_admin, f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
        await _pg_admin(pg_admin, f'CREATE DATABASE "{PG_BENCH_DB}"')
        url = _pg_url(pg_admin, PG_BENCH_DB)
    results = []
    try:
        await _create_schema(url)
        # One pooled connection per booker: none waits for the pool.
        db = Database(url, pool_size=workers)
        try:
            started = time.perf_counter()
            bookings = await _bulk(db, n)
            print(f"  {kind}: set up {n} candidates in {time.perf_counter() - started:.1f} s")
            # Set up: what is alive now stays, as in a started `cetbot run` (foundation/heap.py).
            heap.settle()
            # Statements are counted in an untimed run of their own.
            await _reset(db)
            _, statements = await _services(db, bookings, workers, watch=True)
            for run in range(runs):
                # Interleaved: services, raw, services, raw, ...
                await _reset(db)
                services, _ = await _services(db, bookings, workers)
                bad = await _oversold(db)
                await _reset(db)
                if kind == "sqlite":
                    await db.engine.dispose()
                    raw = await _raw_sqlite(path, bookings, workers)
                else:
                    raw = await _raw_pg(url, bookings, workers)
                bad += await _oversold(db)
                result = RunResult(services.rate, raw.rate, bad, statements / n, services, raw)
                print(
                    f"  {kind} run {run + 1}: services {services.rate:,.0f}/s, raw"
                    f" {raw.rate:,.0f}/s, oversold {bad}, {result.statements:.1f} stmts/booking;"
                    f" CPU ms/booking services {services.app_ms:.3f}+{services.db_ms:.3f},"
                    f" raw {raw.app_ms:.3f}+{raw.db_ms:.3f} (process+database)"
                )
                results.append(result)
        finally:
            await db.dispose()
    finally:
        if kind != "sqlite":
            await _pg_admin(pg_admin, f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
        tmp.cleanup()
    return results


def _table(rows: list[tuple[str, list[RunResult]]], runs: int) -> str:
    head = (
        f"{'database':<11} {'services/s':>10} {'raw/s':>8} {'ratio':>6} {'oversold':>8}"
        f" {'stmts/booking':>13} {'CPU ms services':>15} {'CPU ms raw':>10} {'raw/services':>12}"
    )
    lines = [f"bookings per second, median of {runs} run(s)", head, "-" * len(head)]
    for kind, results in rows:
        services = statistics.median(r.services for r in results)
        raw = statistics.median(r.raw for r in results)
        cpu_services = statistics.median(
            r.services_cpu.app_ms + r.services_cpu.db_ms for r in results if r.services_cpu
        )
        cpu_raw = statistics.median(
            r.raw_cpu.app_ms + r.raw_cpu.db_ms for r in results if r.raw_cpu
        )
        lines.append(
            f"{kind:<11} {services:>10,.0f} {raw:>8,.0f} {services / raw:>6.0%}"
            f" {max(r.oversold for r in results):>8} "
            f"{statistics.median(r.statements for r in results):>13.1f}"
            f" {cpu_services:>15.3f} {cpu_raw:>10.3f} {cpu_raw / cpu_services:>12.0%}"
        )
    lines.append("goals (context): >= 1,000/s SQLite, >= 1,500/s PostgreSQL, >= 50% of raw")
    return "\n".join(lines)


async def _main(args: argparse.Namespace) -> None:
    rows = []
    for kind in args.db:
        try:
            rows.append(
                (kind, await _one_database(kind, args.pg, args.bookings, args.workers, args.runs))
            )
        except (OSError, asyncpg.PostgresError) as exc:
            if kind == "sqlite":
                raise
            print(f"  postgresql: not measured, unavailable at {args.pg}: {exc!r}")
    print()
    print(_table(rows, args.runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=4000, help="bookings per run")
    parser.add_argument("--workers", type=int, default=50, help="concurrent bookers")
    parser.add_argument("--runs", type=int, default=5, help="runs; the median is reported")
    parser.add_argument(
        "--db", nargs="+", default=["sqlite", "postgresql"], choices=("sqlite", "postgresql")
    )
    parser.add_argument("--pg", default=PG_DEFAULT, help="PostgreSQL admin URL (asyncpg)")
    args = parser.parse_args()
    print(
        f"{args.bookings} bookings per run over {len(PAIRS)} (campus, subject) pairs,"
        f" {args.workers} concurrent bookers"
    )
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
