"""The bad-input table at every text step: a kind localized reply, and nothing changed."""

from __future__ import annotations

import pytest

from tests.conversation import scenarios
from tests.conversation.conftest import Harness
from tests.conversation.flows_helpers import ZHANG, look_up, save_information, sign_up
from tests.conversation.scenarios import STEPS, to_reg_id_number, to_verify_code


@pytest.mark.parametrize("step", list(STEPS))
async def test_bad_input_at_every_text_step_is_answered_kindly(harness: Harness, step: str) -> None:
    await scenarios.bad_input_at_a_text_step(harness, step)


async def test_id_number_problems_are_named(harness: Harness) -> None:
    await scenarios.id_number_problems_are_named(harness)


async def test_no_matching_record_does_not_say_which_field(harness: Harness) -> None:
    chat = harness.chat()
    await to_reg_id_number(harness, chat)
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
    await to_verify_code(harness, chat)
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
    assert await harness.registrations() == 1
