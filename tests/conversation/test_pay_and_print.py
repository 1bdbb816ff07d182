"""The pay step (R26-R29) and tickets (R5, R39) through the chat, with the real services."""

from __future__ import annotations

from bot.conversation.types import SendDocument
from tests.conversation import scenarios
from tests.conversation.conftest import Harness
from tests.conversation.driver import HasDocument
from tests.conversation.scenarios import registered


async def test_r28_r29_pay_link_update_and_no_second_payment(harness: Harness) -> None:
    await scenarios.pay_link_update_and_no_second_payment(harness)


async def test_r27_oral_cannot_be_paid_before_its_written_entry(harness: Harness) -> None:
    chat = harness.chat()
    await registered(harness, chat, "oralpay@example.com")
    await chat.press("报考科目")
    await chat.press("英语四级口试")
    await chat.press("海淀校区")
    await chat.press("去支付")
    assert "需先成功支付笔试" in chat.text


async def test_r5_r38_tickets_only_when_paid_and_printing_is_open(harness: Harness) -> None:
    def check_ticket(doc: HasDocument) -> None:
        assert isinstance(doc, SendDocument)
        assert doc.cache_key is not None and doc.cache_key.startswith("ticket:")
        assert doc.cache_key.endswith(":zh")

    await scenarios.tickets_when_paid_and_printing_open_and_quick_print(harness, check_ticket)
