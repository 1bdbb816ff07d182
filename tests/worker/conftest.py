"""Fixtures for payments and the worker: the seeded world, the sandbox gateway and server,
the bot's callback endpoint, the emulator and a raw Bot API performer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web

from emulator.client import EmulatorClient
from emulator.server import RunningEmulator, start_emulator
from foundation.clock import FrozenClock
from payment_web.callback_app import create_callback_app
from payment_web.sandbox_server import RunningSandbox, start_sandbox
from registration.gateways.sandbox import SandboxGateway
from storage.db import Database
from tests.conftest import TEST_PAYMENT_SECRET
from tests.rules.conftest import World, world  # noqa: F401 - the fixture is re-exported
from tests.worker.raw_performer import RawBotApiPerformer

SECRET = TEST_PAYMENT_SECRET
TOKEN = "123456:WORKER-test-token"


@dataclass
class Pay:
    """The sandbox server, the gateway that talks to it, and the bot's callback endpoint."""

    sandbox: RunningSandbox
    gateway: SandboxGateway
    callback_url: str


@pytest.fixture
async def pay(db: Database, clock: FrozenClock) -> AsyncIterator[Pay]:
    gateway = SandboxGateway("http://placeholder", SECRET)
    runner = web.AppRunner(create_callback_app(db, clock, gateway), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    callback_url = f"http://127.0.0.1:{port}/payments/callback"
    sandbox = await start_sandbox(
        "127.0.0.1", 0, secret=SECRET, callback_url=callback_url, clock=clock
    )
    gateway.base_url = sandbox.url
    try:
        yield Pay(sandbox, gateway, callback_url)
    finally:
        await sandbox.stop()
        await runner.cleanup()


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


@pytest.fixture
async def performer(emulator: RunningEmulator) -> AsyncIterator[RawBotApiPerformer]:
    p = RawBotApiPerformer(emulator.url, TOKEN)
    try:
        yield p
    finally:
        await p.close()
