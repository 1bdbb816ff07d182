"""Candidate flows written once against the driver interface (`tests/conversation/driver.py`).

The conversation tests run them in-process; `tests/e2e/test_flows.py` runs the same
functions through the aiogram and PTB adapters against the emulator.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from admission import tickets
from backoffice.importing import parse_session_toml
from bot.conversation.callbacks import decode, encode
from registration import payments
from registration.gateways.base import PaymentState
from tests.conftest import ROOT
from tests.conversation.driver import ChatDriver, FlowHarness, HasDocument
from tests.conversation.flows_helpers import (
    PASSWORD,
    WANG_HR,
    ZHANG,
    look_up,
    register,
    save_information,
    sign_up,
)

SESSION_TOML = ROOT / "examples" / "session-2026-12.toml"

# --- account (R7-R10) ---------------------------------------------------------------------


def deleted_note(h: FlowHarness, what: str) -> str:
    """What the candidate is told after typing a password or an ID number (R8): that the
    message was deleted, or, where the platform cannot delete a user's message (a WeChat
    official account), to delete it themselves."""
    if getattr(h, "deletes_user_messages", True):
        return f"含{what}的消息已删除"
    return f"请长按刚才发送的含{what}的消息"


async def sign_in_from_another_chat_sign_out_and_wrong_password(h: FlowHarness) -> None:
    first = h.chat()
    await sign_up(h, first, "shared@example.com")
    phone = h.chat()  # R7: one account, a second chat user (new phone)
    await phone.command("start")
    await phone.press("通行证账号")
    await phone.press("登录")
    await phone.send("SHARED@example.com ")
    await phone.send("Wrong_123")
    assert "邮箱或密码不正确" in phone.text and deleted_note(h, "密码") in phone.text
    assert (await h.conversation(phone))[0] == "signin.password"
    await phone.send(PASSWORD)
    assert "已登录：shared@example.com（邮箱已验证）" in phone.text
    await phone.press("退出登录")
    assert "已退出登录" in phone.text and phone.has_button("注册通行证")
    # The first chat stays signed in.
    await first.command("start")
    await first.press("通行证账号")
    assert "已登录：shared@example.com" in first.text


async def recover_account_and_reset_password(h: FlowHarness) -> None:
    owner = h.chat()
    await sign_up(h, owner, "zhangwei@example.com")
    await save_information(owner, ZHANG)
    lost = h.chat()
    await lost.command("start")
    await lost.press("通行证账号")
    await lost.press("找回已报名账号")
    await lost.send(ZHANG[0])
    await lost.press("居民身份证")
    await lost.send(ZHANG[2])
    # One answer whether or not the record exists or was registered (no ID-number
    # oracle); the address goes to the account's own mailbox.
    assert "如果有通行证账号报名了这条学籍" in lost.text and "zhangwei@" not in lost.text
    assert "zhangwei@example.com" in h.mailer.to("zhangwei@example.com")[-1].body
    assert deleted_note(h, "证件号码") in lost.text
    await lost.press("忘记密码")
    await lost.send("zhangwei@example.com")
    assert "重置验证码已发到该邮箱" in lost.text
    code = h.code_for("zhangwei@example.com")
    await lost.send("000000" if code != "000000" else "111111")
    await lost.send("New_pass_456")
    assert "验证码不正确" in lost.text
    assert (await h.conversation(lost))[0] == "reset.code"
    await lost.send(code)
    await lost.send("weak")
    assert "密码不少于 8 位" in lost.text
    assert (await h.conversation(lost))[0] == "reset.password"
    await lost.send("New_pass_456")
    assert "密码已重置" in lost.text
    data = (await h.conversation(lost))[1]
    assert "reset_code" not in data  # the code is dropped once used
    # The old chat was signed out by the reset (R10).
    await owner.command("start")
    await owner.press("通行证账号")
    assert owner.has_button("登录")


# --- the bad-input table at every text step ------------------------------------------------

BAD_INPUTS = [
    "110108200503140232",  # a wrong check digit
    "11010820050314023",  # 17 characters
    "😀🎉",  # emoji
    "<b>张伟</b>",  # markup
    "*_[",  # markdown markup
    "x" * 5000,  # far too long
]
APOLOGY = "系统出了点问题"


async def _to_signup_email(h: FlowHarness, chat: ChatDriver) -> None:
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("注册通行证")


async def _to_signup_password(h: FlowHarness, chat: ChatDriver) -> None:
    await _to_signup_email(h, chat)
    await chat.send("pw@example.com")


async def to_verify_code(h: FlowHarness, chat: ChatDriver) -> None:
    await _to_signup_password(h, chat)
    await chat.send(PASSWORD)


async def _to_signin_email(h: FlowHarness, chat: ChatDriver) -> None:
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("登录")


async def _to_signin_password(h: FlowHarness, chat: ChatDriver) -> None:
    await _to_signin_email(h, chat)
    await chat.send("nobody@example.com")


async def _to_recover_name(h: FlowHarness, chat: ChatDriver) -> None:
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("找回已报名账号")


async def _to_recover_id_number(h: FlowHarness, chat: ChatDriver) -> None:
    await _to_recover_name(h, chat)
    await chat.send(ZHANG[0])
    await chat.press("居民身份证")


async def _to_reset_email(h: FlowHarness, chat: ChatDriver) -> None:
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("忘记密码")


async def _to_reset_code(h: FlowHarness, chat: ChatDriver) -> None:
    await _to_reset_email(h, chat)
    await chat.send("nobody@example.com")


async def _to_reset_password(h: FlowHarness, chat: ChatDriver) -> None:
    await _to_reset_code(h, chat)
    await chat.send("123456")


async def _to_reg_name(h: FlowHarness, chat: ChatDriver) -> None:
    await sign_up(h, chat, "name@example.com")
    await chat.command("start")
    await chat.press("开始报名")
    await chat.press("我已阅读并同意")
    await chat.press("居民身份证")


async def to_reg_id_number(h: FlowHarness, chat: ChatDriver) -> None:
    await _to_reg_name(h, chat)
    await chat.send(ZHANG[0])


async def _to_phone(h: FlowHarness, chat: ChatDriver) -> None:
    await sign_up(h, chat, "phone@example.com")
    await look_up(chat, ZHANG)
    await chat.press("信息无误")
    await chat.press("修改手机号")


async def _to_review_ticket(h: FlowHarness, chat: ChatDriver) -> None:
    await sign_up(h, chat, "review@example.com")
    await look_up(chat, ZHANG)
    await chat.press("CET6 资格复核")


STEPS: dict[str, Callable[[FlowHarness, ChatDriver], Awaitable[None]]] = {
    "signup.email": _to_signup_email,
    "signup.password": _to_signup_password,
    "verify.code": to_verify_code,
    "signin.email": _to_signin_email,
    "signin.password": _to_signin_password,
    "recover.name": _to_recover_name,
    "recover.id_number": _to_recover_id_number,
    "reset.email": _to_reset_email,
    "reset.code": _to_reset_code,
    "reset.password": _to_reset_password,
    "reg.name": _to_reg_name,
    "reg.id_number": to_reg_id_number,
    "reg.phone_typed": _to_phone,
    "review.ticket": _to_review_ticket,
}


async def bad_input_at_a_text_step(h: FlowHarness, step: str) -> None:
    """Every bad input, a sticker and `/start` mid-flow: kind replies, nothing changed."""
    chat = h.chat()
    await STEPS[step](h, chat)
    state, data = await h.conversation(chat)
    assert state == step
    registrations = await h.registrations()
    for bad in BAD_INPUTS:
        await chat.send(bad)
        assert chat.text and APOLOGY not in chat.text, (step, bad)
        assert len(chat.text) <= 4096
        assert "x" * 100 not in chat.text  # never echoes a long input back
        now_state, now_data = await h.conversation(chat)
        assert now_state == step, (step, bad, chat.text)
        # The step's scratch data stays (the code typed at reset.code is not replaced).
        assert {k: v for k, v in now_data.items() if k != "_last"} == {
            k: v for k, v in data.items() if k != "_last"
        }, (step, bad)
    await chat.sticker()
    assert "我只能读取文字" in chat.text
    assert (await h.conversation(chat))[0] == step
    assert await h.registrations() == registrations
    await chat.command("start")  # mid-flow: back to the menu, nothing saved
    assert "已离开刚才的步骤，未保存任何内容" in chat.text
    assert (await h.conversation(chat))[0] == "menu"
    assert await h.registrations() == registrations


async def id_number_problems_are_named(h: FlowHarness) -> None:
    chat = h.chat()
    await to_reg_id_number(h, chat)
    await chat.send("110108200503140232")
    assert "校验位不对" in chat.text
    await chat.send("11010820050314023")
    assert "位数不对" in chat.text
    await chat.send("110108200513140231")
    assert "出生日期" in chat.text
    await chat.send("110108200503140233")
    assert "校验位不对" in chat.text


# --- eligibility and CET-6 review (R12-R19) ---------------------------------------------------


async def confirmation_view_shows_photo_masked_id_and_subjects(h: FlowHarness) -> None:
    chat = h.chat()
    await sign_up(h, chat, "view@example.com")
    await look_up(chat, ZHANG)
    assert len(chat.photos) == 1 and chat.photos[0].data[:2] == b"\xff\xd8"
    assert "110108********0231" in chat.text and "110108200503140231" not in chat.text
    assert "可报考的笔试科目：英语四级" in chat.text
    # No photo in the roster: said so.
    other = h.chat()
    await sign_up(h, other, "nophoto@example.com")
    await look_up(other, ("赵磊", "id_card", "130102200512254674"))
    assert not other.photos and "学籍中没有照片" in other.text


REVIEW_CASES = [
    (("徐梦琪", "id_card", "320506200412123944"), "320050261103321", "未复核"),  # R16
    (("高远", "id_card", "140105200406154697"), "110010261108803", "均不一致"),  # R17
    (("罗佳琪", "id_card", "360102200408205429"), "110010261104226", "398 分"),  # R18
    (("宋雨轩", "id_card", "230103200402296179"), "110010261112030", "未复核"),  # R18
]


async def review_outcome(
    h: FlowHarness, person: tuple[str, str, str], ticket: str, expected: str, email: str
) -> None:
    """From the confirmation view: a malformed ticket number, then the real one."""
    chat = h.chat()
    await sign_up(h, chat, email)
    await look_up(chat, person)
    await chat.press("CET6 资格复核")
    await chat.send("12345")
    assert "15 位数字" in chat.text
    await chat.send(ticket)
    assert expected in chat.text, (person, chat.text)


async def review_from_the_overview_passes(h: FlowHarness) -> None:
    chat = h.chat()
    await sign_up(h, chat, "wang@example.com")
    await save_information(chat, WANG_HR)
    await register(chat, "英语四级", "海淀校区")
    await chat.press("返回")
    await chat.press("CET6 资格复核")
    await chat.send("110010261105118")
    assert "复核通过" in chat.text
    assert "CET6 资格复核：已通过" in chat.text
    assert (await h.conversation(chat))[0] == "overview"


# --- entries, overview and waitlists (R21-R37) ------------------------------------------------


async def oral_after_written_and_cancel_lists_both(h: FlowHarness) -> None:
    chat = h.chat()
    await sign_up(h, chat, "oral@example.com")
    await save_information(chat, ZHANG)
    assert not chat.has_button("英语四级口试")  # R21: not before the written entry
    await register(chat, "英语四级", "海淀校区", paper="纸质成绩报告单")
    await chat.press("报考科目")
    assert chat.has_button("英语四级口试") and not chat.has_button("英语四级 ")
    await chat.press("英语四级口试")
    await chat.press("海淀校区")  # oral: no paper report step
    assert "已报考 英语四级口试" in chat.text
    await chat.press("返回")
    assert "纸质成绩报告单：纸质成绩报告单" in chat.text
    await chat.press("英语四级")
    await chat.press("取消报考")
    assert "同时取消它的口试" in chat.text and "英语四级口试" in chat.text
    await chat.press("确认取消")
    assert "已取消：英语四级, 英语四级口试" in chat.text
    assert "还没有报考科目" in chat.text
    assert await _active_subjects(h, "oral@example.com") == []


async def change_campus_and_paper_report(h: FlowHarness) -> None:
    chat = h.chat()
    await sign_up(h, chat, "move@example.com")
    await save_information(chat, ZHANG)
    await register(chat, "英语四级", "海淀校区")
    await chat.press("更换校区")
    assert not chat.has_button("海淀校区")  # the current campus is not offered again
    await chat.press("昌平校区（余 3）")
    assert "已更换到 北京示范大学昌平校区" in chat.text
    await chat.press("纸质成绩报告单")
    await chat.press("纸质成绩报告单")
    assert "纸质成绩报告单已设为：纸质成绩报告单" in chat.text
    async with h.db.uow(readonly=True) as uow:
        bsu_cp = await uow.sessions.campus_by_code(h.session_id, "BSU-CP")
        assert bsu_cp is not None
        seats = await uow.sessions.seats(bsu_cp.id, "CET4")
    assert seats is not None and seats.taken == 1


async def waitlist_join_one_per_level_cancel_with_reason(h: FlowHarness) -> None:
    await h.set_capacity("BSU-CP", "CET4", 0)
    chat = h.chat()
    await sign_up(h, chat, "wait@example.com")
    await save_information(chat, ZHANG)
    await chat.press("英语四级")
    assert chat.has_button("昌平校区（已满，可候补）")
    await chat.press("昌平校区")
    assert "已报满，目前有 0 人候补" in chat.text
    await chat.press("加入候补")
    assert "已加入候补：英语四级｜北京示范大学昌平校区，排第 1 位" in chat.text
    assert await _waiting(h, "wait@example.com") == 1
    await chat.press("返回")
    assert "候补中：英语四级｜北京示范大学昌平校区｜排第 1 位" in chat.text
    await chat.press("我的候补")
    await chat.press("取消候补")
    assert chat.has_button("计划有变")
    await chat.press("时间冲突")
    assert "已取消候补" in chat.text
    assert "已结束的候补" in chat.text and "已取消：时间冲突" in chat.text
    assert await _waiting(h, "wait@example.com") == 0


async def _active_subjects(h: FlowHarness, email: str) -> list[str]:
    async with h.db.uow(readonly=True) as uow:
        account = await uow.accounts.by_email(email)
        assert account is not None
        registration = await uow.registrations.active_of_account(h.session_id, account.id)
        assert registration is not None
        entries = await uow.entries.of_registration(registration.id)
    return [e.subject_code for e in entries]


async def _waiting(h: FlowHarness, email: str) -> int:
    async with h.db.uow(readonly=True) as uow:
        account = await uow.accounts.by_email(email)
        assert account is not None
        registration = await uow.registrations.active_of_account(h.session_id, account.id)
        assert registration is not None
        return len(await uow.waitlists.of_registration(registration.id, waiting_only=True))


# --- pay and tickets (R5, R26-R29, R38-R39) ---------------------------------------------------


async def registered(h: FlowHarness, chat: ChatDriver, email: str) -> None:
    await sign_up(h, chat, email)
    await save_information(chat, ZHANG)
    await register(chat, "英语四级", "海淀校区")


async def bank_says_paid(h: FlowHarness) -> None:
    """The gateway's callback arrives (as the payments worker would apply it)."""
    async with h.db.uow() as uow:
        entries = await uow.entries.due_unpaid(h.clock.now() + timedelta(days=2), 10)
        for entry in entries:
            pending = await uow.payments.pending_of_entry(entry.id)
            assert pending is not None
            state = PaymentState(pending.id, "paid", pending.amount_fen, "bank-1", h.clock.now())
            await payments.settle(uow, h.clock.now(), pending, state, tell=False)
        await uow.commit()


