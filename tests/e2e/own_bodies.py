"""The calls both own-bodies tests make (aiogram's and PTB's performers post their own JSON or
form bodies): the same seven actions through the library's methods and through the performer,
whose requests must match on the wire."""

from __future__ import annotations

from bot.conversation.types import AnswerButton, Button, Performer, SendResult, SendText
from bot.conversation.types import DeleteMessage as DeleteAction

KEYBOARD = (
    (Button("开始报名", payload="v1:m:reg"), Button("缴费", url="https://pay.example/p/1")),
    (Button("返回", payload=""),),
)

# What the library calls send, in the order of `perform_the_seven`.
WIRE_METHODS = [
    "sendMessage",
    "sendMessage",
    "editMessageText",
    "editMessageText",
    "answerCallbackQuery",
    "answerCallbackQuery",
    "deleteMessage",
]


async def perform_the_seven(performer: Performer) -> list[SendResult]:
    """The library calls' counterparts through `performer`: a message with and without a
    keyboard, an edit with and without, a button answer with an alert and without, a delete."""
    return [
        await performer.perform(SendText(chat_id=42, text="你好", keyboard=KEYBOARD)),
        await performer.perform(SendText(chat_id=42, text="no keyboard")),
        await performer.perform(
            SendText(chat_id=42, text="改", keyboard=KEYBOARD, edit_message_id=7)
        ),
        await performer.perform(SendText(chat_id=42, text="改 no keyboard", edit_message_id=7)),
        await performer.perform(AnswerButton("cb-1", text="已选", alert=True)),
        await performer.perform(AnswerButton("cb-2")),
        await performer.perform(DeleteAction(chat_id=42, message_id=7)),
    ]
