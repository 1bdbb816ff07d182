"""The bad-input table at every text step: a kind localized reply, and nothing changed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.conversation.conftest import Chat, Harness
from tests.conversation.flows_helpers import PASSWORD, ZHANG, look_up, save_information, sign_up

BAD_INPUTS = [
    "110108200503140232",  # a wrong check digit
    "11010820050314023",  # 17 characters
    "😀🎉",  # emoji
    "<b>张伟</b>",  # markup
    "*_[",  # markdown markup
    "x" * 5000,  # far too long
]
APOLOGY = "系统出了点问题"


async def _to_signup_email(h: Harness, chat: Chat) -> None:
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("注册通行证")


async def _to_signup_password(h: Harness, chat: Chat) -> None:
    await _to_signup_email(h, chat)
    await chat.send("pw@example.com")


async def _to_verify_code(h: Harness, chat: Chat) -> None:
    await _to_signup_password(h, chat)
    await chat.send(PASSWORD)


async def _to_signin_email(h: Harness, chat: Chat) -> None:
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("登录")


async def _to_signin_password(h: Harness, chat: Chat) -> None:
    await _to_signin_email(h, chat)
    await chat.send("nobody@example.com")


async def _to_recover_name(h: Harness, chat: Chat) -> None:
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("找回已报名账号")


async def _to_recover_id_number(h: Harness, chat: Chat) -> None:
    await _to_recover_name(h, chat)
    await chat.send(ZHANG[0])
    await chat.press("居民身份证")


async def _to_reset_email(h: Harness, chat: Chat) -> None:
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("忘记密码")


async def _to_reset_code(h: Harness, chat: Chat) -> None:
    await _to_reset_email(h, chat)
    await chat.send("nobody@example.com")


async def _to_reset_password(h: Harness, chat: Chat) -> None:
    await _to_reset_code(h, chat)
    await chat.send("123456")


async def _to_reg_name(h: Harness, chat: Chat) -> None:
    await sign_up(h, chat, "name@example.com")
    await chat.command("start")
    await chat.press("开始报名")
    await chat.press("我已阅读并同意")
    await chat.press("居民身份证")


async def _to_reg_id_number(h: Harness, chat: Chat) -> None:
    await _to_reg_name(h, chat)
    await chat.send(ZHANG[0])


async def _to_phone(h: Harness, chat: Chat) -> None:
    await sign_up(h, chat, "phone@example.com")
    await look_up(chat, ZHANG)
    await chat.press("信息无误")
    await chat.press("修改手机号")


async def _to_review_ticket(h: Harness, chat: Chat) -> None:
    await sign_up(h, chat, "review@example.com")
    await look_up(chat, ZHANG)
    await chat.press("CET6 资格复核")


STEPS: dict[str, Callable[[Harness, Chat], Awaitable[None]]] = {
    "signup.email": _to_signup_email,
    "signup.password": _to_signup_password,
    "verify.code": _to_verify_code,
    "signin.email": _to_signin_email,
    "signin.password": _to_signin_password,
    "recover.name": _to_recover_name,
    "recover.id_number": _to_recover_id_number,
    "reset.email": _to_reset_email,
    "reset.code": _to_reset_code,
    "reset.password": _to_reset_password,
    "reg.name": _to_reg_name,
    "reg.id_number": _to_reg_id_number,
    "reg.phone_typed": _to_phone,
    "review.ticket": _to_review_ticket,
}


async def _registrations(h: Harness) -> int:
    async with h.db.uow(readonly=True) as uow:
        return await uow.registrations.count_active(h.session_id)


@pytest.mark.parametrize("step", list(STEPS))
async def test_bad_input_at_every_text_step_is_answered_kindly(harness: Harness, step: str) -> None:
    chat = harness.chat()
    await STEPS[step](harness, chat)
    state, data = await harness.conversation(chat)
    assert state == step
    registrations = await _registrations(harness)
    for bad in BAD_INPUTS:
        await chat.send(bad)
        assert chat.text and APOLOGY not in chat.text, (step, bad)
        assert len(chat.text) <= 4096
        assert "x" * 100 not in chat.text  # never echoes a long input back
        now_state, now_data = await harness.conversation(chat)
        assert now_state == step, (step, bad, chat.text)
        # The step's scratch data stays (the code typed at reset.code is not replaced).
        assert {k: v for k, v in now_data.items() if k != "_last"} == {
            k: v for k, v in data.items() if k != "_last"
        }, (step, bad)
    await chat.sticker()
    assert "我只能读取文字" in chat.text
    assert (await harness.conversation(chat))[0] == step
    assert await _registrations(harness) == registrations
    await chat.command("start")  # mid-flow: back to the menu, nothing saved
    assert "已离开刚才的步骤，未保存任何内容" in chat.text
    assert (await harness.conversation(chat))[0] == "menu"
    assert await _registrations(harness) == registrations


async def test_id_number_problems_are_named(harness: Harness) -> None:
    chat = harness.chat()
    await _to_reg_id_number(harness, chat)
    await chat.send("110108200503140232")
    assert "校验位不对" in chat.text
    await chat.send("11010820050314023")
    assert "位数不对" in chat.text
    await chat.send("110108200513140231")
    assert "出生日期" in chat.text
    await chat.send("110108200503140233")
    assert "校验位不对" in chat.text


async def test_no_matching_record_does_not_say_which_field(harness: Harness) -> None:
    chat = harness.chat()
    await _to_reg_id_number(harness, chat)
    await chat.send("110105200407220961")  # a real number of someone else (王芳)
    assert "没有找到匹配的学籍信息" in chat.text
    assert (await harness.conversation(chat))[0] == "reg.id_number"


async def test_full_width_digits_spaces_and_lower_case_x_are_accepted(harness: Harness) -> None:
    chat = harness.chat()
    await sign_up(harness, chat, "zhou@example.com")
    await look_up(chat, ("周子涵", "id_card", "４２０１０２ ２００６０２１４ ６１４x"))
    assert "请核对您的学籍信息" in chat.text
    assert "420102********614X" in chat.text
    await chat.press("信息无误")
    await chat.press("修改手机号")
    await chat.send("１３９ １２３４ ５６７８")
    assert "报名信息已保存" in chat.text


async def test_middle_dot_variants_in_names_match(harness: Harness) -> None:
    chat = harness.chat()
    await sign_up(harness, chat, "ayi@example.com")
    await look_up(chat, ("阿依古丽.买买提", "id_card", "650102200504127626"))
    assert "阿依古丽·买买提" in chat.text


async def test_wrong_code_is_counted_and_the_count_survives(harness: Harness) -> None:
    chat = harness.chat()
    await _to_verify_code(harness, chat)
    code = harness.code_for("pw@example.com")
    wrong = "000000" if code != "000000" else "111111"
    await chat.send(wrong)
    assert "验证码不正确" in chat.text
    async with harness.db.uow(readonly=True) as uow:
        live = await uow.accounts.live_code("pw@example.com", "verify")
    assert live is not None and live.attempts == 1  # R9: committed despite the refusal
    await chat.send(code)
    assert "邮箱验证成功" in chat.text


async def test_saved_information_is_not_saved_twice(harness: Harness) -> None:
    chat = harness.chat()
    await sign_up(harness, chat, "twice@example.com")
    await save_information(chat, ZHANG)
    await chat.command("start")
    await chat.press("开始报名")
    assert "您已保存本次考试的报名信息" in chat.text
    assert await _registrations(harness) == 1