async def pay_link_update_and_no_second_payment(h: FlowHarness) -> None:
    """Needs the payment sandbox at http://127.0.0.1:9 (a port that refuses at once)."""
    chat = h.chat()
    await registered(h, chat, "pay@example.com")
    await chat.press("去支付")
    link = chat.button("支付 ¥30.00")
    assert link.url.startswith("http://127.0.0.1:9/pay/") and not link.payload
    await chat.press("返回")
    await chat.press("去支付")
    assert chat.button("支付 ¥30.00").url == link.url  # R29: the same pending payment
    await chat.press("更新支付状态")
    assert "暂时无法连接支付平台" in chat.text
    assert (await h.conversation(chat))[0] == "entry.pay"
    await bank_says_paid(h)
    await chat.press("更新支付状态")
    assert "支付成功" in chat.text and "✅" in chat.text and "已支付" in chat.text
    assert not chat.has_button("取消报考") and not chat.has_button("去支付")
    # R24: a paid entry cannot be cancelled, even by a forged button.
    await chat.press_payload(encode(chat.version(), "cxl"))
    assert "已支付的科目不可以修改或取消" in chat.text
    assert await _active_subjects(h, "pay@example.com") == ["CET4"]


async def tickets_when_paid_and_printing_open_and_quick_print(
    h: FlowHarness, check_ticket: Callable[[HasDocument], None] | None = None
) -> None:
    spec = parse_session_toml(SESSION_TOML)
    chat = h.chat()
    await registered(h, chat, "ticket@example.com")
    await chat.press("去支付")
    await bank_says_paid(h)
    await chat.press("更新支付状态")
    await chat.press("返回")
    assert "✅ 英语四级" in chat.text
    await chat.press("打印准考证")
    assert "准考证打印尚未开放" in chat.text and "2026年12月07日 09:00" in chat.text
    assert not chat.documents
    h.clock.set(spec.windows.print_written + timedelta(hours=1))
    await chat.press("打印准考证")
    assert len(chat.documents) == 1
    doc = chat.documents[0]
    assert doc.data.startswith(b"%PDF") and doc.filename.endswith(".pdf")
    if check_ticket is not None:
        check_ticket(doc)
    assert "已发送 1 份准考证" in chat.text

    # R39: quick print from another chat, without signing in.
    other = h.chat()
    await other.command("start")
    await other.press("快速打印准考证")
    await other.send("李四")
    await other.send(ZHANG[2])
    assert deleted_note(h, "证件号码") in other.text and not other.documents
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


