"""Sends N due reminders through the emulator at Telegram's limits and measures the worker.

Run: .venv/bin/python bench/reminders.py [--count 20000] [--db sqlite|postgresql]
     [--pg postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

Setup: the example session and one candidate with an unpaid entry; then `--count`
outbox rows of kind "reminder" for that entry, each to its own chat (so the per-chat
limit never binds and the overall 30/s is the ceiling), all due now. The emulator
runs in a child process with its flood limit on (30/s overall, 1/s per chat), so the
figures of this process are the worker's own. The worker is the real
OutboxDispatcher (claim with lease, render in the recipient's locale, send, mark)
with a raw Bot API performer (429 -> wait retry_after).

Prints: sustained rate (messages/s between the 5th and the 95th percentile of send
times) as a share of 30/s, 429 answers, duplicates (messages sent minus rows), the
worker's peak RSS, and wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.worker_runtime import OutboxDispatcher  # noqa: E402
from emulator.client import EmulatorClient  # noqa: E402
from foundation.clock import FrozenClock  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Base, OutboxMessage  # noqa: E402
from tests.rules.conftest import SESSION_FILE, World  # noqa: E402
from tests.worker.raw_performer import RawBotApiPerformer  # noqa: E402

TOKEN = "123456:BENCH-reminders"
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
EMULATOR = """
import asyncio, sys
from emulator.server import start_emulator
async def main():
    em = await start_emulator(port=0, default_token=sys.argv[1], require_start=False)
    print(em.url, flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


async def seed(db: Database, count: int, first_chat: int) -> None:
    from backoffice import authority
    from backoffice.importing import parse_session_toml
    from registration import entries

    clock = FrozenClock(NOW)
    spec = parse_session_toml(SESSION_FILE)
    async with db.uow() as uow:
        session_id = await authority.load_session(uow, spec)
        campuses = {c.code: c.id for c in await uow.sessions.campuses(session_id)}
        await uow.commit()
    world = World(db, clock, session_id, campuses, spec.windows.registration_opens, NOW)
    reg = await world.candidate()
    async with db.uow() as uow:
        e = await entries.register_subject(
            uow, clock, registration_id=reg.id, subject_code="CET4", campus_id=campuses["BSU-HD"]
        )
        await uow.commit()
    rows = [
        {
            "platform": "telegram",
            "chat_id": first_chat + i,
            "kind": "reminder",
            "payload": {
                "entry_id": e.id,
                "subject": "CET4",
                "campus_id": e.campus_id,
                "expires_at": e.expires_at.isoformat(),
                "offset_minutes": 60,
            },
            "status": "pending",
            "due_at": NOW,
            "attempts": 0,
            "created_at": NOW,
            "dedupe_key": f"bench:{i}",
        }
        for i in range(count)
    ]
    async with db.engine.begin() as conn:
        for start in range(0, count, 2000):
            await conn.execute(insert(OutboxMessage.__table__), rows[start : start + 2000])


async def make_users(em: EmulatorClient, count: int, first_chat: int) -> None:
    sem = asyncio.Semaphore(64)

    async def one(uid: int) -> None:
        async with sem:
            await em.create_user(uid, language_code="zh-hans")

    await asyncio.gather(*(one(first_chat + i) for i in range(count)))


async def bench(args: argparse.Namespace) -> None:
    if args.db == "sqlite":
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    else:
        admin_engine = create_async_engine(args.pg, isolation_level="AUTOCOMMIT")
        async with admin_engine.connect() as conn:
            await conn.execute(text("DROP DATABASE IF EXISTS cetbot_bench_reminders"))
            await conn.execute(text("CREATE DATABASE cetbot_bench_reminders"))
        await admin_engine.dispose()
        url = args.pg.rsplit("/", 1)[0] + "/cetbot_bench_reminders"
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()

    proc = subprocess.Popen(  # noqa: ASYNC220 - once, before anything is measured
        [sys.executable, "-c", EMULATOR, TOKEN], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        em_url = proc.stdout.readline().strip()
        first_chat = 10_000_000
        db = Database(url)
        async with EmulatorClient(em_url, token=TOKEN) as em:
            await make_users(em, args.count, first_chat)
            await seed(db, args.count, first_chat)
            await em.set_rate_limit(enabled=True, global_per_second=30, per_chat_per_second=1)
            performer = RawBotApiPerformer(em_url, TOKEN)
            clock = FrozenClock(NOW)
            dispatcher = OutboxDispatcher(db, clock, performer, owner="bench")
            send_times: list[float] = []
            inner = performer.perform

            async def timed(action):  # type: ignore[no-untyped-def]
                result = await inner(action)
                send_times.append(time.monotonic())
                return result

            performer.perform = timed  # type: ignore[method-assign]
            stop = asyncio.Event()

            async def until_done() -> None:
                while True:
                    await asyncio.sleep(1)
                    async with db.uow(readonly=True) as uow:
                        counts = await uow.outbox.counts()
                    if not counts.get("pending") and not counts.get("sending"):
                        stop.set()
                        return

            t0 = time.monotonic()
            await asyncio.gather(dispatcher.run(stop), until_done())
            wall = time.monotonic() - t0
            stats = await em.stats()
            await performer.close()
        async with db.uow(readonly=True) as uow:
            counts = await uow.outbox.counts()
        await db.dispose()
    finally:
        proc.terminate()
        proc.wait()

    send_times.sort()
    lo, hi = send_times[len(send_times) // 20], send_times[len(send_times) * 19 // 20]
    middle = len(send_times) * 19 // 20 - len(send_times) // 20
    sustained = middle / (hi - lo) if hi > lo else float("nan")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"database              {args.db}")
    print(f"reminders             {args.count}")
    print(f"outbox after          {counts}")
    print(f"wall time             {wall:.1f} s")
    print(f"sustained rate        {sustained:.2f} msg/s = {100 * sustained / 30:.1f}% of 30/s")
    print(f"overall rate          {args.count / wall:.2f} msg/s (incl. start and tail)")
    print(
        f"429 answers           {stats['responses_429']} (performer retries: "
        f"{performer.retries_429})"
    )
    print(f"duplicates            {stats['messages_sent'] - args.count}")
    print(f"max sent in a second  {stats['max_sent_per_second']} (emulator's count)")
    print(f"worker peak RSS       {peak_mb:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
