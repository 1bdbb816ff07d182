"""Issue 20, nothing lost, on both databases: a committed update's reply is kept with its
commit and handed out again when its process died before confirming it."""

from __future__ import annotations

from datetime import timedelta

from bot.conversation.engine import REPLAY_AFTER
from bot.conversation.types import EventKind, SendText
from tests.conversation.conftest import Harness
from tests.conversation.flows_helpers import ZHANG, save_information, sign_up, to_the_paper_question


async def _book_without_confirming(h: Harness):  # type: ignore[no-untyped-def]
    chat = h.chat()
    await sign_up(h, chat, "kept@example.com")
    await save_information(chat, ZHANG)
    await to_the_paper_question(chat)
    paper = chat.button("不需要")
    # The adapter's process dies after the commit, before sending and confirming.
    event = chat.event(
        EventKind.BUTTON, payload=paper.payload, message_id=chat.menu_id, callback_id="q1"
    )
    actions = await h.bot.handle(event)
    booked = [a for a in actions if isinstance(a, SendText) and "已报考 英语四级" in a.text]
    assert len(booked) == 1
    return chat, event, booked[0]


async def test_kept_reply_is_claimed_once_after_replay_after(harness: Harness) -> None:
    chat, event, booked = await _book_without_confirming(harness)
    assert await harness.bot.unsent_replies() == []  # the sender may still be at it
    harness.clock.advance(REPLAY_AFTER + timedelta(seconds=1))
    [(stand_in, actions)] = await harness.bot.unsent_replies()
    assert stand_in.update_id == event.update_id and stand_in.chat_id == chat.user_id
    assert [a.text for a in actions if isinstance(a, SendText)] == [booked.text]
    assert await harness.bot.unsent_replies() == []  # claimed: no second process takes it
    await harness.bot.replies_sent(stand_in, menu_message_id=None, delivered=True)
    harness.clock.advance(REPLAY_AFTER * 3)
    assert await harness.bot.unsent_replies() == []  # out: never again


async def test_the_next_update_brings_an_abandoned_reply_and_start_says_it_was_saved(
    harness: Harness,
) -> None:
    chat, event, booked = await _book_without_confirming(harness)
    harness.clock.advance(REPLAY_AFTER + timedelta(seconds=1))
    # The same button again: the first press acted; its lost reply comes now.
    again = chat.event(
        EventKind.BUTTON, payload=event.payload, message_id=event.message_id, callback_id="q2"
    )
    actions = await chat.deliver(again)
    assert [a.text for a in actions if isinstance(a, SendText)] == [booked.text]
    harness.clock.advance(REPLAY_AFTER * 3)
    assert await harness.bot.unsent_replies() == []
    await chat.command("start")
    assert "此前已确认的内容均已保存" in chat.text and "未保存任何内容" not in chat.text
