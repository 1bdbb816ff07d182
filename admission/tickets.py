"""Admission tickets (R5, R38, R39): when they print, rooms and seats, the PDFs, quick print.

Ticket numbers have 15 digits in the layout the CET-6 review reads (see
`registration.identity.parse_ticket_no`), so a CET-4 ticket issued here is a valid
review ticket in a later session::

    CCCCC K YY H L RRR SS
    |     | |  | | |   +- seat in the room, 01-99 (the session's room_size, default 30)
    |     | |  | | +----- room of the sitting at that campus, 001-999
    |     | |  | +------- level: 1 = band 4, 2 = band 6
    |     | |  +--------- half-year of the exams: 1 = January-June, 2 = July-December
    |     | +------------ year of the exams, last two digits (first exam day, session zone)
    |     +-------------- kind: 1 = written, 2 = oral
    +-------------------- campus number in the session (its campuses by id, from 00001)

The first six digits stand where the review layout has the test centre code.

A *sitting* is (campus, kind, level): all its subjects are held at the same time (R22),
so its rooms are numbered across its subjects and a room holds one subject. So
(campus, kind, level, room, seat) is one desk at one time, and with year and half-year
the number is unique across campuses and subjects; the unique index on `ticket_no`
checks that again (two sessions in one half-year would be refused there, not reused).

Seats are handed out when a kind's print time has come (R5: written and oral each have
their own), in a fixed order: campus, written before oral, level, subject code, entry
id. Issued seats never move. Late payers fill the free seats of their subject's last
room, then open the sitting's next room. Assigners of one session are serialized (an
advisory lock on PostgreSQL, the single write lock on SQLite), so two workers at once
cannot hand out one seat twice.

Rendered PDFs are kept in the database (`ticket_files`, one per entry and locale) with
the platform's file id once sent, so the print-open rush reads rows instead of drawing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from admission.ticket_pdf import TicketView, render_ticket
from admission.ticket_signing import TicketClaims, load_or_create_signing_key, sign_ticket
from foundation.clock import Clock
from foundation.i18n import t
from foundation.settings import Settings
from registration import errors, ratelimit
from registration.common import get_session
from registration.identity import normalize_id_number, normalize_name
from storage.db import UnitOfWork
from storage.dto import (
    CampusDTO,
    EntryDTO,
    ExamSessionDTO,
    OfferedSubjectDTO,
    RegistrationDTO,
    StudentRecordDTO,
)
from storage.repos.tickets import TicketDTO

KINDS: Final = ("written", "oral")
_KIND_DIGIT: Final = {"written": 1, "oral": 2}
_LEVEL_DIGIT: Final = {4: 1, 6: 2}
MAX_ROOM_SIZE: Final = 99  # two seat digits
MAX_ROOMS: Final = 999  # three room digits per sitting
MAX_CAMPUSES: Final = 99_999  # five campus digits

# R39: quick print limits, counted over a sliding hour (misses count too); the
# mechanism and the figures live in registration/ratelimit.py (shared with recovery).
QUICK_PRINT_WINDOW: Final = ratelimit.QUICK_PRINT.span
QUICK_PRINT_PER_REQUESTER: Final = ratelimit.QUICK_PRINT.limit
QUICK_PRINT_PER_ID_NUMBER: Final = ratelimit.QUICK_PRINT_PER_ID_NUMBER
# Errors after which the caller must commit: the counted attempt has to survive them,
# or a guesser would never be slowed down (same contract as accounts.CODE_ATTEMPT_ERRORS):
#
#     async with db.uow() as uow:
#         try:
#             docs = await quick_print(uow, clock, ...)
#         except QUICK_PRINT_KEEP_ERRORS:
#             await uow.commit()  # R39: keep the counted attempt
#             raise
#         await uow.commit()
QUICK_PRINT_KEEP_ERRORS: Final = (errors.NoMatchingRecord, errors.TicketNotYet)

# Roster ID types -> the ticket's Fluent key for the document name.
_ID_TYPE_KEYS: Final = {
    "id_card": "ticket-id-type-resident",
    "passport": "ticket-id-type-passport",
    "hk_macao_permit": "ticket-id-type-hk-macao",
    "taiwan_permit": "ticket-id-type-taiwan",
    "hmt_residence": "ticket-id-type-hmt-residence",
    "foreign_permanent": "ticket-id-type-foreign-permanent",
}


def print_opens_at(session: ExamSessionDTO, kind: str) -> datetime:
    """R5: written and oral tickets each have their own print-open time."""
    return session.print_oral_at if kind == "oral" else session.print_written_at


def printable_kinds(session: ExamSessionDTO, now: datetime) -> list[str]:
    return [kind for kind in KINDS if now >= print_opens_at(session, kind)]


async def printable_entries(
    uow: UnitOfWork, clock: Clock, *, registration_id: int
) -> list[EntryDTO]:
    """R5: the paid entries whose print time has come.

    Raises TicketNotYet (with the earliest print time) when paid entries exist
    but none can be printed yet, and NotRegistered/NotFound when nothing is paid.
    """
    now = clock.now()
    reg = await uow.registrations.get(registration_id)
    if reg is None or reg.status != "active":
        raise errors.NotRegistered()
    session = await get_session(uow, reg.session_id)
    paid = [e for e in await uow.entries.of_registration(reg.id) if e.status == "paid"]
    if not paid:
        raise errors.NotFound(what="paid-entry")
    ready = [e for e in paid if now >= print_opens_at(session, e.kind)]
    if not ready:
        raise errors.TicketNotYet(opens_at=min(print_opens_at(session, e.kind) for e in paid))
    return ready


# --- Numbers, rooms and seats (R38) ---


def exam_half_year(session: ExamSessionDTO, offered: dict[str, OfferedSubjectDTO]) -> str:
    """`YYH` of the ticket number: the first exam day's year and half-year, session zone."""
    starts = [o.exam_start for o in offered.values()]
    first = min(starts) if starts else session.print_written_at
    local = first.astimezone(ZoneInfo(session.timezone))
    return f"{local.year % 100:02d}{1 if local.month <= 6 else 2}"


