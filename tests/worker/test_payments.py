"""Payments through the sandbox gateway (R4, R26-R30, R33) on both databases."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

import aiohttp
import pytest

from registration import entries, errors, payments
from registration.gateways.base import CallbackRefused
from registration.gateways.sandbox import signed_headers
from storage.db import Database
from tests.rules.conftest import World
from tests.worker.conftest import SECRET, Pay
from tests.worker.helpers import (
    callback_body,
    entry,
    link,
    outbox_kinds,
    paying,
    post_json,
    press,
    register,
)


async def test_r29_same_link_while_pending_then_paid_by_callback(world: World, pay: Pay) -> None:
    reg = await world.candidate()
    e = await register(world, reg)
    first = await link(world, reg, e.id, pay.gateway)
    again = await link(world, reg, e.id, pay.gateway)
    assert again == first  # R29: no second payment while one is pending
    assert first.amount_fen == e.fee_fen
    page = await press(first.url, "pay")
    assert "支付成功" in page or "successful" in page
    assert (await entry(world.db, e.id)).status == "paid"  # R26
    with pytest.raises(errors.EntryPaid):
        await link(world, reg, e.id, pay.gateway)


async def test_r29_failed_payment_allows_a_new_one(world: World, pay: Pay) -> None:
    reg = await world.candidate()
    e = await register(world, reg)
    first = await link(world, reg, e.id, pay.gateway)
    await press(first.url, "fail")
    assert (await entry(world.db, e.id)).status == "unpaid"
    second = await link(world, reg, e.id, pay.gateway)
    assert second.payment_id != first.payment_id


async def test_payment_link_refuses_another_candidates_entry(world: World, pay: Pay) -> None:
    reg = await world.candidate()
    other = await world.candidate()
    e = await register(world, reg)
    with pytest.raises(errors.Forbidden):
        await link(world, other, e.id, pay.gateway)


async def test_r4_paying_after_the_campus_deadline_is_refused(world: World, pay: Pay) -> None:
    reg = await world.candidate()
    e = await register(world, reg)
    async with world.db.uow(readonly=True) as uow:
        campus = await uow.sessions.campus(e.campus_id)
    assert campus is not None
    world.clock.set(campus.pay_deadline + timedelta(minutes=1))
    with pytest.raises(errors.PayDeadlinePassed):
        await link(world, reg, e.id, pay.gateway)


async def test_r27_oral_is_paid_only_after_its_written_entry(world: World, pay: Pay) -> None:
    reg = await world.candidate()
    written = await register(world, reg, "CET4")
    oral = await register(world, reg, "CET-SET4")
    with pytest.raises(errors.OralPayNeedsWritten):
        await link(world, reg, oral.id, pay.gateway)
    await press((await link(world, reg, written.id, pay.gateway)).url, "pay")
    await press((await link(world, reg, oral.id, pay.gateway)).url, "pay")
    assert (await entry(world.db, oral.id)).status == "paid"


async def test_r29_lost_callback_is_repaired_by_update(world: World, pay: Pay) -> None:
    reg = await world.candidate()
    e = await register(world, reg)
    got = await link(world, reg, e.id, pay.gateway)
    await press(got.url, "pay-lose")  # the bank charged; the bot heard nothing
    assert (await entry(world.db, e.id)).status == "unpaid"
    async with world.db.uow() as uow:
        updated = await payments.refresh_payment(
            uow, world.clock, registration_id=reg.id, entry_id=e.id, gateway=pay.gateway
        )
        await uow.commit()
    assert updated.status == "paid"
    # Updating again changes nothing.
    async with world.db.uow() as uow:
        again = await payments.refresh_payment(
            uow, world.clock, registration_id=reg.id, entry_id=e.id, gateway=pay.gateway
        )
        await uow.commit()
    assert again.status == "paid" and again.paid_at == updated.paid_at


async def test_r28_forged_stale_and_replayed_callbacks_change_nothing(
    world: World, pay: Pay
) -> None:
    _reg, e, got = await paying(world, pay.gateway, 5003)
    body = callback_body(got.payment_id, got.amount_fen)
    now = world.clock.now()
    # Forged: signed with another secret.
    forged = signed_headers(b"not-the-secret", body, now, secrets.token_hex(16))
    assert (await post_json(pay.callback_url, body, forged))[0] == 400
    # Tampered: a valid signature over another body.
    good = signed_headers(SECRET.encode(), body, now, secrets.token_hex(16))
    tampered = callback_body(got.payment_id, 1)
    assert (await post_json(pay.callback_url, tampered, good))[0] == 400
    # Stale: signed ten minutes ago.
    stale = signed_headers(SECRET.encode(), body, now - timedelta(minutes=10), "n" * 16)
    assert (await post_json(pay.callback_url, body, stale))[0] == 400
    assert (await entry(world.db, e.id)).status == "unpaid"
    # The genuine one is applied once; its replay is refused.
    status, answer = await post_json(pay.callback_url, body, good)
    assert status == 200 and answer["result"] == "paid"
    paid = await entry(world.db, e.id)
    assert paid.status == "paid"
    status, answer = await post_json(pay.callback_url, body, good)
    assert status == 400 and answer["error"]["reason"] == "replay"
    # The same payment once more with a fresh nonce: accepted, changes nothing.
    fresh = signed_headers(SECRET.encode(), body, now, secrets.token_hex(16))
    status, answer = await post_json(pay.callback_url, body, fresh)
    assert status == 200 and answer["result"] == "unchanged"
    assert await entry(world.db, e.id) == paid
    assert (await outbox_kinds(world.db)).count("payment-paid") == 1


async def test_r28_callback_for_unknown_payment_is_refused(world: World, pay: Pay) -> None:
    async with world.db.uow() as uow:
        body = callback_body("P" + "0" * 32, 3000)
        headers = signed_headers(SECRET.encode(), body, world.clock.now(), secrets.token_hex(16))
        with pytest.raises(CallbackRefused):
            await payments.apply_callback(
                uow, world.clock, gateway=pay.gateway, body=body, headers=headers
            )


async def _expire(db: Database, world: World, gateway: object = None) -> None:
    from registration import expiry

    async with db.uow() as uow:
        await expiry.expire_due(uow, world.clock, gateway=gateway)  # type: ignore[arg-type]
        await uow.commit()


async def test_r30_late_payment_is_restored_when_a_seat_is_free(world: World, pay: Pay) -> None:
    reg, e, got = await paying(world, pay.gateway, 5001)
    async with aiohttp.ClientSession() as http, http.get(got.url) as resp:
        assert resp.status == 200  # the page is open; the candidate is slow
    world.clock.advance(timedelta(hours=24, minutes=1))
    await _expire(world.db, world, pay.gateway)  # R33 asks: still pending, so it goes
    assert (await entry(world.db, e.id)).status == "expired"
    _capacity, taken_before = await world.seats("BSU-HD", "CET4")
    await press(got.url, "pay")
    restored = await entry(world.db, e.id)
    assert restored.status == "paid"
    assert (await world.seats("BSU-HD", "CET4"))[1] == taken_before + 1
    assert "payment-restored" in await outbox_kinds(world.db)
    async with world.db.uow(readonly=True) as uow:
        assert (await uow.registrations.get(reg.id)).status == "active"  # type: ignore[union-attr]


async def test_r30_late_payment_is_refunded_when_full(world: World, pay: Pay) -> None:
    await world.set_capacity("BSU-HD", "CET4", 1)
    _reg, e, got = await paying(world, pay.gateway, 5002)
    async with aiohttp.ClientSession() as http, http.get(got.url) as resp:
        assert resp.status == 200
    world.clock.advance(timedelta(hours=24, minutes=1))
    await _expire(world.db, world, pay.gateway)
    late = await world.candidate()
    taken = await register(world, late)  # the freed seat is gone again
    await press(got.url, "pay")
    assert (await entry(world.db, e.id)).status == "expired"
    assert (await entry(world.db, taken.id)).status == "unpaid"
    async with world.db.uow(readonly=True) as uow:
        p = await uow.payments.get(got.payment_id)
    assert p is not None and p.status == "refund"
    assert "payment-refund" in await outbox_kinds(world.db)  # the candidate is told


async def test_r33_sweep_asks_the_gateway_before_deleting(world: World, pay: Pay) -> None:
    reg = await world.candidate()
    e = await register(world, reg)
    got = await link(world, reg, e.id, pay.gateway)
    await press(got.url, "pay-lose")
    world.clock.advance(timedelta(hours=24, minutes=1))
    await _expire(world.db, world, pay.gateway)
    assert (await entry(world.db, e.id)).status == "paid"  # never deleted once paid


async def test_r29_a_second_pending_payment_is_a_conflict_and_the_transaction_goes_on(
    world: World,
) -> None:
    from storage.errors import Conflict

    reg = await world.candidate()
    e = await register(world, reg)
    now = world.clock.now()

    def pending(pid: str) -> dict[str, object]:
        return {
            "id": pid,
            "entry_id": e.id,
            "gateway": "sandbox",
            "amount_fen": e.fee_fen,
            "link": f"http://pay/{pid}",
            "created_at": now,
        }

    async with world.db.uow() as uow:
        first = await uow.payments.create(pending("p-first"))
        with pytest.raises(Conflict):
            await uow.payments.create(pending("p-second"))
        # Nothing aborted: the same transaction reads on and commits.
        found = await uow.payments.pending_of_entry(e.id)
        assert found is not None and found.id == first.id
        await uow.commit()
    async with world.db.uow(readonly=True) as uow:
        assert [p.id for p in await uow.payments.of_entry(e.id)] == ["p-first"]


async def test_r26_a_pay_link_that_waited_for_the_lock_sees_the_entry_cancelled_meanwhile(
    world: World, pay: Pay
) -> None:
    # On PostgreSQL the pay link locks the registration and reads the entry in one
    # statement, whose snapshot predates its wait for the lock: what the holder commits
    # meanwhile must still be seen (storage/repos/payments.py, lock_for_payment).
    reg = await world.candidate()
    e = await register(world, reg)
    async with world.db.uow() as holder:
        await entries.cancel_entry(holder, world.clock, registration_id=reg.id, entry_id=e.id)
        late = asyncio.create_task(link(world, reg, e.id, pay.gateway))
        await world.waiting_for_the_registration("pay link")
        await holder.commit()
    with pytest.raises(errors.EntryNotActive):
        await late
    async with world.db.uow(readonly=True) as uow:
        assert await uow.payments.of_entry(e.id) == []
