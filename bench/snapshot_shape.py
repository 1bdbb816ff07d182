"""Server and client CPU of the candidate's snapshot statements, executed alone.

Times N executions of `snapshot.STATEMENT`, the optimistic peek with the snapshot and the
transactional start_update with the snapshot (storage/repos/conversations.py), each a
prepared statement on one asyncpg connection under a generic plan (as the bot's pooled
connections run them), on a database a rush left behind (`bench/rush.py --keep`). Prints,
per execution: the backend's CPU (from /proc/<pid>/schedstat), this process's CPU (asyncpg's
decoding plus `storage.direct`'s result processing and `snapshot.split`) and the wall time.
Run it with PYTHONPATH on two checkouts to compare their statements' shapes (the one-row
shape with arrays, commit f03a3d3, was measured so: docs/performance.md, tenth round).

    CETBOT_RUSH_DB=cetbot_rush python bench/snapshot_shape.py -n 5000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy.dialects import postgresql

from storage import direct
from storage.repos import conversations, snapshot


def _backend_cpu(pid: int) -> float:
    """The backend's CPU time so far, in seconds (the scheduler's count, in ns)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


async def _one(
    conn: asyncpg.Connection, name: str, statement: Any, params: dict[str, Any], n: int, tx: bool
) -> None:
    with_snapshot = "snapshot" in name
    dialect = postgresql.asyncpg.dialect()  # type: ignore[attr-defined]
    compiled = direct._compiled(statement, dialect)
    prepared = await conn.prepare(compiled.sql)
    pid = conn.get_server_pid()
    update_id = [int(time.time() * 1000) * 1000]

    async def run() -> Any:
        args = dict(params)
        if tx:
            update_id[0] += 1
            args["b_update_id"] = update_id[0]
            await conn.execute("BEGIN")
        records = await prepared.fetch(*compiled.args(args))
        rows = [compiled.row(r) for r in records]
        found = snapshot.split(rows) if with_snapshot else (snapshot.CandidateSnapshot(None), rows)
        if tx:
            await conn.execute("ROLLBACK")
        return found

    for _ in range(200):  # warm up (the generic plan, caches)
        await run()
    server, client, wall = _backend_cpu(pid), time.process_time(), time.perf_counter()
    for _ in range(n):
        found = await run()
    server = _backend_cpu(pid) - server
    client = time.process_time() - client
    wall = time.perf_counter() - wall
    entries = len(found[0].entries)
    print(
        f"{name:<22} server {server / n * 1e3:6.3f} ms  client {client / n * 1e3:6.3f} ms  "
        f"wall {wall / n * 1e3:6.3f} ms  (entries {entries})"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=5000)
    parser.add_argument("--user", type=int, default=5000001)
    parser.add_argument("--session", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    db = os.environ.get("CETBOT_RUSH_DB", "cetbot_rush")
    conn = await asyncpg.connect(
        f"postgresql://postgres@127.0.0.1:5432/{db}",
        server_settings={"plan_cache_mode": "force_generic_plan"},
    )
    who = {"b_platform": "telegram", "b_user_id": args.user, "b_chat_id": args.user}
    peek = {**who, "b_updates_key": "telegram", "b_update_id": 1, "b_session_id": args.session}
    start = {**peek, "b_now": datetime.now(UTC)}
    print(f"load {os.getloadavg()[0]:.2f}")
    for _ in range(args.rounds):
        await _one(conn, "snapshot", snapshot.STATEMENT, peek, args.n, False)
        await _one(conn, "peek+snapshot", conversations._PEEK_WITH_SNAPSHOT_PG, peek, args.n, False)
        await _one(conn, "peek alone", conversations._PEEK_PG, peek, args.n, False)
        await _one(
            conn,
            "start+snapshot (tx)",
            conversations._START_UPDATE_WITH_SNAPSHOT_PG,
            start,
            args.n,
            True,
        )
        await _one(conn, "start alone (tx)", conversations._START_UPDATE_PG, start, args.n, True)
    await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
