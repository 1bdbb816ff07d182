"""A chat driver for the conversation tests: Events in, Actions out, on the real database.

`Chat` plays the part of the adapter and of a person with a phone: it numbers the
bot's messages, applies edits, remembers the menu message, and presses buttons by
their label on the newest menu (as a person would). No mocks: the example session,
roster and scores are loaded into the database under test, mail goes to a
`MailboxMailer` whose codes the tests read.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from backoffice import authority
from backoffice.importing import RosterFile, parse_roster, parse_scores, parse_session_toml
from bot.conversation import engine as engine_module
from bot.conversation.callbacks import decode
from bot.conversation.engine import Conversations
from bot.conversation.types import (
    Action,
    AnswerButton,
    Button,
    DeleteMessage,
    Event,
    EventKind,
    SendDocument,
    SendPhoto,
    SendText,
)
from foundation.clock import FrozenClock
from foundation.settings import Settings
from outgoing.mailer import MailboxMailer
from storage.db import Database
from tests.conftest import ROOT
from tests.conversation.driver import DatabaseChecks

EXAMPLES = ROOT / "examples"


@cache
def _roster(campus_map: tuple[tuple[str, str], ...], subjects: frozenset[str]) -> RosterFile:
    return parse_roster(EXAMPLES / "roster.csv", dict(campus_map), subjects, date(2026, 11, 25))


@cache
def _scores() -> list:
    return parse_scores(EXAMPLES / "scores.csv")


@dataclass
class Message:
    """A bot message as the phone shows it."""

    id: int
    text: str
    keyboard: tuple[tuple[Button, ...], ...] = ()


@dataclass
class Chat:
    """One candidate's phone talking to the bot."""

    bot: Conversations
    user_id: int
    updates: itertools.count
    language_code: str = "zh-hans"
    messages: dict[int, Message] = field(default_factory=dict)
    menu_id: int | None = None
    last: list[Action] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(100))

    # --- sending ---------------------------------------------------------------------

    def event(self, kind: EventKind, **kw: object) -> Event:
        return Event(
            platform="telegram",
            update_id=next(self.updates),
            user_id=self.user_id,
            chat_id=self.user_id,
            kind=kind,
            language_code=self.language_code,
            **kw,  # type: ignore[arg-type]
        )

    async def deliver(self, event: Event) -> list[Action]:
        actions = await self.bot.handle(event)
        await self._apply(event, actions)
        self.last = actions
        self._check(event, actions)
        return actions

    async def send(self, text: str) -> list[Action]:
        return await self.deliver(self.event(EventKind.TEXT, text=text, message_id=next(self._ids)))

    say = send

    async def command(self, name: str, args: str = "") -> list[Action]:
        return await self.deliver(
            self.event(EventKind.COMMAND, command=name, text=args, message_id=next(self._ids))
        )

    async def sticker(self) -> list[Action]:
        return await self.deliver(self.event(EventKind.OTHER, message_id=next(self._ids)))

    async def contact(
        self, phone: str, *, own: bool = True, contact_user_id: int | None = None
    ) -> list[Action]:
        """Shares a contact card: the user's own, someone else's (`contact_user_id`), or one
        of no platform user (`own=False`), as an adapter translates it."""
        owner = contact_user_id if contact_user_id is not None else self.user_id if own else None
        return await self.deliver(
            self.event(
                EventKind.CONTACT, text=phone, contact_user_id=owner, message_id=next(self._ids)
            )
        )

    async def press(self, label: str, *, message_id: int | None = None) -> list[Action]:
        """Presses the first button of the newest menu whose label contains `label`."""
        button = self.button(label)
        return await self.press_payload(button.payload, message_id=message_id)

    async def press_payload(self, payload: str, *, message_id: int | None = None) -> list[Action]:
        mid = message_id if message_id is not None else self.menu_id
        return await self.deliver(
            self.event(
                EventKind.BUTTON,
                payload=payload,
                message_id=mid,
                callback_id=f"cb{next(self._ids)}",
            )
        )

    # --- reading -----------------------------------------------------------------------

    @property
    def menu(self) -> Message:
        assert self.menu_id is not None, "no menu yet"
        return self.messages[self.menu_id]

    @property
    def text(self) -> str:
        """The texts the bot sent or edited in answer to the last event."""
        return "\n".join(a.text for a in self.last if isinstance(a, SendText))

    @property
    def buttons(self) -> list[Button]:
        return [b for row in self.menu.keyboard for b in row]

    @property
    def labels(self) -> list[str]:
        return [b.label for b in self.buttons]

    def button(self, label: str) -> Button:
        for row in self.menu.keyboard:
            for b in row:
                if label in b.label:
                    return b
        raise AssertionError(f"no button {label!r} in {self.labels}")

    def version(self) -> int:
        """The conversation version the newest menu's buttons carry."""
        cb = decode(self.menu.keyboard[0][0].payload or self.menu.keyboard[-1][-1].payload)
        assert cb is not None
        return cb.version

    def payloads(self, action: str) -> list[str]:
        """The callback data of the newest menu's buttons of one action."""
        out = []
        for row in self.menu.keyboard:
            for b in row:
                cb = decode(b.payload) if b.payload else None
                if cb is not None and cb.action == action:
                    out.append(b.payload)
        return out

    def has_button(self, label: str) -> bool:
        return any(label in b for b in self.labels)

    @property
    def answers(self) -> list[AnswerButton]:
        return [a for a in self.last if isinstance(a, AnswerButton)]

    @property
    def documents(self) -> list[SendDocument]:
        return [a for a in self.last if isinstance(a, SendDocument)]

    @property
    def photos(self) -> list[SendPhoto]:
        return [a for a in self.last if isinstance(a, SendPhoto)]

    # --- the adapter's side ------------------------------------------------------------

    async def _apply(self, event: Event, actions: list[Action]) -> None:
        menu: int | None = None
        for action in actions:
            if isinstance(action, SendText):
                if action.edit_message_id is not None:
                    assert action.edit_message_id in self.messages, "edit of an unknown message"
                    msg = self.messages[action.edit_message_id]
                    msg.text, msg.keyboard = action.text, action.keyboard
                    if action.keyboard:
                        self.menu_id = msg.id
                    continue
                mid = next(self._ids)
                self.messages[mid] = Message(mid, action.text, action.keyboard)
                if action.keyboard:
                    self.menu_id = mid
                if action.remember_as_menu:
                    menu = mid
            elif isinstance(action, DeleteMessage):
                self.deleted.append(action.message_id)
        # As the runner does: the new menu and "the reply is out" in one call at the end.
        await self.bot.replies_sent(event, menu_message_id=menu, delivered=True)

    def _check(self, event: Event, actions: list[Action]) -> None:
        """What Telegram would refuse, and the contract's promises."""
        answers = [a for a in actions if isinstance(a, AnswerButton)]
        if event.kind is EventKind.BUTTON:
            assert len(answers) == 1, f"a button must be answered exactly once: {actions}"
        else:
            assert not answers
        for action in actions:
            if isinstance(action, SendText):
                assert 0 < len(action.text) <= 4096
                for row in action.keyboard:
                    assert 0 < len(row) <= 3, "at most three buttons a row"
                    for b in row:
                        assert b.label
                        assert bool(b.payload) != bool(b.url)
                        assert len(b.payload.encode()) <= 64


