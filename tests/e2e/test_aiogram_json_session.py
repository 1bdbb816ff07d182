"""The aiogram adapter's session posts a call without a file as JSON, and a file as a form;
the performer's hot sends post the JSON bodies it builds itself, the same as aiogram's, skip
the validation of a successful answer, and raise errors as aiogram does.

Cheaper sends (docs/performance.md); the Bot API takes both bodies. The server here
records what arrives, so the test sees the wire, not the session's intentions.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteMessage,
    EditMessageText,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web

from bot.conversation.types import (
    SendResult,
    SendText,
)
from bot.handlers.aiogram_adapter import (
    AiogramPerformer,
    JsonSession,
    _bot,
    _has_message_id,
    classify,
)
from bot.handlers.retry import Outcome, RetryPolicy
from tests.e2e.own_bodies import WIRE_METHODS, perform_the_seven

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
        result = True if name in ("answerCallbackQuery", "deleteMessage") else MESSAGE
        return web.json_response({"ok": True, "result": result})

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


AIOGRAM_KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[
        [
            InlineKeyboardButton(text="开始报名", callback_data="v1:m:reg"),
            InlineKeyboardButton(text="缴费", url="https://pay.example/p/1"),
        ],
        [InlineKeyboardButton(text="返回", callback_data="")],
    ]
)


async def test_the_performers_own_bodies_equal_aiograms_on_the_wire(
    server: tuple[str, list[tuple[str, str, Any]]],
) -> None:
    # The same calls through aiogram's own path, then through the performer's bodies.
    url, seen = server
    bot = _bot(TOKEN, url)
    performer = AiogramPerformer(bot, RetryPolicy(backoff=()))
    try:
        await bot.send_message(42, "你好", reply_markup=AIOGRAM_KEYBOARD)
        await bot.send_message(42, "no keyboard")
        await bot.edit_message_text("改", chat_id=42, message_id=7, reply_markup=AIOGRAM_KEYBOARD)
        await bot.edit_message_text("改 no keyboard", chat_id=42, message_id=7)
        await bot.answer_callback_query("cb-1", text="已选", show_alert=True)
        await bot.answer_callback_query("cb-2", show_alert=False)
        await bot.delete_message(42, 7)
        by_aiogram = list(seen)
        seen.clear()
        results = await perform_the_seven(performer)
    finally:
        await performer.close()
    assert [r.ok for r in results] == [True] * 7
    assert [r.message_id for r in results[:4]] == [7, 7, 7, 7]
    assert [name for name, _, _ in by_aiogram] == WIRE_METHODS
    assert all(ctype == "application/json" for _, ctype, _ in by_aiogram + seen)
    assert seen == by_aiogram
    assert seen[0][2]["reply_markup"] == json.loads(
        AIOGRAM_KEYBOARD.model_dump_json(exclude_none=True)
    )


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


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[str, list[tuple[int, str]]]]:
    """A server answering each call with the next (status, body) of a script."""
    script: list[tuple[int, str]] = []

    async def method(request: web.Request) -> web.Response:
        status, body = script.pop(0)
        kind = "application/json" if body.startswith("{") else "text/html"
        return web.Response(status=status, text=body, content_type=kind)

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", method)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", script
    finally:
        await runner.cleanup()


async def test_the_performer_reads_a_message_id_without_validating_the_message(
    scripted: tuple[str, list[tuple[int, str]]],
) -> None:
    # A message with no chat and no date: aiogram's model refuses it, the performer only
    # needs its id (the hot sends skip the validation, docs/performance.md).
    url, script = scripted
    bare = json.dumps({"ok": True, "result": {"message_id": 9}})
    script.extend([(200, bare), (200, bare)])
    bot = _bot(TOKEN, url)
    performer = AiogramPerformer(bot, RetryPolicy(backoff=()))
    try:
        with pytest.raises(ClientDecodeError):
            await bot.send_message(42, "validated")
        sent = await performer.perform(SendText(chat_id=42, text="你好"))
    finally:
        await performer.close()
    assert sent == SendResult(ok=True, message_id=9)


ERRORS = [
    (
        429,
        '{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 3",'
        ' "parameters": {"retry_after": 3}}',
        TelegramRetryAfter,
        Outcome.RETRY_AFTER,
    ),
    (
        400,
        '{"ok": false, "error_code": 400, "description": "Bad Request: message is not modified"}',
        TelegramBadRequest,
        Outcome.NOT_MODIFIED,
    ),
    (
        403,
        '{"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked"}',
        TelegramForbiddenError,
        Outcome.BLOCKED,
    ),
    (502, "<html>Bad Gateway</html>", ClientDecodeError, Outcome.TRANSIENT),
    (500, '{"ok": false, "error_code": 500, "description": "Internal"}', None, Outcome.TRANSIENT),
    # A success whose result has no message id is checked by aiogram's model, as before.
    (200, '{"ok": true, "result": {"text": "no id"}}', ClientDecodeError, Outcome.TRANSIENT),
]


CALLS: list[tuple[type[TelegramMethod[Any]], dict[str, Any]]] = [
    (SendMessage, {"chat_id": 42, "text": "x"}),
    (EditMessageText, {"chat_id": 42, "message_id": 7, "text": "x"}),
    (AnswerCallbackQuery, {"callback_query_id": "cb", "show_alert": False}),
    (DeleteMessage, {"chat_id": 42, "message_id": 7}),
]
# The last error (a success without a message id) concerns only sendMessage's answer.
CASES = [(call, *error) for error in ERRORS[:-1] for call in CALLS] + [(CALLS[0], *ERRORS[-1])]


@pytest.mark.parametrize(("call", "status", "body", "error", "outcome"), CASES)
async def test_an_own_body_call_raises_and_classifies_errors_as_aiogram_does(
    scripted: tuple[str, list[tuple[int, str]]],
    call: tuple[type[TelegramMethod[Any]], dict[str, Any]],
    status: int,
    body: str,
    error: type[Exception] | None,
    outcome: Outcome,
) -> None:
    url, script = scripted
    method_type, json_body = call
    script.extend([(status, body), (status, body)])
    bot = _bot(TOKEN, url)
    session = bot.session
    assert isinstance(session, JsonSession)
    try:
        with pytest.raises(Exception) as by_aiogram:
            await bot(method_type(**json_body))
        with pytest.raises(Exception) as own_body:
            await session.call_json(bot, method_type, json_body, _has_message_id)
    finally:
        await session.close()
    assert type(own_body.value) is type(by_aiogram.value)
    assert str(own_body.value) == str(by_aiogram.value)
    if error is not None:
        assert isinstance(own_body.value, error)
    method = getattr(own_body.value, "method", None)
    assert method == getattr(by_aiogram.value, "method", None)
    assert method is None or type(method) is method_type
    assert classify(own_body.value).outcome is outcome


async def test_a_refused_connection_classifies_as_before() -> None:
    # Nothing listens on the port: aiogram's path and the performer's both fail to connect.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bot = _bot(TOKEN, f"http://127.0.0.1:{port}")
    session = bot.session
    assert isinstance(session, JsonSession)
    body = {"chat_id": 42, "message_id": 7}
    try:
        with pytest.raises(Exception) as by_aiogram:
            await bot(DeleteMessage(**body))
        with pytest.raises(Exception) as own_body:
            await session.call_json(bot, DeleteMessage, body)
    finally:
        await session.close()
    assert type(own_body.value) is type(by_aiogram.value) is TelegramNetworkError
    assert str(own_body.value) == str(by_aiogram.value)
    assert type(own_body.value.__cause__) is type(by_aiogram.value.__cause__)
    assert own_body.value.method == by_aiogram.value.method
    assert classify(own_body.value).outcome is classify(by_aiogram.value).outcome
    assert classify(own_body.value).outcome is Outcome.TRANSIENT
