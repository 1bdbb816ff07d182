"""Information menu and free-text questions (R40), both locales, /language, /help, /cancel."""

from __future__ import annotations

from tests.conversation import scenarios
from tests.conversation.conftest import Harness
from tests.conversation.flows_helpers import sign_up


async def test_r40_information_menu_topics_and_answers_with_session_values(
    harness: Harness,
) -> None:
    await scenarios.information_menu_topics_and_answers(harness)


async def test_r40_free_text_answered_from_the_faq_or_help_phone(harness: Harness) -> None:
    await scenarios.free_text_answered_from_the_faq_or_help_phone(harness)


async def test_question_at_a_typed_step_is_answered_and_the_step_stays(harness: Harness) -> None:
    chat = harness.chat()
    await sign_up(harness, chat, "ask@example.com")
    await chat.command("start")
    await chat.press("开始报名")
    await chat.press("我已阅读并同意")
    await chat.press("居民身份证")
    await chat.send("姓名里有点怎么输入？")
    assert "请输入学籍上的姓名" in chat.text  # asked again
    assert (await harness.conversation(chat))[0] == "reg.name"
    await chat.send("Can Li")  # two words: a name, not a question
    assert (await harness.conversation(chat))[0] == "reg.id_number"


async def test_english_locale_and_language_switch_is_remembered(harness: Harness) -> None:
    await scenarios.english_locale_and_language_switch_is_remembered(harness)


async def test_help_cancel_and_unknown_commands(harness: Harness) -> None:
    chat = harness.chat()
    await chat.command("help")
    assert "/cancel" in chat.text
    await chat.press("通行证账号")
    await chat.press("登录")
    await chat.send("half@example.com")
    await chat.command("cancel")
    assert "已取消当前步骤" in chat.text
    state, data = await harness.conversation(chat)
    assert state == "menu" and "email" not in data  # half-typed input cleared
    await chat.command("admin")
    assert "没有“/admin”这个命令" in chat.text


async def test_sticker_at_a_button_step_asks_for_buttons(harness: Harness) -> None:
    chat = harness.chat()
    await chat.command("start")
    await chat.sticker()
    assert "请点下面的按钮" in chat.text and chat.has_button("开始报名")


async def test_r40_a_fee_question_gets_the_session_fees(harness: Harness) -> None:
    # The bot knows the fees (the session's offered subjects): the answer lists them, one line
    # per amount, instead of "shown when you register".
    chat = harness.chat()
    await chat.command("start")
    await chat.send("四级报名费多少钱")
    assert (await harness.conversation(chat))[0] == "info.answer"
    async with harness.db.uow() as uow:
        offered = await uow.sessions.offered(harness.session_id)
    fees = {o.fee_fen for o in offered.values()}
    assert len(fees) >= 2
    for fen in fees:
        assert f"{fen // 100}.{fen % 100:02d} 元" in chat.text


async def test_r8_r40_a_sample_password_gets_a_verdict_and_is_never_kept(harness: Harness) -> None:
    chat = harness.chat()
    await chat.command("start")
    await chat.send("我设的密码是 Lantian2024 为啥不行")
    assert chat.text.startswith("不符合要求")  # the verdict first, then the rule
    assert "没有特殊字符" in chat.text
    assert "Lantian2024" not in chat.text  # never repeated
    state, data = await harness.conversation(chat)
    assert state == "info.answer"
    assert "Lantian2024" not in repr(data)  # only the verdict's code is kept
    await chat.send("密码里可以有空格吗")
    assert "Lantian2024" not in chat.text
