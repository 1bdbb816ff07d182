"""The driver interface of `tests/conversation/driver.py` through the WeChat adapter.

`WeChatChat` acts as a WeChat user through the emulator's control client (texts, menu
message choices, digits), waits until the bot has carried the push out, then reads the
chat as the phone shows it: the bot's new messages are the answer (`text`, `photos`);
the newest message with choices (a menu message, or numbered options) is the menu. The
payloads behind the choices are the ones the adapter offered (its database row), so
`version()` and `payloads()` read what a tap would send.

What WeChat cannot do, the driver cannot either: no forged button data (a user can only
type or tap what was offered), no stickers through the client, no contact cards.
"""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from bot.conversation.callbacks import decode
from bot.conversation.types import Button
from bot.handlers.wechat import protocol
from emulator.wechat_client import WeChatEmulatorClient
from foundation.clock import FrozenClock
from outgoing.mailer import MailboxMailer
from storage.db import Database
from tests.conversation.driver import ChatDriver, DatabaseChecks
from tests.wechat.conftest import WeChatBot

_LINK = re.compile(r'<a href="([^"]*)">([^<]*)</a>')
_OPTION = re.compile(r"^(\d+)\. (.+)$")


@dataclass(frozen=True)
class File:
    filename: str
    data: bytes


class NotOnWeChat(AssertionError):
    """A driver action a WeChat user cannot perform."""


@dataclass
class WeChatChat:
    """One candidate's WeChat; the same methods as the in-process `Chat`."""

    wx: WeChatEmulatorClient
    bot: WeChatBot
    openid: str
    language_code: str = "zh-hans"  # WeChat tells the bot no client language
    user_id: int = 0  # the internal number, known after the first push
    menu_id: int | None = None
    text: str = ""
    answers: list[Any] = field(default_factory=list)  # a tap's answer is part of the text
    documents: list[File] = field(default_factory=list)
    photos: list[File] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    _buttons: list[Button] = field(default_factory=list)
    _menu_kind: str = ""
    _option_ids: dict[str, str] = field(default_factory=dict)  # payload -> msgmenu id
    _after: int | None = None

    # --- acting -------------------------------------------------------------------------

    async def _settle(self, report: dict[str, Any]) -> None:
        self.reports.append(report)
        fields = {k: str(v) for k, v in report["packet"].items()}
        update_id = protocol.update_id(self.bot.account["appid"], protocol.dedup_key(fields))
        await self.bot.adapter.runner.wait_processed(update_id, 15.0)
        if not self.user_id:
            got = await self.bot.adapter.users.intake(self.openid, None, 0)
            self.user_id = got.user_id
        await self._read()

    async def send(self, text: str) -> None:
        await self._settle(await self.wx.send_text(self.openid, text))

    say = send

    async def command(self, name: str, args: str = "") -> None:
        await self.send(f"/{name} {args}".strip())

    async def sticker(self) -> None:
        raise NotOnWeChat("the emulator's WeChat user sends text, menu choices and clicks")

    async def contact(
        self, phone: str, *, own: bool = True, contact_user_id: int | None = None
    ) -> None:
        raise NotOnWeChat("an official account receives no contact cards")

    async def press(self, label: str) -> None:
        """Taps the first choice of the newest menu whose label contains `label`: its
        menu message option, or its number typed."""
        button = self.button(label)
        assert button.payload, f"{label!r} is a link, not a choice"
        if self._menu_kind == "msgmenu":
            report = await self.wx.choose(self.openid, self._option_ids[button.payload])
        else:
            index = [b.payload for b in self._buttons if b.payload].index(button.payload) + 1
            report = await self.wx.send_text(self.openid, str(index))
        await self._settle(report)

    async def press_payload(self, payload: str, *, message_id: int | None = None) -> None:
        raise NotOnWeChat("a WeChat user can only tap what was offered, never forge its data")

    async def click(self, key: str) -> None:
        """Taps a button of the account's custom menu."""
        await self._settle(await self.wx.click(self.openid, key))

    # --- reading ------------------------------------------------------------------------

    async def _offers(self) -> list[str]:
        """The payloads the adapter offered this user last (its database row)."""
        return (await self.bot.adapter.users.intake(self.openid, None, 0)).offers

    async def _read(self) -> None:
        after = -1 if self._after is None else self._after
        entries = [
            e
            for e in await self.wx.transcript(self.openid)
            if e["direction"] == "bot" and e["seq"] > after
        ]
        if entries:
            self._after = max(e["seq"] for e in entries)
        texts: list[str] = []
        self.photos = []
        self.documents = []
        menu: dict[str, Any] | None = None
        for entry in entries:
            if entry["kind"] == "text":
                body = entry["text"]
                if _numbered(body):
                    menu = entry
                    body = _strip_options(body)
                texts.append(body)
            elif entry["kind"] == "msgmenu":
                menu = entry
                texts.append(entry["head_content"])
            elif entry["kind"] == "image":
                data = await self.wx.download_media(entry["media_id"])
                self.photos.append(File("", data))
        self.text = "\n".join(texts)
        if menu is not None:
            # A step's links (a pay link) may come in a text before its menu message.
            await self._take_menu(menu, self.text)

    async def _take_menu(self, entry: dict[str, Any], step_text: str = "") -> None:
        offers = await self._offers()
        self.menu_id = int(entry["seq"])
        self._option_ids = {}
        buttons: list[Button] = []
        body = entry.get("head_content") or entry.get("text") or ""
        if entry["kind"] == "msgmenu":
            self._menu_kind = "msgmenu"
            for option in entry["options"]:
                index = int(str(option["id"])[-2:])
                payload = offers[index - 1]
                self._option_ids[payload] = str(option["id"])
                buttons.append(Button(option["content"], payload))
        else:
            self._menu_kind = "numbered"
            labels = _options(body, len(offers))
            buttons += [
                Button(label, payload) for label, payload in zip(labels, offers, strict=False)
            ]
        buttons += [
            Button(html.unescape(label), url=html.unescape(url))
            for url, label in _LINK.findall(step_text or body)
        ]
        self._buttons = buttons

    @property
    def buttons(self) -> list[Button]:
        assert self.menu_id is not None, "no menu yet"
        return self._buttons

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


