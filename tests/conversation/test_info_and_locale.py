"""Information menu and free-text questions (R40), both locales, /language, /help, /cancel."""

from __future__ import annotations

from tests.conversation.conftest import Harness
from tests.conversation.flows_helpers import sign_up


async def test_r40_information_menu_topics_and_answers_with_session_values(
    harness: Harness,
) -> None:
    chat = harness.chat()
    await chat.command("start")
    await chat.press("报名须知与问答")
    assert "010-62981234" in chat.text  # the help-desk phone
    assert chat.has_button("CET6 资格复核") and chat.has_button("准考证")
    await chat.press("报名时间与流程")
    first = chat.menu.keyboard[0][0].label
    await chat.press(first)
    assert "2026年" in chat.text or "：" in chat.text
    await chat.press("返回")
    assert chat.has_button(first)


async def test_r40_free_text_answered_from_the_faq_or_help_phone(harness: Harness) -> None:
    chat = harness.chat()
    await chat.command("start")
    await chat.send("什么时候开始报名")
    assert "2026年11月20日 09:00（北京时间）" in chat.text  # values filled from the session
    assert (await harness.conversation(chat))[0] == "info.answer"
    await chat.command("start")
    await chat.send("今天天气怎么样，股票会涨吗")
    assert "010-62981234" in chat.text
    assert (await harness.conversation(chat))[0] == "menu"  # stays where it was


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
    chat = harness.chat("en-GB")
    await chat.command("start")
    assert "What would you like to do?" in chat.text
    await chat.press("Language")
    await chat.press("中文")
    assert "已切换为中文" in chat.text
    chat.language_code = "en"  # the client's language no longer decides
    await chat.command("start")
    assert "请选择要办理的事项" in chat.text
    await chat.command("language")
    await chat.press("English")
    await chat.press("Account")
    await chat.press("Sign up")
    await chat.send("en@example.com")
    await chat.send("Secret_123")
    assert "the message with your password was deleted" in chat.text
    await chat.send("1234")
    assert "The code has 6 digits" in chat.text
    await chat.send(harness.code_for("en@example.com"))
    assert "Your e-mail is verified!" in chat.text
    await chat.press("Start registration")
    await chat.press("I have read and agree")
    await chat.press("Resident ID card")
    await chat.send("张伟")
    await chat.send("110108200503140231")
    assert (
        "Eligible written subjects: CET-4" in chat.text or "Eligible written subjects:" in chat.text
    )
    await chat.press("Correct, confirm")
    await chat.press("Use this number")
    assert "Your registration information is saved" in chat.text
    await chat.press(chat.menu.keyboard[0][0].label)
    await chat.press("Haidian")
    await chat.press("No")
    assert "(Beijing time)" in chat.text and chat.has_button("Pay")


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
