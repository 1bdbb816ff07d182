"""The worker inside the bot process (`cetbot run`): it sends through the bot's own adapter,
stops with the bot, and on SQLite gives way to a worker another process already runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from bot.app import BotApp, create_app
from bot.worker_runtime import BackgroundWorker, WorkerAlreadyRunning, single_sqlite_worker
from cetbot.cli import app as cli
from emulator.client import EmulatorClient
from emulator.server import RunningEmulator
from foundation.clock import FrozenClock
from foundation.i18n import t
from foundation.settings import Settings
from outgoing.mailer import MailboxMailer
from registration.notices import notify_review_decision
from storage.db import Database
from tests.e2e.echo_engine import EchoConversations
from tests.rules.conftest import World
from tests.worker.conftest import SECRET as TEST_PAYMENT_SECRET
from tests.worker.conftest import TOKEN
from tests.worker.helpers import bind


def bot(emulator: RunningEmulator, db: Database, clock: FrozenClock, tmp_path: Path) -> BotApp:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=SecretStr(TOKEN),
        telegram_api_url=emulator.url,
        database_url=db.url,
        data_dir=tmp_path / "data",
    )
    return create_app(
        settings, clock=clock, mailer=MailboxMailer(), database=db, engine=EchoConversations()
    )


async def test_the_bots_worker_sends_notices_through_the_bots_adapter(
    world: World, emulator: RunningEmulator, em: EmulatorClient, tmp_path: Path
) -> None:
    app = bot(emulator, world.db, world.clock, tmp_path)
    await app.startup()
    assert app.start_worker()
    try:
        assert app.worker is not None
        assert app.worker.runtime.performer is app.adapter.performer  # same adapter, retries
        reg = await world.candidate()
        await bind(world, reg, 7801)
        await em.create_user(7801, language_code="zh-hans")
        await em.user_says(7801, "/start")
        async with world.db.uow() as uow:
            review = await uow.reviews.create(
                {
                    "session_id": world.session_id,
                    "record_id": reg.record_id,
                    "account_id": reg.account_id,
                    "ticket_no": "123456789012345",
                    "status": "approved",
                    "note": "OK",
                    "created_at": world.clock.now(),
                }
            )
            await notify_review_decision(uow, world.clock.now(), review)
            await uow.commit()
        sent = await em.wait_for_bot(7801, 1, timeout=10)
        assert "123456789012345" in sent[-1]["text"]
    finally:
        await app.close()
    assert app.worker is None


async def test_sqlite_one_worker_the_bot_runs_on_without_its_own(
    emulator: RunningEmulator, tmp_path: Path, clock: FrozenClock
) -> None:
    from tests.conftest import _create_schema

    url = f"sqlite+aiosqlite:///{tmp_path / 'one.db'}"
    await _create_schema(url)
    db = Database(url)
    first = bot(emulator, db, clock, tmp_path)
    second = bot(emulator, Database(url), clock, tmp_path)
    try:
        assert first.start_worker()
        assert not second.start_worker()  # told, and goes on as a bot only
        assert second.worker is None
        with pytest.raises(WorkerAlreadyRunning):
            BackgroundWorker.start(
                second.settings, second.database, clock, second.adapter.performer
            )
        with pytest.raises(WorkerAlreadyRunning), single_sqlite_worker(url):
            pass  # what `cetbot worker` meets
    finally:
        await first.close()
        await second.close()
    # Stopping the bot released the lock: a worker may start now.
    with single_sqlite_worker(url):
        pass


def test_cetbot_worker_says_clearly_that_the_bot_already_runs_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}"
    monkeypatch.chdir(tmp_path)  # no .env of the project
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("PAYMENT_SECRET", TEST_PAYMENT_SECRET)
    monkeypatch.setenv("CETBOT_LANG", "en")
    with single_sqlite_worker(url):  # held as `cetbot run` holds it
        result = CliRunner().invoke(cli, ["worker", "--once"])
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert t("en", "cli-worker-already-running", {"detail": ""}).rstrip(": ") in said


async def test_postgresql_the_bot_and_another_worker_both_work(
    pg_url: str, emulator: RunningEmulator, tmp_path: Path, clock: FrozenClock
) -> None:
    first = bot(emulator, Database(pg_url, pool_size=5), clock, tmp_path)
    second = bot(emulator, Database(pg_url, pool_size=5), clock, tmp_path)
    try:
        assert first.start_worker() and second.start_worker()  # SKIP LOCKED shares the work
    finally:
        await first.close()
        await second.close()
