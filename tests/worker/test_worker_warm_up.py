"""A standalone worker (`cetbot worker --callback-port`) gets ready before its first
callback or notice, as the bot does at start-up (issue 17): `WorkerRuntime.warm_up` opens
the pool's connections with the hot statements prepared and planned on each, and parses
and compiles every locale's texts. Checked after a fresh start: a burst of paid callbacks
(R26, R28) through the callback endpoint and the notices they queue (claimed, rendered,
sent through the Bot API emulator, marked) open no connection (PostgreSQL), prepare no
statement on any pooled connection (PostgreSQL), and parse or compile no text (both
databases). Without the warm-up each of these happens during the burst."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from sqlalchemy import event

from bot.worker_runtime import WorkerRuntime
from emulator.client import EmulatorClient
from foundation import i18n
from registration.gateways.sandbox import signed_headers
from storage import direct
from tests.conversation.test_prepared_at_start import _pooled
from tests.rules.conftest import World
from tests.worker.conftest import SECRET, Pay
from tests.worker.helpers import callback_body, entry, paying, post_json
from tests.worker.raw_performer import RawBotApiPerformer
from tests.worker.test_worker import start_chat

PAYERS = 12


def _compiled() -> int:
    """How many messages the cached bundles hold compiled (0 with none cached)."""
    return sum(len(i18n.bundle(loc)._compiled) for loc in _cached_locales())


def _cached_locales() -> list[str]:
    return list(i18n.LOCALES) if i18n.bundle.cache_info().currsize else []


async def _start_and_pay(
    world: World,
    pay: Pay,
    em: EmulatorClient,
    performer: RawBotApiPerformer,
    monkeypatch: pytest.MonkeyPatch,
    *,
    warm: bool,
) -> tuple[int, int, set[str] | None]:
    """Candidates with a payment link each, then the worker's start (a new pool, nothing
    compiled, no bundle parsed; warmed up or not), then their callbacks at once and the
    notices sent. Returns the connections opened during the burst, the texts parsed and
    compiled during it (bundles, messages), and the statements added to the pooled
    connections' caches (PostgreSQL; None on SQLite)."""
    world.db.session_cache.ttl = 3600
    uids = list(range(7801, 7801 + PAYERS))
    links = [await paying(world, pay.gateway, uid) for uid in uids]
    for uid in uids:
        await start_chat(em, uid)
    # The worker process starts: nothing of the above is left in it.
    await world.db.engine.dispose()
    monkeypatch.setattr(direct, "_COMPILED", {})
    i18n.bundle.cache_clear()
    runtime = WorkerRuntime(world.db, world.clock, performer, None)
    pooled = world.db.engine.pool.size()  # type: ignore[attr-defined]
    if warm:
        assert await runtime.warm_up() == (0 if world.db.is_sqlite else pooled)
        assert i18n.bundle.cache_info().currsize == len(i18n.LOCALES)
    # The pooled connections' caches (taking them all out opens the pool: a cold start's
    # pool is empty, its caches too, and it stays as it is until the burst).
    before: dict[int, set[str]] | None = None
    if not world.db.is_sqlite:
        before = {id(d): cached for d, cached in await _pooled(world.db)} if warm else {}
    opened: list[object] = []

    def on_connect(connection: object, _record: object) -> None:
        opened.append(connection)

    parsed, compiled = i18n.bundle.cache_info().misses, _compiled()
    event.listen(world.db.engine.sync_engine, "connect", on_connect)
    try:

        async def callback(got: object) -> None:
            body = callback_body(got.payment_id, got.amount_fen)  # type: ignore[attr-defined]
            headers = signed_headers(
                SECRET.encode(), body, world.clock.now(), secrets.token_hex(16)
            )
            status, answer = await post_json(pay.callback_url, body, headers)
            assert (status, answer) == (200, {"ok": True, "result": "paid"})

        await asyncio.gather(*(callback(got) for _reg, _e, got in links))
        assert runtime.dispatcher is not None
        stats = await runtime.dispatcher.drain()
    finally:
        event.remove(world.db.engine.sync_engine, "connect", on_connect)
    assert stats.sent == PAYERS
    for _reg, e, _got in links:
        assert (await entry(world.db, e.id)).status == "paid"
    texts = i18n.bundle.cache_info().misses - parsed + _compiled() - compiled
    if before is None:
        return len(opened), texts, None
    added: set[str] = set()
    for driver, cached in await _pooled(world.db):
        added |= cached - before.get(id(driver), set())
    return len(opened), texts, added


async def test_r26_r28_after_the_worker_warm_up_a_burst_opens_prepares_and_parses_nothing(
    world: World,
    pay: Pay,
    em: EmulatorClient,
    performer: RawBotApiPerformer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened, texts, added = await _start_and_pay(world, pay, em, performer, monkeypatch, warm=True)
    assert texts == 0
    if not world.db.is_sqlite:
        assert opened == 0
        assert added == set()


async def test_r26_r28_without_the_warm_up_the_burst_opens_prepares_and_parses(
    world: World,
    pay: Pay,
    em: EmulatorClient,
    performer: RawBotApiPerformer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The checks above can fail: a worker that starts cold pays for all three in the burst."""
    opened, texts, added = await _start_and_pay(world, pay, em, performer, monkeypatch, warm=False)
    assert texts >= 2  # the bundles parsed, the notice's message compiled
    if not world.db.is_sqlite:
        assert opened >= 2
        assert added is not None and len(added) >= 4
