"""The driver interface the flow scenarios are written against.

Two drivers implement it: the in-process `Chat` of `tests/conversation/conftest.py`
(Events straight into `Conversations`) and the emulator-backed `EmulatorChat` of
`tests/e2e/flows_driver.py` (a real aiogram or PTB bot polling the fake Bot API). A
scenario in `tests/conversation/scenarios.py` only uses what is declared here, so the
same code runs at both levels.

Reading follows a person with a phone: `text` is what the bot sent or edited in answer to
the last thing the candidate did, `labels`/`button`/`payloads` look at the newest menu.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from backoffice import authority
from bot.conversation.types import Button
from foundation.clock import FrozenClock
from outgoing.mailer import MailboxMailer
from storage.db import Database


class HasText(Protocol):
    @property
    def text(self) -> str: ...


class HasFile(Protocol):
    @property
    def data(self) -> bytes: ...


class HasDocument(HasFile, Protocol):
    @property
    def filename(self) -> str: ...


class ChatDriver(Protocol):
    """One candidate's phone."""

    user_id: int
    language_code: str

    # --- acting (each returns once the bot has carried the update out) ------------------
    async def send(self, text: str) -> object: ...

    async def say(self, text: str) -> object: ...

    async def command(self, name: str, args: str = "") -> object: ...

    async def sticker(self) -> object: ...

    async def contact(
        self, phone: str, *, own: bool = True, contact_user_id: int | None = None
    ) -> object: ...

    async def press(self, label: str) -> object: ...

    async def press_payload(self, payload: str, *, message_id: int | None = None) -> object: ...

    # --- reading ------------------------------------------------------------------------
    @property
    def text(self) -> str: ...

    @property
    def menu_id(self) -> int | None: ...

    @property
    def labels(self) -> list[str]: ...

    @property
    def buttons(self) -> list[Button]: ...

    def button(self, label: str) -> Button: ...

    def has_button(self, label: str) -> bool: ...

    def version(self) -> int: ...

    def payloads(self, action: str) -> list[str]: ...

    @property
    def answers(self) -> Sequence[HasText]: ...

    @property
    def documents(self) -> Sequence[HasDocument]: ...

    @property
    def photos(self) -> Sequence[HasFile]: ...


class FlowHarness(Protocol):
    """The world around the chats: the database, the clock, the mailbox."""

    db: Database
    clock: FrozenClock
    mailer: MailboxMailer
    session_id: int

    def chat(self, language_code: str = "zh-hans", user_id: int | None = None) -> ChatDriver: ...

    async def conversation(self, chat: ChatDriver) -> tuple[str, dict]: ...

    async def set_capacity(self, campus_code: str, subject: str, capacity: int) -> None: ...

    async def registrations(self) -> int: ...

    def code_for(self, email: str) -> str: ...


class DatabaseChecks:
    """The database side of `FlowHarness`, shared by both harnesses."""

    db: Database
    clock: FrozenClock
    mailer: MailboxMailer
    session_id: int

    async def conversation(self, chat: ChatDriver) -> tuple[str, dict]:
        async with self.db.uow(readonly=True) as uow:
            conv = await uow.conversations.get("telegram", chat.user_id, chat.user_id)
        assert conv is not None
        return conv.state, conv.data

    async def set_capacity(self, campus_code: str, subject: str, capacity: int) -> None:
        async with self.db.uow() as uow:
            campus = await uow.sessions.campus_by_code(self.session_id, campus_code)
            assert campus is not None
            await authority.set_capacity(
                uow, self.clock, campus_id=campus.id, subject_code=subject, capacity=capacity
            )
            await uow.commit()

    async def registrations(self) -> int:
        async with self.db.uow(readonly=True) as uow:
            return await uow.registrations.count_active(self.session_id)

    def code_for(self, email: str) -> str:
        mails = self.mailer.to(email)
        assert mails, f"no mail to {email}"
        found = re.search(r"\b(\d{6})\b", mails[-1].body)
        assert found
        return found.group(1)
