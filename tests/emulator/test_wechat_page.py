"""The WeChat chat page is served, and the control calls it makes work end to end."""

from __future__ import annotations

import aiohttp

from emulator.server import RunningEmulator
from emulator.wechat_client import WeChatEmulatorClient
from tests.emulator.wechat_bot import FakeBot


async def test_page_and_its_assets_are_served(emulator: RunningEmulator) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{emulator.url}/wechat") as resp:
            html = await resp.text()
            assert resp.status == 200 and "/static/wechat.js" in html
        for asset in ("wechat.js", "wechat.css"):
            async with session.get(f"{emulator.url}/static/{asset}") as resp:
                assert resp.status == 200


async def test_page_state_shows_account_menu_and_users(
    wx: WeChatEmulatorClient, fake_bot: FakeBot
) -> None:
    assert (await wx.page_state())["account"] is None
    account = await wx.configure(url=fake_bot.url, name="CET 报名助手")
    fake_bot.token = account["token"]
    report = await wx.subscribe(nickname="小明")  # what the page's 新用户 button does
    assert report["openid"].startswith("o") and len(report["openid"]) == 28
    page = await wx.page_state()
    assert page["account"]["name"] == "CET 报名助手"
    assert page["users"] == [{"openid": report["openid"], "nickname": "小明", "subscribed": True}]


async def test_unsubscribe_reply_is_not_shown(wx: WeChatEmulatorClient, fake_bot: FakeBot) -> None:
    account = await wx.configure(url=fake_bot.url)
    fake_bot.token = account["token"]
    fake_bot.answer = lambda packet: fake_bot.passive_text(packet, "再见")
    await wx.subscribe("o_a")
    report = await wx.unsubscribe("o_a")
    assert report["outcome"] == "reply"  # the bot answered, but the user has left
    assert [e["kind"] for e in await wx.transcript("o_a")] == ["event", "text", "event"]
