"""Platform-neutral pieces of turning an update into an Event (shared by both adapters)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
