"""WeChat pushes: signatures, safe mode, passive replies, the 5-second rule and its retries."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.wechat import xmlmsg
from emulator.wechat_client import WeChatEmulatorClient
from tests.emulator.wechat_bot import FakeBot

ERROR_TEXT = "该公众号暂时无法提供服务，请稍后再试"


async def connect(
    wx: WeChatEmulatorClient, bot: FakeBot, mode: str = "plain", **settings: Any
) -> dict[str, Any]:
    account = await wx.configure(url=bot.url, mode=mode, **settings)
    bot.token = account["token"]
    bot.appid = account["appid"]
    bot.aes_key = account["encoding_aes_key"]
    return account


async def test_url_check_echoes_only_with_the_right_signature(
    wx: WeChatEmulatorClient, fake_bot: FakeBot
) -> None:
    await connect(wx, fake_bot)
    good = await wx.verify_url()
    assert good["ok"] is True and good["body"] == good["echostr"]
    forged = await wx.verify_url(signature="0" * 40)
    assert forged["ok"] is False and forged["status"] == 403


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_text_push_is_signed_and_success_means_no_reply(
    wx: WeChatEmulatorClient, fake_bot: FakeBot, mode: str
) -> None:
    account = await connect(wx, fake_bot, mode)
    report = await wx.send_text("o_student_1", "报名")
    assert report["outcome"] == "no_reply" and report["attempts"] == 1
    assert fake_bot.rejected == []
    packet = fake_bot.packets[0]
    assert packet["MsgType"] == "text" and packet["Content"] == "报名"
    assert packet["FromUserName"] == "o_student_1"
    assert packet["ToUserName"] == account["original_id"]
    assert packet["MsgId"] == str(report["packet"]["MsgId"])
    query = fake_bot.queries[0]
    assert query["openid"] == "o_student_1"
    if mode == "safe":
        assert query["encrypt_type"] == "aes" and "msg_signature" in query
        outer = xmlmsg.parse(fake_bot.bodies[0])
        assert set(outer) == {"ToUserName", "Encrypt"}  # 安全模式: only ciphertext
    else:
        assert "encrypt_type" not in query and "Content" in xmlmsg.parse(fake_bot.bodies[0])


async def test_empty_body_also_means_no_reply(wx: WeChatEmulatorClient, fake_bot: FakeBot) -> None:
    await connect(wx, fake_bot)
    fake_bot.answer = lambda packet: ""
    report = await wx.send_text("o_a", "hi")
    assert report["outcome"] == "no_reply"
    assert [e["direction"] for e in await wx.transcript("o_a")] == ["user"]


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_passive_reply_reaches_the_user(
    wx: WeChatEmulatorClient, fake_bot: FakeBot, mode: str
) -> None:
    await connect(wx, fake_bot, mode)
    fake_bot.answer = lambda packet: fake_bot.passive_text(packet, "你好，请输入姓名")
    report = await wx.send_text("o_a", "报名")
    assert report["outcome"] == "reply"
    assert report["reply"] == {"kind": "text", "text": "你好，请输入姓名"}
    entries = await wx.transcript("o_a")
    assert [(e["direction"], e["via"], e.get("text")) for e in entries] == [
        ("user", "user", "报名"),
        ("bot", "passive", "你好，请输入姓名"),
    ]


async def test_safe_mode_refuses_a_plaintext_reply(
    wx: WeChatEmulatorClient, fake_bot: FakeBot
) -> None:
    await connect(wx, fake_bot, "safe")
    fake_bot.answer = lambda packet: fake_bot.passive_text(packet, "明文", encrypt=False)
    report = await wx.send_text("o_a", "hi")
    assert report["outcome"] == "error" and "lacks" in report["error"]
    assert (await wx.transcript("o_a"))[-1]["text"] == ERROR_TEXT


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (lambda bot, p: '{"msgtype": "text"}', "not XML"),  # JSON: the documented example
        (lambda bot, p: "<xml><ToUserName>x</ToUserName></xml>", "ToUserName"),
        (lambda bot, p: bot.passive_text(p, "one") + bot.passive_text(p, "two"), "not XML"),
        (
            lambda bot, p: bot.passive_text({**p, "FromUserName": "o_other"}, "wrong user"),
            "ToUserName",
        ),
        (
            lambda bot, p: bot.passive_text({**p, "ToUserName": "gh_other"}, "wrong account"),
            "FromUserName",
        ),
    ],
)
async def test_malformed_reply_shows_the_system_notice(
    wx: WeChatEmulatorClient, fake_bot: FakeBot, answer: Any, why: str
) -> None:
    await connect(wx, fake_bot)
    fake_bot.answer = lambda packet: answer(fake_bot, packet)
    report = await wx.send_text("o_a", "hi")
    assert report["outcome"] == "error" and report["attempts"] == 1
    assert why in report["error"]
    last = (await wx.transcript("o_a"))[-1]
    assert (last["direction"], last["kind"], last["text"]) == ("system", "error", ERROR_TEXT)


async def test_safe_mode_reply_for_another_appid_is_refused(
    wx: WeChatEmulatorClient, fake_bot: FakeBot
) -> None:
    await connect(wx, fake_bot, "safe")

    def other_appid(packet: dict[str, Any]) -> str:
        fake_bot.appid, real = "wx_someone_else", fake_bot.appid
        try:
            return fake_bot.passive_text(packet, "hi")
        finally:
            fake_bot.appid = real

    fake_bot.answer = other_appid
    report = await wx.send_text("o_a", "hi")
    assert report["outcome"] == "error" and "appid" in report["error"]


async def test_three_tries_when_the_bot_never_answers_in_time(
    wx: WeChatEmulatorClient, fake_bot: FakeBot
) -> None:
    # The 5-second deadline, shortened: each try is cut off, the same push sent again,
    # three tries in all ("总共重试三次"), then the user sees the notice.
    await connect(wx, fake_bot, push_timeout=0.3)
    fake_bot.delays = [1.0, 1.0, 1.0]
    report = await wx.send_text("o_a", "hi")
    assert report["outcome"] == "error" and report["attempts"] == 3
    assert [t["outcome"] for t in report["tries"]] == ["timeout"] * 3
    assert len(fake_bot.packets) == 3
    assert len({p["MsgId"] for p in fake_bot.packets}) == 1  # the same message each time
    assert (await wx.transcript("o_a"))[-1]["text"] == ERROR_TEXT


async def test_a_late_first_answer_is_retried_and_the_second_counts(
    wx: WeChatEmulatorClient, fake_bot: FakeBot
) -> None:
    await connect(wx, fake_bot, push_timeout=0.3)
    fake_bot.delays = [1.0]
    fake_bot.answer = lambda packet: fake_bot.passive_text(packet, "收到")
    report = await wx.send_text("o_a", "hi")
    assert report["attempts"] == 2 and report["outcome"] == "reply"
    texts = [e.get("text") for e in await wx.transcript("o_a")]
    assert texts == ["hi", "收到"]  # one reply, no notice


async def test_click_and_subscribe_events(wx: WeChatEmulatorClient, fake_bot: FakeBot) -> None:
    await connect(wx, fake_bot)
    report = await wx.subscribe("o_new", scene="campus1")
    assert fake_bot.packets[-1]["Event"] == "subscribe"
    assert fake_bot.packets[-1]["EventKey"] == "qrscene_campus1"
    assert report["outcome"] == "no_reply"
    with pytest.raises(Exception, match="no button"):
        await wx.click("o_new", "REGISTER")  # no custom menu yet
    await wx.click("o_new", "REGISTER", force=True)
    packet = fake_bot.packets[-1]
    assert (packet["MsgType"], packet["Event"], packet["EventKey"]) == (
        "event",
        "CLICK",
        "REGISTER",
    )


async def test_http_error_and_refused_connection(
    wx: WeChatEmulatorClient, fake_bot: FakeBot
) -> None:
    await connect(wx, fake_bot, push_timeout=0.5)
    fake_bot.token = "not-the-account-token"  # the bot refuses every signature with 403
    report = await wx.send_text("o_a", "hi")
    assert report["outcome"] == "error" and report["error"] == "HTTP 403"
    assert report["attempts"] == 1
    await wx.update_account(url="http://127.0.0.1:9/nothing-listens-here")
    report = await wx.send_text("o_a", "hi")
    assert report["attempts"] == 3 and report["outcome"] == "error"
    assert {t["outcome"] for t in report["tries"]} == {"connection error"}


async def test_compat_mode_sends_both_and_takes_either_reply(
    wx: WeChatEmulatorClient, fake_bot: FakeBot
) -> None:
    await connect(wx, fake_bot, "compat")
    fake_bot.answer = lambda packet: fake_bot.passive_text(packet, "明文回复", encrypt=False)
    report = await wx.send_text("o_a", "hi")
    outer = xmlmsg.parse(fake_bot.bodies[0])
    assert outer["Content"] == "hi" and "Encrypt" in outer
    assert fake_bot.queries[0]["encrypt_type"] == "aes"
    assert report["reply"] == {"kind": "text", "text": "明文回复"}
    fake_bot.answer = lambda packet: fake_bot.passive_text(packet, "密文回复")
    assert (await wx.send_text("o_a", "hi"))["reply"] == {"kind": "text", "text": "密文回复"}


async def test_defaults_are_the_documented_five_seconds_and_three_tries_and_no_fixed_secret(
    wx: WeChatEmulatorClient,
) -> None:
    first = await wx.configure(mode="safe")
    assert (first["push_timeout"], first["push_tries"]) == (5.0, 3)
    assert len(first["encoding_aes_key"]) == 43
    second = await wx.configure(mode="safe")
    for field in ("secret", "token", "encoding_aes_key"):
        assert first[field] != second[field]  # random each time, never a public default
    with pytest.raises(Exception, match="43"):
        await wx.configure(mode="safe", encoding_aes_key="too-short")
