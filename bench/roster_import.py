"""Measures a school roster import (R41): parse, write, and both, in rows/s and seconds.

Run: .venv/bin/python bench/roster_import.py [--rows 200000] [--runs 3]
     [--db sqlite postgresql] [--pg postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

Prints figures only (no pass/fail), the median of ``--runs`` runs.

A roster of ``--rows`` valid rows for examples/session-2026-12.toml is written once with
bench/gen_roster.py (not timed). Each run then times, separately:

* parse: ``backoffice.importing.parse_roster`` of the file against the session
  (campus map, subject codes, a "today" inside the registration window), no database;
* write: ``backoffice.authority.import_roster`` of the parsed roster in one unit of work,
  committed, into a fresh database (a temp SQLite file, or the PostgreSQL database
  ``cetbot_bench`` created and dropped here) where only the session is loaded.

"total" is parse + write of the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from backoffice import authority  # noqa: E402
from backoffice.importing import RosterFile, parse_roster, parse_session_toml  # noqa: E402
from bench.gen_roster import write_roster  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Base  # noqa: E402

SESSION_FILE = ROOT / "examples" / "session-2026-12.toml"
TODAY = date(2026, 11, 25)  # inside the example session's registration window
PG_DEFAULT = os.environ.get(
    "CETBOT_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
PG_BENCH_DB = "cetbot_bench"


async def _pg_admin(admin_url: str, sql: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def _parse(path: Path) -> RosterFile:
    spec = parse_session_toml(SESSION_FILE)
    campuses = {c.code: c.school for c in spec.campuses}
    return parse_roster(path, campuses, spec.subject_codes(), TODAY)


async def _fresh_database(kind: str, tmp: Path, pg_admin: str, run: int) -> str:
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / f'roster-{run}.db'}"
    else:
        await _pg_admin(pg_admin, f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)')
        await _pg_admin(pg_admin, f'CREATE DATABASE "{PG_BENCH_DB}"')
        url = pg_admin.rsplit("/", 1)[0] + "/" + PG_BENCH_DB
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
    finally:
        await engine.dispose()
    return url


async def _write(url: str, roster: RosterFile) -> float:
    """Seconds to import the roster in one committed unit of work (session loaded before)."""
    db = Database(url)
    try:
        async with db.uow() as uow:
            session_id = await authority.load_session(uow, parse_session_toml(SESSION_FILE))
            await uow.commit()
        started = time.perf_counter()
        async with db.uow() as uow:
            new, updated = await authority.import_roster(uow, session_id, roster)
            await uow.commit()
        seconds = time.perf_counter() - started
        assert (new, updated) == (len(roster.rows), 0), (new, updated)
        return seconds
    finally:
        await db.dispose()


async def _main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="cetbot-roster-") as tmp_name:
        tmp = Path(tmp_name)
        csv_path = tmp / "roster.csv"
        started = time.perf_counter()
        write_roster(SESSION_FILE, csv_path, args.rows)
        size = csv_path.stat().st_size / 1e6
        print(
            f"generated {args.rows:,} rows ({size:.1f} MB) in {time.perf_counter() - started:.1f} s"
        )
        table: list[tuple[str, float]] = []
        for kind in args.db:
            parses, writes, totals = [], [], []
            try:
                for run in range(args.runs):
                    started = time.perf_counter()
                    roster = _parse(csv_path)
                    parse_s = time.perf_counter() - started
                    assert len(roster.rows) == args.rows
                    url = await _fresh_database(kind, tmp, args.pg, run)
                    write_s = await _write(url, roster)
                    del roster
                    print(f"  {kind} run {run + 1}: parse {parse_s:.1f} s, write {write_s:.1f} s")
                    parses.append(parse_s)
                    writes.append(write_s)
                    totals.append(parse_s + write_s)
            except OSError as exc:
                if kind == "sqlite":
                    raise
                print(f"  postgresql: not measured, unavailable at {args.pg}: {exc!r}")
                continue
            finally:
                if kind != "sqlite":
                    try:
                        await _pg_admin(
                            args.pg, f'DROP DATABASE IF EXISTS "{PG_BENCH_DB}" WITH (FORCE)'
                        )
                    except OSError:
                        pass
            for step, values in (("parse", parses), ("write", writes), ("total", totals)):
                table.append((f"{kind} {step}", statistics.median(values)))
    n = args.rows
    print()
    print(f"roster import of {n:,} rows, median of {args.runs} run(s)")
    head = f"{'database / step':<18} {'seconds':>8} {'rows/s':>9}"
    print(head)
    print("-" * len(head))
    for label, seconds in table:
        print(f"{label:<18} {seconds:>8.1f} {n / seconds:>9,.0f}")
    print("goal (context): 200,000 rows parsed and written in <= 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3, help="runs; the median is reported")
    parser.add_argument(
        "--db", nargs="+", default=["sqlite", "postgresql"], choices=("sqlite", "postgresql")
    )
    parser.add_argument("--pg", default=PG_DEFAULT, help="PostgreSQL admin URL (asyncpg)")
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
