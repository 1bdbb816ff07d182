"""The aiogram adapter's session posts a call without a file as JSON, and a file as a form.

A cheaper body for every send (docs/performance.md); the Bot API takes both. The server here
records what arrives, so the test sees the wire, not the session's intentions.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web

from bot.handlers.aiogram_adapter import _bot

TOKEN = "123456:json-session-test"
MESSAGE = {"message_id": 7, "date": 0, "chat": {"id": 42, "type": "private"}, "text": "hi"}


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[tuple[str, str, Any]]]]:
    seen: list[tuple[str, str, Any]] = []

    async def method(request: web.Request) -> web.Response:
        name = request.match_info["method"]
        if request.content_type == "application/json":
            seen.append((name, request.content_type, await request.json()))
        else:
            seen.append((name, request.content_type, None))
        return web.json_response({"ok": True, "result": MESSAGE})

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", method)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


async def test_a_message_goes_as_one_json_body_with_its_keyboard_as_an_object(
    server: tuple[str, list[tuple[str, str, Any]]],
) -> None:
    url, seen = server
    bot = _bot(TOKEN, url)
    try:
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="开始报名", callback_data="v1:m:reg")]]
        )
        sent = await bot.send_message(42, "你好", reply_markup=keyboard)
    finally:
        await bot.session.close()
    assert sent.message_id == 7
    [(name, ctype, body)] = seen
    assert (name, ctype) == ("sendMessage", "application/json")
    assert body["chat_id"] == 42 and body["text"] == "你好"
    assert body["reply_markup"] == json.loads(keyboard.model_dump_json(exclude_none=True))


async def test_a_file_still_goes_as_a_multipart_form(
    server: tuple[str, list[tuple[str, str, Any]]],
) -> None:
    url, seen = server
    bot = _bot(TOKEN, url)
    try:
        await bot.send_document(42, BufferedInputFile(b"%PDF-1.4", filename="ticket.pdf"))
    finally:
        await bot.session.close()
    [(name, ctype, _)] = seen
    assert (name, ctype) == ("sendDocument", "multipart/form-data")
