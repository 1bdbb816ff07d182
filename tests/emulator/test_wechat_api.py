"""The WeChat API at the root path over real HTTP: token, custom messages, quota, templates,
media, menu; every failure HTTP 200 with {"errcode", "errmsg"}."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from emulator.server import RunningEmulator
from emulator.wechat_client import WeChatEmulatorClient
from tests.emulator.wechat_bot import FakeBot

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class Api:
    """Calls /cgi-bin/... as the bot would, with the current access token."""

    def __init__(self, base: str, session: aiohttp.ClientSession) -> None:
        self.base = base
        self.session = session
        self.token = ""

    async def get(self, path: str, **params: Any) -> dict[str, Any]:
        async with self.session.get(f"{self.base}/cgi-bin/{path}", params=params) as resp:
            assert resp.status == 200
            return await resp.json(content_type=None)

    async def post(self, path: str, body: Any = None, *, raw: bytes | None = None) -> Any:
        url = f"{self.base}/cgi-bin/{path}"
        data = raw if raw is not None else None
        kwargs: dict[str, Any] = {"params": {"access_token": self.token}}
        if data is not None:
            kwargs["data"] = data
        else:
            kwargs["json"] = body
        async with self.session.post(url, **kwargs) as resp:
            assert resp.status == 200
            return await resp.json(content_type=None)

    async def login(self, account: dict[str, Any]) -> dict[str, Any]:
        got = await self.get(
            "token",
            grant_type="client_credential",
            appid=account["appid"],
            secret=account["secret"],
        )
        self.token = got.get("access_token", "")
        return got

    async def send_text(self, openid: str, text: str) -> dict[str, Any]:
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        return await self.post("message/custom/send", body)


@pytest.fixture
async def api(emulator: RunningEmulator) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(emulator.url, session)


@pytest.fixture
async def account(wx: WeChatEmulatorClient, fake_bot: FakeBot) -> dict[str, Any]:
    acc = await wx.configure(
        url=fake_bot.url,
        templates=[
            {
                "template_id": "TPL_PAID",
                "title": "报名成功通知",
                "content": "{{first.DATA}}\n考生：{{keyword1.DATA}}",
            }
        ],
    )
    fake_bot.token = acc["token"]
    return acc


def code(answer: dict[str, Any]) -> int:
    return answer.get("errcode", 0)


# --- access token ---------------------------------------------------------------------------


async def test_token_is_issued_for_the_right_credentials_only(
    api: Api, account: dict[str, Any]
) -> None:
    got = await api.login(account)
    assert got["expires_in"] == 7200 and len(got["access_token"]) > 20
    wrong_secret = await api.get(
        "token", grant_type="client_credential", appid=account["appid"], secret="nope"
    )
    assert code(wrong_secret) == 40001 and "errmsg" in wrong_secret
    wrong_appid = await api.get(
        "token", grant_type="client_credential", appid="wx0000", secret=account["secret"]
    )
    assert code(wrong_appid) == 40013
    bad_grant = await api.get(
        "token", grant_type="password", appid=account["appid"], secret=account["secret"]
    )
    assert code(bad_grant) == 40002


async def test_token_daily_limit_answers_45009(wx: WeChatEmulatorClient, api: Api) -> None:
    account = await wx.configure(token_daily_limit=2)
    assert "access_token" in await api.login(account)
    assert "access_token" in await api.login(account)
    assert code(await api.login(account)) == 45009
    assert (await wx.tokens())["calls_today"] == 2


async def test_token_expiry_invalidation_and_refresh_overlap(
    wx: WeChatEmulatorClient, api: Api, account: dict[str, Any]
) -> None:
    await wx.send_text("o_a", "hi")
    await api.login(account)
    assert code(await api.send_text("o_a", "1")) == 0
    await wx.advance_clock(seconds=7201)
    assert code(await api.send_text("o_a", "2")) == 42001  # expired
    await api.login(account)
    old = api.token
    await api.login(account)  # a refresh: the old token still works for 5 minutes
    api.token = old
    assert code(await api.send_text("o_a", "3")) == 0
    await wx.advance_clock(seconds=301)
    assert code(await api.send_text("o_a", "4")) == 40001  # "not latest"
    await api.login(account)
    await wx.invalidate_token()
    assert code(await api.send_text("o_a", "5")) == 40001
    api.token = ""
    assert code(await api.send_text("o_a", "6")) == 41001


# --- custom messages ------------------------------------------------------------------------


async def test_custom_text_and_msgmenu_land_in_the_transcript(
    wx: WeChatEmulatorClient, api: Api, account: dict[str, Any], fake_bot: FakeBot
) -> None:
    await wx.send_text("o_a", "报名")
    await api.login(account)
    assert await api.send_text("o_a", "请选择考试") == {"errcode": 0, "errmsg": "ok"}
    menu = {
        "touser": "o_a",
        "msgtype": "msgmenu",
        "msgmenu": {
            "head_content": "请选择级别",
            "list": [{"id": "cet4", "content": "四级"}, {"id": "cet6", "content": "六级"}],
            "tail_content": "点击选项即可",
        },
    }
    assert code(await api.post("message/custom/send", menu)) == 0
    got = await wx.wait_for_bot("o_a", 2)
    assert [(e["kind"], e["via"]) for e in got] == [("text", "custom"), ("msgmenu", "custom")]
    assert got[1]["options"] == menu["msgmenu"]["list"]
    report = await wx.choose("o_a", "cet6")
    packet = fake_bot.packets[-1]
    assert (packet["MsgType"], packet["Content"]) == ("text", "六级")
    assert packet["bizmsgmenuid"] == "cet6"
    assert report["outcome"] == "no_reply"
    with pytest.raises(Exception, match="no msgmenu option"):
        await wx.choose("o_a", "cet9")


async def test_msgmenu_needs_an_account_that_has_it(wx: WeChatEmulatorClient, api: Api) -> None:
    account = await wx.configure(msgmenu=False)
    await wx.send_text("o_a", "hi")
    await api.login(account)
    body = {
        "touser": "o_a",
        "msgtype": "msgmenu",
        "msgmenu": {"head_content": "?", "list": [{"id": "1", "content": "a"}]},
    }
    assert code(await api.post("message/custom/send", body)) == 40200


async def test_custom_send_checks_the_request(
    wx: WeChatEmulatorClient, api: Api, account: dict[str, Any]
) -> None:
    await wx.send_text("o_a", "hi")
    await api.login(account)
    assert code(await api.post("message/custom/send", raw=b"")) == 44002
    assert code(await api.post("message/custom/send", raw=b"{not json")) == 47001
    assert code(await api.send_text("o_nobody", "x")) == 40003
    assert code(await api.send_text("o_a", "")) == 44004
    body = {"touser": "o_a", "msgtype": "hologram", "hologram": {}}
    assert code(await api.post("message/custom/send", body)) == 40008
    body = {"touser": "o_a", "msgtype": "image", "image": {}}
    assert code(await api.post("message/custom/send", body)) == 41006
    body = {"touser": "o_a", "msgtype": "image", "image": {"media_id": "nope"}}
    assert code(await api.post("message/custom/send", body)) == 40007
    # None of the refused calls used the user's quota: five still go through.
    for i in range(5):
        assert code(await api.send_text("o_a", str(i))) == 0


async def test_quota_five_per_user_message_then_45047(
    wx: WeChatEmulatorClient, api: Api, account: dict[str, Any]
) -> None:
    await wx.send_text("o_a", "hi")
    await api.login(account)
    codes = [code(await api.send_text("o_a", str(i))) for i in range(6)]
    assert codes == [0, 0, 0, 0, 0, 45047]
    await wx.send_text("o_a", "again")  # a new message restarts the grant
    assert code(await api.send_text("o_a", "7")) == 0


async def test_48_hour_window_then_45015(
    wx: WeChatEmulatorClient, api: Api, account: dict[str, Any]
) -> None:
    await wx.send_text("o_a", "hi")
    await api.login(account)
    await wx.advance_clock(hours=47.9)
    await api.login(account)  # the token would have expired meanwhile
    assert code(await api.send_text("o_a", "still open")) == 0
    await wx.advance_clock(hours=0.2)
    await api.login(account)
    assert code(await api.send_text("o_a", "too late")) == 45015


async def test_click_grants_three_messages_for_one_minute(
    wx: WeChatEmulatorClient, api: Api, account: dict[str, Any]
) -> None:
    await wx.subscribe("o_a")
    await wx.close_window("o_a")
    await wx.click("o_a", "ANY", force=True)
    await api.login(account)
    assert [code(await api.send_text("o_a", str(i))) for i in range(4)] == [0, 0, 0, 45047]
    await wx.click("o_a", "ANY", force=True)
    await wx.advance_clock(seconds=61)
    assert code(await api.send_text("o_a", "late")) == 45015


async def test_injected_quota_and_window_faults(
    wx: WeChatEmulatorClient, api: Api, account: dict[str, Any]
) -> None:
    await wx.send_text("o_a", "hi")
    await api.login(account)
    await wx.use_up_quota("o_a")
    assert code(await api.send_text("o_a", "x")) == 45047
    await wx.send_text("o_a", "hi again")
    await wx.close_window("o_a")
    assert code(await api.send_text("o_a", "x")) == 45015


async def test_unsubscribed_user_gets_nothing(
    wx: WeChatEmulatorClient, api: Api, account: dict[str, Any]
) -> None:
    await wx.send_text("o_a", "hi")
    await wx.unsubscribe("o_a")
    await api.login(account)
    assert code(await api.send_text("o_a", "x")) == 45015
    body = {"touser": "o_a", "template_id": "TPL_PAID", "data": {}}
    body["data"] = {"first": {"value": "a"}, "keyword1": {"value": "b"}}
    assert code(await api.post("message/template/send", body)) == 43004


async def test_5xx_and_busy_faults(
    wx: WeChatEmulatorClient, api: Api, account: dict[str, Any], emulator: RunningEmulator
) -> None:
    await wx.send_text("o_a", "hi")
    await api.login(account)
    await wx.fail_api("message/custom/send", status=502)
    async with api.session.post(
        f"{emulator.url}/cgi-bin/message/custom/send",
        params={"access_token": api.token},
        json={"touser": "o_a", "msgtype": "text", "text": {"content": "x"}},
    ) as resp:
        assert resp.status == 502
    await wx.system_busy("message/custom/send")
    assert code(await api.send_text("o_a", "x")) == -1
    assert code(await api.send_text("o_a", "x")) == 0
    calls = await wx.api_calls("message/custom/send")
    assert [c["errcode"] for c in calls] == [None, -1, 0]


# --- templates ------------------------------------------------------------------------------


async def test_template_send_needs_a_registered_id_and_its_keys(
    wx: WeChatEmulatorClient, api: Api, account: dict[str, Any]
) -> None:
    await wx.subscribe("o_a")
    await wx.advance_clock(hours=100)  # templates do not depend on the 48-hour window
    await api.login(account)
    data = {"first": {"value": "您已报名成功"}, "keyword1": {"value": "张三"}}
    body = {"touser": "o_a", "template_id": "TPL_PAID", "url": "https://x.test/e/1", "data": data}
    sent = await api.post("message/template/send", body)
    assert sent["errcode"] == 0 and sent["errmsg"] == "ok" and isinstance(sent["msgid"], int)
    card = (await wx.wait_for_bot("o_a"))[0]
    assert (card["kind"], card["via"], card["title"]) == ("template", "template", "报名成功通知")
    assert card["rendered"] == "您已报名成功\n考生：张三" and card["msgid"] == sent["msgid"]
    bad = await api.post("message/template/send", {**body, "template_id": "TPL_NOPE"})
    assert code(bad) == 40037
    short = await api.post("message/template/send", {**body, "data": {"first": {"value": "x"}}})
    assert code(short) == 47003


# --- media ----------------------------------------------------------------------------------


async def upload(
    api: Api, mtype: str, data: bytes, filename: str, field: str = "media"
) -> dict[str, Any]:
    form = aiohttp.FormData()
    form.add_field(field, data, filename=filename, content_type="image/png")
    async with api.session.post(
        f"{api.base}/cgi-bin/media/upload",
        params={"access_token": api.token, "type": mtype},
        data=form,
    ) as resp:
        assert resp.status == 200
        return await resp.json(content_type=None)


async def test_media_upload_then_custom_image_until_three_days(
    wx: WeChatEmulatorClient, api: Api, account: dict[str, Any]
) -> None:
    await api.login(account)
    got = await upload(api, "image", PNG, "ticket.png")
    assert got["type"] == "image" and got["media_id"] and isinstance(got["created_at"], int)
    assert await wx.download_media(got["media_id"]) == PNG
    await wx.send_text("o_a", "准考证")
    body = {"touser": "o_a", "msgtype": "image", "image": {"media_id": got["media_id"]}}
    assert code(await api.post("message/custom/send", body)) == 0
    assert (await wx.wait_for_bot("o_a"))[0]["media_id"] == got["media_id"]
    await wx.advance_clock(hours=72)
    await api.login(account)
    await wx.send_text("o_a", "again")
    assert code(await api.post("message/custom/send", body)) == 40007


async def test_media_upload_limits(api: Api, account: dict[str, Any]) -> None:
    await api.login(account)
    assert code(await upload(api, "sticker", PNG, "a.png")) == 40004
    assert code(await upload(api, "image", PNG, "a.png", field="file")) == 41005
    assert code(await upload(api, "image", PNG, "a.bmp")) == 40005
    assert "media_id" in await upload(api, "image", b"x" * (2 * 1024 * 1024), "a.png")
    assert code(await upload(api, "image", b"x" * (2 * 1024 * 1024 + 1), "a.png")) == 40009
    assert code(await upload(api, "thumb", b"x" * (64 * 1024 + 1), "a.jpg")) == 40012


# --- custom menu ----------------------------------------------------------------------------


async def test_menu_create_get_and_limits(
    wx: WeChatEmulatorClient, api: Api, account: dict[str, Any]
) -> None:
    await api.login(account)
    assert code(await api.get("menu/get", access_token=api.token)) == 46003
    menu = {
        "button": [
            {"type": "click", "name": "报名", "key": "REGISTER"},
            {
                "name": "我的",
                "sub_button": [
                    {"type": "click", "name": "我的报名", "key": "MY_ENTRIES"},
                    {"type": "view", "name": "考试须知", "url": "https://example.test/rules"},
                ],
            },
        ]
    }
    assert code(await api.post("menu/create", menu)) == 0
    got = await api.get("menu/get", access_token=api.token)
    assert [b["name"] for b in got["menu"]["button"]] == ["报名", "我的"]
    assert got["menu"]["button"][1]["sub_button"][0]["key"] == "MY_ENTRIES"
    assert (await wx.menu())[0]["key"] == "REGISTER"
    too_many = {"button": [{"type": "click", "name": str(i), "key": str(i)} for i in range(4)]}
    assert code(await api.post("menu/create", too_many)) == 40016
    long_name = {"button": [{"type": "click", "name": "考试报名入口", "key": "K"}]}  # 18 bytes
    assert code(await api.post("menu/create", long_name)) == 40018
    subs = [{"type": "click", "name": str(i), "key": str(i)} for i in range(6)]
    assert code(await api.post("menu/create", {"button": [{"name": "x", "sub_button": subs}]})) == (
        40023
    )
    no_key = {"button": [{"type": "click", "name": "x"}]}
    assert code(await api.post("menu/create", no_key)) == 40019
    bad_type = {"button": [{"type": "teleport", "name": "x", "key": "k"}]}
    assert code(await api.post("menu/create", bad_type)) == 40017
    assert (await wx.menu())[0]["key"] == "REGISTER"  # refused menus changed nothing


async def test_bizmsgmenu_link_in_a_text_is_an_option_too(
    wx: WeChatEmulatorClient, api: Api, account: dict[str, Any], fake_bot: FakeBot
) -> None:
    await wx.send_text("o_a", "支付")
    await api.login(account)
    link = '<a href="weixin://bizmsgmenu?msgmenucontent=稍后支付&msgmenuid=later">稍后支付</a>'
    assert code(await api.send_text("o_a", f"报名费 30 元。\n{link}")) == 0
    await wx.choose("o_a", "later")
    packet = fake_bot.packets[-1]
    assert (packet["Content"], packet["bizmsgmenuid"]) == ("稍后支付", "later")


async def test_stable_token_is_isolated_and_stays_the_same_until_near_expiry(
    wx: WeChatEmulatorClient, api: Api, account: dict[str, Any]
) -> None:
    async def stable(force: bool = False) -> dict[str, Any]:
        body = {
            "grant_type": "client_credential",
            "appid": account["appid"],
            "secret": account["secret"],
            "force_refresh": force,
        }
        async with api.session.post(f"{api.base}/cgi-bin/stable_token", json=body) as resp:
            return await resp.json(content_type=None)

    await wx.send_text("o_a", "hi")
    first = await stable()
    assert first["expires_in"] == 7200
    assert (await stable())["access_token"] == first["access_token"]
    await api.login(account)  # a getAccessToken token does not touch the stable one
    api.token = first["access_token"]
    assert code(await api.send_text("o_a", "1")) == 0
    await wx.advance_clock(seconds=7200 - 299)
    renewed = await stable()  # in the last 5 minutes the normal mode renews
    assert renewed["access_token"] != first["access_token"]
    assert code(await api.send_text("o_a", "2")) == 0  # the old one still works meanwhile
    forced = await stable(force=True)
    assert forced["access_token"] != renewed["access_token"]
    api.token = renewed["access_token"]
    assert code(await api.send_text("o_a", "3")) == 40001  # a forced refresh kills it at once
    assert (await stable(force=True))["access_token"] == forced["access_token"]  # < 30 s apart
    wrong = {"grant_type": "client_credential", "appid": account["appid"], "secret": "x"}
    async with api.session.post(f"{api.base}/cgi-bin/stable_token", json=wrong) as resp:
        assert code(await resp.json(content_type=None)) == 40001


async def test_user_photo_is_pushed_and_fetchable_for_three_days(
    wx: WeChatEmulatorClient, api: Api, account: dict[str, Any], fake_bot: FakeBot
) -> None:
    await wx.send_image("o_a", PNG)
    packet = fake_bot.packets[-1]
    assert packet["MsgType"] == "image" and packet["MsgId"] and packet["PicUrl"]
    await api.login(account)
    url = f"{api.base}/cgi-bin/media/get"
    params = {"access_token": api.token, "media_id": packet["MediaId"]}
    async with api.session.get(url, params=params) as resp:
        assert await resp.read() == PNG
    async with api.session.get(packet["PicUrl"]) as resp:
        assert await resp.read() == PNG
    await wx.advance_clock(hours=72)
    await api.login(account)
    params["access_token"] = api.token
    assert code(await api.get("media/get", **params)) == 40007
