"""The PTB performer's hot sends post the bodies it builds itself through PTB's own call
path: the same form body on the wire as PTB's methods, a successful answer read for its
message id only, and every error raised by PTB's own mapping, so it classifies as before.

Cheaper sends (docs/performance.md). The server here records what arrives, so the test sees
the wire, not the performer's intentions.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.request import HTTPXRequest

from bot.conversation.types import AnswerButton, SendResult, SendText
from bot.handlers.ptb_adapter import SEND_READ_TIMEOUT, PtbPerformer, classify
from bot.handlers.retry import Outcome, RetryPolicy
from tests.e2e.own_bodies import KEYBOARD, WIRE_METHODS, perform_the_seven

TOKEN = "123456:ptb-own-bodies-test"
MESSAGE = {"message_id": 7, "date": 0, "chat": {"id": 42, "type": "private"}, "text": "hi"}

Seen = list[tuple[str, str, str]]


def _bot(url: str) -> Bot:
    request = HTTPXRequest(read_timeout=SEND_READ_TIMEOUT, write_timeout=SEND_READ_TIMEOUT)
    return Bot(TOKEN, base_url=f"{url}/bot", request=request)


async def _serve(handler: Callable[[web.Request], Awaitable[web.Response]]) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


def _url(runner: web.AppRunner) -> str:
    [site] = runner.sites
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, Seen]]:
    seen: Seen = []

    async def method(request: web.Request) -> web.Response:
        name = request.match_info["method"]
        seen.append((name, request.content_type, await request.text()))
        result = True if name in ("answerCallbackQuery", "deleteMessage") else MESSAGE
        return web.json_response({"ok": True, "result": result})

    runner = await _serve(method)
    try:
        yield _url(runner), seen
    finally:
        await runner.cleanup()


PTB_KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("开始报名", callback_data="v1:m:reg"),
            InlineKeyboardButton("缴费", url="https://pay.example/p/1"),
        ],
        [InlineKeyboardButton("返回", callback_data="")],
    ]
)


async def test_the_performers_own_bodies_equal_ptbs_on_the_wire(
    server: tuple[str, Seen],
) -> None:
    # The same calls through PTB's own methods, then through the performer's bodies.
    url, seen = server
    bot = _bot(url)
    performer = PtbPerformer(bot, RetryPolicy(backoff=()))
    try:
        await bot.send_message(42, "你好", reply_markup=PTB_KEYBOARD)
        await bot.send_message(42, "no keyboard")
        await bot.edit_message_text("改", chat_id=42, message_id=7, reply_markup=PTB_KEYBOARD)
        await bot.edit_message_text("改 no keyboard", chat_id=42, message_id=7)
        await bot.answer_callback_query("cb-1", text="已选", show_alert=True)
        await bot.answer_callback_query("cb-2", show_alert=False)
        await bot.delete_message(42, 7)
        by_ptb = list(seen)
        seen.clear()
        results = await perform_the_seven(performer)
    finally:
        await performer.close()
    assert [r.ok for r in results] == [True] * 7
    assert [r.message_id for r in results[:4]] == [7, 7, 7, 7]
    assert [name for name, _, _ in by_ptb] == WIRE_METHODS
    # The fields, each with the same text (the keyboard's JSON included), in any order.
    assert [(n, c, sorted(parse_qsl(b, keep_blank_values=True))) for n, c, b in seen] == [
        (n, c, sorted(parse_qsl(b, keep_blank_values=True))) for n, c, b in by_ptb
    ]
    fields = dict(parse_qsl(seen[0][2]))
    assert fields["reply_markup"] == PTB_KEYBOARD.to_json()
    assert "reply_markup" not in dict(parse_qsl(seen[1][2]))
    assert "text" not in dict(parse_qsl(seen[5][2]))


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[str, list[tuple[int, str]]]]:
    """A server answering each call with the next (status, body) of a script."""
    script: list[tuple[int, str]] = []

    async def method(request: web.Request) -> web.Response:
        status, body = script.pop(0)
        kind = "application/json" if body.startswith("{") else "text/html"
        return web.Response(status=status, text=body, content_type=kind)

    runner = await _serve(method)
    try:
        yield _url(runner), script
    finally:
        await runner.cleanup()


async def test_the_performer_reads_a_message_id_without_building_the_message(
    scripted: tuple[str, list[tuple[int, str]]],
) -> None:
    # A message with no chat and no date: PTB's model refuses it, the performer only needs
    # its id; an answer without an id still goes to PTB's model, which refuses it as before.
    url, script = scripted
    bare = '{"ok": true, "result": {"message_id": 9}}'
    no_id = '{"ok": true, "result": {"text": "no id"}}'
    script.extend([(200, bare), (200, bare), (200, no_id), (200, no_id)])
    bot = _bot(url)
    performer = PtbPerformer(bot, RetryPolicy(backoff=()))
    try:
        with pytest.raises(Exception) as by_ptb_bare:
            await bot.send_message(42, "built")
        sent = await performer.perform(SendText(chat_id=42, text="你好"))
        with pytest.raises(Exception) as by_ptb:
            await bot.send_message(42, "built")
        with pytest.raises(Exception) as own_body:
            await performer._send_message(42, "你好", None)
    finally:
        await performer.close()
    assert isinstance(by_ptb_bare.value, KeyError | TypeError)
    assert sent == SendResult(ok=True, message_id=9)
    assert type(own_body.value) is type(by_ptb.value)
    assert str(own_body.value) == str(by_ptb.value)


ERRORS = [
    (
        429,
        '{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 3",'
        ' "parameters": {"retry_after": 3}}',
        RetryAfter,
        Outcome.RETRY_AFTER,
    ),
    (
        400,
        '{"ok": false, "error_code": 400, "description": "Bad Request: message is not modified"}',
        BadRequest,
        Outcome.NOT_MODIFIED,
    ),
    (
        400,
        '{"ok": false, "error_code": 400, "description": "Bad Request: message to delete not'
        ' found"}',
        BadRequest,
        Outcome.NOT_FOUND,
    ),
    (
        403,
        '{"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}',
        Forbidden,
        Outcome.BLOCKED,
    ),
    (
        500,
        '{"ok": false, "error_code": 500, "description": "Internal"}',
        NetworkError,
        Outcome.TRANSIENT,
    ),
    (502, "<html>Bad Gateway</html>", NetworkError, Outcome.TRANSIENT),
]

# Each hot call, once through PTB's method and once through the performer's own body.
CALLS: dict[
    str, tuple[Callable[[Bot], Awaitable[Any]], Callable[[PtbPerformer], Awaitable[Any]]]
] = {
    "sendMessage": (
        lambda bot: bot.send_message(42, "x", reply_markup=PTB_KEYBOARD),
        lambda p: p._send_message(42, "x", p._markup(KEYBOARD)),
    ),
    "editMessageText": (
        lambda bot: bot.edit_message_text("x", chat_id=42, message_id=7),
        lambda p: p._edit_message(42, 7, "x", None),
    ),
    "answerCallbackQuery": (
        lambda bot: bot.answer_callback_query("cb", text="t", show_alert=True),
        lambda p: p._answer_query(AnswerButton("cb", text="t", alert=True)),
    ),
    "deleteMessage": (
        lambda bot: bot.delete_message(42, 7),
        lambda p: p._delete_message(42, 7),
    ),
}


@pytest.mark.parametrize("call", list(CALLS))
@pytest.mark.parametrize(("status", "body", "error", "outcome"), ERRORS)
async def test_an_own_body_call_raises_and_classifies_errors_as_ptb_does(
    scripted: tuple[str, list[tuple[int, str]]],
    call: str,
    status: int,
    body: str,
    error: type[Exception],
    outcome: Outcome,
) -> None:
    url, script = scripted
    script.extend([(status, body), (status, body)])
    by_method, by_performer = CALLS[call]
    bot = _bot(url)
    performer = PtbPerformer(bot, RetryPolicy(backoff=()))
    try:
        with pytest.raises(Exception) as by_ptb:
            await by_method(bot)
        with pytest.raises(Exception) as own_body:
            await by_performer(performer)
    finally:
        await performer.close()
    assert type(own_body.value) is type(by_ptb.value)
    assert isinstance(own_body.value, error)
    assert str(own_body.value) == str(by_ptb.value)
    assert classify(own_body.value) == classify(by_ptb.value)
    assert classify(own_body.value).outcome is outcome


async def test_a_refused_connection_classifies_as_before() -> None:
    # Nothing listens on the port: PTB's method and the performer's body both fail to connect.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bot = _bot(f"http://127.0.0.1:{port}")
    performer = PtbPerformer(bot, RetryPolicy(backoff=()))
    try:
        with pytest.raises(Exception) as by_ptb:
            await bot.delete_message(42, 7)
        with pytest.raises(Exception) as own_body:
            await performer._delete_message(42, 7)
    finally:
        await performer.close()
    assert type(own_body.value) is type(by_ptb.value)
    assert isinstance(own_body.value, NetworkError)
    assert type(own_body.value.__cause__) is type(by_ptb.value.__cause__)
    assert classify(own_body.value) == classify(by_ptb.value)
    assert classify(own_body.value).outcome is Outcome.TRANSIENT
