"""A minimal stand-in for the bot's WeChat endpoint, to test the emulator's push side.

It checks what the WeChat server must send (signature, msg_signature, the Encrypt body for
its AppID) and answers as told: "success", an empty body, a passive text reply (encrypted in
safe mode), something malformed, or late (to exercise the 5-second rule).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from emulator.wechat import crypto, xmlmsg


@dataclass
class FakeBot:
    token: str = ""
    appid: str = ""
    aes_key: str | None = None
    url: str = ""
    # Called with the decrypted packet; returns the body to answer ("success", "", XML...).
    answer: Callable[[dict[str, Any]], str] = lambda packet: "success"
    delays: list[float] = field(default_factory=list)  # seconds to stall, one per request
    packets: list[dict[str, Any]] = field(default_factory=list)
    queries: list[dict[str, str]] = field(default_factory=list)
    bodies: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)

    def passive_text(self, packet: dict[str, Any], text: str, *, encrypt: bool = True) -> str:
        """A passive text reply to this packet, encrypted when the account is in safe mode."""
        inner = xmlmsg.build(
            {
                "ToUserName": packet["FromUserName"],
                "FromUserName": packet["ToUserName"],
                "CreateTime": int(time.time()),
                "MsgType": "text",
                "Content": text,
            }
        )
        if not (encrypt and self.aes_key):
            return inner
        timestamp, nonce = str(int(time.time())), "12345"
        enc = crypto.encrypt(inner, self.aes_key, self.appid)
        return xmlmsg.build(
            {
                "Encrypt": enc,
                "MsgSignature": crypto.sha1_signature(self.token, timestamp, nonce, enc),
                "TimeStamp": timestamp,
                "Nonce": nonce,
            }
        )

    async def handle_get(self, request: web.Request) -> web.Response:
        q = request.query
        expected = crypto.sha1_signature(self.token, q["timestamp"], q["nonce"])
        if q.get("signature") != expected:
            return web.Response(status=403, text="bad signature")
        return web.Response(text=q["echostr"])

    async def handle_post(self, request: web.Request) -> web.Response:
        self.arrivals.append(time.monotonic())
        q = dict(request.query)
        self.queries.append(q)
        body = (await request.read()).decode()
        self.bodies.append(body)
        if q.get("signature") != crypto.sha1_signature(self.token, q["timestamp"], q["nonce"]):
            self.rejected.append("signature")
            return web.Response(status=403)
        packet = xmlmsg.parse(body)
        if q.get("encrypt_type") == "aes":
            assert self.aes_key is not None
            sig = crypto.sha1_signature(self.token, q["timestamp"], q["nonce"], packet["Encrypt"])
            if q.get("msg_signature") != sig:
                self.rejected.append("msg_signature")
                return web.Response(status=403)
            inner, appid = crypto.decrypt(packet["Encrypt"], self.aes_key)
            assert appid == self.appid
            packet = xmlmsg.parse(inner)
        self.packets.append(packet)
        if self.delays:
            await asyncio.sleep(self.delays.pop(0))
        return web.Response(text=self.answer(packet), content_type="text/xml")


async def start_fake_bot(bot: FakeBot) -> web.AppRunner:
    app = web.Application()
    app.router.add_get("/wx", bot.handle_get)
    app.router.add_post("/wx", bot.handle_post)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    bot.url = f"http://127.0.0.1:{runner.addresses[0][1]}/wx"
    return runner
