"""The pass account inside the chat: sign in, sign out, recovery and password reset (R7-R10)."""

from __future__ import annotations

from tests.conversation import scenarios
from tests.conversation.conftest import Harness
from tests.conversation.flows_helpers import PASSWORD, sign_up


async def test_r7_sign_in_from_another_chat_sign_out_and_wrong_password(harness: Harness) -> None:
    await scenarios.sign_in_from_another_chat_sign_out_and_wrong_password(harness)


async def test_r9_registration_leads_through_the_account_and_comes_back(harness: Harness) -> None:
    owner = harness.chat()
    await sign_up(harness, owner, "back@example.com")
    chat = harness.chat()
    await chat.command("start")
    await chat.press("开始报名")
    assert "报名需要先登录" in chat.text
    await chat.press("登录")
    await chat.send("back@example.com")
    await chat.send(PASSWORD)
    assert "报名协议" in chat.text  # continued where the candidate wanted to go


async def test_r9_unverified_sign_in_asks_for_the_code_then_continues(harness: Harness) -> None:
    chat = harness.chat()
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("注册通行证")
    await chat.send("late@example.com")
    await chat.send(PASSWORD)
    await chat.command("start")
    await chat.press("我的报名")
    assert "请先验证邮箱" in chat.text
    await chat.press("重新发送验证码")
    assert "验证码已发送到 late@example.com" in chat.text
    await chat.send(harness.code_for("late@example.com"))
    assert "邮箱验证成功" in chat.text
    assert "您还没有保存本次考试的报名信息" in chat.text


async def test_signup_with_a_taken_email_points_to_sign_in(harness: Harness) -> None:
    await sign_up(harness, harness.chat(), "taken@example.com")
    chat = harness.chat()
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("注册通行证")
    await chat.send("taken@example.com")
    assert "该邮箱已注册通行证" in chat.text
    await chat.press("已有账号")
    assert "请输入通行证邮箱地址" in chat.text


async def test_r10_recover_account_and_reset_password(harness: Harness) -> None:
    await scenarios.recover_account_and_reset_password(harness)


async def test_r10_reset_for_an_unknown_address_says_the_same(harness: Harness) -> None:
    chat = harness.chat()
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("忘记密码")
    await chat.send("ghost@example.com")
    assert "如果 ghost@example.com 是已注册的通行证" in chat.text
    assert not harness.mailer.to("ghost@example.com")