# --- information, locale, robustness ---------------------------------------------------------


async def information_menu_topics_and_answers(h: FlowHarness) -> None:
    chat = h.chat()
    await chat.command("start")
    await chat.press("报名须知与问答")
    assert "010-62981234" in chat.text  # the help-desk phone
    assert chat.has_button("CET6 资格复核") and chat.has_button("准考证")
    await chat.press("报名时间与流程")
    first = chat.labels[0]
    await chat.press(first)
    assert "2026年" in chat.text or "：" in chat.text
    await chat.press("返回")
    assert chat.has_button(first)


async def free_text_answered_from_the_faq_or_help_phone(h: FlowHarness) -> None:
    chat = h.chat()
    await chat.command("start")
    await chat.send("什么时候开始报名")
    assert "2026年11月20日 09:00（北京时间）" in chat.text  # values filled from the session
    assert (await h.conversation(chat))[0] == "info.answer"
    await chat.command("start")
    await chat.send("今天天气怎么样，股票会涨吗")
    assert "010-62981234" in chat.text
    assert (await h.conversation(chat))[0] == "menu"  # stays where it was


async def english_locale_and_language_switch_is_remembered(h: FlowHarness) -> None:
    chat = h.chat("en-GB")
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
    await chat.send("Lan_tian_88")
    assert "the message with your password was deleted" in chat.text
    await chat.send("1234")
    assert "The code has 6 digits" in chat.text
    await chat.send(h.code_for("en@example.com"))
    assert "Your e-mail is verified!" in chat.text
    await chat.press("Start registration")
    await chat.press("I have read and agree")
    await chat.press("Resident ID card")
    await chat.send("张伟")
    await chat.send("110108200503140231")
    assert "Eligible written subjects:" in chat.text
    await chat.press("Correct, confirm")
    await chat.press("Use this number")
    assert "Your registration information is saved" in chat.text
    await chat.press(chat.labels[0])
    await chat.press("Haidian")
    await chat.press("No")
    assert "(Beijing time)" in chat.text and chat.has_button("Pay")


