"""Issue 18, deliverable 5: hostile input never loses the candidate's place.

Written against the driver interface, so `tests/conversation/test_keep_place.py` runs them
in-process and `tests/e2e/test_keep_place.py` through aiogram and PTB over the emulator.
Each performs one attack found by hostile-input testing and fails on the code before it.
"""

from __future__ import annotations

from tests.conversation.driver import ChatDriver, FlowHarness
from tests.conversation.flows_helpers import ZHANG, look_up, save_information, sign_up

CHOICES = "这一步请点下面的按钮"  # chat-text-at-buttons
EMPTY = "这条消息是空的"  # chat-empty-message
EXPIRED = "菜单已过期"
FAQ_NO_ANSWER = "客服电话"  # the FAQ's "I don't know" names the help-desk phone
OWN_PHONE = "+86 139 0000 1234"  # a shared contact's number, with the country code


async def _entries(h: FlowHarness, email: str) -> list[str]:
    async with h.db.uow(readonly=True) as uow:
        account = await uow.accounts.by_email(email)
        assert account is not None
        registration = await uow.registrations.active_of_account(h.session_id, account.id)
        if registration is None:
            return []
        entries = await uow.entries.of_registration(registration.id)
    return [e.subject_code for e in entries]


async def _at_campus_step(h: FlowHarness, chat: ChatDriver, email: str) -> None:
    await sign_up(h, chat, email)
    await save_information(chat, ZHANG)
    await chat.press("英语四级")
    assert (await h.conversation(chat))[0] == "entry.campus"


async def text_at_the_campus_step_names_the_choices_and_keeps_the_step(h: FlowHarness) -> None:
    """Text that is no campus (an SQL injection, another step's word) gets the step's
    choices and its buttons again; nothing changes, and the older message's buttons
    still work afterwards (the step is still current: no "menu expired")."""
    chat = h.chat()
    await _at_campus_step(h, chat, "campus-text@example.com")
    old_menu, haidian = chat.menu_id, chat.button("海淀校区").payload
    before = await h.conversation(chat)
    for typed in ("本部'; DROP TABLE entries;--", "驾驶证", "x", "海淀 昌平"):
        await chat.send(typed)
        assert CHOICES in chat.text and "北京示范大学海淀校区" in chat.text, chat.text
        assert chat.has_button("海淀校区") and chat.has_button("昌平校区")
        assert chat.menu_id != old_menu  # shown again, as a new message
        assert await h.conversation(chat) == before
    assert await _entries(h, "campus-text@example.com") == []
    # The message before still works: pressing its button acts, and is not "expired".
    await chat.press_payload(haidian, message_id=old_menu)
    assert EXPIRED not in chat.answers[0].text and EXPIRED not in chat.text
    assert "纸质成绩报告单" in chat.text
    assert (await h.conversation(chat))[0] == "entry.paper"


async def typed_label_acts_as_the_press(h: FlowHarness) -> None:
    """A button's label typed in full, or an unambiguous part of it, in any width, case,
    spacing or punctuation, is the press; at the ID-type step "驾驶证" is no button."""
    chat = h.chat()
    await sign_up(h, chat, "typed-label@example.com")
    await chat.command("start")
    await chat.press("开始报名")
    await chat.press("我已阅读并同意")
    assert (await h.conversation(chat))[0] == "reg.id_type"
    before = await h.conversation(chat)
    await chat.send("驾驶证")
    assert CHOICES in chat.text and "居民身份证" in chat.text and "护照" in chat.text
    assert await h.conversation(chat) == before
    await chat.send(" 居民 身份证。")
    assert "请输入学籍上的姓名" in chat.text
    assert (await h.conversation(chat))[0] == "reg.name"
    # The rest of the way to the campus step, then a part of a campus label.
    await chat.send(ZHANG[0])
    await chat.send(ZHANG[2])
    await chat.send("信息无误")
    await chat.send("使用此号码")
    assert "报名信息已保存" in chat.text
    await chat.send("英语四级")
    assert (await h.conversation(chat))[0] == "entry.campus"
    await chat.send("海淀")
    assert "纸质成绩报告单" in chat.text
    await chat.send("不需要！")
    assert await _entries(h, "typed-label@example.com") == ["CET4"]


async def full_width_and_case_press_the_language_button(h: FlowHarness) -> None:
    chat = h.chat()
    await chat.command("language")
    await chat.send("ＥＮＧＬＩＳＨ")
    assert "Language set to English" in chat.text
    assert (await h.conversation(chat))[0] == "menu"


