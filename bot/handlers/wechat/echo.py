"""A bare WeChat echo server: the ceiling `bench/chat.py --platform wechat` compares with.

It does the protocol work the bot does for a push (signature, freshness not checked, AES
decryption in safe mode, XML parsing, one access token, the API call) and nothing of ours
(no engine, no runner, no database): every push is answered `success` and followed by one
customer-service menu message with a single option, which is the reply pattern of a
conversation step on an account with menu messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.handlers.wechat import protocol
from bot.handlers.wechat.api import MemoryTokenStore, WeChatApi

Stop = Callable[[], Awaitable[None]]


async def start_wechat_echo(
    *,
    app_id: str,
    app_secret: str,
    token: str,
    aes_key: str | None,
    api_url: str,
    host: str,
    port: int,
    path: str = "/wechat",
) -> Stop:
    """Serves the push URL on host:port; returns how to stop it."""
    api = WeChatApi(api_url=api_url, app_id=app_id, app_secret=app_secret, store=MemoryTokenStore())
    crypto = protocol.MessageCrypto(token, aes_key, app_id) if aes_key else None
    tasks: set[asyncio.Task[None]] = set()
    step = 0

    async def answer(openid: str) -> None:
        nonlocal step
        step += 1
        menu: dict[str, Any] = {
            "head_content": f"echo {step}",
            "list": [{"id": f"{step}01", "content": "next"}],
            "tail_content": "",
        }
        await api.send_custom(openid, {"msgtype": "msgmenu", "msgmenu": menu})

    async def on_push(request: web.Request) -> web.Response:
        q = request.query
        expected = protocol.sign(token, q.get("timestamp", ""), q.get("nonce", ""))
        if not protocol.signature_ok(expected, q.get("signature")):
            return web.Response(status=403)
        body = (await request.read()).decode("utf-8", "replace")
        if q.get("encrypt_type") == "aes" and crypto is not None:
            body = crypto.decrypt(
                protocol.encrypted_part(body), q.get("msg_signature"), q["timestamp"], q["nonce"]
            )
        fields = protocol.parse(body)
        task = asyncio.create_task(answer(fields.get("FromUserName", "")))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return web.Response(text="success", content_type="text/plain")

    await api.access_token()
    app = web.Application()
    app.router.add_post(path, on_push)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()

    async def stop() -> None:
        await runner.cleanup()
        await asyncio.gather(*tasks, return_exceptions=True)
        await api.close()

    return stop
