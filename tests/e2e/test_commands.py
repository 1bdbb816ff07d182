"""`cetbot run` refuses to start without its settings; `cetbot demo` serves the example session."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from bot.app import create_app
from bot.handlers import TokenRejected
from cetbot.cli import app
from cetbot.demo import run_demo
from emulator.client import EmulatorClient
from emulator.server import start_emulator
from foundation.settings import Settings
from tests.conftest import TEST_PAYMENT_SECRET
from tests.e2e.conftest import real_engine_available
from tests.e2e.echo_engine import EchoConversations

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No .env from the developer's checkout, no variables from the shell.
    monkeypatch.chdir(tmp_path)
    for name in (
        "BOT_TOKEN",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
        "BOT_FRAMEWORK",
        "CETBOT_NOW",
        "PAYMENT_SECRET",
        "PAYMENT_CALLBACK_HOST",
        "TELEGRAM_API_URL",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("env", "lang", "expected"),
    [
        ({}, "zh_CN.UTF-8", "未设置 BOT_TOKEN"),
        ({}, "en_US.UTF-8", "BOT_TOKEN is not set"),
        (
            {"BOT_TOKEN": "1:x", "WEBHOOK_URL": "https://bot.example.edu/hook"},
            "C",
            "WEBHOOK_SECRET",
        ),
        ({"BOT_TOKEN": "1:x", "BOT_FRAMEWORK": "telebot"}, "en_US", "must be aiogram or ptb"),
        (
            {
                "BOT_TOKEN": "not a token",
                "BOT_FRAMEWORK": "aiogram",
                # Past the start-up checklist, so the token itself is what gets refused.
                "PAYMENT_SECRET": TEST_PAYMENT_SECRET,
            },
            "en_US",
            "refused BOT_TOKEN",
        ),
    ],
)
def test_run_refuses_to_start_with_a_clear_message(
    bare_env: None, env: dict[str, str], lang: str, expected: str
) -> None:
    result = CliRunner().invoke(app, ["run"], env={**env, "LANG": lang, "CETBOT_LANG": ""})
    assert result.exit_code == 2
    assert expected in " ".join(result.output.split())


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_a_token_the_api_refuses_stops_the_start(
    bare_env: None, tmp_path: Path, framework: str
) -> None:
    emulator = await start_emulator(port=0, tokens={"1:the-only-valid-token"})
    try:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token="2:revoked-token",
            telegram_api_url=emulator.url,
            bot_framework=framework,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        )
        bot = create_app(settings, engine=EchoConversations())
        with pytest.raises(TokenRejected):
            await bot.run_polling(poll_timeout=1)
    finally:
        await emulator.stop()


@pytest.mark.skipif(not real_engine_available(), reason="bot/conversation/engine.py not there")
async def test_demo_seeds_serves_the_page_and_moves_the_clock(
    bare_env: None, tmp_path: Path
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
    )
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None)
    demo = asyncio.create_task(
        run_demo(settings, host="127.0.0.1", port=0, console=console, locale="en")
    )
    try:
        url = await _page_address(out, demo)
        printed = out.getvalue()
        assert "Demo data created: session 2026-12, 50 student records" in printed
        assert "110108200503140231" in printed and "KIM MINJUN" in printed
        assert "2026-11-25T10:00" in printed  # the window is open
        async with EmulatorClient(url) as em:
            await em.create_user(9001, "Demo", language_code="en")
            await em.command(9001, "start")
            [menu] = await em.wait_for_bot(9001, timeout=10)
            assert menu["keyboard"], menu  # the main menu, in buttons
            moved = await em.advance_clock(24)
            assert moved["hook_result"].startswith("2026-11-26")
    finally:
        demo.cancel()
        with pytest.raises(asyncio.CancelledError):
            await demo


async def _page_address(out: io.StringIO, demo: asyncio.Task[None]) -> str:
    for _ in range(200):
        found = re.search(r"Open the chat page in a browser: (http://\S+)/", out.getvalue())
        if found:
            return found.group(1)
        if demo.done():
            demo.result()  # raises what went wrong
        await asyncio.sleep(0.05)
    raise AssertionError(out.getvalue())


async def test_the_bot_opens_its_database_connections_before_the_first_update(
    bare_env: None, pg_url: str
) -> None:
    """Issue 17: on PostgreSQL the pool is full when the bot starts taking updates, so
    the first candidates of a rush do not wait for the server's new backends."""
    from storage.db import Database

    emulator = await start_emulator(port=0)
    database = Database(pg_url, pool_size=3)
    try:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token="1:warm",
            telegram_api_url=emulator.url,
            database_url=pg_url,
        )
        bot = create_app(settings, database=database, engine=EchoConversations())
        assert database.engine.pool.checkedin() == 0
        await bot.startup()
        assert database.engine.pool.checkedin() == 3
        await bot.close()
    finally:
        await database.dispose()
        await emulator.stop()
