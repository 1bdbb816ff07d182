"""The worker marks the messages that went out together with one statement (issue 17), on
both databases, and a message whose lease was taken over meanwhile is not marked."""

from __future__ import annotations

import asyncio

from sqlalchemy import update

from bot.conversation.types import Action, SendResult
from bot.worker_runtime import OutboxDispatcher, Rendered
from emulator.client import EmulatorClient
from storage.repos.outbox import OB as ob
from tests.rules.conftest import World
from tests.worker.raw_performer import RawBotApiPerformer
from tests.worker.test_worker import bot_texts, start_chat


class Together:
    """Sends for real, but answers none until `n` sends are under way: they finish at once."""

    def __init__(self, inner: RawBotApiPerformer, n: int) -> None:
        self.inner, self.n, self.all_in = inner, n, asyncio.Event()

    async def perform(self, action: Action) -> SendResult:
        result = await self.inner.perform(action)
        self.n -= 1
        if self.n == 0:
            self.all_in.set()
        await self.all_in.wait()
        return result


async def _notices_due(world: World, em: EmulatorClient, uids: list[int]) -> None:
    """A notice due for each of these chats, each chat started in the emulator."""
    now = world.clock.now()
    async with world.db.uow() as uow:
        for uid in uids:
            await uow.outbox.add(
                platform="telegram",
                chat_id=uid,
                kind="signed-in-elsewhere",
                payload={"at": now.isoformat()},
                now=now,
            )
        await uow.commit()
    for uid in uids:
        await start_chat(em, uid)


async def test_messages_sent_together_are_marked_by_one_statement_the_lost_lease_excepted(
    world: World, em: EmulatorClient, performer: RawBotApiPerformer
) -> None:
    uids = list(range(7601, 7606))
    now = world.clock.now()
    await _notices_due(world, em, uids)
    dispatcher = OutboxDispatcher(world.db, world.clock, Together(performer, len(uids)))
    claimed = await dispatcher.claim()
    assert len(claimed) == len(uids)
    # Another worker took the last one over (its lease ran out while this one was slow).
    taken = claimed[-1].message.id
    async with world.db.uow() as uow:
        await uow.conn.execute(update(ob).where(ob.c.id == taken).values(lease_owner="other"))
        await uow.commit()
    statements: list[str] = []
    with world.db.watching_statements(statements.append):
        await asyncio.gather(*(dispatcher.send_one(r) for r in claimed))
    marks = [s for s in statements if s.lstrip().upper().startswith("UPDATE OUTBOX")]
    assert len(marks) == 1, statements
    assert dispatcher.stats.sent == len(uids) and dispatcher.stats.lost_lease == 1
    async with world.db.uow(readonly=True) as uow:
        counts = await uow.outbox.counts()
        rows = await uow.conn.execute(ob.select().order_by(ob.c.id))
        by_id = {r.id: r for r in rows}
    assert counts == {"sent": len(uids) - 1, "sending": 1}
    assert by_id[taken].lease_owner == "other"  # left to its new owner
    for m in claimed[:-1]:
        row = by_id[m.message.id]
        assert row.sent_at == now and row.lease_owner is None and row.lease_until is None
    assert [len(await bot_texts(em, uid)) for uid in uids] == [1] * len(uids)


class Counting(OutboxDispatcher):
    """The dispatcher as it is, with the size of each claim it made."""

    claims: list[int]
    all_sent: asyncio.Event
    expected: int

    async def claim(self) -> list[Rendered]:
        got = await super().claim()
        self.claims.append(len(got))
        return got

    async def send_one(self, r: Rendered) -> None:
        await super().send_one(r)
        if self.stats.sent == self.expected:
            self.all_sent.set()


async def test_a_round_short_of_a_full_batch_is_followed_by_no_claim_until_the_next_round(
    world: World, em: EmulatorClient, performer: RawBotApiPerformer
) -> None:
    """In a rush the notices trickle in: a claim right after a round that took all that was
    due found one or none, a transaction per notice (issue 17). After a claim short of a
    full batch the dispatcher waits for its next round (`idle`, here longer than the test);
    full batches (a backlog) are still claimed one after the other."""
    uids = list(range(7611, 7616))
    await _notices_due(world, em, uids)
    dispatcher = Counting(world.db, world.clock, performer, batch=2)
    dispatcher.claims, dispatcher.all_sent, dispatcher.expected = [], asyncio.Event(), len(uids)
    stop = asyncio.Event()
    running = asyncio.create_task(dispatcher.run(stop, idle=600))
    await dispatcher.all_sent.wait()
    stop.set()
    await running
    assert dispatcher.claims == [2, 2, 1]  # then the round's pause: no claim of nothing
    for uid in uids:
        assert len(await bot_texts(em, uid)) == 1
