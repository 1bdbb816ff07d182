"""`cetbot run --processes 2` in webhook mode on PostgreSQL: each user's updates in order,
every update applied exactly once, whichever process the emulator's connections reach."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from cetbot.demo import seed_example_session
from emulator.client import EmulatorClient
from emulator.server import RunningEmulator
from foundation.i18n import t
from storage.db import Database
from tests.conftest import TEST_PAYMENT_SECRET, TEST_WEBHOOK_SECRET, _pg_truncate
from tests.e2e.conftest import DEMO_NOW, TOKEN, real_engine_available

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not real_engine_available(), reason="bot/conversation/engine.py not there"),
]

USERS = range(9101, 9107)
# Sent back to back, without waiting: the emulator holds a chat's next update until the
# previous one is answered, and a process answers only once the replies are out.
COMMANDS = ("start", "help", "cancel", "start")
EXPECTED = ("chat-welcome", "chat-help", "chat-cancelled", "chat-welcome")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_two_webhook_processes_keep_each_users_order_and_apply_once(
    emulator: RunningEmulator, em: EmulatorClient, pg_url: str, tmp_path: Path
) -> None:
    await _pg_truncate(pg_url)
    database = Database(pg_url)
    try:
        await seed_example_session(database, DEMO_NOW.date())
    finally:
        await database.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": emulator.url,
        "DATABASE_URL": pg_url,
        "WEBHOOK_URL": f"http://127.0.0.1:{port}/tg",
        "WEBHOOK_SECRET": TEST_WEBHOOK_SECRET,
        "PAYMENT_SECRET": TEST_PAYMENT_SECRET,
        "CETBOT_NOW": DEMO_NOW.isoformat(),
        "CETBOT_LANG": "en",
    }
    cetbot = Path(sys.executable).with_name("cetbot")
    log = (tmp_path / "cluster.log").open("wb")
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, before any await on it
        [str(cetbot), "run", "--listen", "127.0.0.1", "--port", str(port), "--processes", "2"],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        bot = emulator.state.bot(TOKEN)
        end = time.monotonic() + 60
        while bot.webhook is None:
            assert proc.poll() is None, (tmp_path / "cluster.log").read_text()
            assert time.monotonic() < end, "the webhook was never set"
            await asyncio.sleep(0.2)
        await asyncio.sleep(2.0)  # the second process is up too
        for user in USERS:
            await em.create_user(user, "Student", language_code="en")
        for name in COMMANDS:
            for user in USERS:
                await em.command(user, name)
        for user in USERS:
            await em.wait_for_bot(user, n=len(COMMANDS), timeout=30, kinds=("sent",))
        await asyncio.sleep(0.5)  # nothing more may come
        for user in USERS:
            replies = [m for m in await em.transcript(user) if m["sender"] == "bot"]
            assert len(replies) == len(COMMANDS), "an update was lost or applied twice"
            for reply, key in zip(replies, EXPECTED, strict=True):
                assert t("en", key).split("\n")[0][:20] in reply["text"], (key, reply["text"])
        database = Database(pg_url)
        try:
            async with database.engine.connect() as conn:
                versions = (
                    await conn.execute(text("SELECT user_id, version FROM conversations"))
                ).all()
                processed = (
                    await conn.execute(text("SELECT count(*) FROM processed_updates"))
                ).scalar_one()
        finally:
            await database.dispose()
        # Every user has one conversation; these commands leave the main menu as it was, so
        # the version stays (old menus keep working): applied-once is counted below.
        assert sorted(dict(versions)) == list(USERS)
        assert processed == len(USERS) * len(COMMANDS)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        log.close()
    assert proc.returncode == 0, (tmp_path / "cluster.log").read_text()[-2000:]
