"""The demo stack in-process (`cetbot demo`): a candidate gets the pay link in the chat,
presses Pay on the sandbox page, and the bot's own callback endpoint marks the entry paid;
the worker inside the demo tells the candidate, and the overview shows it paid."""

from __future__ import annotations

import asyncio
import io
import re
import socket
from pathlib import Path

import aiohttp
import pytest
from rich.console import Console

from bot.app import BotApp
from cetbot.demo import DEMO_TOKEN, run_demo
from emulator.client import EmulatorClient
from foundation.settings import Settings
from outgoing.mailer import MailboxMailer
from tests.e2e.conftest import Chat, real_engine_available
from tests.e2e.test_main_path import USER, _walk_main_path
from tests.worker.helpers import outbox_kinds

pytestmark = pytest.mark.skipif(
    not real_engine_available(), reason="bot/conversation/engine.py not there"
)


def free_port() -> int:
    # The sandbox's address is part of the pay links, so it needs a known port up front.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def bot_texts(em: EmulatorClient) -> list[str]:
    return [m["text"] or "" for m in await em.transcript(USER) if m["sender"] == "bot"]


async def pay_on_the_sandbox_page(link: str) -> str:
    """Opens the page as a browser would, then submits its Pay form."""
    async with aiohttp.ClientSession() as http:
        async with http.get(link) as resp:
            assert resp.status == 200
            page = await resp.text()
        action = re.search(r"<form method='post' action='([^']*/pay)\?", page)
        assert action is not None, page
        base = link.split("/pay/")[0]
        async with http.post(base + action.group(1), data={"action": "pay"}) as resp:
            assert resp.status == 200
            return await resp.text()


async def test_pay_on_the_sandbox_page_is_seen_in_the_chat(tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
        payment_sandbox_url=f"http://127.0.0.1:{free_port()}",
        data_dir=tmp_path / "data",
    )
    started: asyncio.Future[BotApp] = asyncio.get_running_loop().create_future()
    demo = asyncio.create_task(
        run_demo(
            settings,
            host="127.0.0.1",
            port=free_port(),
            console=Console(file=io.StringIO(), width=120),
            locale="zh",
            ready=started.set_result,
        )
    )
    app = await asyncio.wait_for(asyncio.shield(started), 60)
    assert app.worker is not None, "the demo runs its worker"
    assert isinstance(app.mailer, MailboxMailer)
    try:
        assert app.settings.telegram_api_url is not None
        async with EmulatorClient(app.settings.telegram_api_url, token=DEMO_TOKEN) as em:
            chat = Chat(em, app, USER)
            await _walk_main_path(chat, app.mailer, em)
            last = await chat.last()
            [link] = [b["url"] for row in last.get("keyboard") or [] for b in row if b.get("url")]
            assert link.startswith(settings.payment_sandbox_url), link

            page = await pay_on_the_sandbox_page(link)
            assert "支付成功" in page, page

            # The callback queued the notice; the demo's worker sends it through the adapter.
            for _ in range(100):
                if any("支付成功" in text for text in await bot_texts(em)):
                    break
                await asyncio.sleep(0.1)
            notices = [text for text in await bot_texts(em) if "支付成功" in text]
            assert len(notices) == 1, await bot_texts(em)
            assert "payment-paid" in await outbox_kinds(app.database)

            await chat.command("start")
            await chat.press_action("ov")
            assert "已支付" in await chat.last_text(), await chat.last_text()
    finally:
        app.request_stop()
        await asyncio.wait_for(demo, 30)
