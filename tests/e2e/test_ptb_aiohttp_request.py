"""PTB's calls carried over aiohttp (`AiohttpRequest`) arrive and fail as over PTB's own
httpx request: the same fields on the wire (form bodies and file uploads), the same
exceptions for Telegram's error answers, and the same verdicts for transport failures
(nothing sent when no connection was made or none was free in time; maybe carried out when
the answer timed out or the connection dropped).

The cheaper transport of issue 17's seventh round (docs/performance.md). The server here
records what arrives, so the test sees the wire.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest

from bot.handlers.ptb_adapter import AiohttpRequest, classify
from bot.handlers.retry import Outcome
from tests.e2e.test_ptb_own_bodies import ERRORS

TOKEN = "123456:ptb-aiohttp-request-test"
MESSAGE = {"message_id": 7, "date": 0, "chat": {"id": 42, "type": "private"}, "text": "hi"}
KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("开始报名", callback_data="v1:m:reg"),
            InlineKeyboardButton("缴费", url="https://pay.example/p/1"),
        ]
    ]
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MakeRequest = Callable[..., BaseRequest]
TRANSPORTS: dict[str, MakeRequest] = {"httpx": HTTPXRequest, "aiohttp": AiohttpRequest}


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Starts a server for a handler of every Bot API method; gives its URL."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        [site] = runner.sites
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}"

    try:
        yield start
    finally:
        for runner in runners:
            await runner.cleanup()


async def _call(make: MakeRequest, url: str, call: Callable[[Bot], Awaitable[Any]]) -> Any:
    # getUpdates goes through a request object of its own.
    requests = (make(), make())
    bot = Bot(TOKEN, base_url=f"{url}/bot", request=requests[0], get_updates_request=requests[1])
    for request in requests:
        await request.initialize()
    try:
        return await call(bot)
    finally:
        for request in requests:
            await request.shutdown()


async def _fields(request: web.Request) -> dict[str, Any]:
    """What arrived: form fields as text, uploaded files as (filename, type, bytes)."""
    if request.content_type == "multipart/form-data":
        found: dict[str, Any] = {}
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                found[name] = (value.filename, value.content_type, value.file.read())
            else:
                found[name] = value
        return found
    return dict(parse_qsl(await request.text(), keep_blank_values=True))


async def test_the_same_calls_arrive_the_same_over_both_transports(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    seen: list[tuple[str, str, dict[str, Any]]] = []

    async def method(request: web.Request) -> web.Response:
        name = request.match_info["method"]
        seen.append((name, request.content_type, await _fields(request)))
        if name == "getUpdates":
            return web.json_response({"ok": True, "result": []})
        if name in ("answerCallbackQuery", "deleteMessage"):
            return web.json_response({"ok": True, "result": True})
        document = {"file_id": "f1", "file_unique_id": "u1"}
        return web.json_response({"ok": True, "result": {**MESSAGE, "document": document}})

    url = await serve(method)

    async def calls(bot: Bot) -> None:
        await bot.send_message(42, "你好", reply_markup=KEYBOARD)
        await bot.edit_message_text("改", chat_id=42, message_id=7)
        await bot.answer_callback_query("cb-1", text="已选", show_alert=True)
        await bot.delete_message(42, 7)
        await bot.get_updates(offset=5, timeout=0, allowed_updates=["message"])
        await bot.send_document(42, b"%PDF-1.4 bytes", filename="准考证.pdf", caption="附件")

    by_transport = {}
    for name, make in TRANSPORTS.items():
        seen.clear()
        await _call(make, url, calls)
        by_transport[name] = list(seen)
    assert [m for m, _, _ in by_transport["aiohttp"]] == [
        "sendMessage",
        "editMessageText",
        "answerCallbackQuery",
        "deleteMessage",
        "getUpdates",
        "sendDocument",
    ]
    assert by_transport["aiohttp"] == by_transport["httpx"]
    assert by_transport["aiohttp"][-1][1] == "multipart/form-data"
    assert by_transport["aiohttp"][-1][2]["document"][0] == "准考证.pdf"


@pytest.mark.parametrize(("status", "body", "error", "outcome"), ERRORS)
async def test_telegrams_error_answers_raise_and_classify_the_same(
    serve: Callable[[Handler], Awaitable[str]],
    status: int,
    body: str,
    error: type[Exception],
    outcome: Outcome,
) -> None:
    async def method(request: web.Request) -> web.Response:
        kind = "application/json" if body.startswith("{") else "text/html"
        return web.Response(status=status, text=body, content_type=kind)

    url = await serve(method)
    raised = {}
    for name, make in TRANSPORTS.items():
        with pytest.raises(Exception) as failed:
            await _call(make, url, lambda bot: bot.edit_message_text("x", chat_id=1, message_id=2))
        raised[name] = failed.value
    assert type(raised["aiohttp"]) is type(raised["httpx"])
    assert isinstance(raised["aiohttp"], error)
    assert str(raised["aiohttp"]) == str(raised["httpx"])
    assert classify(raised["aiohttp"]) == classify(raised["httpx"])
    assert classify(raised["aiohttp"]).outcome is outcome


async def _failure(make: MakeRequest, url: str, **timeouts: float) -> NetworkError:
    with pytest.raises(NetworkError) as failed:
        await _call(lambda: make(**timeouts), url, lambda bot: bot.delete_message(42, 7))
    return failed.value


async def test_a_refused_connection_is_not_sent_over_either() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    for make in TRANSPORTS.values():
        failure = await _failure(make, url)
        assert classify(failure).outcome is Outcome.TRANSIENT, failure


async def test_a_slow_answer_may_have_been_carried_out_over_either(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": True})

    url = await serve(slow)
    for make in TRANSPORTS.values():
        failure = await _failure(make, url, read_timeout=0.2)
        assert isinstance(failure, TimedOut)
        assert classify(failure).outcome is Outcome.UNCERTAIN, failure


async def test_a_dropped_connection_may_have_been_carried_out_over_either(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    async def drop(request: web.Request) -> web.Response:
        await request.read()
        assert request.transport is not None
        request.transport.close()  # read, then gone without an answer
        await asyncio.sleep(1)
        return web.json_response({"ok": True, "result": True})

    url = await serve(drop)
    for make in TRANSPORTS.values():
        failure = await _failure(make, url)
        assert classify(failure).outcome is Outcome.UNCERTAIN, failure


async def test_no_free_connection_in_time_is_not_sent_over_either(
    serve: Callable[[Handler], Awaitable[str]],
) -> None:
    release = asyncio.Event()

    async def held(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({"ok": True, "result": True})

    url = await serve(held)
    for make in TRANSPORTS.values():
        request = make(connection_pool_size=1, pool_timeout=0.2, connect_timeout=0.5)
        bot = Bot(TOKEN, base_url=f"{url}/bot", request=request)
        await request.initialize()
        try:
            # The one connection is busy with the first call; the second finds none.
            first = asyncio.create_task(bot.delete_message(42, 1))
            await asyncio.sleep(0.1)
            with pytest.raises(NetworkError) as failed:
                await bot.delete_message(42, 2)
            release.set()
            assert await first is True
        finally:
            release.clear()
            await request.shutdown()
        assert classify(failed.value).outcome is Outcome.TRANSIENT, failed.value


async def test_a_proxy_named_in_the_environment_carries_the_calls_over_both(
    serve: Callable[[Handler], Awaitable[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server plays the proxy: a call to Telegram's (unresolvable) host arrives here.
    hosts: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        hosts.append(request.host)
        return web.json_response({"ok": True, "result": True})

    url = await serve(proxy)
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("HTTP_PROXY", url)
    for make in TRANSPORTS.values():
        sent = await _call(
            make, "http://api.telegram.invalid", lambda bot: bot.delete_message(42, 7)
        )
        assert sent is True
    assert hosts == ["api.telegram.invalid", "api.telegram.invalid"]
