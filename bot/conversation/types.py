"""The platform-neutral contract between the adapters and the conversations.

An adapter turns an incoming update into an `Event`; the conversation layer
answers with a list of `Action`s; the adapter carries them out through its
library. Keyboards are plain data. Nothing here knows Telegram.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class EventKind(StrEnum):
    COMMAND = "command"  # /start, /help, /cancel, /language, /admin ...
    TEXT = "text"  # a typed message
    BUTTON = "button"  # an inline button pressed (payload = callback data)
    CONTACT = "contact"  # a shared contact (text = its phone number)
    OTHER = "other"  # sticker, photo, voice ... where text was expected


@dataclass(frozen=True, slots=True)
class Event:
    platform: str  # "telegram"
    update_id: int  # for "a re-delivered update does nothing"
    user_id: int
    chat_id: int
    kind: EventKind
    text: str = ""  # TEXT: the text; COMMAND: arguments after the command; CONTACT: the phone
    command: str = ""  # COMMAND: name without the slash, lower-case
    payload: str = ""  # BUTTON: the callback data
    message_id: int | None = None  # TEXT: the user's message; BUTTON: the bot message pressed
    callback_id: str | None = None  # BUTTON: must always be answered
    language_code: str | None = None  # the client's language, e.g. "zh-hans", "en"
    first_name: str = ""
    # CONTACT: the platform user the contact belongs to (None: not a user of the platform);
    # the candidate's own number only when it is `user_id`.
    contact_user_id: int | None = None
    # Whether the platform lets the bot delete the user's own message (Telegram does; a
    # WeChat official account cannot): where it cannot, the texts that promise a deletion
    # ask the candidate to delete it themselves (`<key>-undeletable` in the locales).
    deletes_user_messages: bool = True


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    payload: str = ""  # callback data (<= 64 bytes), or
    url: str = ""  # a link button (payment page)


Keyboard = tuple[tuple[Button, ...], ...]  # rows of buttons, at most three a row


@dataclass(frozen=True, slots=True)
class SendText:
    """Send a new message (or, with `edit_message_id`, edit that one in place)."""

    chat_id: int
    text: str
    keyboard: Keyboard = ()
    edit_message_id: int | None = None
    # Set by the conversation when the new message should become "the menu"
    # message that later steps edit.
    remember_as_menu: bool = True


@dataclass(frozen=True, slots=True)
class SendDocument:
    chat_id: int
    filename: str
    data: bytes = b""
    file_id: str | None = None  # re-use an uploaded file (Telegram file_id)
    caption: str = ""
    cache_key: str | None = None  # where to remember the file_id after upload


@dataclass(frozen=True, slots=True)
class SendPhoto:
    chat_id: int
    data: bytes
    caption: str = ""


@dataclass(frozen=True, slots=True)
class AnswerButton:
    """Answer a callback query (always, so the client stops its spinner)."""

    callback_id: str
    text: str = ""
    alert: bool = False


@dataclass(frozen=True, slots=True)
class DeleteMessage:
    chat_id: int
    message_id: int


Action = SendText | SendDocument | SendPhoto | AnswerButton | DeleteMessage


@dataclass(frozen=True, slots=True)
class SendResult:
    """What an adapter reports back after carrying out one action."""

    ok: bool
    message_id: int | None = None
    file_id: str | None = None
    error: str | None = None  # "blocked", "not-modified", "not-found", "failed"


@dataclass(frozen=True, slots=True)
class Notice:
    """What an outbox notice says, beside its rendered text: for a platform that sends
    notices in a form of their own (WeChat's template messages outside its 48-hour window).
    """

    kind: str  # the outbox kind (`notice-<kind>` in notices.ftl)
    args: Mapping[str, Any]  # the arguments its text was rendered with
    locale: str  # the recipient's language
    key: str  # unique per outbox row: lets the platform drop a repeated send


@dataclass(slots=True)
class Reply:
    """The actions for one event, in order."""

    actions: list[Action] = field(default_factory=list)

    def add(self, action: Action) -> Reply:
        self.actions.append(action)
        return self


class Performer(Protocol):
    """Carries out actions through one platform (an adapter implements it).

    Retries 429 (after retry_after) and 5xx / dropped connections (with
    backoff) itself; a blocked user yields `SendResult(ok=False, error="blocked")`.
    """

    async def perform(self, action: Action) -> SendResult: ...
