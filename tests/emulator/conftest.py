"""Fixtures: a fresh emulator on a free port per test, its control client, a raw API caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from emulator.client import EmulatorClient
from emulator.server import RunningEmulator, start_emulator

TOKEN = "123456:TEST-token_for-emulator"


@pytest.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    running = await start_emulator(port=0, default_token=TOKEN)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def em(emulator: RunningEmulator) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(emulator.url, token=TOKEN) as client:
        yield client


class RawApi:
    """Calls the Bot API over plain HTTP, to check the wire format itself."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession, token: str = TOKEN) -> None:
        self.base_url = base_url
        self.session = session
        self.token = token

    async def __call__(
        self, method: str, *, as_form: bool = False, **params: Any
    ) -> tuple[int, dict[str, Any]]:
        url = f"{self.base_url}/bot{self.token}/{method}"
        if as_form:
            kwargs: dict[str, Any] = {"data": {k: str(v) for k, v in params.items()}}
        else:
            kwargs = {"json": params}
        async with self.session.post(url, **kwargs) as resp:
            return resp.status, await resp.json(content_type=None)

    async def ok(self, method: str, **params: Any) -> Any:
        status, body = await self(method, **params)
        assert status == 200 and body["ok"] is True, body
        return body["result"]

    async def fails(self, method: str, **params: Any) -> tuple[int, str]:
        status, body = await self(method, **params)
        assert body["ok"] is False and body["error_code"] == status, body
        return status, body["description"]


@pytest.fixture
async def api(emulator: RunningEmulator) -> AsyncIterator[RawApi]:
    async with aiohttp.ClientSession() as session:
        yield RawApi(emulator.url, session)


# --- WeChat -----------------------------------------------------------------------------------


@pytest.fixture
async def wx(emulator: RunningEmulator) -> AsyncIterator[Any]:
    """The WeChat control client of the test's emulator."""
    from emulator.wechat_client import WeChatEmulatorClient

    async with WeChatEmulatorClient(emulator.url) as client:
        yield client


@pytest.fixture
async def fake_bot() -> AsyncIterator[Any]:
    """A WeChat endpoint that checks signatures and answers as the test tells it."""
    from tests.emulator.wechat_bot import FakeBot, start_fake_bot

    bot = FakeBot()
    runner = await start_fake_bot(bot)
    try:
        yield bot
    finally:
        await runner.cleanup()
