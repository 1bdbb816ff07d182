"""Control API under /control/: lets tests and the chat page act as users and inspect the bot."""

from __future__ import annotations

import base64
import inspect
import json
import math
import secrets
import time
from typing import Any

from aiohttp import web

from emulator.botapi import STATE_KEY, image_size
from emulator.state import (
    FAULT_KINDS,
    BotState,
    CallbackRecord,
    ChatState,
    EmulatorState,
    Fault,
    StoredMessage,
    User,
)
from emulator.textparse import command_entities

routes = web.RouteTableDef()


class ControlError(Exception):
    """A control-API request that cannot be served; becomes a JSON error with this status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@web.middleware
async def control_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except ControlError as exc:
        if not request.path.startswith("/control"):
            raise
        return web.json_response({"ok": False, "error": exc.message}, status=exc.status)


async def _body(request: web.Request) -> dict[str, Any]:
    data: dict[str, Any] = dict(request.query)
    if request.method in ("POST", "PUT", "DELETE") and request.can_read_body:
        try:
            body = await request.json()
        except ValueError:
            raise ControlError(400, "request body must be JSON") from None
        if isinstance(body, dict):
            data.update(body)
    return data


def _state(request: web.Request) -> EmulatorState:
    return request.app[STATE_KEY]


def _bot(request: web.Request, data: dict[str, Any]) -> BotState:
    bot = _state(request).resolve_bot(data.get("token"))
    if bot is None:
        raise ControlError(409, "no bot has connected yet; pass 'token'")
    return bot


def _int(data: dict[str, Any], name: str, default: int | None = None) -> int:
    value = data.get(name, default)
    if value is None:
        raise ControlError(400, f"'{name}' is required")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ControlError(400, f"'{name}' must be an integer") from None


def _user(request: web.Request, data: dict[str, Any]) -> User:
    user_id = _int(data, "user_id")
    user = _state(request).users.get(user_id)
    if user is None:
        raise ControlError(404, f"user {user_id} does not exist; create it first")
    return user


def _ok(result: Any = None) -> web.Response:
    return web.json_response({"ok": True, "result": result})


# --- world ----------------------------------------------------------------------------------


@routes.post("/control/reset")
async def reset(request: web.Request) -> web.Response:
    _state(request).reset()
    return _ok(True)


@routes.get("/control/info")
async def info(request: web.Request) -> web.Response:
    state = _state(request)
    bot = state.resolve_bot(None)
    return _ok(
        {
            "bots": [
                {
                    "id": b.id,
                    "username": b.username,
                    "first_name": b.first_name,
                    "webhook": b.webhook.url if b.webhook else None,
                }
                for b in state.bots.values()
            ],
            "current_bot": bot.username if bot else None,
            "users": [u.as_user() for u in state.users.values()],
            "clock": state.on_clock is not None,
            "rate_limit": state.config.rate_limit.as_dict(),
        }
    )


@routes.post("/control/users")
async def create_user(request: web.Request) -> web.Response:
    data = await _body(request)
    user = _state(request).add_user(
        user_id=int(data["id"]) if data.get("id") is not None else None,
        first_name=str(data.get("first_name") or "Student"),
        last_name=data.get("last_name"),
        username=data.get("username"),
        language_code=data.get("language_code", "zh-hans"),
    )
    return _ok(user.as_user())


@routes.get("/control/users")
async def list_users(request: web.Request) -> web.Response:
    return _ok([u.as_user() for u in _state(request).users.values()])


# --- the user acts --------------------------------------------------------------------------


def _user_message(
    request: web.Request, data: dict[str, Any], **content: Any
) -> tuple[BotState, ChatState, StoredMessage]:
    state = _state(request)
    bot = _bot(request, data)
    user = _user(request, data)
    chat = bot.chat(user)
    if data.get("unblock", True):
        chat.blocked = False
    chat.started = True
    msg = StoredMessage(
        message_id=chat.new_message_id(),
        chat_id=user.id,
        from_bot=False,
        date=state.now(),
        reply_to_message_id=data.get("reply_to_message_id"),
        **content,
    )
    chat.messages[msg.message_id] = msg
    return bot, chat, msg


def _deliver_message(bot: BotState, chat: ChatState, msg: StoredMessage) -> web.Response:
    update_id = bot.push_update("message", msg.to_api(bot, chat.user))
    return _ok({"message_id": msg.message_id, "update_id": update_id})


@routes.post("/control/say")
async def say(request: web.Request) -> web.Response:
    data = await _body(request)
    text = data.get("text")
    if not isinstance(text, str) or not text:
        raise ControlError(400, "'text' must be a non-empty string")
    bot, chat, msg = _user_message(request, data, text=text, entities=command_entities(text))
    return _deliver_message(bot, chat, msg)


@routes.post("/control/command")
async def command(request: web.Request) -> web.Response:
    data = await _body(request)
    name = str(data.get("command") or "").lstrip("/")
    if not name:
        raise ControlError(400, "'command' is required")
    text = f"/{name}" + (f" {data['args']}" if data.get("args") else "")
    bot, chat, msg = _user_message(request, data, text=text, entities=command_entities(text))
    return _deliver_message(bot, chat, msg)


@routes.post("/control/sticker")
async def sticker(request: web.Request) -> web.Response:
    data = await _body(request)
    bot = _bot(request, data)
    stored = bot.store_file(b"RIFF\x00\x00\x00\x00WEBPVP8 ", "sticker", mime_type="image/webp")
    sticker_obj = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": data.get("emoji") or "👍",
        "set_name": data.get("set_name") or "EmulatorStickers",
        "file_size": len(stored.data),
    }
    bot, chat, msg = _user_message(request, data, sticker=sticker_obj)
    return _deliver_message(bot, chat, msg)


@routes.post("/control/contact")
async def contact(request: web.Request) -> web.Response:
    """The user shares a contact: their own (`contact_user_id` = their id, the default when
    `own` is true) or someone else's (another id, or none for an address-book card)."""
    data = await _body(request)
    phone = data.get("phone_number")
    if not isinstance(phone, str) or not phone.strip():
        raise ControlError(400, "'phone_number' must be a non-empty string")
    user = _user(request, data)
    card: dict[str, Any] = {
        "phone_number": phone,
        "first_name": str(data.get("first_name") or user.first_name or "Contact"),
    }
    if data.get("contact_user_id") is not None:
        card["user_id"] = _int(data, "contact_user_id")
    elif data.get("own", True):
        card["user_id"] = user.id
    bot, chat, msg = _user_message(request, data, contact=card)
    return _deliver_message(bot, chat, msg)


