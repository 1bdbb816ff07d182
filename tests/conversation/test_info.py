"""R40 information menu: the fixed pages, the timetable, latest news, and typed input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fluent.syntax import FluentParser, ast

from backoffice import administration
from tests.conftest import ROOT
from tests.conversation.conftest import Chat, Harness
from tests.conversation.flows_helpers import PASSWORD

MAX_MESSAGE = 700  # characters: one phone screen


def _info_keys(locale: str) -> dict[str, str]:
    text = (ROOT / "locales" / locale / "info.ftl").read_text(encoding="utf-8")
    out = {}
    for entry in FluentParser().parse(text).body:
        assert not isinstance(entry, ast.Junk), entry.content
        if isinstance(entry, ast.Message):
            out[entry.id.name] = text[entry.span.start : entry.span.end]
    return out


def test_info_ftl_has_the_same_keys_in_both_locales() -> None:
    zh, en = _info_keys("zh"), _info_keys("en")
    assert zh.keys() == en.keys()


async def _open_info(chat: Chat, english: bool = False) -> None:
    await chat.command("start")
    await chat.press("Information" if english else "报名须知与问答")


def _assert_phone_sized(text: str) -> None:
    assert 0 < len(text) <= MAX_MESSAGE, len(text)
    # Short paragraphs: no line (a paragraph or a list item) runs long on a phone.
    assert all(len(line) <= 200 for line in text.split("\n")), text


async def test_the_menu_offers_every_page_news_and_the_faq_topics(harness: Harness) -> None:
    chat = harness.chat()
    await _open_info(chat)
    for label in ("考试简介", "考生须知", "考试时间表", "报名流程", "特别提示", "客服电话"):
        assert chat.has_button(label), label
    assert chat.has_button("最新动态")
    assert chat.has_button("常见问题： 准考证")


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("考试简介", "2026年12月全国大学英语四、六级考试"),
        ("考生须知", "同一级别只能报一门笔试"),
        ("特别提示", "不要重复缴费"),
        ("客服电话", "010-62981234"),
    ],
)
async def test_each_fixed_page_in_chinese(harness: Harness, label: str, expected: str) -> None:
    chat = harness.chat()
    await _open_info(chat)
    await chat.press(label)
    assert expected in chat.text
    _assert_phone_sized(chat.text)
    assert (await harness.conversation(chat))[0] == "info.page"
    await chat.press("返回")
    assert chat.has_button("最新动态")
    assert (await harness.conversation(chat))[0] == "info"


async def test_timetable_comes_from_the_session(harness: Harness) -> None:
    chat = harness.chat()
    await _open_info(chat)
    await chat.press("考试时间表")
    text = chat.text
    assert "2026年11月20日 09:00（北京时间）" in text  # registration opens
    assert "2026年12月01日 17:00（北京时间）" in text  # registration closes
    assert "英语四级" in text and "2026年12月12日 09:00–11:20" in text
    assert "英语六级" in text and "15:00–17:25" in text
    assert "英语四级口试" in text and "2026年12月05日 08:30–17:30" in text
    _assert_phone_sized(text)


async def test_registration_steps_page_through_three_parts(harness: Harness) -> None:
    chat = harness.chat()
    await _open_info(chat)
    await chat.press("报名流程")
    assert "（1/3）" in chat.text and not chat.has_button("上一步")
    _assert_phone_sized(chat.text)
    await chat.press("下一步")
    assert "（2/3）" in chat.text
    _assert_phone_sized(chat.text)
    await chat.press("下一步")
    assert "（3/3）" in chat.text and not chat.has_button("下一步")
    _assert_phone_sized(chat.text)
    await chat.press("上一步")
    assert "（2/3）" in chat.text


async def test_every_page_in_english(harness: Harness) -> None:
    chat = harness.chat("en")
    expected = {
        "About the exam": "December 2026 College English Test",
        "Notice to candidates": "One written subject per level",
        "Timetable": "CET Band 4 (English)",
        "Registration steps": "(1/3)",
        "Special notes": "do not pay again",
        "Help-desk phone": "010-62981234",
    }
    for label, text in expected.items():
        await _open_info(chat, english=True)
        await chat.press(label)
        assert text in chat.text, label
        _assert_phone_sized(chat.text)
    await _open_info(chat, english=True)
    await chat.press("Registration steps")
    await chat.press("Next")
    assert "(2/3)" in chat.text
    _assert_phone_sized(chat.text)
    await chat.press("Next")
    _assert_phone_sized(chat.text)


async def _add_news(harness: Harness, n: int) -> None:
    async with harness.db.uow() as uow:
        await administration.add_news(
            uow,
            harness.clock,
            session_id=harness.session_id,
            title_zh=f"通知{n}：缴费提醒",
            title_en=f"Notice {n}: pay on time",
            body_zh=f"第{n}条：请在报名截止前完成缴费。",
            body_en=f"Item {n}: please pay before registration closes.",
        )
        await uow.commit()


async def test_latest_news_lists_newest_first_and_opens_the_body(harness: Harness) -> None:
    chat = harness.chat()
    await _open_info(chat)
    await chat.press("最新动态")
    assert "目前还没有发布动态" in chat.text
    await _add_news(harness, 1)
    harness.clock.advance(timedelta(hours=1))
    await _add_news(harness, 2)
    await _open_info(chat)
    await chat.press("最新动态")
    assert "通知2：缴费提醒（2026年11月25日）" in chat.text
    assert chat.text.index("通知2") < chat.text.index("通知1")  # newest first
    assert "请在报名截止前" not in chat.text  # titles only
    _assert_phone_sized(chat.text)
    await chat.press("通知1")
    assert "第1条：请在报名截止前完成缴费。" in chat.text
    assert (await harness.conversation(chat))[0] == "info.news_item"
    await chat.press("返回")
    assert chat.has_button("通知2")

    english = harness.chat("en")
    await _open_info(english, english=True)
    await english.press("Latest news")
    assert "Notice 2: pay on time (2026-11-25)" in english.text
    await english.press("Notice 2")
    assert "Item 2: please pay before registration closes." in english.text


async def test_free_text_at_a_typed_step_is_taken_as_input(harness: Harness) -> None:
    chat = harness.chat()
    await chat.command("start")
    await chat.press("快速打印准考证")
    assert (await harness.conversation(chat))[0] == "quick.name"
    # Text that reads like an FAQ question but is not one is the name asked for.
    await chat.send("张准考")
    assert (await harness.conversation(chat))[0] == "quick.id_number"
    assert "请输入证件号码" in chat.text


async def test_obvious_question_at_a_typed_step_is_answered_and_the_step_stays(
    harness: Harness,
) -> None:
    chat = harness.chat()
    await chat.command("start")
    await chat.press("快速打印准考证")
    await chat.send("准考证什么时候可以打印？")
    assert "2026年12月07日 09:00（北京时间）" in chat.text  # the FAQ answer, session values
    assert "请继续按提示输入" in chat.text
    assert (await harness.conversation(chat))[0] == "quick.name"


async def test_a_question_at_the_password_step_is_taken_as_the_password(
    harness: Harness,
) -> None:
    chat = harness.chat()
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("注册通行证")
    await chat.send("pw@example.com")
    await chat.send("密码有什么要求？")
    # Never answered from the FAQ: it is a (bad) password, and the message is deleted.
    assert chat.deleted
    assert "请继续按提示输入" not in chat.text
    assert (await harness.conversation(chat))[0] == "signup.password"
    await chat.send(PASSWORD)
    assert (await harness.conversation(chat))[0] != "signup.password"


async def test_near_miss_free_text_gets_the_help_desk_reply(harness: Harness) -> None:
    chat = harness.chat()
    await chat.command("start")
    for question in ("雅思报名费多少钱", "校园网密码忘了怎么办"):
        await chat.send(question)
        assert "010-62981234" in chat.text
        assert (await harness.conversation(chat))[0] == "menu"
