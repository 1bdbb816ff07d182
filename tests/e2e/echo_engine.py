"""A stand-in conversation engine (the real one is `bot.conversation.engine.Conversations`).

It keeps the same two-method contract, so the adapters can be tested on their own: a menu on
/start, button presses edited in place, text echoed, re-delivered updates ignored, and
`/boom` failing like a bug in a handler would.
"""

from __future__ import annotations

from bot.conversation.types import (
    Action,
    AnswerButton,
    Button,
    Event,
    EventKind,
    SendText,
)

MENU_TEXT = "主菜单 / Main menu"
MENU = (
    (Button("报名", "menu:register"), Button("帮助", "menu:help")),
    (Button("官网", url="https://cet.neea.edu.cn/"),),
)


class EchoConversations:
    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.handled: list[Event] = []
        self.menus: dict[int, int] = {}

    async def handle(self, event: Event) -> list[Action]:
        if event.update_id in self.seen:
            return []  # a re-delivered update does nothing the second time
        self.seen.add(event.update_id)
        self.handled.append(event)
        if event.kind is EventKind.COMMAND:
            if event.command == "boom":
                raise RuntimeError("a bug in a handler")
            return [SendText(event.chat_id, MENU_TEXT, MENU)]
        if event.kind is EventKind.BUTTON:
            back = ((Button("返回", "menu:back"),),)
            return [
                AnswerButton(event.callback_id or "", text="OK"),
                SendText(
                    event.chat_id,
                    f"pressed {event.payload}",
                    back if event.payload != "menu:back" else MENU,
                    edit_message_id=event.message_id,
                ),
            ]
        if event.kind is EventKind.TEXT:
            return [SendText(event.chat_id, f"echo: {event.text}", remember_as_menu=False)]
        return [SendText(event.chat_id, "please type text", remember_as_menu=False)]

    async def remember_menu(self, event: Event, message_id: int) -> None:
        self.menus[event.user_id] = message_id
