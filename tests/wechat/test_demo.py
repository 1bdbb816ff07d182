"""`cetbot demo --platform wechat`: the emulator's official account in safe mode pushing to
the bot on the WeChat platform, the demo's templates registered, the worker running, the
custom menu set; a new follower is welcomed and the bot's server serves ticket links."""

from __future__ import annotations

import asyncio
import io
import socket
from pathlib import Path

import aiohttp
from rich.console import Console

from bot.app import BotApp
from bot.handlers.wechat.templates import NOTICE_TEMPLATES
from cetbot.demo import DEMO_WECHAT_TEMPLATES, run_wechat_demo
from emulator.wechat_client import WeChatEmulatorClient
from foundation.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_wechat_demo_serves_a_follower_and_ticket_links(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
        payment_sandbox_url=f"http://127.0.0.1:{free_port()}",
        data_dir=tmp_path / "data",
    )
    port = free_port()
    out = io.StringIO()
    started: asyncio.Future[BotApp] = asyncio.get_running_loop().create_future()
    demo = asyncio.create_task(
        run_wechat_demo(
            settings,
            host="127.0.0.1",
            port=port,
            console=Console(file=out, width=120),
            locale="zh",
            ready=started.set_result,
        )
    )
    app = await asyncio.wait_for(asyncio.shield(started), 60)
    try:
        assert app.platform == "wechat" and app.worker is not None
        assert f"http://127.0.0.1:{port}/wechat" in out.getvalue()
        async with WeChatEmulatorClient(f"http://127.0.0.1:{port}") as wx:
            account = await wx.account()
            assert account is not None and account["mode"] == "safe"
            ids = {tpl["template_id"] for tpl in account["templates"]}
            assert ids == set(DEMO_WECHAT_TEMPLATES.values())
            assert len(ids) == len({tpl.setting for tpl in NOTICE_TEMPLATES.values()})
            assert await wx.menu(), "the custom menu is set"
            await wx.subscribe("o_demo_follower_0000000001")
            [welcome] = await wx.wait_for_bot("o_demo_follower_0000000001", 1, 15)
            assert "CET" in (welcome.get("head_content") or welcome.get("text") or "")
        public = app.settings.public_url
        assert public is not None
        async with aiohttp.ClientSession() as http:
            async with http.get(
                f"{public}/tickets/1.zh.9999999999.AAAAAAAAAAAAAAAAAAAAAA.pdf"
            ) as r:
                assert r.status == 403
    finally:
        app.request_stop()
        await asyncio.wait_for(demo, 30)
