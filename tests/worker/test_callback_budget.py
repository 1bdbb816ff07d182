"""The gateway's callback (R28-R30): what it costs in statements, and that its outcome
(entry, payment, audit trail, notice) is the same on both databases, also when it waited
for the registration's lock (on PostgreSQL its reads fold into the lock's statement)."""

from __future__ import annotations

import asyncio
import secrets
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from registration import entries, errors, payments
from storage.db import Database
from storage.models import AuditRecord, OutboxMessage, Payment
from tests.conversation.test_statement_budget import counting_on, transaction_control
from tests.rules.conftest import World
from tests.worker.conftest import SECRET, Pay
from tests.worker.helpers import (
    bind,
    callback_body,
    entry,
    link,
    paying,
    post_json,
    press,
    register,
)

# (SQLite, PostgreSQL), transaction control included. Measured before the fold: 14 and 15
# (PostgreSQL: BEGIN, the nonce, the payment twice, the entry twice, the lock, the
# registration, the entry paid, the payment finished, two audit rows, the bindings, the
# notice, COMMIT). On PostgreSQL now: BEGIN, the nonce with the payment, the entry and
# the lock; the entry paid, the payment finished, both audit rows and the notice; COMMIT.
CALLBACK_BUDGET = (14, 4)
# A second callback of a settled payment (a fresh nonce): BEGIN, the nonce with the
# payment, COMMIT on PostgreSQL.
UNCHANGED_BUDGET = (6, 3)


def _headers(world: World, body: bytes) -> dict[str, str]:
    from registration.gateways.sandbox import signed_headers

    return signed_headers(SECRET.encode(), body, world.clock.now(), secrets.token_hex(16))


