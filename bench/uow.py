"""Measures one unit of work on PostgreSQL: this process's CPU per unit against bare asyncpg.

Run: .venv/bin/python bench/uow.py [--units 3000] [--rounds 3] [--workers 1]
     [--pg postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

A unit is BEGIN, one UPDATE of one row, COMMIT:

* uow: `Database.run` with `storage.direct.rowcount` (the hot path's statements) and
  `uow.commit()`, as the product's units of work run;
* uow-sa: the same with `Database.straight` off (BEGIN, COMMIT and ROLLBACK through
  SQLAlchemy's asyncio layer, as before issue 17's tenth round);
* bare: asyncpg's own pool, `pool.acquire()`, `conn.transaction()`, `conn.execute`.

The sides run in this process, one after the other, `--rounds` times (in turn forwards and
backwards); uow and uow-sa share a pool of `--workers` connections, bare has its own; both
pools are warmed before. Prints the
process's CPU milliseconds per unit (time.process_time) and the units per second, per
round and their medians; no pass/fail. The database is ``CETBOT_BENCH_DB`` + ``_uow``
(created when missing), so two benches on one server do not collide.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
from sqlalchemy import Column, Integer, MetaData, Table, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from storage import direct  # noqa: E402
from storage.db import Database, UnitOfWork  # noqa: E402

PG_DEFAULT = os.environ.get(
    "CETBOT_BENCH_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
DB_NAME = os.environ.get("CETBOT_BENCH_DB", "cetbot_bench") + "_uow"

_COUNTERS = Table(
    "bench_uow", MetaData(), Column("id", Integer, primary_key=True), Column("n", Integer)
)
_BUMP = update(_COUNTERS).where(_COUNTERS.c.id == 1).values(n=_COUNTERS.c.n + 1)
_BUMP_SQL = "UPDATE bench_uow SET n = n + 1 WHERE id = $1"


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _setup(admin_url: str) -> str:
    admin = await asyncpg.connect(_dsn(admin_url))
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DB_NAME):
            await admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    finally:
        await admin.close()
    url = make_url(admin_url).set(database=DB_NAME).render_as_string(hide_password=False)
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS bench_uow (id int PRIMARY KEY, n int)")
        await conn.execute("INSERT INTO bench_uow VALUES (1, 0) ON CONFLICT DO NOTHING")
    finally:
        await conn.close()
    return url


async def _pump(
    units: int, workers: int, one: Callable[[], Awaitable[None]]
) -> tuple[float, float]:
    """CPU ms per unit and units per second of `units` calls of `one` by `workers` at once."""
    left = units

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await one()

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(workers)))
    cpu_ms = (time.process_time() - cpu) * 1000 / units
    return cpu_ms, units / (time.perf_counter() - started)


async def _main(args: argparse.Namespace) -> None:
    url = await _setup(args.pg)
    db = Database(url, pool_size=args.workers)
    await db.warm_up(prepare=False)  # its database holds only its own table
    pool = await asyncpg.create_pool(_dsn(url), min_size=args.workers, max_size=args.workers)

    async def work(uow: UnitOfWork) -> None:
        await direct.rowcount(uow.conn, _BUMP, {})
        await uow.commit()

    async def with_uow() -> None:
        await db.run(work)

    async def with_uow_sa() -> None:
        db.straight = False
        try:
            await db.run(work)
        finally:
            db.straight = straight

    async def bare() -> None:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(_BUMP_SQL, 1)

    straight = db.straight
    sides = {"bare": bare, "uow": with_uow, "uow-sa": with_uow_sa}
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
    try:
        for side in sides.values():  # warm: prepared statements, caches
            await _pump(min(300, args.units), args.workers, side)
        for r in range(args.rounds):
            order = list(sides) if r % 2 == 0 else list(reversed(sides))
            for name in order:
                cpu_ms, rate = await _pump(args.units, args.workers, sides[name])
                results[name].append((cpu_ms, rate))
                print(f"  round {r + 1} {name:6}: {cpu_ms:.3f} ms CPU/unit, {rate:,.0f} units/s")
    finally:
        await pool.close()
        await db.dispose()
    print()
    for name, runs in results.items():
        cpu = statistics.median(c for c, _ in runs)
        rate = statistics.median(r for _, r in runs)
        print(f"{name:6}: median {cpu:.3f} ms CPU/unit, {rate:,.0f} units/s")
    bare_cpu = statistics.median(c for c, _ in results["bare"])
    for name in ("uow", "uow-sa"):
        cpu = statistics.median(c for c, _ in results[name])
        print(f"{name} - bare: {cpu - bare_cpu:+.3f} ms CPU/unit; bare/{name} {bare_cpu / cpu:.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=3000, help="units of work per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each side")
    parser.add_argument("--workers", type=int, default=1, help="units at once")
    parser.add_argument("--pg", default=PG_DEFAULT, help="PostgreSQL admin URL (asyncpg)")
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
