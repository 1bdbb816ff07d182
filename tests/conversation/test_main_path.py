"""The main path from /start to the pay step, in Chinese, and the menu, help and language."""

from __future__ import annotations

from bot.conversation.types import DeleteMessage, SendText
from tests.conversation.conftest import Harness
from tests.conversation.flows_helpers import ZHANG, register, save_information, sign_up


async def test_start_shows_the_main_menu_in_the_clients_language(harness: Harness) -> None:
    chat = harness.chat("zh-hans")
    await chat.command("start")
    assert "CET 报名助手" in chat.text
    assert chat.labels == [
        "开始报名",
        "我的报名",
        "快速打印准考证",
        "报名须知与问答",
        "通行证账号",
        "语言 Language",
    ]
    english = harness.chat("en-US")
    await english.command("start")
    assert "Start registration" in english.labels


async def test_r11_r13_full_registration_from_start_to_the_pay_step(harness: Harness) -> None:
    chat = harness.chat()
    await sign_up(harness, chat, "zhang@example.com")
    await save_information(chat, ZHANG)
    # The subject list: CET4 (eligible) with fee and exam time.
    assert "英语四级" in chat.text and "¥30.00" in chat.text
    await register(chat, "英语四级", "海淀校区")
    assert "已报考 英语四级" in chat.text
    assert "2026年11月26日 10:00（北京时间）" in chat.text  # 24 hours later, Beijing time
    assert chat.has_button("去支付")
    await chat.press("去支付")
    assert "支付" in chat.text


async def test_r8_password_message_is_deleted_and_said_so(harness: Harness) -> None:
    chat = harness.chat()
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("注册通行证")
    await chat.send("li@example.com")
    actions = await chat.send("Lan_tian_88")
    deletes = [a for a in actions if isinstance(a, DeleteMessage)]
    assert len(deletes) == 1 and deletes[0].message_id == max(chat.deleted)
    assert "含密码的消息已删除" in chat.text
    assert actions.index(deletes[0]) < max(
        i for i, a in enumerate(actions) if isinstance(a, SendText)
    )
