"""Plain webhook updates are read from their JSON (bot/handlers/events.py, issue 17): the Event
must be the one aiogram's models give, and PTB's, and anything not plain must be left to the
library."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from aiogram.types import Update
from telegram import Update as PtbUpdate

from bot.conversation.types import Event, EventKind
from bot.handlers.events import button_event, message_event, plain_update_event

USER = {"id": 730_002, "is_bot": False, "first_name": "Student", "language_code": "zh-hans"}
CHAT = {"id": 730_002, "type": "private", "first_name": "Student"}


def _message(text: str | None = "hello", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"message_id": 7, "date": 1_700_000_000, "chat": CHAT, "from": USER}
    if text is not None:
        body["text"] = text
    body.update(extra)
    return {"update_id": 41, "message": body}


def _press(data: str | None = "v1:ov", **extra: Any) -> dict[str, Any]:
    shown = {
        "message_id": 9,
        "date": 1_700_000_000,
        "chat": CHAT,
        "from": {"id": 777, "is_bot": True, "first_name": "CetBot", "username": "cet_bot"},
        "text": "Your registration",
        "edit_date": 1_700_000_100,
        "reply_markup": {"inline_keyboard": [[{"text": "Overview", "callback_data": "v1:ov"}]]},
    }
    query: dict[str, Any] = {"id": "5551", "from": USER, "message": shown, "chat_instance": "-4"}
    if data is not None:
        query["data"] = data
    query.update(extra)
    return {"update_id": 42, "callback_query": query}


def _aiogram_event(payload: dict[str, Any]) -> Event | None:
    update = Update.model_validate(copy.deepcopy(payload))
    if update.message is not None:
        return message_event(update.message, update.update_id)
    assert update.callback_query is not None
    return button_event(update.callback_query, update.update_id)


COMMAND = [{"type": "bot_command", "offset": 0, "length": 6}]
PLAIN = {
    "text": _message(),
    "empty text": _message(""),
    "command": _message("/start", entities=COMMAND),
    "command with arguments and bot name": _message(
        "/Start@cet_bot  abc ", entities=[{"type": "bot_command", "offset": 0, "length": 14}]
    ),
    "slash without a command entity": _message("/start"),
    "command entity not first": _message(
        "see /start", entities=[{"type": "bot_command", "offset": 4, "length": 6}]
    ),
    "bold then command": _message(
        "/start", entities=[{"type": "bold", "offset": 0, "length": 6}, *COMMAND]
    ),
    "no language": _message("hi", **{"from": {"id": 5, "is_bot": False, "first_name": "A"}}),
    "press": _press(),
    "press without data": _press(None),
    "press on an inaccessible message": _press(message={"message_id": 9, "date": 0, "chat": CHAT}),
}


def _ptb_event(payload: dict[str, Any]) -> Event | None:
    update = PtbUpdate.de_json(copy.deepcopy(payload), None)
    if update.message is not None:
        return message_event(update.message, update.update_id)
    assert update.callback_query is not None
    return button_event(update.callback_query, update.update_id)


@pytest.mark.parametrize("name", list(PLAIN))
def test_a_plain_update_gives_ptb_s_event(name: str) -> None:
    # The PTB adapter's webhook reads plain updates the same way (PtbAdapter.feed_webhook).
    payload = PLAIN[name]
    event = plain_update_event(copy.deepcopy(payload))
    assert event is not None, name
    assert event == _ptb_event(payload)


@pytest.mark.parametrize("name", list(PLAIN))
def test_a_plain_update_gives_aiogram_s_event(name: str) -> None:
    payload = PLAIN[name]
    event = plain_update_event(copy.deepcopy(payload))
    assert event is not None, name
    assert event == _aiogram_event(payload)


def test_the_plain_events_are_what_the_engine_expects() -> None:
    command = plain_update_event(PLAIN["command with arguments and bot name"])
    assert command is not None
    assert (command.kind, command.command, command.text) == (EventKind.COMMAND, "start", "abc")
    press = plain_update_event(PLAIN["press"])
    assert press is not None
    assert (press.kind, press.payload, press.callback_id, press.message_id, press.chat_id) == (
        EventKind.BUTTON,
        "v1:ov",
        "5551",
        9,
        CHAT["id"],
    )


NOT_PLAIN = {
    "another kind": {"update_id": 43, "edited_message": _message()["message"]},
    "two kinds": {**_message(), "callback_query": _press()["callback_query"]},
    "update id as text": {**_message(), "update_id": "41"},
    "no text (a contact)": _message(
        None, contact={"phone_number": "+8613800000000", "first_name": "A", "user_id": 1}
    ),
    "a photo with a caption": _message(None, caption="look", photo=[]),
    "from a bot": _message(**{"from": {"id": 5, "is_bot": True, "first_name": "B"}}),
    "no sender": {"update_id": 44, "message": {"message_id": 1, "date": 1, "chat": CHAT}},
    "user id as text": _message(**{"from": {**USER, "id": "730002"}}),
    "is_bot missing": _message(**{"from": {"id": 5, "first_name": "A"}}),
    "chat without type": _message(chat={"id": 1}),
    "date missing": {"update_id": 45, "message": {"message_id": 1, "chat": CHAT, "from": USER}},
    "entity without length": _message("/start", entities=[{"type": "bot_command", "offset": 0}]),
    "entities not a list": _message("/start", entities={"type": "bot_command"}),
    "press without a message": {
        "update_id": 46,
        "callback_query": {"id": "1", "from": USER, "chat_instance": "-4", "data": "x"},
    },
    "press without chat_instance": {
        "update_id": 47,
        "callback_query": {
            k: v for k, v in _press()["callback_query"].items() if k != "chat_instance"
        },
    },
    "press data not text": {
        "update_id": 48,
        "callback_query": {**_press()["callback_query"], "data": 5},
    },
    "press id a number": _press(id=5551),
}


@pytest.mark.parametrize("name", list(NOT_PLAIN))
def test_an_update_that_is_not_plain_is_left_to_aiogram(name: str) -> None:
    assert plain_update_event(copy.deepcopy(NOT_PLAIN[name])) is None