async def help_at_a_typed_step_keeps_the_step(h: FlowHarness) -> None:
    """`/help` at the e-mail code shows help, then the code step again; the code typed
    next is taken (it used to go back to the main menu and refuse the code)."""
    chat = h.chat()
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("注册通行证")
    await chat.send("help-code@example.com")
    await chat.send("Lan_tian_88")
    before = await h.conversation(chat)
    assert before[0] == "verify.code"
    await chat.command("help")
    assert "使用方法" in chat.text and "6 位数字验证码" in chat.text
    assert await h.conversation(chat) == before
    await chat.send(h.code_for("help-code@example.com"))
    assert "邮箱验证成功" in chat.text


async def own_contact_at_the_phone_step_is_the_phone(h: FlowHarness) -> None:
    """A shared contact at the phone step: someone else's (or one of no Telegram user) is
    refused kindly and changes nothing; the candidate's own is their phone number."""
    chat = h.chat()
    await sign_up(h, chat, "contact@example.com")
    await look_up(chat, ZHANG)
    await chat.press("信息无误")
    before = await h.conversation(chat)
    assert before[0] == "reg.phone"
    registrations = await h.registrations()
    await chat.contact("+86 138 0000 9999", contact_user_id=chat.user_id + 1)
    assert "别人的名片" in chat.text and chat.has_button("使用此号码")
    await chat.contact("13800009999", own=False)
    assert "别人的名片" in chat.text
    assert await h.conversation(chat) == before
    assert await h.registrations() == registrations
    await chat.contact(OWN_PHONE)
    assert "报名信息已保存" in chat.text
    assert (await h.conversation(chat))[0] == "entry.subject"
    async with h.db.uow(readonly=True) as uow:
        account = await uow.accounts.by_email("contact@example.com")
        assert account is not None
        saved = await uow.registrations.active_of_account(h.session_id, account.id)
    assert saved is not None and saved.phone == "13900001234"


async def own_contact_at_the_typed_phone_step_is_the_phone(h: FlowHarness) -> None:
    chat = h.chat()
    await sign_up(h, chat, "contact-typed@example.com")
    await look_up(chat, ZHANG)
    await chat.press("信息无误")
    await chat.press("修改手机号")
    assert (await h.conversation(chat))[0] == "reg.phone_typed"
    await chat.contact(OWN_PHONE)
    assert "报名信息已保存" in chat.text


BLANK_MESSAGES = ("\u200b", "  \n ", "\ufeff", "\u200b\u200d \u2060")


async def blank_messages_are_empty_not_questions(h: FlowHarness) -> None:
    """Whitespace-only and zero-width messages get "that message was empty", never the
    FAQ, at a button step and at a typed step; the step stays and its buttons work."""
    at_menu = h.chat()
    await at_menu.command("start")
    menu_before = await h.conversation(at_menu)
    for blank in BLANK_MESSAGES:
        await at_menu.send(blank)
        assert EMPTY in at_menu.text and FAQ_NO_ANSWER not in at_menu.text, repr(blank)
        assert await h.conversation(at_menu) == menu_before
    chat = h.chat()
    await _at_campus_step(h, chat, "blank@example.com")
    old_menu, haidian = chat.menu_id, chat.button("海淀校区").payload
    before = await h.conversation(chat)
    for blank in BLANK_MESSAGES:
        await chat.send(blank)
        assert EMPTY in chat.text and FAQ_NO_ANSWER not in chat.text, repr(blank)
        assert "选择考试校区" in chat.text and chat.has_button("海淀校区")
        assert await h.conversation(chat) == before
    await chat.press_payload(haidian, message_id=old_menu)
    assert EXPIRED not in chat.answers[0].text and "纸质成绩报告单" in chat.text
    # A typed step: the blank is not taken as a name either.
    other = h.chat()
    await sign_up(h, other, "blank-name@example.com")
    await other.command("start")
    await other.press("开始报名")
    await other.press("我已阅读并同意")
    await other.press("居民身份证")
    typed_before = await h.conversation(other)
    for blank in BLANK_MESSAGES:
        await other.send(blank)
        assert EMPTY in other.text and "请输入学籍上的姓名" in other.text, repr(blank)
        assert await h.conversation(other) == typed_before


async def question_at_the_campus_step_is_answered_and_the_step_stays(h: FlowHarness) -> None:
    """An obvious question mid-flow is answered where the candidate is: the answer, the
    step's choices and its buttons; no jump to the FAQ screen, no expired menu after."""
    chat = h.chat()
    await _at_campus_step(h, chat, "campus-question@example.com")
    old_menu, haidian = chat.menu_id, chat.button("海淀校区").payload
    before = await h.conversation(chat)
    await chat.send("报名费是多少？")
    assert CHOICES in chat.text and "选择考试校区" in chat.text
    assert chat.has_button("海淀校区")
    assert await h.conversation(chat) == before
    await chat.press_payload(haidian, message_id=old_menu)
    assert EXPIRED not in chat.answers[0].text and "纸质成绩报告单" in chat.text
