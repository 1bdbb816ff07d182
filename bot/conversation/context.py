"""What a step handler works with: the unit of work, the chat state, and helpers to reply.

Handlers are registered per step (`@on_text`, `@on_button`, `@screen`). A handler
changes `ctx.state` / `ctx.data` and adds notices; the engine then draws the
screen of the resulting step (text + keyboard) and sends or edits one message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from bot.conversation import callbacks, inputs
from bot.conversation.types import Action, Button, Event
from foundation.clock import Clock
from foundation.i18n import has_text, t
from foundation.settings import Settings
from outgoing.mailer import Mailer
from registration import accounts, errors
from registration.common import REFUSES_BEFORE_WRITING, Phase, phase
from storage.db import UnitOfWork
from storage.direct import WriteWatch
from storage.dto import (
    AccountDTO,
    EntryDTO,
    ExamSessionDTO,
    RegistrationDTO,
    ReviewDTO,
    StudentRecordDTO,
    WaitlistDTO,
)
from storage.repos.snapshot import CandidateSnapshot

log = logging.getLogger(__name__)

T = TypeVar("T")


class PartialWrite(RuntimeError):
    """A service marked `refuses_before_writing` refused after a write that stands (see
    `Ctx.call`): the update must be applied again with every savepoint."""


@dataclass(slots=True)
class Screen:
    """One message: text and rows of buttons (at most three a row)."""

    text: str
    keyboard: list[list[Button]] = field(default_factory=list)


class Ctx:
    """The state of one event being handled; lives for one unit of work."""

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        clock: Clock,
        settings: Settings,
        mailer: Mailer,
        platform: str,
        event: Event,
        state: str,
        data: dict[str, Any],
        locale: str,
        version: int,
        snapshot: tuple[int, CandidateSnapshot] | None = None,
    ) -> None:
        """`snapshot`: the candidate's snapshot in a session (its id), read by the engine
        with the conversation (PostgreSQL, one statement): answered from as if read by
        the first ask (`_take_snapshot`), unless a write came first."""
        self.uow = uow
        self.clock = clock
        self.settings = settings
        self.mailer = mailer
        self.platform = platform
        self.event = event
        self.state = state
        self.data = data
        self.locale = locale
        self.version = version  # the version the buttons drawn now carry
        self.notices: list[str] = []
        self.before: list[Action] = []  # sent before the screen (photo, deletions)
        self.after: list[Action] = []  # sent after the screen (documents)
        self.show_screen = True
        self.expired = False  # a stale button: the screen goes out as a new message
        # A button on an outbox notice: the screen goes out as a new message, so the
        # notice itself stays readable.
        self.reply_as_new = False
        # A write committed (a step's savepoint or `call`): the reply is kept until sent.
        self.wrote = False
        # Audited domain changes (entries, reviews, waitlists, payments, eligibility) made
        # by this event and not undone: "something was saved" (/start's wording).
        self.audited = 0
        # Refusals whose writes must stay (a counted attempt): R9 codes by default; a
        # step adds its own (R39 quick print) before calling its service.
        self.keep_on: tuple[type[errors.DomainError], ...] = accounts.CODE_ATTEMPT_ERRORS
        self._session: ExamSessionDTO | bool | None = False
        self._account: AccountDTO | bool | None = False
        # The account's active registration in the current session, and roster records
        # by id: read once per event, forgotten after any write that could change them.
        self._registration: RegistrationDTO | bool | None = False
        self._records: dict[int, StudentRecordDTO] = {}
        # Entries a step's own write just returned (booking, pay link): the screen that
        # follows shows them without reading them again. Never filled by a plain read.
        self._entries: dict[int, EntryDTO] = {}
        # On PostgreSQL the first ask for the account or registration reads the candidate's
        # snapshot (storage/repos/snapshot.py): the registration's record, active entries,
        # waitlists and reviews come with it and are answered from it, until a write
        # makes the registration forgotten.
        self._snapshot: CandidateSnapshot | None = None
        # Every `call` takes its savepoint, marked services too (see `call`): set when the
        # update is applied again after a `PartialWrite`.
        self.savepoints = False
        self._preloaded = snapshot
        # Whether the step asked for the account or the registration when not known yet
        # (what the snapshot answers): the engine learns which steps read it.
        self.asked_candidate = False

    @property
    def now(self) -> datetime:
        return self.clock.now()

    @property
    def user_id(self) -> int:
        return self.event.user_id

    @property
    def chat_id(self) -> int:
        return self.event.chat_id

    # --- text --------------------------------------------------------------------

    def t(self, key: str, **args: Any) -> str:
        if not self.event.deletes_user_messages and has_text(
            self.locale, undeletable := f"{key}-undeletable"
        ):
            key = undeletable  # the text promised a deletion the platform cannot do
        return t(self.locale, key, {k: _arg(v) for k, v in args.items()})

    def notice(self, key: str, **args: Any) -> None:
        self.notices.append(self.t(key, **args))

    def when(self, instant: datetime) -> str:
        """An instant in the session's time zone (Beijing time for the demo)."""
        tz = self._session.timezone if isinstance(self._session, ExamSessionDTO) else None
        return self.t("chat-datetime", **inputs.local_parts(instant, tz or "Asia/Shanghai"))

    def money(self, fen: int) -> str:
        return self.t("chat-money", yuan=inputs.yuan(fen))

    def error_text(self, err: errors.DomainError) -> str:
        args = {k: self._param(v) for k, v in err.params.items()}
        text = self.t(f"error-{err.code}", **args)
        return text if text != f"error-{err.code}" else self.t("error-domain")

    def _param(self, value: Any) -> str:
        if isinstance(value, datetime):
            return self.when(value)
        if isinstance(value, list | tuple | set | frozenset):
            return ", ".join(str(v) for v in value)
        return str(value)

    # --- buttons -----------------------------------------------------------------

    def button(self, label: str, action: str, *args: object) -> Button:
        """A callback button; `label` is a locale key when it starts with `chat-`."""
        text = self.t(label) if label.startswith("chat-") else label
        return Button(_label(text), payload=callbacks.encode(self.version, action, *args))

    def link(self, label: str, url: str) -> Button:
        return Button(_label(label), url=url)

    def nav(self, back: bool = True) -> list[Button]:
        """The last row of most screens: Back and Main menu."""
        row = [self.button("chat-btn-back", "back")] if back else []
        row.append(self.button("chat-btn-menu", "menu"))
        return row

    # --- navigation --------------------------------------------------------------

    def goto(self, state: str, **data: Any) -> None:
        self.state = state
        self.data.update(data)

    def clear(self, *keys: str) -> None:
        for key in keys:
            self.data.pop(key, None)

    # --- lookups shared by the flows ---------------------------------------------

    async def session(self) -> ExamSessionDTO | None:
        """The current published session (the latest one), cached for this event."""
        if self._session is False:
            self._session = await self.uow.sessions.current(self.now)
        return self._session if isinstance(self._session, ExamSessionDTO) else None

    async def phase(self) -> Phase | None:
        session = await self.session()
        return phase(session, self.now) if session else None

    async def account(self) -> AccountDTO | None:
        if self._account is False:
            self.asked_candidate = True
            # Looked up already, the session lets one statement find the registration too
            # (nearly every candidate screen needs both). The session is not looked up
            # here: it sets the time zone of `when`.
            session = self._session
            if not isinstance(session, ExamSessionDTO):
                if self._preloaded is not None:
                    # The bound account is the snapshot's whatever its session.
                    self._account = self._preloaded[1].account
                else:
                    self._account = await accounts.bound_account(
                        self.uow, self.platform, self.user_id
                    )
            elif not await self._take_snapshot(session):
                found = await self.uow.accounts.bound_account_and_registration(
                    self.platform, self.user_id, session.id
                )
                self._account, self._registration = found
        return self._account if isinstance(self._account, AccountDTO) else None

    def forget_account(self) -> None:
        self._account = False
        self.forget_registration()

    def forget_registration(self) -> None:
        """Drops the registration and records read so far (after a write that may have
        changed them); the next ask reads them again."""
        self._registration = False
        self._records.clear()
        self._entries.clear()
        self._snapshot = None
        self._preloaded = None

    async def _take_snapshot(self, session: ExamSessionDTO) -> bool:
        """Reads the candidate's snapshot (PostgreSQL; False elsewhere, nothing read) into
        what is not known yet: the account, the registration, its record; its entries,
        waitlists and reviews are kept with it."""
        preloaded, self._preloaded = self._preloaded, None
        if preloaded is not None and preloaded[0] == session.id:
            found: CandidateSnapshot | None = preloaded[1]
        else:
            found = await self.uow.accounts.candidate_snapshot(
                self.platform, self.user_id, session.id
            )
        if found is None:
            return False
        account = self._account
        if account is False:
            self._account = account = found.account
        if not isinstance(account, AccountDTO) or found.account is None:
            return True  # no account bound (the registration is not looked up then)
        if found.account.id != account.id:
            return False  # (never: the binding changed without `forget_account`)
        if self._registration is False:
            self._registration = found.registration
        if found.registration is not None and found.registration == self._registration:
            if found.record is not None:
                self._records.setdefault(found.record.id, found.record)
            self._snapshot = found
        return True

    def _snapshot_of(self, registration: RegistrationDTO) -> CandidateSnapshot | None:
        """The snapshot, if read since the last write and of `registration`."""
        found = self._snapshot
        if found is None or found.registration is None or found.registration.id != registration.id:
            return None
        return found

    def remember_registration(self, registration: RegistrationDTO) -> None:
        """The active registration as a service just returned or kept it."""
        self._registration = registration

    def remember_entry(self, entry: EntryDTO) -> None:
        """An entry as a service just wrote or read it under the registration's lock, after
        the step's last write; forgotten with the registration."""
        self._entries[entry.id] = entry

    def remembered_entry(self, entry_id: int) -> EntryDTO | None:
        return self._entries.get(entry_id)

    async def candidate_actor(self) -> str | None:
        """Who this event's changes are audited as: the bound pass account, if any (the
        engine falls back to the chat user; the admin flow names the administrator)."""
        account = await self.account()
        return f"candidate:{account.id}" if account is not None else None

    async def audited_actor(self) -> str | None:
        """`candidate_actor`, counting the audited change it is asked for."""
        self.audited += 1
        return await self.candidate_actor()

    async def registration(self) -> RegistrationDTO | None:
        """The account's active registration in the current session, cached for this event."""
        session, account = await self.session(), await self.account()
        if session is None or account is None:
            return None
        if self._registration is False:
            self.asked_candidate = True
            await self._take_snapshot(session)
        if self._registration is False:  # SQLite (or the binding changed: never)
            self._registration = await self.uow.registrations.active_of_account(
                session.id, account.id
            )
        return self._registration if isinstance(self._registration, RegistrationDTO) else None

    async def record(self, record_id: int) -> StudentRecordDTO | None:
        """A roster record (with its eligibility), cached for this event."""
        record = self._records.get(record_id)
        if record is None:
            record = await self.uow.records.get(record_id)
            if record is not None:
                self._records[record_id] = record
        return record

    async def entries(self, registration: RegistrationDTO) -> list[EntryDTO]:
        """The registration's active entries, by id (`entries.of_registration`): from the
        snapshot when it was read since the last write, else read now."""
        found = self._snapshot_of(registration)
        if found is not None:
            return list(found.entries)
        return await self.uow.entries.of_registration(registration.id)

    def read_entry(self, registration: RegistrationDTO, entry_id: int) -> EntryDTO | None:
        """One of the registration's active entries as the snapshot read it (since the last
        write), if it has it."""
        found = self._snapshot_of(registration)
        if found is not None:
            for entry in found.entries:
                if entry.id == entry_id:
                    return entry
        return None

    def seen_entry(
        self, registration: RegistrationDTO, entry_id: int
    ) -> tuple[int, EntryDTO] | None:
        """One of the registration's active entries with the registration's version, both
        as the snapshot read them in one statement (since the last write), if it has it."""
        entry = self.read_entry(registration, entry_id)
        found = self._snapshot_of(registration)
        if entry is None or found is None or found.registration is None:
            return None
        return found.registration.version, entry

    async def waitlists(self, registration: RegistrationDTO) -> list[WaitlistDTO]:
        """The registration's waitlists of any status, by id (`waitlists.of_registration`),
        from the snapshot as `entries`."""
        found = self._snapshot_of(registration)
        if found is not None:
            return list(found.waitlists)
        return await self.uow.waitlists.of_registration(registration.id)

    async def reviews(self, registration: RegistrationDTO) -> list[ReviewDTO]:
        """The CET-6 reviews of the registration's record in its session, by id
        (`reviews.of_record`), from the snapshot as `entries`."""
        found = self._snapshot_of(registration)
        if found is not None:
            return list(found.reviews)
        return await self.uow.reviews.of_record(registration.session_id, registration.record_id)

    # --- services ----------------------------------------------------------------

    async def call(
        self,
        fn: Callable[..., Awaitable[T]],
        *args: Any,
        keep_on: tuple[type[errors.DomainError], ...] = (),
        **kwargs: Any,
    ) -> T:
        """Runs a service inside a savepoint: a refusal undoes its partial writes.

        Errors listed in `keep_on` keep the writes (R9: a wrong code's counted attempt).
        The registration and records read so far are forgotten: the service may have
        changed them.

        A service marked `refuses_before_writing` runs without the savepoint where the
        unit of work can watch its writes (PostgreSQL, issue 17: two round trips less),
        and in an optimistic unit of work (which refuses every write anyway). A refusal
        after a write that stands, which the mark says cannot happen, raises
        `PartialWrite` instead: the engine applies the whole update again, with the
        savepoints (`savepoints`), so nothing partial is ever committed.
        """
        if not self.savepoints and getattr(fn, REFUSES_BEFORE_WRITING, False):
            with self.uow.watching_writes() as watch:
                if watch is not None or self.uow.optimistic:
                    return await self._call_unsaved(fn, watch, keep_on, args, kwargs)
        savepoint = await self.uow.savepoint()
        self.forget_registration()
        audited = self.audited
        try:
            result = await fn(*args, **kwargs)
        except errors.DomainError as err:
            if isinstance(err, keep_on):
                await savepoint.commit()
                self.wrote = True
            else:
                await savepoint.rollback()
                self.audited = audited
            raise
        except BaseException:
            await savepoint.rollback()
            self.audited = audited
            raise
        await savepoint.commit()
        self.wrote = True
        return result

    async def _call_unsaved(
        self,
        fn: Callable[..., Awaitable[T]],
        watch: WriteWatch | None,
        keep_on: tuple[type[errors.DomainError], ...],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> T:
        """`call` without a savepoint: `watch` counts the writes that stand (None: an
        optimistic unit of work, where none can). What was read before (the snapshot
        included) is forgotten only if the service wrote: a call that wrote nothing
        (an "Update" the gateway could not answer, say) changed none of it."""
        audited = self.audited
        try:
            result = await fn(*args, **kwargs)
        except errors.DomainError as err:
            if watch is None or not watch.writes:
                self.audited = audited  # nothing was written
            elif isinstance(err, keep_on):
                self.wrote = True
                self.forget_registration()
            else:
                raise PartialWrite(f"{fn.__qualname__} refused after a write") from err
            raise
        if watch is not None and watch.writes:
            # Only then is the reply kept until it is out: a call that wrote nothing
            # changed no more than the chat's step.
            self.wrote = True
            self.forget_registration()
        return result


def _arg(value: Any) -> Any:
    # Fluent would format numbers with grouping ("3,000"); ids and amounts stay as typed.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value if isinstance(value, str) else str(value)
    return str(value)


def _label(text: str) -> str:
    # Buttons are short on a phone; Telegram cuts long ones anyway.
    return text if len(text) <= 40 else text[:39] + "…"


# --- registries -------------------------------------------------------------------

ScreenFn = Callable[[Ctx], Awaitable[Screen]]
TextFn = Callable[[Ctx, str], Awaitable[None]]
ButtonFn = Callable[[Ctx, callbacks.Callback], Awaitable[None]]

SCREENS: dict[str, ScreenFn] = {}
TEXT_HANDLERS: dict[str, TextFn] = {}
BUTTON_HANDLERS: dict[tuple[str, str], ButtonFn] = {}
# Steps that take a shared contact's phone number (the engine checks it is the user's own).
CONTACT_HANDLERS: dict[str, TextFn] = {}
# Handlers the engine runs without a savepoint of their own: they only read, or write
# only through `Ctx.call` (which takes its own, or needs none: `refuses_before_writing`).
# A savepoint costs two statements.
WITHOUT_SAVEPOINT: set[Callable[..., Awaitable[None]]] = set()


def screen(*states: str) -> Callable[[ScreenFn], ScreenFn]:
    def register(fn: ScreenFn) -> ScreenFn:
        for state in states:
            SCREENS[state] = fn
        return fn

    return register


def on_text(*states: str, savepoint: bool = True) -> Callable[[TextFn], TextFn]:
    """`savepoint=False`: the handler writes nothing outside `Ctx.call` (see WITHOUT_SAVEPOINT)."""

    def register(fn: TextFn) -> TextFn:
        for state in states:
            TEXT_HANDLERS[state] = fn
        if not savepoint:
            WITHOUT_SAVEPOINT.add(fn)
        return fn

    return register


def on_contact(*states: str) -> Callable[[TextFn], TextFn]:
    """A step's handler of the candidate's own shared contact (given its phone number)."""

    def register(fn: TextFn) -> TextFn:
        for state in states:
            CONTACT_HANDLERS[state] = fn
        return fn

    return register


def on_button(
    states: str | Sequence[str], *actions: str, savepoint: bool = True
) -> Callable[[ButtonFn], ButtonFn]:
    """`savepoint=False`: the handler writes nothing outside `Ctx.call` (see WITHOUT_SAVEPOINT)."""
    names = (states,) if isinstance(states, str) else tuple(states)

    def register(fn: ButtonFn) -> ButtonFn:
        for state in names:
            for action in actions:
                BUTTON_HANDLERS[(state, action)] = fn
        if not savepoint:
            WITHOUT_SAVEPOINT.add(fn)
        return fn

    return register


def rows(buttons: Sequence[Button], per_row: int = 2) -> list[list[Button]]:
    """Buttons laid out `per_row` a row (never more than three)."""
    per_row = max(1, min(per_row, 3))
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def values_for_faq(ctx: Ctx, session: ExamSessionDTO | None) -> Mapping[str, str]:
    """The session's values the FAQ answers name (window dates, print times, help phone)."""
    if session is None:
        return {}
    return {
        "window_opens": ctx.when(session.opens_at),
        "window_closes": ctx.when(session.closes_at),
        "print_written": ctx.when(session.print_written_at),
        "print_oral": ctx.when(session.print_oral_at),
        "help_phone": session.help_phone,
        "name": session.name_zh if ctx.locale == "zh" else session.name_en,
    }