def format_ticket_no(
    *, campus_no: int, kind: str, half_year: str, level: int, room: int, seat: int
) -> str:
    """The 15-digit number laid out as in the module docstring."""
    return f"{campus_no:05d}{_KIND_DIGIT[kind]}{half_year}{_LEVEL_DIGIT[level]}{room:03d}{seat:02d}"


def room_label(room: int) -> str:
    """Rooms are stored and printed zero-padded, as they appear in the ticket number."""
    return f"{room:03d}"


def _room_number(label: str) -> int | None:
    return int(label) if label.isdigit() else None


async def assign_seats(uow: UnitOfWork, clock: Clock, *, session_id: int) -> int:
    """R38: gives every paid entry whose print time has come (R5) a ticket number, a room
    and a seat; returns how many were issued. Needs a writing unit of work; never commits.
    """
    session = await get_session(uow, session_id)
    kinds = printable_kinds(session, clock.now())
    if not kinds:
        return 0
    return await _assign(uow, session, kinds, clock.now())


async def _assign(
    uow: UnitOfWork, session: ExamSessionDTO, kinds: Sequence[str], now: datetime
) -> int:
    # The lock comes before any read, so what is read below includes every seat that
    # another assigner committed while we waited.
    await uow.tickets.lock_assignment(session.id)
    pending = await uow.tickets.unassigned_paid(session.id, kinds)
    if not pending:
        return 0
    room_size = session.room_size or 30
    if not 1 <= room_size <= MAX_ROOM_SIZE:
        raise errors.InvalidInput(what="room-size", value=room_size)
    campus_no = {c.id: i for i, c in enumerate(await uow.sessions.campuses(session.id), start=1)}
    if len(campus_no) > MAX_CAMPUSES:
        raise errors.InvalidInput(what="campus-count", value=len(campus_no))
    catalogue = await uow.sessions.subjects()
    half_year = exam_half_year(session, await uow.sessions.offered(session.id))

    # Where each subject's last room stands, and each sitting's highest room so far.
    subject_last: dict[tuple[int, str], tuple[int, int]] = {}
    sitting_last: dict[tuple[int, str, int], int] = {}
    for fill in await uow.tickets.room_fill(session.id):
        room = _room_number(fill.room)
        subject = catalogue.get(fill.subject_code)
        if room is None or subject is None:
            continue
        key = (fill.campus_id, fill.subject_code)
        subject_last[key] = max(subject_last.get(key, (0, 0)), (room, fill.last_seat))
        sitting = (fill.campus_id, subject.kind, subject.level)
        sitting_last[sitting] = max(sitting_last.get(sitting, 0), room)

    def order(entry: Any) -> tuple[int, int, int, str, int]:
        return (
            campus_no.get(entry.campus_id, 0),
            _KIND_DIGIT[entry.kind],
            entry.level,
            entry.subject_code,
            entry.id,
        )

    rows: list[dict[str, Any]] = []
    for entry in sorted(pending, key=order):
        key = (entry.campus_id, entry.subject_code)
        sitting = (entry.campus_id, entry.kind, entry.level)
        room, seat = subject_last.get(key, (0, room_size))
        if seat >= room_size:
            room, seat = sitting_last.get(sitting, 0) + 1, 0
            if room > MAX_ROOMS:
                raise errors.InvalidInput(what="room-count", value=room)
            sitting_last[sitting] = room
        seat += 1
        subject_last[key] = (room, seat)
        rows.append(
            {
                "entry_id": entry.id,
                "ticket_no": format_ticket_no(
                    campus_no=campus_no[entry.campus_id],
                    kind=entry.kind,
                    half_year=half_year,
                    level=entry.level,
                    room=room,
                    seat=seat,
                ),
                "campus_id": entry.campus_id,
                "subject_code": entry.subject_code,
                "room": room_label(room),
                "seat": seat,
                "issued_at": now,
                "revoked_at": None,
            }
        )
    await uow.tickets.add_many(rows)
    return len(rows)