async def forged_callback_naming_another_users_entry_is_refused(h: FlowHarness) -> None:
    alice, bob = h.chat(), h.chat()
    await sign_up(h, alice, "alice@example.com")
    await save_information(alice, ZHANG)
    await register(alice, "英语四级", "海淀校区")
    await alice.press("返回")
    alice_cb = decode(alice.payloads("entry")[0])
    assert alice_cb is not None
    alice_entry = alice_cb.args[0]

    await sign_up(h, bob, "bob@example.com")
    await save_information(bob, ("李娜", "id_card", "320102200501091705"))
    await register(bob, "英语四级", "海淀校区")
    await bob.press("返回")
    bob_cb = decode(bob.payloads("entry")[0])
    assert bob_cb is not None
    assert alice_entry != bob_cb.args[0]
    forged = encode(bob.version(), "entry", alice_entry)
    await bob.press_payload(forged)
    assert "不属于您的账号" in bob.text
    assert (await h.conversation(bob))[0] == "overview"
    # A forged pay/cancel through the stored entry id cannot happen either: the id in
    # the state came from a checked press. An action the step does not offer expires.
    await bob.press_payload(encode(bob.version(), "yes"))
    assert bob.answers[0].text == "菜单已过期"
    # Alice's entry is untouched.
    assert await _active_subjects(h, "alice@example.com") == ["CET4"]
