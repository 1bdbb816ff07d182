"""The Bot API itself: /bot{token}/{method} and /file/bot{token}/{path}, strict like Telegram."""

from __future__ import annotations

import asyncio
import io
import logging
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from emulator.errors import ApiError, too_many_requests
from emulator.markup import validate_markup
from emulator.params import Params, Upload, read_params
from emulator.state import (
    BotState,
    ChatState,
    EmulatorState,
    StoredFile,
    StoredMessage,
    WebhookSettings,
)
from emulator.textparse import EntityParseError, parse_text, utf16_len
from emulator.webhook import WebhookWorker

log = logging.getLogger(__name__)

STATE_KEY: web.AppKey[EmulatorState] = web.AppKey("emulator_state", EmulatorState)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_ANSWER = 200
# A message older than this can no longer be deleted by the bot.
DELETE_WINDOW_SECONDS = 48 * 3600
# Methods Telegram counts against the flood limits.
SENDING_METHODS = frozenset(
    {
        "sendmessage",
        "senddocument",
        "sendphoto",
        "sendsticker",
        "editmessagetext",
        "editmessagereplymarkup",
        "editmessagecaption",
    }
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
BAD_QUERY = "Bad Request: query is too old and response timeout expired or query ID is invalid"

Handler = Callable[["Call"], Awaitable[Any]]
METHODS: dict[str, Handler] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        METHODS[name.lower()] = func
        return func

    return register


class Call:
    """One Bot API call in progress."""

    def __init__(self, state: EmulatorState, bot: BotState, name: str, params: Params) -> None:
        self.state = state
        self.bot = bot
        self.name = name
        self.p = params

    def chat(self, *, must_reach: bool = True) -> ChatState:
        """The private chat named by chat_id; Telegram's errors for unknown or unreachable."""
        raw = self.p.values.get("chat_id")
        if raw is None or raw == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None
        user = self.state.users.get(chat_id)
        if user is None:
            raise ApiError(400, "Bad Request: chat not found")
        chat = self.bot.chat(user)
        if must_reach:
            if chat.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if not chat.started and self.state.config.require_start:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def formatted(
        self, text_name: str, mode_name: str, entities_name: str, *, limit: int, caption: bool
    ) -> tuple[str | None, list[dict[str, Any]]]:
        raw = self.p.str(text_name)
        if raw is None:
            return None, []
        mode = self.p.str(mode_name)
        if mode:
            try:
                text, entities = parse_text(raw, mode)
            except EntityParseError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
            except ValueError:
                raise ApiError(400, "Bad Request: unsupported parse_mode") from None
        else:
            text = raw
            entities = self.p.json(entities_name) or []
            if not isinstance(entities, list):
                raise ApiError(400, f"Bad Request: can't parse {entities_name} JSON object")
        size = utf16_len(text)
        for ent in entities:
            if not isinstance(ent, dict) or ent.get("offset", -1) < 0:
                raise ApiError(400, "Bad Request: can't parse entities: wrong entity offset")
        if size > limit:
            what = "message caption is too long" if caption else "message is too long"
            raise ApiError(400, f"Bad Request: {what}")
        return text, entities

    def message_text(self) -> tuple[str, list[dict[str, Any]]]:
        text, entities = self.formatted(
            "text", "parse_mode", "entities", limit=MAX_TEXT, caption=False
        )
        if text is None or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        return text, entities

    def reply_to(self, chat: ChatState) -> int | None:
        target = self.p.int("reply_to_message_id")
        allow_missing = self.p.bool("allow_sending_without_reply")
        params = self.p.json("reply_parameters")
        if isinstance(params, dict) and params.get("message_id") is not None:
            target = int(params["message_id"])
            allow_missing = allow_missing or bool(params.get("allow_sending_without_reply"))
        if target is None:
            return None
        msg = chat.messages.get(target)
        if msg is None or msg.deleted:
            if allow_missing:
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        return target

    def markup(self, chat: ChatState | None, *, inline_only: bool = False) -> dict[str, Any] | None:
        markup = validate_markup(
            self.p.json(
                "reply_markup", error="Bad Request: can't parse reply keyboard markup JSON object"
            ),
            inline_only=inline_only,
        )
        if chat is not None and markup is not None and "inline_keyboard" not in markup:
            # Reply keyboards belong to the chat (the user's input area), not to the message.
            chat.reply_keyboard = None if markup.get("remove_keyboard") else markup
        return markup

    def post(self, chat: ChatState, msg: StoredMessage) -> dict[str, Any]:
        chat.messages[msg.message_id] = msg
        self.bot.stats.record_send(chat.user.id)
        self.bot.add_event(chat, "sent", msg.message_id)
        return msg.to_api(self.bot, chat.user)

    def target_message(self, chat: ChatState, missing: str) -> StoredMessage:
        if self.p.has("inline_message_id") and not self.p.has("message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        message_id = self.p.int(
            "message_id", empty="Bad Request: message identifier is not specified"
        )
        msg = chat.messages.get(message_id or 0)
        if msg is None or msg.deleted:
            raise ApiError(400, f"Bad Request: {missing}")
        return msg


# --- identity and lifecycle ---------------------------------------------------------------


@method("getMe")
async def get_me(call: Call) -> Any:
    return {
        **call.bot.as_user(),
        "can_join_groups": False,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@method("close")
async def close(call: Call) -> Any:
    return True


@method("logOut")
async def log_out(call: Call) -> Any:
    return True


# --- updates --------------------------------------------------------------------------------


@method("getUpdates")
async def get_updates(call: Call) -> Any:
    bot = call.bot
    if bot.webhook is not None:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    offset = call.p.int("offset") or 0
    limit = min(100, max(1, call.p.int("limit") or 100))
    timeout = max(0.0, call.p.float("timeout") or 0.0)
    allowed = call.p.json("allowed_updates")
    if isinstance(allowed, list):
        # Telegram remembers the setting for later calls; an empty list means "the default".
        bot.allowed_updates = [str(a) for a in allowed] or None
    # A newer getUpdates request terminates an older one still waiting, like Telegram.
    bot.poll_generation += 1
    generation = bot.poll_generation
    bot.notify()
    deadline = time.monotonic() + timeout
    while True:
        _confirm(bot, offset)
        if bot.updates or bot.closing:
            batch = bot.updates[:limit]
            bot.stats.updates_delivered += len(batch)
            bot.stats.empty_polls += not batch
            return batch
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            bot.stats.empty_polls += 1
            return []
        await bot.wait_change(remaining)
        if bot.poll_generation != generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        if bot.webhook is not None:
            bot.stats.empty_polls += 1
            return []


def _confirm(bot: BotState, offset: int) -> None:
    if offset > 0:
        bot.updates = [u for u in bot.updates if u["update_id"] >= offset]
    elif offset < 0:
        # A negative offset keeps only the last -offset updates and forgets the rest.
        bot.updates = bot.updates[offset:]


_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


@method("setWebhook")
async def set_webhook(call: Call) -> Any:
    url = call.p.str("url") or ""
    if call.p.bool("drop_pending_updates"):
        call.bot.updates.clear()
    if not url:
        _stop_webhook(call.bot)
        return True
    if not url.startswith(("http://", "https://")):
        raise ApiError(400, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
    secret = call.p.str("secret_token")
    if secret is not None and not _SECRET_RE.fullmatch(secret):
        raise ApiError(400, "Bad Request: secret token contains unallowed characters")
    max_connections = call.p.int("max_connections") or 40
    if not 1 <= max_connections <= 100:
        raise ApiError(400, "Bad Request: bad webhook: max_connections must be between 1 and 100")
    allowed = call.p.json("allowed_updates")
    settings = WebhookSettings(
        url=url,
        secret_token=secret,
        max_connections=max_connections,
        allowed_updates=[str(a) for a in allowed]
        if isinstance(allowed, list) and allowed
        else None,
    )
    _stop_webhook(call.bot)
    call.bot.webhook = settings
    call.bot.webhook_worker = WebhookWorker(call.state, call.bot, call_method)
    call.bot.webhook_worker.start()
    call.bot.notify()
    return True


def _stop_webhook(bot: BotState) -> None:
    if bot.webhook_worker is not None:
        bot.webhook_worker.stop()
        bot.webhook_worker = None
    bot.webhook = None


@method("deleteWebhook")
async def delete_webhook(call: Call) -> Any:
    if call.p.bool("drop_pending_updates"):
        call.bot.updates.clear()
    _stop_webhook(call.bot)
    call.bot.notify()
    return True


@method("getWebhookInfo")
async def get_webhook_info(call: Call) -> Any:
    hook = call.bot.webhook
    info: dict[str, Any] = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(call.bot.updates),
    }
    if hook is not None:
        info["max_connections"] = hook.max_connections
        info["ip_address"] = "127.0.0.1"
        if hook.allowed_updates:
            info["allowed_updates"] = hook.allowed_updates
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
    return info


# --- messages -------------------------------------------------------------------------------


@method("sendMessage")
async def send_message(call: Call) -> Any:
    chat = call.chat()
    text, entities = call.message_text()
    reply_to = call.reply_to(chat)
    markup = call.markup(chat)
    msg = StoredMessage(
        message_id=chat.new_message_id(),
        chat_id=chat.user.id,
        from_bot=True,
        date=call.state.now(),
        text=text,
        entities=entities,
        reply_markup=markup if markup and "inline_keyboard" in markup else None,
        reply_to_message_id=reply_to,
    )
    return call.post(chat, msg)


@method("editMessageText")
async def edit_message_text(call: Call) -> Any:
    chat = call.chat(must_reach=False)
    msg = call.target_message(chat, "message to edit not found")
    text, entities = call.message_text()
    markup = call.markup(None, inline_only=True)
    if not msg.from_bot:
        raise ApiError(400, "Bad Request: message can't be edited")
    if msg.text is None:
        raise ApiError(400, "Bad Request: there is no text in the message to edit")
    _not_modified(msg.text == text and msg.entities == entities and msg.reply_markup == markup)
    msg.text, msg.entities, msg.reply_markup = text, entities, markup
    return _edited(call, chat, msg)


@method("editMessageCaption")
async def edit_message_caption(call: Call) -> Any:
    chat = call.chat(must_reach=False)
    msg = call.target_message(chat, "message to edit not found")
    caption, entities = call.formatted(
        "caption", "parse_mode", "caption_entities", limit=MAX_CAPTION, caption=True
    )
    markup = call.markup(None, inline_only=True)
    if not msg.from_bot:
        raise ApiError(400, "Bad Request: message can't be edited")
    if msg.document is None and msg.photo is None:
        raise ApiError(400, "Bad Request: there is no caption in the message to edit")
    _not_modified(
        msg.caption == caption and msg.caption_entities == entities and msg.reply_markup == markup
    )
    msg.caption, msg.caption_entities, msg.reply_markup = caption, entities, markup
    return _edited(call, chat, msg)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(call: Call) -> Any:
    chat = call.chat(must_reach=False)
    msg = call.target_message(chat, "message to edit not found")
    markup = call.markup(None, inline_only=True)
    if not msg.from_bot:
        raise ApiError(400, "Bad Request: message can't be edited")
    _not_modified(msg.reply_markup == markup)
    msg.reply_markup = markup
    return _edited(call, chat, msg)


def _not_modified(same: bool) -> None:
    if same:
        raise ApiError(
            400,
            "Bad Request: message is not modified: specified new message content and reply "
            "markup are exactly the same as a current content and reply markup of the message",
        )


def _edited(call: Call, chat: ChatState, msg: StoredMessage) -> dict[str, Any]:
    msg.edit_date = call.state.now()
    call.bot.stats.record_send(chat.user.id)
    call.bot.add_event(chat, "edited", msg.message_id)
    return msg.to_api(call.bot, chat.user)


@method("deleteMessage")
async def delete_message(call: Call) -> Any:
    chat = call.chat(must_reach=False)
    msg = call.target_message(chat, "message to delete not found")
    if call.state.now() - msg.date > DELETE_WINDOW_SECONDS:
        raise ApiError(400, "Bad Request: message can't be deleted")
    msg.deleted = True
    call.bot.add_event(chat, "deleted", msg.message_id)
    return True


@method("answerCallbackQuery")
async def answer_callback_query(call: Call) -> Any:
    query_id = call.p.str("callback_query_id", empty="Bad Request: QUERY_ID_INVALID")
    record = call.bot.callbacks.get(query_id or "")
    if record is None or record.answer is not None:
        raise ApiError(400, BAD_QUERY)
    ttl = call.state.config.callback_query_ttl
    if ttl is not None and time.monotonic() - record.created_at > ttl:
        raise ApiError(400, BAD_QUERY)
    text = call.p.str("text")
    if text is not None and utf16_len(text) > MAX_CALLBACK_ANSWER:
        raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
    record.answer = {
        "text": text,
        "show_alert": call.p.bool("show_alert"),
        "url": call.p.str("url"),
        "cache_time": call.p.int("cache_time") or 0,
    }
    call.bot.notify()
    return True


@method("sendChatAction")
async def send_chat_action(call: Call) -> Any:
    chat = call.chat()
    action = call.p.str("action", empty="Bad Request: action is empty")
    if action not in CHAT_ACTIONS:
        raise ApiError(400, "Bad Request: wrong parameter action in request")
    chat.last_action, chat.last_action_at = action, time.time()
    call.bot.notify()
    return True


@method("getChat")
async def get_chat(call: Call) -> Any:
    chat = call.chat(must_reach=False)
    return {**chat.user.as_chat(), "accent_color_id": 0, "max_reaction_count": 11}


# --- files ----------------------------------------------------------------------------------


def _resolve_file(call: Call, field: str, kind: str) -> tuple[StoredFile | None, Upload | None]:
    value = call.p.file(field)
    if value is None:
        raise ApiError(400, f"Bad Request: there is no {field} in the request")
    if isinstance(value, Upload):
        if not value.data:
            raise ApiError(400, "Bad Request: file must be non-empty")
        return None, value
    if value.startswith(("http://", "https://")):
        raise ApiError(400, "Bad Request: failed to get HTTP URL content")
    stored = call.bot.files.get(value)
    if stored is None:
        raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
    if stored.kind != kind and not (kind == "document" and stored.kind != "photo"):
        raise ApiError(400, f"Bad Request: can't use file of type {stored.kind} as {kind}")
    return stored, None


def _media_message(call: Call, chat: ChatState, **media: Any) -> dict[str, Any]:
    caption, caption_entities = call.formatted(
        "caption", "parse_mode", "caption_entities", limit=MAX_CAPTION, caption=True
    )
    reply_to = call.reply_to(chat)
    markup = call.markup(chat)
    msg = StoredMessage(
        message_id=chat.new_message_id(),
        chat_id=chat.user.id,
        from_bot=True,
        date=call.state.now(),
        caption=caption,
        caption_entities=caption_entities,
        reply_markup=markup if markup and "inline_keyboard" in markup else None,
        reply_to_message_id=reply_to,
        **media,
    )
    return call.post(chat, msg)


@method("sendDocument")
async def send_document(call: Call) -> Any:
    chat = call.chat()
    stored, upload = _resolve_file(call, "document", "document")
    if upload is not None:
        name = upload.filename or "document"
        mime = (
            upload.content_type
            if upload.content_type and upload.content_type != "application/octet-stream"
            else mimetypes.guess_type(name)[0] or "application/octet-stream"
        )
        stored = call.bot.store_file(upload.data, "document", file_name=name, mime_type=mime)
    return _media_message(call, chat, document=stored)


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of an image, or None if it is not one Telegram could process."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as img:
            return img.size
    except Exception:  # any decoder failure means "not an image" here
        return None


@method("sendPhoto")
async def send_photo(call: Call) -> Any:
    chat = call.chat()
    stored, upload = _resolve_file(call, "photo", "photo")
    if upload is not None:
        size = image_size(upload.data)
        if size is None:
            raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        stored = call.bot.store_file(
            upload.data, "photo", mime_type="image/jpeg", width=size[0], height=size[1]
        )
    return _media_message(call, chat, photo=stored)


@method("getFile")
async def get_file(call: Call) -> Any:
    file_id = call.p.str("file_id", empty="Bad Request: file_id is empty")
    stored = call.bot.files.get(file_id or "")
    if stored is None:
        raise ApiError(400, "Bad Request: invalid file_id")
    if len(stored.data) > call.state.config.max_download_bytes:
        raise ApiError(400, "Bad Request: file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.file_path,
    }


# --- commands and menu ---------------------------------------------------------------------

_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")


def _commands_key(call: Call) -> tuple[str, str]:
    scope = call.p.json("scope") or {"type": "default"}
    if not isinstance(scope, dict) or "type" not in scope:
        raise ApiError(400, "Bad Request: can't parse BotCommandScope JSON object")
    scope_key = ",".join(f"{k}={scope[k]}" for k in sorted(scope))
    return scope_key, call.p.str("language_code") or ""


@method("setMyCommands")
async def set_my_commands(call: Call) -> Any:
    commands = call.p.json("commands", error="Bad Request: can't parse commands JSON object")
    if not isinstance(commands, list):
        raise ApiError(400, "Bad Request: can't parse commands JSON object")
    if len(commands) > 100:
        raise ApiError(400, "Bad Request: too many commands")
    clean = []
    for item in commands:
        if not isinstance(item, dict) or not _COMMAND_NAME.fullmatch(str(item.get("command", ""))):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        desc = str(item.get("description", ""))
        if not 1 <= len(desc) <= 256:
            raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        clean.append({"command": item["command"], "description": desc})
    call.bot.commands[_commands_key(call)] = clean
    return True


@method("getMyCommands")
async def get_my_commands(call: Call) -> Any:
    return call.bot.commands.get(_commands_key(call), [])


@method("deleteMyCommands")
async def delete_my_commands(call: Call) -> Any:
    call.bot.commands.pop(_commands_key(call), None)
    return True


@method("setChatMenuButton")
async def set_chat_menu_button(call: Call) -> Any:
    chat_id = None
    if call.p.has("chat_id"):
        chat_id = call.chat(must_reach=False).user.id
    button = call.p.json("menu_button") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in ("default", "commands", "web_app"):
        raise ApiError(400, "Bad Request: can't parse menu button JSON object")
    call.bot.menu_buttons[chat_id] = button
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(call: Call) -> Any:
    chat_id = call.chat(must_reach=False).user.id if call.p.has("chat_id") else None
    buttons = call.bot.menu_buttons
    return buttons.get(chat_id) or buttons.get(None) or {"type": "default"}


def _property_methods() -> None:
    # Bot profile texts: stored so a test can read them back, otherwise inert.
    for name, field in (
        ("setMyName", "name"),
        ("setMyDescription", "description"),
        ("setMyShortDescription", "short_description"),
    ):

        async def setter(call: Call, field: str = field) -> Any:
            key = f"{field}:{call.p.str('language_code') or ''}"
            call.bot.properties[key] = call.p.str(field) or ""
            return True

        async def getter(call: Call, field: str = field) -> Any:
            key = f"{field}:{call.p.str('language_code') or ''}"
            return {field: call.bot.properties.get(key, "")}

        method(name)(setter)
        method("g" + name[1:])(getter)


_property_methods()


# --- dispatch -------------------------------------------------------------------------------


class DropConnection(Exception):
    """Close the client's connection without any answer (fault injection)."""

    def __init__(self, result: Any = None) -> None:
        super().__init__("drop")
        self.result = result


def _apply_fault(bot: BotState, name: str, chat_id: int | None) -> tuple[str, float] | None:
    """Return the kind (and delay) of the first matching injected fault, consuming one use."""
    for fault in bot.faults:
        if fault.matches(name, chat_id):
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    bot.faults.remove(fault)
            if fault.kind == "429":
                bot.stats.injected_429 += 1
                raise too_many_requests(fault.retry_after)
            if fault.kind == "500":
                raise ApiError(500, fault.description or "Internal Server Error")
            if fault.kind == "403":
                raise ApiError(403, fault.description or "Forbidden: bot was blocked by the user")
            return fault.kind, fault.delay
    return None


def _chat_id_of(params: Params) -> int | None:
    try:
        return int(params.values["chat_id"])
    except (KeyError, TypeError, ValueError):
        return None


async def call_method(state: EmulatorState, bot: BotState, name: str, params: Params) -> Any:
    """Run one Bot API method with faults and flood limits applied; raises ApiError."""
    key = name.lower()
    handler = METHODS.get(key)
    bot.stats.requests[_canonical_name(key, name)] += 1
    bot.stats.record_call(_canonical_name(key, name))
    if handler is None:
        raise ApiError(404, "Not Found")
    chat_id = _chat_id_of(params)
    applied = _apply_fault(bot, key, chat_id)
    special = applied[0] if applied else None
    if special in ("drop", "502"):
        raise DropConnection() if special == "drop" else ApiError(502, "Bad Gateway")
    if key in SENDING_METHODS:
        wait = bot.limiter.check(state.config.rate_limit, chat_id)
        if wait is not None:
            bot.stats.rate_limited_429 += 1
            raise too_many_requests(wait)
    result = await handler(Call(state, bot, name, params))
    if special == "drop_after":
        raise DropConnection(result)
    if special == "delay" and applied is not None:
        # A slow Telegram: the call has taken effect, its answer comes late (a client
        # that gives up waiting may not conclude that nothing happened).
        await asyncio.sleep(applied[1])
    return result


_CANONICAL = {
    m.lower(): m
    for m in (
        "getMe getUpdates setWebhook deleteWebhook getWebhookInfo sendMessage editMessageText "
        "editMessageCaption editMessageReplyMarkup answerCallbackQuery deleteMessage "
        "sendDocument sendPhoto getFile setMyCommands getMyCommands deleteMyCommands "
        "sendChatAction setChatMenuButton getChatMenuButton close logOut getChat setMyName "
        "getMyName setMyDescription getMyDescription setMyShortDescription getMyShortDescription"
    ).split()
}


def _canonical_name(key: str, given: str) -> str:
    # Method names are case-insensitive in Telegram; stats use the documented spelling.
    return _CANONICAL.get(key, given)


_NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


async def handle_api(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    token = request.match_info["token"]
    name = request.match_info["method"]
    allowed = state.config.tokens
    if allowed is not None and token not in allowed:
        return _error_response(ApiError(401, "Unauthorized"))
    bot = state.bot(token)
    state.last_token = token
    try:
        params = await read_params(request, state.config.max_upload_bytes)
        result = await call_method(state, bot, name, params)
    except ApiError as exc:
        bot.stats.errors[exc.code] += 1
        if exc.code == 502:
            # Telegram's front end answers 502 with an HTML page, not JSON.
            return web.Response(status=502, text=_NGINX_502, content_type="text/html")
        return _error_response(exc)
    except DropConnection:
        bot.stats.errors[0] += 1
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError() from None
    return web.json_response({"ok": True, "result": result})


def _error_response(exc: ApiError) -> web.Response:
    return web.json_response(exc.body(), status=exc.code)


async def handle_file(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    token = request.match_info["token"]
    bot = state.bots.get(token)
    stored = bot.files_by_path.get(request.match_info["path"]) if bot else None
    if stored is None:
        return _error_response(ApiError(404, "Not Found"))
    return web.Response(
        body=stored.data, content_type=stored.mime_type or "application/octet-stream"
    )


def add_routes(app: web.Application) -> None:
    app.router.add_route("*", "/bot{token}/{method}", handle_api)
    app.router.add_get("/file/bot{token}/{path:.+}", handle_file)