def _plain(value: Any) -> Any:
    """An audit value as both databases give it back (instants as ISO text)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).isoformat()
        except ValueError:
            return value
    return value


async def _trail(db: Database, since: int) -> list[tuple[Any, ...]]:
    """The audit rows written after id `since`, in order, without their ids."""
    au = AuditRecord.__table__
    async with db.uow(readonly=True) as uow:
        rows = await uow.conn.execute(
            select(au.c.actor, au.c.action, au.c.object_type, au.c.object_id)
            .add_columns(au.c.before, au.c.after)
            .where(au.c.id > since)
            .order_by(au.c.id)
        )
        return [(*r[:4], _plain(r[4]), _plain(r[5])) for r in rows]


async def _last_audit(db: Database) -> int:
    au = AuditRecord.__table__
    async with db.uow(readonly=True) as uow:
        got = (await uow.conn.execute(select(au.c.id).order_by(au.c.id.desc()).limit(1))).first()
    return got[0] if got else 0


async def _notices(db: Database) -> list[tuple[Any, ...]]:
    ob = OutboxMessage.__table__
    async with db.uow(readonly=True) as uow:
        rows = await uow.conn.execute(
            select(ob.c.platform, ob.c.chat_id, ob.c.kind, ob.c.payload, ob.c.dedupe_key)
            .add_columns(ob.c.status, ob.c.attempts, ob.c.due_at, ob.c.created_at)
            .order_by(ob.c.chat_id)
        )
        return [tuple(r) for r in rows]


async def _payment(db: Database, payment_id: str) -> tuple[Any, ...]:
    pay = Payment.__table__
    async with db.uow(readonly=True) as uow:
        row = (
            await uow.conn.execute(
                select(pay.c.status, pay.c.gateway_ref, pay.c.finished_at).where(
                    pay.c.id == payment_id
                )
            )
        ).one()
    return tuple(row)


def callback_body_g7(payment_id: str, amount: int, status: str = "paid") -> bytes:
    return callback_body(payment_id, amount, status, ref="G7")


async def test_r28_a_paid_callback_stays_within_its_statement_budget(
    world: World, pay: Pay
) -> None:
    world.db.session_cache.ttl = 3600
    _reg, e, got = await paying(world, pay.gateway, 7001)
    async with counting_on(world.db) as statements:
        await press(got.url, "pay")
    assert (await entry(world.db, e.id)).status == "paid"
    budget = CALLBACK_BUDGET[0 if world.db.is_sqlite else 1]
    assert len(statements) <= budget, statements
    if not world.db.is_sqlite:
        assert len(transaction_control(statements)) == 2, statements  # one transaction
    body = callback_body_g7(got.payment_id, got.amount_fen)
    async with counting_on(world.db) as statements:
        status, answer = await post_json(pay.callback_url, body, _headers(world, body))
    assert status == 200 and answer["result"] == "unchanged"
    assert len(statements) <= UNCHANGED_BUDGET[0 if world.db.is_sqlite else 1], statements


async def test_r26_r28_a_paid_callback_writes_the_same_on_both_databases(
    world: World, pay: Pay
) -> None:
    reg = await world.candidate()
    await bind(world, reg, 7003)
    await bind(world, reg, 7002)  # two chats of one account: a notice each
    e = await register(world, reg)
    got = await link(world, reg, e.id, pay.gateway)
    since = await _last_audit(world.db)
    now = world.clock.now()
    body = callback_body_g7(got.payment_id, got.amount_fen)
    status, answer = await post_json(pay.callback_url, body, _headers(world, body))
    assert status == 200 and answer == {"ok": True, "result": "paid"}
    paid = await entry(world.db, e.id)
    assert (paid.status, paid.paid_at) == ("paid", now)
    assert await _payment(world.db, got.payment_id) == ("paid", "G7", now)
    actor = "gateway:sandbox"
    assert await _trail(world.db, since) == [
        (actor, "pay", "entry", str(e.id), {"status": "unpaid"},
         {"status": "paid", "paid_at": now.isoformat()}),
        (actor, "finish", "payment", got.payment_id, {"status": "pending"},
         {"status": "paid", "finished_at": now.isoformat(), "gateway_ref": "G7"}),
    ]  # fmt: skip
    payload = {
        "entry_id": e.id,
        "subject": "CET4",
        "campus_id": e.campus_id,
        "amount_fen": got.amount_fen,
    }
    assert await _notices(world.db) == [
        ("telegram", chat, "payment-paid", payload, f"pay:{got.payment_id}:telegram:{chat}",
         "pending", 0, now, now)
        for chat in (7002, 7003)
    ]  # fmt: skip
    # A second callback (a fresh nonce) changes nothing, writes nothing; a replay is refused.
    since = await _last_audit(world.db)
    headers = _headers(world, body)
    status, answer = await post_json(pay.callback_url, body, headers)
    assert status == 200 and answer["result"] == "unchanged"
    status, answer = await post_json(pay.callback_url, body, headers)
    assert status == 400 and answer["error"]["reason"] == "replay"
    assert await entry(world.db, e.id) == paid
    assert await _trail(world.db, since) == []
    assert len(await _notices(world.db)) == 2


async def test_r28_refused_callbacks_write_nothing_on_both_databases(
    world: World, pay: Pay
) -> None:
    _reg, e, got = await paying(world, pay.gateway, 7004)
    since = await _last_audit(world.db)
    wrong = callback_body_g7(got.payment_id, got.amount_fen + 1)
    status, answer = await post_json(pay.callback_url, wrong, _headers(world, wrong))
    assert status == 400 and answer["error"]["reason"] == "amount"
    unknown = callback_body_g7("P" + "1" * 32, got.amount_fen)
    status, answer = await post_json(pay.callback_url, unknown, _headers(world, unknown))
    assert status == 400 and answer["error"]["reason"] == "unknown-payment"
    # Still pending at the gateway: accepted, nothing changes.
    waiting = callback_body_g7(got.payment_id, got.amount_fen, "pending")
    status, answer = await post_json(pay.callback_url, waiting, _headers(world, waiting))
    assert status == 200 and answer["result"] == "unchanged"
    # A failure finishes the payment, with its audit row, and tells no one.
    now = world.clock.now()
    failed = callback_body_g7(got.payment_id, got.amount_fen, "failed")
    status, answer = await post_json(pay.callback_url, failed, _headers(world, failed))
    assert status == 200 and answer["result"] == "failed"
    assert (await entry(world.db, e.id)).status == "unpaid"
    assert await _payment(world.db, got.payment_id) == ("failed", "G7", now)
    assert await _trail(world.db, since) == [
        ("gateway:sandbox", "finish", "payment", got.payment_id, {"status": "pending"},
         {"status": "failed", "finished_at": now.isoformat(), "gateway_ref": "G7"}),
    ]  # fmt: skip
    assert await _notices(world.db) == []


async def test_r30_a_callback_that_waited_for_the_lock_sees_the_entry_cancelled_meanwhile(
    world: World, pay: Pay
) -> None:
    # On PostgreSQL the callback reads the payment and the entry in the statement that
    # locks the registration, whose snapshot predates its wait for the lock: what the
    # holder commits meanwhile must still be seen (storage/repos/payments.py).
    reg, e, got = await paying(world, pay.gateway, 7005)
    body = callback_body_g7(got.payment_id, got.amount_fen)
    headers = _headers(world, body)
    async with world.db.uow() as holder:
        await entries.cancel_entry(holder, world.clock, registration_id=reg.id, entry_id=e.id)
        late = asyncio.create_task(post_json(pay.callback_url, body, headers))
        await world.waiting_for_the_registration("callback")
        await holder.commit()
    status, answer = await late
    # The entry was cancelled: the money goes back (R30), the candidate is told.
    assert status == 200 and answer["result"] == "refund"
    assert (await entry(world.db, e.id)).status == "cancelled"
    assert (await _payment(world.db, got.payment_id))[0] == "refund"
    assert [n[2] for n in await _notices(world.db)] == ["payment-refund"]


async def test_r26_a_pay_link_that_waited_for_the_callback_sees_the_entry_paid_meanwhile(
    world: World, pay: Pay
) -> None:
    # On PostgreSQL the callback's lock writes nothing (FOR NO KEY UPDATE, as the booking's
    # and the pay link's); its settling statement bumps the registration's version. A pay
    # link that waited for the lock read the entry unpaid and its payment pending in a
    # snapshot taken before the wait: only the bump tells it to read again. Without it the
    # candidate would be handed the link of a payment that is already paid.
    reg, e, got = await paying(world, pay.gateway, 7007)
    body = callback_body_g7(got.payment_id, got.amount_fen)
    async with world.db.uow() as holder:
        holder.actor, holder.clock = "gateway:sandbox", world.clock  # as the callback app
        assert holder.payments.folds_callbacks == (not world.db.is_sqlite)
        async with world.db.uow(readonly=True) as uow:
            before = await uow.registrations.get(reg.id)
        outcome = await payments.apply_callback(
            holder, world.clock, gateway=pay.gateway, body=body, headers=_headers(world, body)
        )
        assert outcome.result == "paid"
        late = asyncio.create_task(link(world, reg, e.id, pay.gateway))
        await world.waiting_for_the_registration("pay link")
        await holder.commit()
    with pytest.raises(errors.EntryPaid):
        await late
    async with world.db.uow(readonly=True) as uow:
        after = await uow.registrations.get(reg.id)
    assert before is not None and after is not None and after.version == before.version + 1
    assert (await entry(world.db, e.id)).status == "paid"


async def test_r30_a_late_callback_restores_the_entry_on_both_databases(
    world: World, pay: Pay
) -> None:
    from registration import expiry

    reg, e, got = await paying(world, pay.gateway, 7006)
    async with aiohttp.ClientSession() as http, http.get(got.url) as resp:
        assert resp.status == 200  # the sandbox learns the payment
    world.clock.advance(timedelta(hours=24, minutes=1))
    async with world.db.uow() as uow:
        await expiry.expire_due(uow, world.clock, gateway=pay.gateway)
        await uow.commit()
    assert (await entry(world.db, e.id)).status == "expired"
    body = callback_body_g7(got.payment_id, got.amount_fen)
    status, answer = await post_json(pay.callback_url, body, _headers(world, body))
    assert status == 200 and answer["result"] == "restored"
    assert (await entry(world.db, e.id)).status == "paid"
    assert (await _payment(world.db, got.payment_id))[0] == "paid"
    kinds = [n[2] for n in await _notices(world.db)]
    assert kinds == ["entry-expired", "payment-restored"]
    async with world.db.uow(readonly=True) as uow:
        again = await uow.registrations.get(reg.id)
    assert again is not None and again.status == "active"


# The pay step hands `payment_link` the entry and the registration's version as the
# candidate's snapshot read them (`seen`); on PostgreSQL the payment is then written with
# the lock in one statement, only if the registration is still that version (issue 17).


async def _seen(world: World, reg_id: int, entry_id: int) -> tuple[int, Any]:
    async with world.db.uow(readonly=True) as uow:
        reg = await uow.registrations.get(reg_id)
        got = await uow.entries.get(entry_id)
    assert reg is not None and got is not None
    return reg.version, got


async def _link_seen(world: World, reg_id: int, entry_id: int, gateway: Any, seen: Any) -> Any:
    async with world.db.uow() as uow:
        got = await payments.payment_link(
            uow,
            world.clock,
            registration_id=reg_id,
            entry_id=entry_id,
            gateway=gateway,
            seen=seen,
        )
        await uow.commit()
    return got


async def _payments_of(db: Database, entry_id: int) -> list[tuple[str, str]]:
    pay = Payment.__table__
    async with db.uow(readonly=True) as uow:
        rows = await uow.conn.execute(
            select(pay.c.id, pay.c.status).where(pay.c.entry_id == entry_id).order_by(pay.c.id)
        )
        return [tuple(r) for r in rows]


async def test_r28_r29_a_pay_link_from_the_snapshot_writes_with_the_lock(
    world: World, pay: Pay
) -> None:
    reg = await world.candidate()
    e = await register(world, reg)
    seen = await _seen(world, reg.id, e.id)
    since = await _last_audit(world.db)
    async with counting_on(world.db) as statements:
        got = await _link_seen(world, reg.id, e.id, pay.gateway, seen)
    # PostgreSQL: BEGIN, the lock with the reads, the payment, its audit row and the
    # version bump, COMMIT (one statement fewer than without `seen`).
    if not world.db.is_sqlite:
        assert len(statements) - len(transaction_control(statements)) == 1, statements
    assert got.amount_fen == e.fee_fen and got.entry is not None and got.entry.id == e.id
    assert await _payments_of(world.db, e.id) == [(got.payment_id, "pending")]
    trail = await _trail(world.db, since)
    assert [(t[1], t[2], t[3]) for t in trail] == [("create", "payment", got.payment_id)]
    after, _ = await _seen(world, reg.id, e.id)
    assert after == seen[0] + 1  # the payment bumped the version once
    # R29, seen before the payment (stale) or after it: the same link, nothing written.
    assert await _link_seen(world, reg.id, e.id, pay.gateway, seen) == got
    assert await _link_seen(world, reg.id, e.id, pay.gateway, (after, e)) == got
    assert await _payments_of(world.db, e.id) == [(got.payment_id, "pending")]
    if not world.db.is_sqlite:  # SQLite's lock is itself a bump
        assert (await _seen(world, reg.id, e.id))[0] == after
    assert [t[1] for t in await _trail(world.db, since)] == ["create"]


async def test_r26_a_pay_link_from_a_snapshot_older_than_the_callback_sees_the_entry_paid(
    world: World, pay: Pay
) -> None:
    # The snapshot showed the entry unpaid; the callback paid it before the pay link's
    # lock (waited for). Were the payment written with the lock whatever the version, a
    # new pending payment of the paid entry (the paid one no longer blocks the index)
    # would be handed out.
    reg, e, got = await paying(world, pay.gateway, 7008)
    seen = await _seen(world, reg.id, e.id)
    body = callback_body_g7(got.payment_id, got.amount_fen)
    async with world.db.uow() as holder:
        holder.actor, holder.clock = "gateway:sandbox", world.clock  # as the callback app
        outcome = await payments.apply_callback(
            holder, world.clock, gateway=pay.gateway, body=body, headers=_headers(world, body)
        )
        assert outcome.result == "paid"
        late = asyncio.create_task(_link_seen(world, reg.id, e.id, pay.gateway, seen))
        await world.waiting_for_the_registration("pay link")
        await holder.commit()
    with pytest.raises(errors.EntryPaid):
        await late
    # Seen before the callback, asked after it (no wait): the same.
    with pytest.raises(errors.EntryPaid):
        await _link_seen(world, reg.id, e.id, pay.gateway, seen)
    assert await _payments_of(world.db, e.id) == [(got.payment_id, "paid")]


async def test_r26_a_pay_link_from_a_snapshot_older_than_a_cancel_is_refused(
    world: World, pay: Pay
) -> None:
    reg = await world.candidate()
    e = await register(world, reg)
    seen = await _seen(world, reg.id, e.id)
    async with world.db.uow() as uow:
        await entries.cancel_entry(uow, world.clock, registration_id=reg.id, entry_id=e.id)
        await uow.commit()
    with pytest.raises(errors.EntryNotActive):
        await _link_seen(world, reg.id, e.id, pay.gateway, seen)
    assert await _payments_of(world.db, e.id) == []
