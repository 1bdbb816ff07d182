"""Issue 17 on top of issue 20 (nothing lost), on both databases: the kept replies that the
adapter confirmed out are forgotten together, several chats in one statement, each only
while its row still keeps that update's reply; a clean stop writes them; a process that
dies before writing them leaves replies that are sent again after REPLAY_AFTER."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.conversation import engine as engine_module
from bot.conversation.engine import REPLAY_AFTER, Conversations
from bot.conversation.types import EventKind, SendText
from tests.conversation.conftest import Chat, Harness
from tests.conversation.flows_helpers import (
    WANG_HR,
    ZHANG,
    ZHOU,
    save_information,
    sign_up,
    to_the_paper_question,
)
from tests.conversation.test_statement_budget import CLEARED_BY_BATCH, counting


async def _kept(h: Harness, chat: Chat) -> int:
    """The chat's kept reply's update id (None: nothing kept)."""
    async with h.db.uow(readonly=True) as uow:
        conv = await uow.conversations.get("telegram", chat.user_id, chat.user_id)
    assert conv is not None
    return conv.reply_update_id  # type: ignore[return-value]


async def _booked(h: Harness, email: str, person: tuple[str, str, str] = ZHANG) -> Chat:
    """A candidate who just booked: the booking's reply was sent and confirmed out."""
    chat = h.chat()
    await sign_up(h, chat, email)
    await save_information(chat, person)
    await to_the_paper_question(chat)
    await chat.press("不需要")
    assert "已报考 英语四级" in chat.text
    return chat


async def test_several_chats_kept_replies_are_forgotten_in_one_statement(
    harness: Harness,
) -> None:
    chats = [
        await _booked(harness, f"batch{i}@example.com", person)
        for i, person in enumerate((ZHANG, ZHOU, WANG_HR))
    ]
    await harness.bot.flush_clears()  # the sign-ups' clears
    for i, chat in enumerate(chats):
        # Each chat's pay link keeps its reply; the adapter confirms it out (queued).
        await chat.press("去支付")
        assert "支付" in chat.text
        assert await _kept(harness, chat) is not None, i  # not written by the step
    async with counting(harness) as statements:
        assert await harness.bot.flush_clears() == 3
    assert len(statements) == CLEARED_BY_BATCH[0 if harness.db.is_sqlite else 1], statements
    assert [await _kept(harness, chat) for chat in chats] == [None, None, None]


async def test_an_older_clear_leaves_a_newer_kept_reply(harness: Harness) -> None:
    chat = await _booked(harness, "older@example.com")
    assert await _kept(harness, chat) is not None  # the booking's clear is queued
    # Another process applies the chat's next update (the pay link), keeps its reply and
    # dies before sending it; then this process writes the booking's clear.
    other = Conversations(harness.db, harness.clock, harness.settings, harness.mailer)
    pay = chat.button("去支付").payload
    event = chat.event(EventKind.BUTTON, payload=pay, message_id=chat.menu_id, callback_id="p")
    actions = await other.handle(event)
    assert any(isinstance(a, SendText) and "支付" in a.text for a in actions)
    assert await harness.bot.flush_clears() == 0
    assert await _kept(harness, chat) == event.update_id
    # The newer reply is still there to be sent again.
    harness.clock.advance(REPLAY_AFTER + timedelta(seconds=1))
    [(stand_in, replayed)] = await harness.bot.unsent_replies()
    assert stand_in.update_id == event.update_id
    assert [a.text for a in replayed if isinstance(a, SendText)] == [
        a.text for a in actions if isinstance(a, SendText)
    ]
    await other.close()


async def test_a_clean_stop_writes_the_queued_clears(harness: Harness) -> None:
    chat = await _booked(harness, "stop@example.com")
    assert await _kept(harness, chat) is not None
    await harness.bot.close()
    assert await _kept(harness, chat) is None
    harness.clock.advance(REPLAY_AFTER * 3)
    assert await harness.restart().unsent_replies() == []


async def test_a_clear_lost_with_its_process_means_the_reply_goes_again(
    harness: Harness,
) -> None:
    chat = await _booked(harness, "crash@example.com")
    kept = await _kept(harness, chat)
    assert kept is not None
    # The process dies with the clear queued: its timer never fires.
    dead = harness.bot
    assert dead._clearing is not None
    dead._clearing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await dead._clearing
    dead._clears.clear()
    bot = harness.restart()
    assert await bot.unsent_replies() == []  # within REPLAY_AFTER: the sender may be at it
    harness.clock.advance(REPLAY_AFTER + timedelta(seconds=1))
    [(stand_in, replayed)] = await bot.unsent_replies()
    assert stand_in.update_id == kept
    assert any(isinstance(a, SendText) and "已报考 英语四级" in a.text for a in replayed)


async def test_a_reply_whose_clear_is_queued_is_not_replayed_by_its_own_process(
    harness: Harness,
) -> None:
    chat = await _booked(harness, "slow@example.com")
    # The sends took longer than REPLAY_AFTER; the clear is still queued when the
    # periodic replay or the chat's next update looks.
    harness.clock.advance(REPLAY_AFTER + timedelta(seconds=1))
    replay = chat.event(EventKind.COMMAND, command="start", text="", message_id=None)
    actions = await harness.bot.handle(replay)
    assert not any(isinstance(a, SendText) and "已报考" in a.text for a in actions)
    assert await harness.bot.unsent_replies() == []  # written first, so nothing to claim
    assert await _kept(harness, chat) is None


async def test_the_clears_are_written_without_being_asked(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "CLEAR_AFTER", 0.01)
    chat = await _booked(harness, "timer@example.com")
    for _ in range(500):  # at most 5 s on a loaded machine; a count, not a timing
        if await _kept(harness, chat) is None:
            break
        await asyncio.sleep(0.01)
    assert await _kept(harness, chat) is None


async def test_a_full_batch_is_written_at_once(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "CLEAR_BATCH", 2)
    first = await _booked(harness, "full1@example.com", ZHANG)
    assert await _kept(harness, first) is not None  # one chat queued: it waits
    # The second chat's first clear fills the batch: both are written without a timer.
    second = await _booked(harness, "full2@example.com", ZHOU)
    for _ in range(500):  # a bounded number of looks, not a timing
        if await _kept(harness, first) is None:
            break
        await asyncio.sleep(0.01)
    assert await _kept(harness, first) is None
    assert second.user_id != first.user_id