def _numbered(text: str) -> bool:
    lines = text.rstrip().split("\n")
    return len(lines) >= 3 and bool(_OPTION.match(lines[-3] if lines[-2] == "" else ""))


def _options(text: str, count: int) -> list[str]:
    """The labels of the numbered options closing `text` (the adapter's layout: options,
    a blank line, the hint)."""
    lines = text.rstrip().split("\n")[:-2]
    found = [_OPTION.match(line) for line in lines[-count:]] if count else []
    return [m.group(2) for m in found if m is not None]


def _strip_options(text: str) -> str:
    lines = text.rstrip().split("\n")[:-2]
    while lines and _OPTION.match(lines[-1]):
        lines.pop()
    return "\n".join(lines).rstrip()


@dataclass
class WeChatFlows(DatabaseChecks):
    """A seeded database served by one WeChat bot process through the emulator."""

    db: Database
    clock: FrozenClock
    mailer: MailboxMailer
    session_id: int
    wx: WeChatEmulatorClient
    bot: WeChatBot
    users: itertools.count = field(default_factory=lambda: itertools.count(1))
    # An official account cannot delete a candidate's message: they are asked to (R8).
    deletes_user_messages: bool = False

    def chat(self, language_code: str = "zh-hans", user_id: int | None = None) -> WeChatChat:
        number = user_id or next(self.users)
        return WeChatChat(self.wx, self.bot, f"o_flow_{number:022d}", language_code)

    async def conversation(self, chat: ChatDriver) -> tuple[str, dict]:  # type: ignore[type-arg]
        async with self.db.uow(readonly=True) as uow:
            conv = await uow.conversations.get("wechat", chat.user_id, chat.user_id)
        assert conv is not None
        return conv.state, conv.data