async def revoke_ticket(
    uow: UnitOfWork, clock: Clock, *, ticket_no: str, reason: str, actor: str = "admin"
) -> TicketDTO:
    """Takes a ticket out of use: it is no longer sent, and `export-revoked` lists it so
    offline checkers refuse it. The seat stays taken (issued seats never move)."""
    ticket = await uow.tickets.revoke(ticket_no.strip(), clock.now(), reason=reason, actor=actor)
    if ticket is None:
        raise errors.NotFound(what="ticket")
    return ticket


async def revoked_ticket_numbers(uow: UnitOfWork, *, session_id: int | None = None) -> list[str]:
    """The numbers `cetbot ticket verify --revoked` must refuse."""
    return await uow.tickets.revoked_numbers(session_id)


# --- The PDFs (R38) ---


@dataclass(frozen=True, slots=True)
class TicketDocument:
    """One ticket ready to send: the PDF, and the platform's file id once it was sent."""

    entry_id: int
    filename: str
    pdf: bytes
    file_id: str | None


@lru_cache(maxsize=4)
def _cached_key(data_dir: Path, pem: str | None) -> Ed25519PrivateKey:
    return load_or_create_signing_key(data_dir, pem)


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    secret = settings.ticket_signing_key
    return _cached_key(Path(settings.data_dir), secret.get_secret_value() if secret else None)


@dataclass
class _Printing:
    """What the tickets of one session share, looked up once per call."""

    session: ExamSessionDTO
    offered: dict[str, OfferedSubjectDTO]
    campuses: dict[int, CampusDTO]
    key: Ed25519PrivateKey
    records: dict[int, tuple[StudentRecordDTO, bytes | None]]

    @classmethod
    async def load(cls, uow: UnitOfWork, session_id: int, settings: Settings) -> _Printing:
        return cls(
            session=await get_session(uow, session_id),
            offered=await uow.sessions.offered(session_id),
            campuses={c.id: c for c in await uow.sessions.campuses(session_id)},
            key=signing_key(settings),
            records={},
        )

    async def _record(
        self, uow: UnitOfWork, registration_id: int
    ) -> tuple[StudentRecordDTO, bytes | None]:
        found = self.records.get(registration_id)
        if found is None:
            reg: RegistrationDTO | None = await uow.registrations.get(registration_id)
            record = await uow.records.get(reg.record_id) if reg is not None else None
            if record is None:  # pragma: no cover - foreign keys
                raise errors.NotFound(what="record")
            photo = await uow.records.photo(record.id) if record.has_photo else None
            found = self.records[registration_id] = (record, photo)
        return found

    async def view(
        self, uow: UnitOfWork, entry: EntryDTO, ticket: TicketDTO, locale: str
    ) -> TicketView:
        record, photo = await self._record(uow, entry.registration_id)
        offered = self.offered.get(ticket.subject_code)
        if offered is None:  # pragma: no cover - a subject withdrawn after issuing
            raise errors.UnknownSubject(subject=ticket.subject_code)
        subject = offered.subject
        campus = self.campuses[ticket.campus_id]
        claims = TicketClaims.for_candidate(
            ticket_no=ticket.ticket_no,
            session=self.session.code,
            subject=ticket.subject_code,
            room=ticket.room,
            seat=ticket.seat,
            id_number=record.id_number,
        )
        return TicketView(
            name=record.name,
            gender=record.gender,
            id_type_key=_ID_TYPE_KEYS.get(record.id_type, f"ticket-id-type-{record.id_type}"),
            id_number=record.id_number,
            subject_names=(subject.name(locale),),
            exam_start=offered.exam_start,
            exam_end=offered.exam_end,
            campus_name=campus.name(locale),
            campus_address=campus.address_zh if locale == "zh" else campus.address_en,
            room=ticket.room,
            seat=str(ticket.seat),
            ticket_no=ticket.ticket_no,
            session_name=self.session.name_zh if locale == "zh" else self.session.name_en,
            qr_payload=sign_ticket(self.key, claims),
            photo=photo,
            timezone=self.session.timezone,
        )


