"""Writes docs/transcript-wechat-zh.md: one full registration in the WeChat emulator.

Run: .venv/bin/python scripts/transcript_wechat.py [--out docs/transcript-wechat-zh.md]

Drives the real stack in this process, as `cetbot demo --platform wechat` does: the
emulator's official account in safe mode with menu messages, the bot on the WeChat
platform (adapter, runner, conversations) on a fresh SQLite file with the example session,
the clock frozen at the demo's "today". The first demo candidate follows the account,
signs up (the code read from the mailbox), looks up their record, registers CET4, opens
the pay link, is paid (the gateway's callback applied as the payments worker would), and
prints the ticket once printing opens: a picture and a link. Every message is shown as
the phone shows it, with how it came (passive reply, customer-service message); the
password and the ID number are masked.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import socket
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backoffice.importing import parse_session_toml  # noqa: E402
from bot.app import create_wechat_app  # noqa: E402
from bot.handlers.wechat.adapter import PushClock  # noqa: E402
from cetbot.demo import DEMO_NOW, SESSION_FILE, seed_example_session  # noqa: E402
from emulator.server import start_emulator  # noqa: E402
from emulator.wechat_client import bot_settings  # noqa: E402
from foundation.clock import FrozenClock  # noqa: E402
from foundation.settings import Settings  # noqa: E402
from outgoing.mailer import MailboxMailer  # noqa: E402
from registration import payments  # noqa: E402
from registration.gateways.base import PaymentState  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import Database  # noqa: E402

OPENID = "oTranscript000000000000001"
EMAIL = "zhangwei@example.com"
PASSWORD = "Cet2026_pass!"
NAME, ID_NUMBER = "张伟", "110108200503140231"
HIDDEN = {PASSWORD: "••••••••", ID_NUMBER: ID_NUMBER[:6] + "••••••••" + ID_NUMBER[-4:]}
VIA = {"passive": "被动回复", "custom": "客服消息", "template": "模板消息"}


def _mask(text: str) -> str:
    for secret, shown in HIDDEN.items():
        text = text.replace(secret, shown)
    return text


def _quote(text: str) -> list[str]:
    return [f"> {line}".rstrip() for line in _mask(text).split("\n")]


def _render(entry: dict[str, Any], media: dict[str, bytes]) -> list[str]:
    if entry["direction"] == "user":
        if entry.get("bizmsgmenuid"):
            return [f"**考生**：点选〔{entry['text']}〕", ""]
        if entry["kind"] == "event":
            return [f"**考生**：（{entry.get('event', '')}）", ""]
        return [f"**考生**：{_mask(entry.get('text', ''))}", ""]
    if entry["direction"] == "system":
        return [f"**微信**：{entry.get('text', '')}", ""]
    via = VIA.get(entry.get("via", ""), entry.get("via", ""))
    lines = [f"**公众号**（{via}）：", ""]
    if entry["kind"] == "text":
        lines += _quote(entry["text"])
    elif entry["kind"] == "msgmenu":
        lines += _quote(entry.get("head_content", ""))
        lines += [">", "> " + " ".join(f"〔{o['content']}〕" for o in entry.get("options", []))]
        if entry.get("tail_content"):
            lines += [">", *_quote(entry["tail_content"])]
    elif entry["kind"] == "image":
        from io import BytesIO

        from PIL import Image

        data = media.get(entry["media_id"], b"")
        with Image.open(BytesIO(data)) as img:
            size = f"{img.width}×{img.height} PNG，{len(data) // 1024} KB"
        lines += [f"> ［图片：{size}］"]
    elif entry["kind"] == "template":
        lines += [f"> ［模板消息：{entry.get('title', '')}］", *_quote(entry.get("rendered") or "")]
    return [*lines, ""]


async def _run() -> tuple[str, int]:
    work = Path(tempfile.mkdtemp(prefix="cetbot-transcript-wx-"))
    url = f"sqlite+aiosqlite:///{work / 'transcript.db'}"
    await migrate.upgrade(url)
    db = Database(url)
    clock = FrozenClock(DEMO_NOW)
    push_clock = PushClock()
    await seed_example_session(db, DEMO_NOW.date())
    emulator = await start_emulator(port=0, default_token="1:x")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    mailer = MailboxMailer()
    try:
        async with emulator.wechat_client() as wx:
            account = await wx.configure(
                url=f"http://127.0.0.1:{port}/wechat",
                mode="safe",
                msgmenu=True,
                name="CET 报名服务号",
            )
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                **bot_settings(account, emulator.url, f"http://127.0.0.1:{port}/wechat"),
                public_url="https://bot.example.edu.cn",
                database_url=url,
                data_dir=work / "data",
                payment_secret="transcript-only-" + "x1y2z3" * 5,
                payment_sandbox_url="https://pay.example.edu.cn",
            )
            app = create_wechat_app(
                settings, clock=clock, mailer=mailer, database=db, push_clock=push_clock
            )
            await app.start_wechat("127.0.0.1", port)
            seq = 0

            async def answered(report: Any) -> None:
                nonlocal seq
                while True:  # a step's reply ends with its menu message
                    entries = await wx.wait_for_bot(OPENID, 1, 15.0, after=seq)
                    seq = max(e["seq"] for e in entries)
                    if any(e["kind"] == "msgmenu" for e in entries):
                        return

            async def tap(label: str) -> None:
                tr = await wx.transcript(OPENID)
                menu = [e for e in tr if e["kind"] == "msgmenu"][-1]
                option = next(o for o in menu["options"] if label in o["content"])
                await answered(await wx.choose(OPENID, option["id"]))

            async def say(text: str) -> None:
                await answered(await wx.send_text(OPENID, text))

            await answered(await wx.subscribe(OPENID, nickname="张伟"))
            await tap("通行证账号")
            await tap("注册通行证")
            await say(EMAIL)
            await say(PASSWORD)
            found = re.search(r"\b(\d{6})\b", mailer.to(EMAIL)[-1].body)
            assert found is not None
            await say(found.group(1))
            await tap("开始报名")
            await tap("我已阅读并同意")
            await tap("居民身份证")
            await say(NAME)
            await say(ID_NUMBER)
            await tap("信息无误")
            await tap("使用此号码")
            await tap("英语四级")
            await tap("海淀校区")
            await tap("不需要")
            await tap("去支付")
            async with db.uow() as uow:  # the bank's callback, as the payments worker applies it
                [entry] = await uow.entries.due_unpaid(clock.now() + timedelta(days=2), 10)
                pending = await uow.payments.pending_of_entry(entry.id)
                assert pending is not None
                state = PaymentState(pending.id, "paid", pending.amount_fen, "bank-1", clock.now())
                await payments.settle(uow, clock.now(), pending, state, tell=False)
                await uow.commit()
            await tap("更新支付状态")
            spec = parse_session_toml(SESSION_FILE)
            clock.set(spec.windows.print_written + timedelta(hours=1))
            await tap("返回")
            await tap("打印准考证")
            await asyncio.sleep(0.5)
            entries = await wx.transcript(OPENID)
            media = {
                e["media_id"]: await wx.download_media(e["media_id"])
                for e in entries
                if e["kind"] == "image"
            }
            await app.close()
    finally:
        await emulator.stop()
        shutil.rmtree(work, ignore_errors=True)
    lines = [
        "# 微信服务号中一次完整报名的对话记录（中文）",
        "",
        "由 `scripts/transcript_wechat.py` 生成：模拟器中的服务号（安全模式、菜单消息）+ 机器人"
        "（微信平台），示例考试（examples/），时钟固定在 2026-11-25T10:00+08:00，准考证打印开放后"
        "拨到 2026-12-07T10:00。考生为示例名单中的张伟。〔…〕是菜单消息的选项；括号里是消息的"
        "下发方式；密码和证件号码已遮盖。支付由网关回调完成（此处直接应用），PDF 链接指向"
        " PUBLIC_URL（示例地址）。",
        "",
        "---",
        "",
    ]
    for entry in entries:
        lines += _render(entry, media)
    return "\n".join(lines).rstrip() + "\n", len(entries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "transcript-wechat-zh.md")
    out = parser.parse_args().out
    text, count = asyncio.run(_run())
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({count} messages)")


if __name__ == "__main__":
    main()
