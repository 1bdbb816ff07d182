"""Helpers for the payment and worker tests: registering, paying through the sandbox page."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from registration import entries, payments
from registration.gateways.base import Gateway
from storage.db import Database
from storage.dto import EntryDTO, RegistrationDTO
from tests.rules.conftest import World


async def register(world: World, reg: RegistrationDTO, subject: str = "CET4") -> EntryDTO:
    async with world.db.uow() as uow:
        entry = await entries.register_subject(
            uow,
            world.clock,
            registration_id=reg.id,
            subject_code=subject,
            campus_id=world.campus["BSU-HD"],
        )
        await uow.commit()
    return entry


async def link(world: World, reg: RegistrationDTO, entry_id: int, gateway: Gateway) -> Any:
    async with world.db.uow() as uow:
        got = await payments.payment_link(
            uow, world.clock, registration_id=reg.id, entry_id=entry_id, gateway=gateway
        )
        await uow.commit()
    return got


async def press(url: str, action: str) -> str:
    """Opens the payment page (the sandbox learns the payment) and presses a button."""
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as resp:
            assert resp.status == 200
            page = await resp.text()
        assert "/pay/" in page, page
        pid = url.split("/pay/")[1].split("?")[0]
        base = url.split("/pay/")[0]
        async with http.post(f"{base}/pay/{pid}/{action}") as resp:
            assert resp.status == 200
            return await resp.text()


async def entry(db: Database, entry_id: int) -> EntryDTO:
    async with db.uow(readonly=True) as uow:
        got = await uow.entries.get(entry_id)
    assert got is not None
    return got


async def outbox_kinds(db: Database) -> list[str]:
    from sqlalchemy import select

    from storage.models import OutboxMessage

    async with db.uow(readonly=True) as uow:
        rows = await uow.conn.execute(
            select(OutboxMessage.kind).order_by(OutboxMessage.id)  # tests may read tables
        )
        return [r[0] for r in rows]


async def bind(world: World, reg: RegistrationDTO, chat_user_id: int) -> None:
    """Binds a Telegram user to the candidate's account (R7), so notices reach them."""
    async with world.db.uow() as uow:
        await uow.accounts.bind("telegram", chat_user_id, reg.account_id, world.clock.now())
        await uow.commit()


async def paying(
    world: World, gateway: Gateway, chat_user_id: int
) -> tuple[RegistrationDTO, EntryDTO, Any]:
    """A candidate bound to a chat, with one entry booked and its payment link."""
    reg = await world.candidate()
    await bind(world, reg, chat_user_id)
    e = await register(world, reg)
    return reg, e, await link(world, reg, e.id, gateway)


def callback_body(payment_id: str, amount: int, status: str = "paid", ref: str = "X") -> bytes:
    """A gateway callback's body (to be signed by the test)."""
    return json.dumps(
        {"payment_id": payment_id, "status": status, "amount_fen": amount, "gateway_ref": ref}
    ).encode()


async def post_json(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=body, headers=headers) as resp:
            return resp.status, await resp.json()
