"""The worker on both databases, the clock moved: reminders (R32), expiry (R31), promotion
notices (R37), the outbox's leases and limits, through the emulator's Bot API."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from background.jobs import reminder_offsets
from bot.conversation.types import Action, SendResult
from bot.worker_runtime import OutboxDispatcher, SendLimiter, WorkerRuntime
from emulator.client import EmulatorClient
from foundation.i18n import message_ids
from registration import waitlist
from registration.notices import notify_review_decision
from storage.db import Database
from tests.rules.conftest import World
from tests.worker.helpers import bind, entry, register
from tests.worker.raw_performer import RawBotApiPerformer


async def start_chat(em: EmulatorClient, user_id: int, lang: str = "zh-hans") -> None:
    await em.create_user(user_id, language_code=lang)
    await em.user_says(user_id, "/start")  # Telegram: a bot may only write to a started chat


async def bot_texts(em: EmulatorClient, user_id: int) -> list[str]:
    return [m["text"] for m in await em.transcript(user_id) if m["sender"] == "bot"]


async def set_locale(db: Database, world: World, user_id: int, locale: str) -> None:
    async with db.uow() as uow:
        conv = await uow.conversations.lock_or_create(
            "telegram", user_id, user_id, world.clock.now()
        )
        from dataclasses import replace

        await uow.conversations.save(replace(conv, locale=locale), world.clock.now())
        await uow.commit()


def runtime(world: World, performer: RawBotApiPerformer, owner: str = "w1") -> WorkerRuntime:
    dispatcher = OutboxDispatcher(world.db, world.clock, performer, owner=owner)
    return WorkerRuntime(
        world.db, world.clock, performer, None, reminder_offsets("6,1"), dispatcher=dispatcher
    )


async def test_r32_r31_r37_never_pays_two_reminders_then_the_first_waiter_gets_the_seat(
    world: World, em: EmulatorClient, performer: RawBotApiPerformer
) -> None:
    await world.set_capacity("BSU-HD", "CET4", 1)
    a, b, c = [await world.candidate() for _ in range(3)]
    for reg, uid in ((a, 7001), (b, 7002), (c, 7003)):
        await bind(world, reg, uid)
        await start_chat(em, uid)
    await set_locale(world.db, world, 7001, "en")
    e = await register(world, a)
    for reg in (b, c):  # B waits first, then C
        world.clock.advance(timedelta(seconds=1))
        async with world.db.uow() as uow:
            await waitlist.join_waitlist(
                uow,
                world.clock,
                registration_id=reg.id,
                campus_id=world.campus["BSU-HD"],
                subject_code="CET4",
            )
            await uow.commit()
    w = runtime(world, performer)
    assert w.dispatcher is not None

    async def step(to: timedelta) -> None:
        world.clock.set(e.created_at + to)
        await w.tick()
        await w.tick()  # a second tick finds nothing new (each reminder once)
        await w.dispatcher.drain()  # type: ignore[union-attr]

    await step(timedelta(hours=1))
    assert await bot_texts(em, 7001) == []
    await step(timedelta(hours=18, minutes=1))  # 6 h before expiry
    await step(timedelta(hours=20))
    await step(timedelta(hours=23, minutes=1))  # 1 h before expiry
    texts = await bot_texts(em, 7001)
    assert len(texts) == 2 and all(t.startswith("Reminder") for t in texts), texts  # en
    assert "6 h" in texts[0] and "1 h" in texts[1]
    await step(timedelta(hours=24, minutes=1))
    assert (await entry(world.db, e.id)).status == "expired"
    texts = await bot_texts(em, 7001)
    assert len(texts) == 3 and "deleted" in texts[2]
    told = await bot_texts(em, 7002)
    assert len(told) == 1 and "候补成功" in told[0]  # R37: told at once, in zh
    assert await bot_texts(em, 7003) == []
    async with world.db.uow(readonly=True) as uow:
        held = await uow.entries.of_registration(b.id)
        assert [x.subject_code for x in held] == ["CET4"]
        gone = await uow.registrations.get(a.id)
        assert gone is not None and gone.status == "deleted"  # R31: left empty
    assert await world.seats("BSU-HD", "CET4") == (1, 1)
    # Nothing more, however often the worker runs.
    await step(timedelta(hours=30))
    assert len(await bot_texts(em, 7001)) == 3 and len(await bot_texts(em, 7002)) == 1


async def test_r32_no_reminder_once_paid(
    world: World, em: EmulatorClient, performer: RawBotApiPerformer
) -> None:
    reg = await world.candidate()
    await bind(world, reg, 7101)
    await start_chat(em, 7101)
    e = await register(world, reg)
    w = runtime(world, performer)
    world.clock.set(e.created_at + timedelta(hours=18, minutes=1))
    await w.tick()  # queued ...
    async with world.db.uow() as uow:
        await uow.entries.mark_paid(e.id, world.clock.now())  # ... then paid before sending
        await uow.commit()
    await w.dispatcher.drain()  # type: ignore[union-attr]
    world.clock.set(e.created_at + timedelta(hours=23, minutes=1))
    await w.tick()
    await w.dispatcher.drain()  # type: ignore[union-attr]
    assert await bot_texts(em, 7101) == []


async def test_r32_late_reminder_states_the_time_actually_left(
    world: World, em: EmulatorClient, performer: RawBotApiPerformer
) -> None:
    """Attack seen: the worker was down at the 6-hour mark; its reminder went out 1 h 50 min
    before the deadline and still said "about 6 hours"."""
    reg = await world.candidate()
    await bind(world, reg, 7151)
    await start_chat(em, 7151)
    await set_locale(world.db, world, 7151, "en")
    e = await register(world, reg)
    w = runtime(world, performer)
    world.clock.set(e.expires_at - timedelta(hours=1, minutes=50))  # first run after the mark
    await w.tick()
    await w.dispatcher.drain()  # type: ignore[union-attr]
    texts = await bot_texts(em, 7151)
    assert len(texts) == 1 and "about 1.8 h" in texts[0], texts
    # Queued on time but sent late (e.g. the chat refused for a while): the same holds.
    other = await world.candidate()
    await bind(world, other, 7152)
    await start_chat(em, 7152)
    await set_locale(world.db, world, 7152, "en")
    e2 = await register(world, other)
    world.clock.set(e2.expires_at - timedelta(hours=6))
    await w.tick()  # queued at the mark ...
    world.clock.set(e2.expires_at - timedelta(hours=2, minutes=30))
    await w.dispatcher.drain()  # type: ignore[union-attr]  # ... sent 3 h 30 min later
    texts = await bot_texts(em, 7152)
    assert len(texts) == 1 and "about 2.5 h" in texts[0], texts


async def test_two_workers_at_once_send_each_reminder_once(
    world: World, em: EmulatorClient, emulator: object, performer: RawBotApiPerformer
) -> None:
    uids = list(range(7201, 7213))
    created = None
    for uid in uids:
        reg = await world.candidate()
        await bind(world, reg, uid)
        await start_chat(em, uid)
        created = (await register(world, reg)).created_at
    assert created is not None
    other = RawBotApiPerformer(
        performer.base.rsplit("/bot", 1)[0], performer.base.rsplit("/bot", 1)[1]
    )
    try:
        w1, w2 = runtime(world, performer, "w1"), runtime(world, other, "w2")
        for at in (timedelta(hours=18, minutes=1), timedelta(hours=23, minutes=1)):
            world.clock.set(created + at)
            await asyncio.gather(w1.tick(), w2.tick(), w1.tick(), w2.tick())
            await asyncio.gather(w1.dispatcher.drain(), w2.dispatcher.drain())  # type: ignore[union-attr]
    finally:
        await other.close()
    for uid in uids:
        assert len(await bot_texts(em, uid)) == 2, uid
    stats = await em.stats()
    assert stats["requests"].get("sendMessage") == 2 * len(uids)


class CrashAfter:
    """Sends for real, then after the n-th send hangs before the worker can mark it:
    cancelling the worker then is a crash between sending and marking."""

    def __init__(self, inner: RawBotApiPerformer, n: int) -> None:
        self.inner, self.n, self.crashed = inner, n, asyncio.Event()

    async def perform(self, action: Action) -> SendResult:
        result = await self.inner.perform(action)
        self.n -= 1
        if self.n == 0:
            self.crashed.set()
            await asyncio.Event().wait()
        return result


async def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_at_most_one(
    world: World, em: EmulatorClient, performer: RawBotApiPerformer
) -> None:
    uids = list(range(7301, 7307))
    created = None
    for uid in uids:
        reg = await world.candidate()
        await bind(world, reg, uid)
        await start_chat(em, uid)
        created = (await register(world, reg)).created_at
    assert created is not None
    world.clock.set(created + timedelta(hours=18, minutes=1))
    await runtime(world, performer).tick()
    crashing = CrashAfter(performer, 3)
    first = OutboxDispatcher(world.db, world.clock, crashing, owner="first", concurrency=1)
    stop = asyncio.Event()
    task = asyncio.create_task(first.run(stop))
    await asyncio.wait_for(crashing.crashed.wait(), 10)
    task.cancel()  # killed: message 3 went out, its row is still "sending"
    await asyncio.gather(task, return_exceptions=True)
    async with world.db.uow(readonly=True) as uow:
        counts = await uow.outbox.counts()
    assert counts.get("sent") == 2 and counts.get("sending", 0) >= 1
    # Restarted: the rest goes at once; the orphan waits for its lease to run out.
    second = OutboxDispatcher(world.db, world.clock, performer, owner="second")
    await second.drain()
    world.clock.advance(timedelta(seconds=61))
    await second.drain()
    async with world.db.uow(readonly=True) as uow:
        assert await uow.outbox.counts() == {"sent": len(uids)}
    per_chat = [len(await bot_texts(em, uid)) for uid in uids]
    assert all(n >= 1 for n in per_chat)  # nothing lost
    assert sum(per_chat) == len(uids) + 1  # exactly the one in flight was sent twice


async def test_blocked_user_is_undeliverable_and_429_is_waited_out(
    world: World, em: EmulatorClient, performer: RawBotApiPerformer
) -> None:
    regs = []
    for uid in (7401, 7402):
        reg = await world.candidate()
        await bind(world, reg, uid)
        await start_chat(em, uid)
        regs.append(await register(world, reg))
    await em.block(7401)
    await em.inject("sendMessage", "429", 1, chat_id=7402, retry_after=1)
    w = runtime(world, performer)
    world.clock.set(regs[0].created_at + timedelta(hours=18, minutes=1))
    await w.tick()
    stats = await w.dispatcher.drain()  # type: ignore[union-attr]
    assert stats.sent == 1 and stats.undeliverable == 1
    assert len(await bot_texts(em, 7402)) == 1
    async with world.db.uow(readonly=True) as uow:
        assert await uow.outbox.counts() == {"sent": 1, "undeliverable": 1}


async def test_r19_review_decision_is_told(
    world: World, em: EmulatorClient, performer: RawBotApiPerformer
) -> None:
    reg = await world.candidate()
    await bind(world, reg, 7501)
    await start_chat(em, 7501)
    async with world.db.uow() as uow:
        review = await uow.reviews.create(
            {
                "session_id": world.session_id,
                "record_id": reg.record_id,
                "account_id": reg.account_id,
                "ticket_no": "123456789012345",
                "status": "approved",
                "note": "OK",
                "created_at": world.clock.now(),
            }
        )
        assert await notify_review_decision(uow, world.clock.now(), review) == 1
        assert await notify_review_decision(uow, world.clock.now(), review) == 0  # once
        await uow.commit()
    await OutboxDispatcher(world.db, world.clock, performer).drain()
    (text,) = await bot_texts(em, 7501)
    assert "已通过" in text and "123456789012345" in text


async def test_limiter_keeps_one_per_second_per_chat() -> None:
    limiter = SendLimiter(per_second=1000, per_chat_interval=0.2)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for _ in range(4):
        await limiter.acquire(1)
    assert loop.time() - start >= 0.6 - 0.01


def test_notice_and_payment_keys_are_the_same_in_both_locales() -> None:
    zh = {k for k in message_ids("zh") if k.startswith(("notice-", "pay-page-"))}
    en = {k for k in message_ids("en") if k.startswith(("notice-", "pay-page-"))}
    assert zh == en and {"notice-reminder", "notice-promoted", "notice-payment-refund"} <= zh
