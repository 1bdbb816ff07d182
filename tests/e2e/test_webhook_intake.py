"""Issue 20, robust intake: webhook updates the bot cannot use (an update_id beyond 64 bits, a
message of unknown fields only) are logged and acknowledged (200) without touching state;
Telegram would retry a failing update forever. Both adapters, both databases."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import SECRET_HEADER, BotApp
from cetbot.demo import seed_example_session
from emulator.client import EmulatorClient
from storage.db import Database
from tests.conftest import TEST_WEBHOOK_SECRET, _pg_truncate
from tests.e2e.conftest import DEMO_NOW, BotHarness, Chat, real_engine

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

USER = 730_001
STATE_TABLES = ("processed_updates", "conversations", "accounts", "chat_bindings")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["sqlite", "postgresql"])
def bot_db_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    if request.param == "sqlite":
        return sqlite_url
    url: str = request.getfixturevalue("pg_url")

    async def seed() -> None:
        await _pg_truncate(url)
        database = Database(url)
        try:
            await seed_example_session(database, DEMO_NOW.date())
        finally:
            await database.dispose()

    asyncio.run(seed())
    return url


async def _counts(url: str) -> dict[str, int]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return {
                t: int((await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one())
                for t in STATE_TABLES
            }
    finally:
        await engine.dispose()


def _user() -> dict[str, Any]:
    return {"id": USER, "is_bot": False, "first_name": "Student", "language_code": "zh-hans"}


def _message(update_id: int, text_: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 5,
            "date": int(time.time()),
            "chat": {"id": USER, "type": "private", "first_name": "Student"},
            "from": _user(),
            "text": text_,
        },
    }


UNUSABLE: dict[str, dict[str, Any]] = {
    "update-id-beyond-64-bits": _message(2**64 + 5, "/start"),
    "update-id-beyond-signed-64-bits": _message(2**63, "/start"),
    "negative-update-id": _message(-3, "/start"),
    "message-of-unknown-fields-only": {"update_id": 900_101, "message": {"zzz_new": {"x": 1}}},
    "message-without-chat": {
        "update_id": 900_102,
        "message": {"message_id": 1, "date": 0, "text": "/start"},
    },
    "unknown-update-kind": {"update_id": 900_103, "future_thing": {"id": 1}},
}

# Refused before or while parsing, so said in the log. The others parse (the library is
# lenient about a kind or field it does not know) and simply make no event.
LOGGED = (
    "update-id-beyond-64-bits",
    "update-id-beyond-signed-64-bits",
    "negative-update-id",
    "message-of-unknown-fields-only",
)


@pytest.mark.parametrize("kind", list(UNUSABLE))
async def test_unusable_webhook_update_is_logged_and_acknowledged_without_state(
    harness: BotHarness,
    bot_db_url: str,
    em: EmulatorClient,
    chat_factory: Callable[[BotApp, int], Chat],
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    app = await harness.webhook(
        harness.build(
            bot_db_url, engine=real_engine, webhook_url=url, webhook_secret=TEST_WEBHOOK_SECRET
        ),
        port,
    )
    before = await _counts(bot_db_url)
    with caplog.at_level(logging.INFO):
        async with aiohttp.ClientSession() as http:
            async with http.post(
                url, json=UNUSABLE[kind], headers={SECRET_HEADER: TEST_WEBHOOK_SECRET}
            ) as resp:
                status = resp.status
    assert status == 200, f"{kind}: {status}; Telegram would re-deliver it forever"
    await app.adapter.runner.drain()
    assert await _counts(bot_db_url) == before, "an unusable update changed state"
    if kind in LOGGED:
        assert "unusable update" in caplog.text
    # The bot still serves the next, ordinary update.
    candidate = chat_factory(app, USER)
    await candidate.start()
    await candidate.command("start")
    assert await candidate.last_text()
