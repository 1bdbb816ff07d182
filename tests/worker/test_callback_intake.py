"""Issue 20, robust intake: signed payment callbacks the rules cannot use are refused as
malformed (400, logged) and change nothing, never a 500 a gateway would retry forever (R28)."""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

import aiohttp
import pytest

from registration.gateways.sandbox import signed_headers
from tests.rules.conftest import World
from tests.worker.conftest import SECRET, Pay
from tests.worker.helpers import entry, link, register


async def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as resp:
        return resp.status, await resp.text()


@pytest.mark.parametrize(
    "bad",
    [
        {"paid_at": "2026-11-25T10:00:00"},  # no time zone: crashed comparing with R4's deadline
        {"amount_fen": "FEE+0.7"},  # 3000.7 was taken as 3000
        {"amount_fen": True},
        {"amount_fen": "FEE-as-text"},
    ],
    ids=["naive-paid-at", "fractional-amount", "bool-amount", "text-amount"],
)
async def test_r28_signed_but_malformed_callback_is_refused_400_and_logged(
    world: World, pay: Pay, caplog: pytest.LogCaptureFixture, bad: dict[str, Any]
) -> None:
    reg = await world.candidate()
    e = await register(world, reg)
    got = await link(world, reg, e.id, pay.gateway)
    fields: dict[str, Any] = {
        "payment_id": got.payment_id,
        "status": "paid",
        "amount_fen": got.amount_fen,
        "gateway_ref": "X",
        "paid_at": world.clock.now().isoformat(),
    }
    for key, value in bad.items():
        if value == "FEE+0.7":
            value = got.amount_fen + 0.7
        elif value == "FEE-as-text":
            value = f"{got.amount_fen}.0"
        fields[key] = value
    body = json.dumps(fields).encode()
    headers = signed_headers(SECRET.encode(), body, world.clock.now(), secrets.token_hex(16))
    with caplog.at_level(logging.WARNING):
        status, answer = await _post(pay.callback_url, body, headers)
    assert status == 400, answer
    assert json.loads(answer)["error"]["reason"] == "malformed"
    assert "malformed" in caplog.text
    assert (await entry(world.db, e.id)).status == "unpaid"
    # The well-formed callback for the same payment still goes through afterwards.
    fields = {**fields, "amount_fen": got.amount_fen, "paid_at": world.clock.now().isoformat()}
    body = json.dumps(fields).encode()
    headers = signed_headers(SECRET.encode(), body, world.clock.now(), secrets.token_hex(16))
    status, answer = await _post(pay.callback_url, body, headers)
    assert status == 200, answer
    assert (await entry(world.db, e.id)).status == "paid"
