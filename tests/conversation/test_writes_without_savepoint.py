"""Issue 17: the booking, the pay link and "Update" run their service without a savepoint
on PostgreSQL (`refuses_before_writing`, `Ctx.call`). On both databases: a refusal leaves
nothing written, and a refusal after a write (which a marked service must never make) still
leaves no partial write, while the conversation is saved as for any refusal."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.conversation.callbacks import Callback
from bot.conversation.context import BUTTON_HANDLERS, WITHOUT_SAVEPOINT, Ctx
from bot.conversation.types import AnswerButton, EventKind
from foundation.clock import Clock
from registration import errors
from registration.common import refuses_before_writing
from registration.entries import register_subject
from registration.payments import PENDING_RECHECK
from storage.db import UnitOfWork
from storage.models import AuditRecord, CampusSeats, Entry, Payment, Registration
from tests.conversation.conftest import Harness
from tests.conversation.flows_helpers import ZHANG, save_information, sign_up, to_the_paper_question
from tests.conversation.test_statement_budget import counting


async def _written(h: Harness) -> dict[str, Any]:
    """What a booking or a payment writes: entries, payments, audit rows, seats taken and
    the registrations' versions."""
    async with h.db.uow() as uow:

        async def scalar(q: Any) -> Any:
            return (await uow.conn.execute(q)).scalar_one()

        return {
            "entries": await scalar(select(func.count()).select_from(Entry)),
            "payments": await scalar(select(func.count()).select_from(Payment)),
            "audit": await scalar(select(func.count()).select_from(AuditRecord)),
            "taken": await scalar(select(func.sum(CampusSeats.taken))),
            "versions": await scalar(select(func.sum(Registration.version))),
        }


async def _at_the_paper_question(h: Harness, email: str) -> Any:
    chat = h.chat()
    await sign_up(h, chat, email)
    await save_information(chat, ZHANG)
    await to_the_paper_question(chat)
    return chat


def _savepoints(statements: list[str]) -> list[str]:
    return [s for s in statements if "SAVEPOINT" in s.upper()]


async def test_r23_r34_a_campus_filled_meanwhile_writes_nothing(harness: Harness) -> None:
    chat = await _at_the_paper_question(harness, "full@example.com")
    await harness.set_capacity("BSU-HD", "CET4", 0)
    before = await _written(harness)
    async with counting(harness) as statements:
        await chat.press("不需要")
    assert "刚刚有人报满了这个校区" in chat.text, chat.text  # R34: the queue is offered
    # Not even the registration's version moved: the lock wrote nothing on PostgreSQL,
    # the savepoint undid it on SQLite.
    assert await _written(harness) == before
    if not harness.db.is_sqlite:
        assert _savepoints(statements) == [], statements


@refuses_before_writing
async def _book_then_refuse(uow: UnitOfWork, clock: Clock, **booking: Any) -> None:
    """Breaks the mark on purpose: books, then refuses."""
    await register_subject(uow, clock, **booking)
    raise errors.NotEligible(subject=booking["subject_code"])


async def _breaking_paper_step(ctx: Ctx, cb: Callback) -> None:
    registration = await ctx.registration()
    assert registration is not None
    await ctx.call(
        _book_then_refuse,
        ctx.uow,
        ctx.clock,
        registration_id=registration.id,
        subject_code=ctx.data["subject"],
        campus_id=int(ctx.data["campus_id"]),
        paper_report="none",
    )
    ctx.goto("entry.detail")


async def test_r23_a_refusal_after_a_write_leaves_no_partial_write(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    chat = await _at_the_paper_question(harness, "breaks@example.com")
    monkeypatch.setitem(BUTTON_HANDLERS, ("entry.paper", "paper"), _breaking_paper_step)
    WITHOUT_SAVEPOINT.add(_breaking_paper_step)
    try:
        before = await _written(harness)
        press = chat.event(
            EventKind.BUTTON,
            payload=chat.button("不需要").payload,
            message_id=chat.menu_id,
            callback_id="paper",
        )
        with caplog.at_level(logging.ERROR, logger="bot.conversation.engine"):
            await chat.deliver(press)
    finally:
        WITHOUT_SAVEPOINT.discard(_breaking_paper_step)
    # The refusal is answered as any refusal: its text, the step asked again, nothing of
    # the booking left (entry, seat, audit row, version bump).
    assert "您没有该科目的报考资格" in chat.text, chat.text
    assert "纸质成绩报告单" in chat.text
    assert await _written(harness) == before
    state, _ = await harness.conversation(chat)
    assert state == "entry.paper"
    # PostgreSQL noticed the write before the refusal and applied the update again, with
    # the savepoint; SQLite took the savepoint from the start.
    redone = [r for r in caplog.records if "applied again" in r.getMessage()]
    assert len(redone) == (0 if harness.db.is_sqlite else 1)
    # The update was recorded once: delivered again, it changes nothing.
    assert await harness.bot.handle(press) == [AnswerButton("paper")]
    assert await _written(harness) == before


async def test_r29_a_stale_pending_payment_with_the_gateway_down_keeps_its_link(
    harness: Harness,
) -> None:
    chat = await _at_the_paper_question(harness, "stale@example.com")
    await chat.press("不需要")
    await chat.press("去支付")
    first = chat.text
    await chat.press("返回")
    harness.clock.advance(PENDING_RECHECK + timedelta(minutes=1))
    before = await _written(harness)
    await chat.press("去支付")
    # The gateway cannot be asked (its port refuses): the same link, no second payment.
    assert chat.text == first
    after = await _written(harness)
    assert after["payments"] == before["payments"] == 1
    assert after["entries"] == before["entries"]