def _decode_b64(data: dict[str, Any]) -> bytes | None:
    raw = data.get("data_b64")
    if raw is None:
        return None
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError:
        raise ControlError(400, "'data_b64' is not valid base64") from None


def _tiny_png() -> bytes:
    """A 2x2 PNG, so a test can send a photo without preparing one."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


@routes.post("/control/photo")
async def photo(request: web.Request) -> web.Response:
    data = await _body(request)
    bot = _bot(request, data)
    raw = _decode_b64(data) or _tiny_png()
    size = image_size(raw)
    if size is None:
        raise ControlError(400, "the data is not an image")
    stored = bot.store_file(raw, "photo", mime_type="image/jpeg", width=size[0], height=size[1])
    caption = data.get("caption")
    bot, chat, msg = _user_message(request, data, photo=stored, caption=caption)
    return _deliver_message(bot, chat, msg)


@routes.post("/control/document")
async def document(request: web.Request) -> web.Response:
    data = await _body(request)
    bot = _bot(request, data)
    raw = _decode_b64(data)
    if not raw:
        raise ControlError(400, "'data_b64' with non-empty content is required")
    stored = bot.store_file(
        raw,
        "document",
        file_name=str(data.get("file_name") or "file.bin"),
        mime_type=str(data.get("mime_type") or "application/octet-stream"),
    )
    bot, chat, msg = _user_message(request, data, document=stored, caption=data.get("caption"))
    return _deliver_message(bot, chat, msg)


@routes.post("/control/press")
async def press(request: web.Request) -> web.Response:
    data = await _body(request)
    bot = _bot(request, data)
    user = _user(request, data)
    chat = bot.chat(user)
    message_id = _int(data, "message_id")
    msg = chat.messages.get(message_id)
    if msg is None or msg.deleted:
        raise ControlError(404, f"message {message_id} is not in the chat")
    callback_data = data.get("callback_data")
    if not data.get("forge"):
        buttons = [b for row in (msg.reply_markup or {}).get("inline_keyboard", []) for b in row]
        if data.get("button_text") is not None and callback_data is None:
            match = [b for b in buttons if b.get("text") == data["button_text"]]
        else:
            match = [b for b in buttons if b.get("callback_data") == callback_data]
        match = [b for b in match if b.get("callback_data") is not None]
        if not match:
            wanted = (
                f"text {data.get('button_text')!r}"
                if callback_data is None
                else f"callback_data {callback_data!r}"
            )
            raise ControlError(404, f"message {message_id} has no button with {wanted}")
        callback_data = match[0]["callback_data"]
    if not isinstance(callback_data, str):
        raise ControlError(400, "'callback_data' (string) or 'button_text' is required")
    chat.started = True
    query_id = str(secrets.randbits(63))
    payload = {
        "id": query_id,
        "from": user.as_user(),
        "message": msg.to_api(bot, user),
        "chat_instance": str(abs(hash((bot.id, user.id)))),
        "data": callback_data,
    }
    update_id = bot.push_update("callback_query", payload)
    bot.callbacks[query_id] = CallbackRecord(
        query_id, user.id, message_id, callback_data, time.monotonic(), update_id or 0
    )
    return _ok({"callback_query_id": query_id, "update_id": update_id})


@routes.post("/control/block")
async def block(request: web.Request) -> web.Response:
    data = await _body(request)
    chat = _bot(request, data).chat(_user(request, data))
    chat.blocked = bool(data.get("blocked", True))
    return _ok({"blocked": chat.blocked})


# --- reading what the bot did ---------------------------------------------------------------


@routes.get("/control/transcript")
async def transcript(request: web.Request) -> web.Response:
    data = await _body(request)
    bot = _bot(request, data)
    user = _user(request, data)
    chat = bot.chat(user)
    include_deleted = str(data.get("include_deleted", "true")).lower() != "false"
    return _ok(
        {
            "user": user.as_user(),
            "bot": bot.as_user(),
            "messages": [
                m.snapshot() for m in chat.messages.values() if include_deleted or not m.deleted
            ],
            "reply_keyboard": chat.reply_keyboard,
            "blocked": chat.blocked,
            "chat_action": chat.last_action if time.time() - chat.last_action_at < 5 else None,
            "event_seq": chat.events[-1].seq if chat.events else 0,
        }
    )


@routes.post("/control/wait")
async def wait(request: web.Request) -> web.Response:
    data = await _body(request)
    bot = _bot(request, data)
    chat = bot.chat(_user(request, data))
    n = _int(data, "n", 1)
    timeout = float(data.get("timeout", 5))
    kinds = set(data.get("kinds") or ["sent", "edited"])
    after = data.get("after")
    cursor = int(after) if after is not None else chat.wait_cursor
    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in chat.events if e.seq > cursor and e.kind in kinds][:n]
        if len(found) >= n:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            events = [_event(chat, e) for e in found]
            return web.json_response(
                {"ok": False, "error": f"timed out: {len(found)} of {n}", "events": events},
                status=408,
            )
        await bot.wait_change(remaining)
    chat.wait_cursor = max(chat.wait_cursor, found[-1].seq)
    return _ok({"events": [_event(chat, e) for e in found], "cursor": found[-1].seq})


@routes.post("/control/mark")
async def mark(request: web.Request) -> web.Response:
    data = await _body(request)
    chat = _bot(request, data).chat(_user(request, data))
    chat.wait_cursor = chat.events[-1].seq if chat.events else 0
    return _ok({"cursor": chat.wait_cursor})


def _event(chat: ChatState, event: Any) -> dict[str, Any]:
    return {"seq": event.seq, "event": event.kind, **chat.messages[event.message_id].snapshot()}


@routes.get("/control/callback_answers")
async def callback_answers(request: web.Request) -> web.Response:
    data = await _body(request)
    bot = _bot(request, data)
    user_id = data.get("user_id")
    records = [
        r.as_dict() for r in bot.callbacks.values() if user_id is None or r.user_id == int(user_id)
    ]
    return _ok(records)


@routes.post("/control/wait_answer")
async def wait_answer(request: web.Request) -> web.Response:
    data = await _body(request)
    bot = _bot(request, data)
    record = bot.callbacks.get(str(data.get("callback_query_id")))
    if record is None:
        raise ControlError(404, "unknown callback_query_id")
    deadline = time.monotonic() + float(data.get("timeout", 5))
    while record.answer is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ControlError(408, "the callback query was not answered in time")
        await bot.wait_change(remaining)
    return _ok(record.as_dict())


@routes.get("/control/stats")
async def stats(request: web.Request) -> web.Response:
    data = await _body(request)
    bot = _bot(request, data)
    return _ok(
        {
            **bot.stats.as_dict(),
            "pending_updates": len(bot.updates),
            "unanswered_callbacks": sum(1 for r in bot.callbacks.values() if r.answer is None),
        }
    )


@routes.get("/control/updates")
async def pending_updates(request: web.Request) -> web.Response:
    data = await _body(request)
    return _ok(_bot(request, data).updates)


@routes.get("/control/commands")
async def commands(request: web.Request) -> web.Response:
    data = await _body(request)
    bot = _bot(request, data)
    return _ok(
        [{"scope": k[0], "language_code": k[1], "commands": v} for k, v in bot.commands.items()]
    )


@routes.get("/control/file/{file_id}")
async def file_download(request: web.Request) -> web.StreamResponse:
    data = await _body(request)
    bot = _bot(request, data)
    stored = bot.files.get(request.match_info["file_id"])
    if stored is None:
        raise ControlError(404, "unknown file_id")
    headers = {}
    if stored.file_name:
        quoted = json.dumps(stored.file_name, ensure_ascii=True)
        headers["Content-Disposition"] = f"inline; filename={quoted}"
    return web.Response(
        body=stored.data,
        content_type=stored.mime_type or "application/octet-stream",
        headers=headers,
    )


# --- faults and limits ----------------------------------------------------------------------


@routes.post("/control/faults")
async def add_fault(request: web.Request) -> web.Response:
    data = await _body(request)
    bot = _bot(request, data)
    kind = str(data.get("kind", ""))
    if kind not in FAULT_KINDS:
        raise ControlError(400, f"'kind' must be one of {', '.join(FAULT_KINDS)}")
    count = data.get("count", 1)
    fault = Fault(
        method=str(data.get("method") or "*").lower(),
        kind=kind,
        remaining=None if count is None or int(count) < 0 else int(count),
        chat_id=int(data["chat_id"]) if data.get("chat_id") is not None else None,
        retry_after=max(1, math.ceil(float(data.get("retry_after", 1)))),
        description=data.get("description"),
        delay=max(0.0, float(data.get("delay", 0) or 0)),
    )
    bot.faults.append(fault)
    return _ok(fault.as_dict())


@routes.get("/control/faults")
async def list_faults(request: web.Request) -> web.Response:
    data = await _body(request)
    return _ok([f.as_dict() for f in _bot(request, data).faults])


@routes.delete("/control/faults")
async def clear_faults(request: web.Request) -> web.Response:
    data = await _body(request)
    _bot(request, data).faults.clear()
    return _ok(True)


@routes.get("/control/rate_limit")
async def get_rate_limit(request: web.Request) -> web.Response:
    return _ok(_state(request).config.rate_limit.as_dict())


@routes.post("/control/rate_limit")
async def set_rate_limit(request: web.Request) -> web.Response:
    data = await _body(request)
    cfg = _state(request).config.rate_limit
    if "enabled" in data:
        cfg.enabled = bool(data["enabled"])
    for name in ("global_per_second", "per_chat_per_second"):
        if name in data:
            value = float(data[name])
            if value <= 0:
                raise ControlError(400, f"'{name}' must be positive")
            setattr(cfg, name, value)
    if "per_chat_burst" in data:
        cfg.per_chat_burst = max(1, int(data["per_chat_burst"]))
    return _ok(cfg.as_dict())


# --- the embedding program's clock ----------------------------------------------------------


@routes.get("/control/clock")
async def clock_info(request: web.Request) -> web.Response:
    state = _state(request)
    return _ok({"available": state.on_clock is not None, "offset_hours": state.clock_offset / 3600})


@routes.post("/control/clock")
async def clock(request: web.Request) -> web.Response:
    state = _state(request)
    if state.on_clock is None:
        raise ControlError(404, "no clock hook is registered")
    data = await _body(request)
    try:
        hours = float(data.get("advance_hours", 0))
    except (TypeError, ValueError):
        raise ControlError(400, "'advance_hours' must be a number") from None
    if not math.isfinite(hours) or hours < 0:
        raise ControlError(400, "'advance_hours' must be a non-negative number")
    result = state.on_clock(hours)
    if inspect.isawaitable(result):
        result = await result
    state.clock_offset += hours * 3600
    try:
        json.dumps(result)
    except (TypeError, ValueError):
        result = str(result)
    return _ok({"advanced_hours": hours, "hook_result": result})