# reportlab keeps font subsetting state on the shared font face, and two pages drawn at
# once in two threads broke it (KeyError in makeSubset, measured with 8 threads): one
# page at a time per process. The GIL allowed no more parallel drawing anyway.
_RENDER_LOCK = threading.Lock()


def _render_all(jobs: Sequence[tuple[TicketView, str]]) -> list[bytes]:
    pdfs = []
    for view, locale in jobs:
        with _RENDER_LOCK:
            pdfs.append(render_ticket(view, locale))
    return pdfs


def _filename(locale: str, ticket: TicketDTO) -> str:
    return t(
        locale, "ticket-filename", {"subject": ticket.subject_code, "ticket": ticket.ticket_no}
    )


async def ticket_documents(
    uow: UnitOfWork, clock: Clock, *, registration_id: int, locale: str, settings: Settings
) -> list[TicketDocument]:
    """R5/R38: the PDFs of the candidate's printable entries, in `locale`, by entry id.

    Raises as `printable_entries` does (TicketNotYet with the opening time, NotFound
    when nothing is paid). A printable entry without a seat yet gets one now (the same
    assignment the worker runs). A PDF is drawn once per entry and locale and then read
    from the database, with the file id once `remember_file_id` has been told. Needs a
    writing unit of work; the caller commits, so that what was drawn is kept.
    """
    entries = await printable_entries(uow, clock, registration_id=registration_id)
    return await _documents(uow, clock, entries, locale, settings)


async def _documents(
    uow: UnitOfWork,
    clock: Clock,
    entries: Sequence[EntryDTO],
    locale: str,
    settings: Settings,
) -> list[TicketDocument]:
    ids = [e.id for e in entries]
    tickets = await uow.tickets.of_entries(ids)
    if len(tickets) < len(ids):
        session = await get_session(uow, entries[0].session_id)
        await _assign(uow, session, printable_kinds(session, clock.now()), clock.now())
        tickets = await uow.tickets.of_entries(ids)
    # A revoked ticket is not sent again; its entry keeps the (revoked) number.
    live = [e for e in entries if e.id in tickets and tickets[e.id].revoked_at is None]
    if not live:
        raise errors.NotFound(what="ticket")
    files = await uow.tickets.files([e.id for e in live], locale)
    missing = [e for e in live if e.id not in files]
    drawn: dict[int, bytes] = {}
    if missing:
        printing = await _Printing.load(uow, missing[0].session_id, settings)
        jobs = [(await printing.view(uow, e, tickets[e.id], locale), locale) for e in missing]
        # reportlab is synchronous and takes tens of milliseconds a page: off the loop.
        pdfs = await asyncio.to_thread(_render_all, jobs)
        drawn = {e.id: pdf for e, pdf in zip(missing, pdfs, strict=True)}
        await uow.tickets.save_files([(e, locale, pdf) for e, pdf in drawn.items()], clock.now())
    out = []
    for e in live:
        ticket = tickets[e.id]
        cached = files.get(e.id)
        out.append(
            TicketDocument(
                entry_id=e.id,
                filename=_filename(locale, ticket),
                pdf=cached.pdf if cached is not None else drawn[e.id],
                file_id=cached.file_id if cached is not None else None,
            )
        )
    return out