@dataclass
class Harness(DatabaseChecks):
    db: Database
    clock: FrozenClock
    mailer: MailboxMailer
    bot: Conversations
    session_id: int
    settings: Settings
    updates: itertools.count = field(default_factory=lambda: itertools.count(1))
    users: itertools.count = field(default_factory=lambda: itertools.count(5_000_000_001))

    def chat(self, language_code: str = "zh-hans", user_id: int | None = None) -> Chat:
        return Chat(
            self.bot, user_id or next(self.users), self.updates, language_code=language_code
        )

    def restart(self) -> Conversations:
        """A new engine over the same database (a bot process restart)."""
        self.bot = Conversations(self.db, self.clock, self.settings, self.mailer)
        return self.bot


@pytest.fixture
async def harness(
    db: Database, clock: FrozenClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    # The sandbox payment server is not running: its port refuses at once (discard, 9).
    monkeypatch.setenv("PAYMENT_SANDBOX_URL", "http://127.0.0.1:9")
    # The kept replies confirmed out are forgotten when a test asks (`flush_clears`), the
    # replay looks (`unsent_replies`) or the engine closes, never by the engine's timer in
    # the middle of another step's statement count (test_cleared_together.py times it).
    monkeypatch.setattr(engine_module, "CLEAR_AFTER", 3600.0)
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    spec = parse_session_toml(EXAMPLES / "session-2026-12.toml")
    async with db.uow() as uow:
        session_id = await authority.load_session(uow, spec)
        campus_map = await authority.session_campus_map(uow, session_id)
        subjects = frozenset(await uow.sessions.offered(session_id))
        await uow.commit()
    roster = _roster(tuple(sorted(campus_map.items())), subjects)
    async with db.uow() as uow:
        await authority.import_roster(uow, session_id, roster)
        await authority.import_scores(uow, _scores())
        await uow.commit()
    mailer = MailboxMailer()
    engine_module.UNDECLARED.clear()
    bot = Conversations(db, clock, settings, mailer)
    harness = Harness(db, clock, mailer, bot, session_id, settings)
    yield harness
    await harness.bot.close()  # the clears still queued, before the database goes
    # Every state change the tests caused is declared in flows.py (the diagram is true).
    assert not engine_module.UNDECLARED, engine_module.UNDECLARED
