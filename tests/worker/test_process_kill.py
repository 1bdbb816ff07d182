"""A real `cetbot worker` process, SIGKILLed mid-batch and started again (issue 5), on both
databases: every reminder is delivered, nothing is lost, and only a send that was in
flight at the kill can arrive twice, at most once more.

The sender is slow because the emulator enforces Telegram's limits (30 messages/s, 1 per
second per chat), so the kill lands while the batch is going out. The restarted worker's
clock (CETBOT_NOW) starts five minutes later: the killed worker's leases (60 s) have run
out, which is what waiting a minute would give, without the wait.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from emulator.client import EmulatorClient
from storage.db import Database
from tests.conftest import ROOT, TEST_PAYMENT_SECRET
from tests.rules.conftest import World
from tests.worker.helpers import bind, register

TOKEN = "123456:KILL-test-token"
CANDIDATES = 120  # four seconds of sending at 30/s
FIRST_UID = 9_100_000


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[str]:
    """The emulator with Telegram's limits, in a process of its own, as Telegram is.

    In this test's process its event loop would stop whenever the test process does (a
    collection of the suite's large heap, a busy machine): measured, a 1.4 s stop there
    turns the worker's steady 30 messages/s into a burst at the emulator and 10 answers
    429 that the worker did not cause.
    """
    log = (tmp_path / "emulator.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--port", "0", "--token", TOKEN, "--rate-limit"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=log,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()  # "Bot API emulator on http://...  (chat ...)"
        assert " on http://" in line, (tmp_path / "emulator.log").read_text()
        yield line.split(" on ", 1)[1].split()[0]
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def start_worker(db_url: str, api_url: str, now: datetime, cwd: Path) -> subprocess.Popen[bytes]:
    """`cetbot worker` as its own process; run in an empty folder so no .env is read."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": db_url,
        "BOT_TOKEN": TOKEN,
        "PAYMENT_SECRET": TEST_PAYMENT_SECRET,
        "TELEGRAM_API_URL": api_url,
        # The worker picks the adapter by BOT_FRAMEWORK; PTB imports in a third of aiogram's
        # time (measured 3 s against 9 s on a busy two-core machine), which keeps this short.
        "BOT_FRAMEWORK": "ptb",
        "CETBOT_NOW": now.isoformat(),
        "DATA_DIR": str(cwd / "data"),
        "CETBOT_LANG": "en",
    }
    with (cwd / "worker.log").open("ab") as log:  # the child keeps its own copy of the file
        return subprocess.Popen(
            [sys.executable, "-c", "from cetbot.cli import main; main()", "worker"],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


async def outbox(db: Database) -> dict[str, int]:
    async with db.uow(readonly=True) as uow:
        return await uow.outbox.counts()


async def wait_until(what: str, check: Callable[[], Awaitable[bool]], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_worker_process_killed_mid_batch_loses_nothing(
    world: World, limited: str, tmp_path: Path
) -> None:
    uids = [FIRST_UID + i for i in range(CANDIDATES)]
    async with EmulatorClient(limited, token=TOKEN) as em:
        created = None
        for uid in uids:
            reg = await world.candidate()
            await bind(world, reg, uid)
            await em.create_user(uid, language_code="en")
            await em.user_says(uid, "/start")  # a bot may only write to a started chat
            created = (await register(world, reg)).created_at
        assert created is not None
        start_at = created + timedelta(hours=18, minutes=1)  # the 6-hour reminder is due

        first = start_worker(world.db.url, limited, start_at, tmp_path)
        try:

            async def some_sent() -> bool:
                return int((await em.stats())["messages_sent"]) >= CANDIDATES // 3

            await wait_until("the first sends", some_sent, 20)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        await asyncio.sleep(0.3)  # requests the emulator had received are answered

        at_kill = await outbox(world.db)
        delivered_at_kill = {uid: len(await bot_texts(em, uid)) for uid in uids}
        assert at_kill.get("sent", 0) < CANDIDATES, f"not killed mid-batch: {at_kill}"
        assert max(delivered_at_kill.values()) <= 1
        # Delivered but not marked sent: the only messages that may go twice.
        in_flight = await delivered_unmarked(world.db, delivered_at_kill)

        second = start_worker(world.db.url, limited, start_at + timedelta(minutes=5), tmp_path)
        try:

            async def all_sent() -> bool:
                return await outbox(world.db) == {"sent": CANDIDATES}

            await wait_until("every row sent", all_sent, 25)
        finally:
            second.send_signal(signal.SIGTERM)  # the clean stop
            assert second.wait(15) == 0, (tmp_path / "worker.log").read_text()

        per_chat = {uid: len(await bot_texts(em, uid)) for uid in uids}
        stats = await em.stats()
    assert all(n >= 1 for n in per_chat.values()), "a reminder was lost"
    twice = {uid for uid, n in per_chat.items() if n > 1}
    assert max(per_chat.values()) <= 2
    assert twice <= in_flight, (twice, in_flight)  # at most one more per in-flight send
    assert stats["messages_sent"] == CANDIDATES + len(twice)
    assert stats["rate_limited_429"] == 0  # the workers kept within Telegram's limits
    print(f"\nkilled with {at_kill}; in flight {len(in_flight)}, sent twice {len(twice)}")


async def bot_texts(em: EmulatorClient, uid: int) -> list[str]:
    return [m["text"] for m in await em.transcript(uid) if m["sender"] == "bot"]


async def delivered_unmarked(db: Database, delivered: dict[int, int]) -> set[int]:
    """Chats whose reminder the emulator has but whose outbox row is not "sent"."""
    from sqlalchemy import select

    from storage.models import OutboxMessage

    async with db.uow(readonly=True) as uow:  # tests may read tables
        rows = await uow.conn.execute(select(OutboxMessage.chat_id, OutboxMessage.status))
        unmarked = {int(chat) for chat, status in rows if status != "sent"}
    return {uid for uid, n in delivered.items() if n and uid in unmarked}