async def remember_file_id(uow: UnitOfWork, *, entry_id: int, locale: str, file_id: str) -> bool:
    """Keeps the platform's id of an uploaded ticket, so the next send re-uses the upload.
    False when no PDF of that entry and locale is stored (e.g. revoked meanwhile)."""
    return await uow.tickets.set_file_id(entry_id, locale, file_id)


async def prerender(
    uow: UnitOfWork,
    clock: Clock,
    *,
    session_id: int,
    settings: Settings,
    locales: Sequence[str] = ("zh", "en"),
    limit: int = 20,
) -> int:
    """Draws up to `limit` not yet rendered PDFs of issued, printable tickets; returns how
    many. For the background worker after `assign_seats`: call until it returns 0.

    The drawing happens inside the caller's transaction, which on SQLite holds the write
    lock; keep `limit` small there (20 tickets take about half a second).
    """
    session = await get_session(uow, session_id)
    kinds = printable_kinds(session, clock.now())
    if not kinds or limit <= 0:
        return 0
    pending = await uow.tickets.pending_renders(session_id, kinds, locales, limit)
    if not pending:
        return 0
    printing = await _Printing.load(uow, session_id, settings)
    jobs: list[tuple[TicketView, str]] = []
    for item in pending:
        entry = await uow.entries.get(item.ticket.entry_id)
        assert entry is not None  # tickets.entry_id is a foreign key
        jobs.append((await printing.view(uow, entry, item.ticket, item.locale), item.locale))
    pdfs = await asyncio.to_thread(_render_all, jobs)
    await uow.tickets.save_files(
        [(item.ticket.entry_id, item.locale, pdf) for item, pdf in zip(pending, pdfs, strict=True)],
        clock.now(),
    )
    return len(pdfs)


# --- Quick print (R39) ---


async def _quick_print_registration(
    uow: UnitOfWork, session_id: int, name: str, id_number: str
) -> RegistrationDTO | None:
    """The active registration of the record with this ID number (any ID type) and name."""
    wanted = normalize_name(name)
    for record in await uow.records.find_by_id_number(session_id, id_number):
        if normalize_name(record.name) != wanted:
            continue
        reg = await uow.registrations.active_of_record(session_id, record.id)
        if reg is not None:
            return reg
    return None


async def quick_print(
    uow: UnitOfWork,
    clock: Clock,
    *,
    session_id: int,
    name: str,
    id_number: str,
    requester: str,
    locale: str,
    settings: Settings,
) -> list[TicketDocument]:
    """R39: the printable tickets of the record with this name and ID number, without
    signing in.

    Every miss (unknown number, other name, nothing registered or paid, all revoked)
    raises the same NoMatchingRecord. Attempts are counted per requester (the chat user)
    and per ID number over a sliding hour, misses included; over the limit raises
    TooManyRequests. Before the session's first print time TicketNotYet comes before
    any lookup, so it tells nothing about the person. The caller commits after
    `QUICK_PRINT_KEEP_ERRORS` too (see there), so counted attempts are kept.
    """
    now = clock.now()
    session = await get_session(uow, session_id)
    first_print = min(print_opens_at(session, kind) for kind in KINDS)
    if now < first_print:
        raise errors.TicketNotYet(opens_at=first_print)
    number = normalize_id_number(id_number)
    policy = ratelimit.QUICK_PRINT
    await ratelimit.check_and_count(
        uow,
        now,
        policy,
        [
            (ratelimit.key(policy.prefix, "chat", requester), QUICK_PRINT_PER_REQUESTER),
            (ratelimit.key(policy.prefix, "id", number), QUICK_PRINT_PER_ID_NUMBER),
        ],
    )
    reg = await _quick_print_registration(uow, session_id, name, number) if number else None
    if reg is None:
        raise errors.NoMatchingRecord()
    try:
        entries = await printable_entries(uow, clock, registration_id=reg.id)
        return await _documents(uow, clock, entries, locale, settings)
    except (errors.NotRegistered, errors.NotFound):
        raise errors.NoMatchingRecord() from None


async def prune_rate_events(uow: UnitOfWork, clock: Clock) -> int:
    """Deletes counted attempts older than their windows; for the background worker."""
    return await ratelimit.prune(uow, clock)
