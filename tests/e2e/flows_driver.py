"""The driver interface of `tests/conversation/driver.py`, through a real bot and the emulator.

`EmulatorChat` acts as a Telegram user through the emulator's control API, waits until the
bot (aiogram or PTB, polling the emulator) has carried the update out, then reads the chat
as the phone shows it: what changed since the previous step is the bot's answer (`text`,
`documents`, `photos`), the newest message with buttons is the menu.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from bot.app import BotApp
from bot.conversation.callbacks import decode
from bot.conversation.types import Button
from emulator.client import EmulatorClient
from foundation.clock import FrozenClock
from outgoing.mailer import MailboxMailer
from storage.db import Database
from tests.conversation.driver import DatabaseChecks


@dataclass(frozen=True)
class Answer:
    """The bot's answer to a callback query, as the emulator recorded it."""

    text: str
    alert: bool = False


@dataclass(frozen=True)
class File:
    filename: str
    data: bytes


def _key(message: dict[str, Any]) -> tuple[Any, ...]:
    """What a person would notice changing on a message."""
    return (
        message["text"],
        message["caption"],
        repr(message["keyboard"]),
        message["edit_date"],
        (message["document"] or {}).get("file_id"),
        (message["photo"] or {}).get("file_id"),
    )


def _buttons(message: dict[str, Any]) -> list[Button]:
    return [
        Button(b.get("text", ""), b.get("callback_data") or "", b.get("url") or "")
        for row in message.get("keyboard") or []
        for b in row
    ]


@dataclass
class EmulatorChat:
    """One candidate's phone in the emulator; same methods as the in-process `Chat`."""

    em: EmulatorClient
    app: BotApp
    user_id: int
    language_code: str = "zh-hans"
    menu_id: int | None = None
    text: str = ""
    answers: list[Answer] = field(default_factory=list)
    documents: list[File] = field(default_factory=list)
    photos: list[File] = field(default_factory=list)
    _messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    _seen: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    _created_as: str | None = None

    # --- acting -------------------------------------------------------------------------

    async def _user(self) -> None:
        """Creates the user, or updates its language when the client's language changed."""
        if self._created_as != self.language_code:
            await self.em.create_user(self.user_id, language_code=self.language_code)
            self._created_as = self.language_code

    async def _settle(self, update_id: int) -> None:
        await self.app.adapter.runner.wait_processed(update_id, 15.0)
        await self._read()

    async def send(self, text: str) -> None:
        await self._user()
        sent = await self.em.user_says(self.user_id, text)
        self.answers = []
        await self._settle(sent["update_id"])

    say = send

    async def command(self, name: str, args: str = "") -> None:
        await self._user()
        sent = await self.em.command(self.user_id, name, args or None)
        self.answers = []
        await self._settle(sent["update_id"])

    async def sticker(self) -> None:
        await self._user()
        sent = await self.em.sticker(self.user_id)
        self.answers = []
        await self._settle(sent["update_id"])

    async def contact(
        self, phone: str, *, own: bool = True, contact_user_id: int | None = None
    ) -> None:
        await self._user()
        sent = await self.em.contact(self.user_id, phone, contact_user_id=contact_user_id, own=own)
        self.answers = []
        await self._settle(sent["update_id"])

    async def press(self, label: str) -> None:
        """Presses the first button of the newest menu whose label contains `label`."""
        button = self.button(label)
        assert button.payload, f"{label!r} is a link, not a button to press"
        await self._press(button.payload, self.menu_id, forge=False)

    async def press_payload(self, payload: str, *, message_id: int | None = None) -> None:
        """Sends any callback data from a message (a forged one when no button carries it)."""
        await self._press(payload, message_id if message_id is not None else self.menu_id, True)

    async def _press(self, payload: str, message_id: int | None, forge: bool) -> None:
        assert message_id is not None, "no menu yet"
        await self._user()
        pressed = await self.em.press(self.user_id, message_id, payload, forge=forge)
        await self._settle(pressed["update_id"])
        record = await self.em.wait_answer(pressed["callback_query_id"])
        answer = record["answer"] or {}
        self.answers = [Answer(answer.get("text") or "", bool(answer.get("show_alert")))]

    # --- reading ------------------------------------------------------------------------

    async def _read(self) -> None:
        transcript = await self.em.transcript(self.user_id, include_deleted=False)
        bot = [m for m in transcript if m["sender"] == "bot"]
        changed = [m for m in bot if self._seen.get(m["message_id"]) != _key(m)]
        self._messages = {m["message_id"]: m for m in bot}
        self._seen = {m["message_id"]: _key(m) for m in bot}
        self.text = "\n".join(m["text"] for m in changed if m["text"] is not None)
        self.documents = [
            File(
                m["document"].get("file_name") or "",
                await self.em.download(m["document"]["file_id"]),
            )
            for m in changed
            if m["document"]
        ]
        self.photos = [
            File("", await self.em.download(m["photo"]["file_id"])) for m in changed if m["photo"]
        ]
        menus = [m["message_id"] for m in changed if m["keyboard"]]
        if menus:
            self.menu_id = menus[-1]
        elif self.menu_id not in self._messages:
            newest = [m["message_id"] for m in bot if m["keyboard"]]
            self.menu_id = newest[-1] if newest else None

    @property
    def buttons(self) -> list[Button]:
        assert self.menu_id is not None, "no menu yet"
        return _buttons(self._messages[self.menu_id])

    @property
    def labels(self) -> list[str]:
        return [b.label for b in self.buttons]

    def button(self, label: str) -> Button:
        for b in self.buttons:
            if label in b.label:
                return b
        raise AssertionError(f"no button {label!r} in {self.labels}")

    def has_button(self, label: str) -> bool:
        return any(label in b for b in self.labels)

    def version(self) -> int:
        """The conversation version the newest menu's buttons carry."""
        for b in self.buttons:
            cb = decode(b.payload) if b.payload else None
            if cb is not None:
                return cb.version
        raise AssertionError(f"no callback button in {self.labels}")

    def payloads(self, action: str) -> list[str]:
        out = []
        for b in self.buttons:
            cb = decode(b.payload) if b.payload else None
            if cb is not None and cb.action == action:
                out.append(b.payload)
        return out


@dataclass
class EmulatorHarness(DatabaseChecks):
    """A seeded SQLite database served by one real bot polling the emulator."""

    db: Database
    clock: FrozenClock
    mailer: MailboxMailer
    session_id: int
    em: EmulatorClient
    app: BotApp
    users: itertools.count = field(default_factory=lambda: itertools.count(8_100_001))

    def chat(self, language_code: str = "zh-hans", user_id: int | None = None) -> EmulatorChat:
        return EmulatorChat(self.em, self.app, user_id or next(self.users), language_code)
