"""Webhook mode: updates POSTed as JSON with the secret header, retried, ordered per chat."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from emulator.client import EmulatorClient
from tests.emulator.conftest import RawApi

SECRET = "s3cr3t_Token-1"


@dataclass
class Receiver:
    """A tiny webhook endpoint that records what it gets and can fail on purpose."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[str | None] = field(default_factory=list)
    fail_next: int = 0
    attempts: int = 0
    reply: dict[str, Any] | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.Response(status=500, text="boom")
        self.secrets.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        assert request.content_type == "application/json"
        self.received.append(json.loads(await request.read()))
        self.arrived.set()
        if self.reply is not None:
            return web.json_response(self.reply)
        return web.Response(text="")

    async def wait_for(self, n: int) -> None:
        async with asyncio.timeout(5):
            while len(self.received) < n:
                self.arrived.clear()
                await self.arrived.wait()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    rec.url = f"http://127.0.0.1:{port}/hook"
    yield rec
    await runner.cleanup()


async def test_webhook_delivery_with_secret_retry_and_order(
    em: EmulatorClient, api: RawApi, receiver: Receiver
) -> None:
    await api.ok("getMe")
    await em.create_user(1, "A")
    await em.create_user(2, "B")
    await em.user_says(1, "queued before the webhook")
    receiver.fail_next = 2
    assert await api.ok("setWebhook", url=receiver.url, secret_token=SECRET) is True
    for i in range(3):
        await em.user_says(1, f"a{i}")
        await em.user_says(2, f"b{i}")
    await receiver.wait_for(7)
    assert set(receiver.secrets) == {SECRET}
    texts_1 = [u["message"]["text"] for u in receiver.received if u["message"]["chat"]["id"] == 1]
    texts_2 = [u["message"]["text"] for u in receiver.received if u["message"]["chat"]["id"] == 2]
    assert texts_1 == ["queued before the webhook", "a0", "a1", "a2"]
    assert texts_2 == ["b0", "b1", "b2"]
    assert receiver.attempts == 9  # two failures were retried
    info = await api.ok("getWebhookInfo")
    assert info["url"] == receiver.url and info["pending_update_count"] == 0
    assert "500" in info["last_error_message"]
    status, desc = await api.fails("getUpdates")
    assert status == 409 and "webhook is active" in desc


async def test_webhook_reply_method_and_delete(
    em: EmulatorClient, api: RawApi, receiver: Receiver
) -> None:
    await api.ok("getMe")
    await em.create_user(3, "C")
    receiver.reply = {"method": "sendMessage", "chat_id": 3, "text": "answered in the response"}
    await api.ok("setWebhook", url=receiver.url, drop_pending_updates=True)
    await em.user_says(3, "hi")
    [reply] = await em.wait_for_bot(3)
    assert reply["text"] == "answered in the response"
    assert receiver.secrets == [None]
    await api.ok("deleteWebhook")
    await em.user_says(3, "polling again")
    assert [u["message"]["text"] for u in await api.ok("getUpdates")] == ["polling again"]
    assert len(receiver.received) == 1
