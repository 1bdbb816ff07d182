"""Platform-neutral pieces of turning an update into an Event (shared by both adapters)."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, TypeGuard

from bot.conversation.types import Event, EventKind

PLATFORM = "telegram"

# The update kinds the conversations use; anything else is not even fetched.
ALLOWED_UPDATES = ["message", "callback_query"]


def split_command(text: str, starts_with_command_entity: bool) -> tuple[str, str] | None:
    """("start", "args") for "/start@CetBot args"; None when the text is not a command.

    Telegram marks commands with a bot_command entity at offset 0; without one (e.g. "/ 1")
    the text is ordinary input.
    """
    if not starts_with_command_entity or not text.startswith("/"):
        return None
    head, _, args = text.partition(" ")
    name = head[1:].split("@", 1)[0].lower()
    if not name:
        return None
    return name, args.strip()


def message_event(message: Any, update_id: int) -> Event | None:
    """The Event of a message update; None for messages of bots or without a sender.

    aiogram's and python-telegram-bot's Message, User and MessageEntity objects carry the
    Bot API's field names, so one function reads both.
    """
    user = message.from_user
    if user is None or user.is_bot:
        return None
    text = message.text or ""
    entities: Sequence[Any] = message.entities or ()
    first_is_command = (
        bool(entities) and entities[0].type == "bot_command" and not entities[0].offset
    )
    common: dict[str, Any] = {
        "platform": PLATFORM,
        "update_id": update_id,
        "user_id": user.id,
        "chat_id": message.chat.id,
        "message_id": message.message_id,
        "language_code": user.language_code,
        "first_name": user.first_name,
    }
    command = split_command(text, first_is_command)
    if command is not None:
        return Event(kind=EventKind.COMMAND, command=command[0], text=command[1], **common)
    if message.text is not None:
        return Event(kind=EventKind.TEXT, text=text, **common)
    contact = message.contact
    if contact is not None:
        # The engine decides whether it is the candidate's own number (contact.user_id).
        return Event(
            kind=EventKind.CONTACT,
            text=contact.phone_number or "",
            contact_user_id=contact.user_id,
            **common,
        )
    # Stickers, photos, voice, documents ...: the engine answers "please type ...".
    return Event(kind=EventKind.OTHER, **common)


def button_event(query: Any, update_id: int) -> Event:
    """The Event of a callback query (an inline button pressed)."""
    # A message too old to read (inaccessible) still names the chat and the menu pressed.
    message = query.message
    return Event(
        platform=PLATFORM,
        update_id=update_id,
        user_id=query.from_user.id,
        chat_id=message.chat.id if message is not None else query.from_user.id,
        kind=EventKind.BUTTON,
        payload=query.data or "",
        message_id=message.message_id if message is not None else None,
        callback_id=query.id,
        language_code=query.from_user.language_code,
        first_name=query.from_user.first_name,
    )


# -- plain updates, read from the Bot API's JSON without the library's models ----------------
#
# A webhook update arrives as JSON. Building the library's models of it (pydantic for
# aiogram, the nested objects and their private attributes) and sending it through the
# dispatcher's middlewares cost about a fifth of the bot process's CPU in the registration
# rush (docs/performance.md, issue 17, seventh round). The two kinds the conversations use
# are read here instead, when the update is plain: only known keys at the top, every field
# the Event needs present and of the Bot API's type. Anything else (another kind, a field
# missing or of another type, a message without text) returns None and goes through the
# library as before, which refuses what it cannot read.


def _is_int(value: Any) -> TypeGuard[int]:
    return type(value) is int


def _opt_str(raw: dict[str, Any], key: str) -> bool:
    value = raw.get(key)
    return value is None or type(value) is str


def _plain_user(raw: Any) -> SimpleNamespace | None:
    if type(raw) is not dict:
        return None
    uid, is_bot, first_name = raw.get("id"), raw.get("is_bot"), raw.get("first_name")
    if not _is_int(uid) or type(is_bot) is not bool or type(first_name) is not str:
        return None
    if not _opt_str(raw, "language_code"):
        return None
    return SimpleNamespace(
        id=uid, is_bot=is_bot, first_name=first_name, language_code=raw.get("language_code")
    )


def _plain_message(raw: Any) -> SimpleNamespace | None:
    """The message's chat, id and sender (when there is one), checked; None if not plain."""
    if type(raw) is not dict:
        return None
    chat = raw.get("chat")
    if type(chat) is not dict or not _is_int(chat.get("id")) or type(chat.get("type")) is not str:
        return None
    if not _is_int(raw.get("message_id")) or not _is_int(raw.get("date")):
        return None
    sender = None
    if "from" in raw:
        sender = _plain_user(raw["from"])
        if sender is None:
            return None
    return SimpleNamespace(
        message_id=raw["message_id"], chat=SimpleNamespace(id=chat["id"]), from_user=sender
    )


def _plain_entities(raw: Any) -> list[SimpleNamespace] | None:
    if raw is None:
        return []
    if type(raw) is not list:
        return None
    out = []
    for entity in raw:
        if type(entity) is not dict or type(entity.get("type")) is not str:
            return None
        if not _is_int(entity.get("offset")) or not _is_int(entity.get("length")):
            return None
        out.append(SimpleNamespace(type=entity["type"], offset=entity["offset"]))
    return out


def plain_update_event(payload: dict[str, Any]) -> Event | None:
    """The Event of a plain text message or button press, read from the update's JSON;
    None when the update is anything else (the caller hands it to the library)."""
    update_id = payload.get("update_id")
    if not _is_int(update_id) or len(payload) != 2:
        return None
    if "callback_query" in payload:
        raw = payload["callback_query"]
        if type(raw) is not dict or type(raw.get("id")) is not str:
            return None
        if type(raw.get("chat_instance")) is not str or not _opt_str(raw, "data"):
            return None
        user = _plain_user(raw.get("from"))
        message = _plain_message(raw.get("message"))
        if user is None or message is None:
            return None
        query = SimpleNamespace(id=raw["id"], from_user=user, message=message, data=raw.get("data"))
        return button_event(query, update_id)
    raw = payload.get("message")
    message = _plain_message(raw)
    if message is None or message.from_user is None or message.from_user.is_bot:
        return None
    assert type(raw) is dict
    text, entities = raw.get("text"), _plain_entities(raw.get("entities"))
    if type(text) is not str or entities is None:
        return None
    message.text, message.entities, message.contact = text, entities, None
    return message_event(message, update_id)
