"""The pay step (R26-R29) and tickets (R5, R39) through the chat, with the real services."""

from __future__ import annotations

from datetime import timedelta

from bot.conversation.callbacks import encode
from registration import payments, tickets
from registration.gateways.base import PaymentState
from registration.importing import parse_session_toml
from tests.conversation.conftest import EXAMPLES, Chat, Harness
from tests.conversation.flows_helpers import ZHANG, register, save_information, sign_up


async def _registered(h: Harness, chat: Chat, email: str) -> None:
    await sign_up(h, chat, email)
    await save_information(chat, ZHANG)
    await register(chat, "英语四级", "海淀校区")


async def _bank_says_paid(h: Harness) -> None:
    """The gateway's callback arrives (as the payments worker would apply it)."""
    async with h.db.uow() as uow:
        entries = await uow.entries.due_unpaid(h.clock.now() + timedelta(days=2), 10)
        for entry in entries:
            pending = await uow.payments.pending_of_entry(entry.id)
            assert pending is not None
            state = PaymentState(pending.id, "paid", pending.amount_fen, "bank-1", h.clock.now())
            await payments.settle(uow, h.clock.now(), pending, state, tell=False)
        await uow.commit()


async def test_r28_r29_pay_link_update_and_no_second_payment(harness: Harness) -> None:
    chat = harness.chat()
    await _registered(harness, chat, "pay@example.com")
    await chat.press("去支付")
    link = chat.button("支付 ¥30.00")
    assert link.url.startswith("http://127.0.0.1:9/pay/") and not link.payload
    await chat.press("返回")
    await chat.press("去支付")
    assert chat.button("支付 ¥30.00").url == link.url  # R29: the same pending payment
    await chat.press("更新支付状态")
    assert "暂时无法连接支付平台" in chat.text
    assert (await harness.conversation(chat))[0] == "entry.pay"
    await _bank_says_paid(harness)
    await chat.press("更新支付状态")
    assert "支付成功" in chat.text and "✅" in chat.text and "已支付" in chat.text
    assert not chat.has_button("取消报考") and not chat.has_button("去支付")
    # R24: a paid entry cannot be cancelled, even by a forged button.
    await chat.press_payload(encode(chat.version(), "cxl"))
    assert "已支付的科目不可以修改或取消" in chat.text


async def test_r27_oral_cannot_be_paid_before_its_written_entry(harness: Harness) -> None:
    chat = harness.chat()
    await _registered(harness, chat, "oralpay@example.com")
    await chat.press("报考科目")
    await chat.press("英语四级口试")
    await chat.press("海淀校区")
    await chat.press("去支付")
    assert "需先成功支付笔试" in chat.text


async def test_r5_r38_tickets_only_when_paid_and_printing_is_open(harness: Harness) -> None:
    spec = parse_session_toml(EXAMPLES / "session-2026-12.toml")
    chat = harness.chat()
    await _registered(harness, chat, "ticket@example.com")
    await chat.press("去支付")
    await _bank_says_paid(harness)
    await chat.press("更新支付状态")
    await chat.press("返回")
    assert "✅ 英语四级" in chat.text
    await chat.press("打印准考证")
    assert "准考证打印尚未开放" in chat.text and "2026年12月07日 09:00" in chat.text
    assert not chat.documents
    harness.clock.set(spec.windows.print_written + timedelta(hours=1))
    await chat.press("打印准考证")
    assert len(chat.documents) == 1
    doc = chat.documents[0]
    assert doc.data.startswith(b"%PDF") and doc.filename.endswith(".pdf")
    assert doc.cache_key is not None and doc.cache_key.startswith("ticket:")
    assert doc.cache_key.endswith(":zh")
    assert "已发送 1 份准考证" in chat.text

    # R39: quick print from another chat, without signing in.
    other = harness.chat()
    await other.command("start")
    await other.press("快速打印准考证")
    await other.send("李四")
    await other.send(ZHANG[2])
    assert "含证件号码的消息已删除" in other.text and not other.documents
    assert "没有找到匹配的学籍信息" in other.text
    await other.command("start")
    await other.press("快速打印准考证")
    await other.send(ZHANG[0])
    await other.send(ZHANG[2])
    assert len(other.documents) == 1 and other.documents[0].data.startswith(b"%PDF")
    # R39: misses are counted per chat user and survive their refusal.
    for _ in range(tickets.QUICK_PRINT_PER_REQUESTER):
        await other.command("start")
        await other.press("快速打印准考证")
        await other.send("李四")
        await other.send(ZHANG[2])
    assert "请求过于频繁" in other.text
