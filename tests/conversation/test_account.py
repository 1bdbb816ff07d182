"""The pass account inside the chat: sign in, sign out, recovery and password reset (R7-R10)."""

from __future__ import annotations

from tests.conversation.conftest import Harness
from tests.conversation.flows_helpers import PASSWORD, ZHANG, save_information, sign_up


async def test_r7_sign_in_from_another_chat_sign_out_and_wrong_password(harness: Harness) -> None:
    first = harness.chat()
    await sign_up(harness, first, "shared@example.com")
    phone = harness.chat()  # R7: one account, a second chat user (new phone)
    await phone.command("start")
    await phone.press("通行证账号")
    await phone.press("登录")
    await phone.send("SHARED@example.com ")
    await phone.send("Wrong_123")
    assert "邮箱或密码不正确" in phone.text and "含密码的消息已删除" in phone.text
    assert (await harness.conversation(phone))[0] == "signin.password"
    await phone.send(PASSWORD)
    assert "已登录：shared@example.com（邮箱已验证）" in phone.text
    await phone.press("退出登录")
    assert "已退出登录" in phone.text and phone.has_button("注册通行证")
    # The first chat stays signed in.
    await first.command("start")
    await first.press("通行证账号")
    assert "已登录：shared@example.com" in first.text


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
    owner = harness.chat()
    await sign_up(harness, owner, "zhangwei@example.com")
    await save_information(owner, ZHANG)
    lost = harness.chat()
    await lost.command("start")
    await lost.press("通行证账号")
    await lost.press("找回已报名账号")
    await lost.send(ZHANG[0])
    await lost.press("居民身份证")
    await lost.send(ZHANG[2])
    assert "z***@example.com" in lost.text and "zhangwei@" not in lost.text
    assert "含证件号码的消息已删除" in lost.text
    await lost.press("忘记密码")
    await lost.send("zhangwei@example.com")
    assert "重置验证码已发到该邮箱" in lost.text
    code = harness.code_for("zhangwei@example.com")
    await lost.send("000000" if code != "000000" else "111111")
    await lost.send("New_pass_456")
    assert "验证码不正确" in lost.text
    assert (await harness.conversation(lost))[0] == "reset.code"
    await lost.send(code)
    await lost.send("weak")
    assert "密码不少于 8 位" in lost.text
    assert (await harness.conversation(lost))[0] == "reset.password"
    await lost.send("New_pass_456")
    assert "密码已重置" in lost.text
    data = (await harness.conversation(lost))[1]
    assert "reset_code" not in data  # the code is dropped once used
    # The old chat was signed out by the reset (R10).
    await owner.command("start")
    await owner.press("通行证账号")
    assert owner.has_button("登录")


async def test_r10_reset_for_an_unknown_address_says_the_same(harness: Harness) -> None:
    chat = harness.chat()
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("忘记密码")
    await chat.send("ghost@example.com")
    assert "如果 ghost@example.com 是已注册的通行证" in chat.text
    assert not harness.mailer.to("ghost@example.com")
