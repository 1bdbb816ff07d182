"""The exam authority's operations: sessions, rosters, scores, capacities, figures (R41)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from backoffice.catalogue import SubjectSpec, load_default_catalogue
from backoffice.importing import RosterFile, ScoreRow, SessionSpec
from foundation.clock import Clock
from registration import errors
from registration.notices import tell_promotions
from registration.seats import Promotion
from registration.waitlist import promote
from storage.db import UnitOfWork


async def load_catalogue(uow: UnitOfWork, catalogue: list[SubjectSpec] | None = None) -> None:
    """R1: writes the catalogue (the default one unless given) into the database."""
    for s in catalogue or load_default_catalogue():
        await uow.sessions.upsert_subject(
            {
                "code": s.code,
                "name_zh": s.name_zh,
                "name_en": s.name_en,
                "level": s.level,
                "kind": str(s.kind),
                "language": s.language,
                "requires": s.requires,
            }
        )


async def load_session(uow: UnitOfWork, spec: SessionSpec) -> int:
    """Creates or updates a session with its subjects, campuses and capacities.

    A capacity below the seats already taken is refused (nothing is written).
    """
    await load_catalogue(uow)
    w = spec.windows
    session_id = await uow.sessions.upsert(
        {
            "code": spec.code,
            "name_zh": spec.name_zh,
            "name_en": spec.name_en,
            "timezone": spec.timezone,
            "help_phone": spec.help_phone,
            "room_size": spec.room_size,
            "published_at": w.published,
            "opens_at": w.registration_opens,
            "closes_at": w.registration_closes,
            "print_written_at": w.print_written,
            "print_oral_at": w.print_oral,
        }
    )
    for s in spec.subjects:
        await uow.sessions.set_offered(session_id, s.code, s.fee_fen, s.exam_start, s.exam_end)
    for c in spec.campuses:
        campus_id = await uow.sessions.upsert_campus(
            session_id,
            {
                "code": c.code,
                "school": c.school,
                "name_zh": c.name_zh,
                "name_en": c.name_en,
                "address_zh": c.address_zh,
                "address_en": c.address_en,
                "pay_deadline": c.pay_deadline,
            },
        )
        for subject_code, capacity in c.capacity.items():
            if not await uow.sessions.set_capacity(campus_id, subject_code, capacity):
                raise errors.InvalidInput(field="capacity", campus=c.code, subject=subject_code)
        await uow.sessions.delete_campus_seats(campus_id, set(c.capacity))
    return session_id


async def session_campus_map(uow: UnitOfWork, session_id: int) -> dict[str, str]:
    """Campus code -> school, what the roster parser checks rows against."""
    return {c.code: c.school for c in await uow.sessions.campuses(session_id)}


async def import_roster(uow: UnitOfWork, session_id: int, roster: RosterFile) -> tuple[int, int]:
    """R41: writes a parsed (already all-valid) roster; returns (new, updated)."""
    rows = []
    eligibility: dict[tuple[str, str], Sequence[str]] = {}
    photos: dict[tuple[str, str], bytes] = {}
    for r in roster.rows:
        key = (str(r.id_type), r.id_number)
        rows.append(
            {
                "name": r.name,
                "gender": r.gender,
                "id_type": key[0],
                "id_number": r.id_number,
                "school": r.school,
                "campus_code": r.campus,
                "student_no": r.student_no,
                "phone": r.phone,
                "has_photo": r.photo is not None,
            }
        )
        eligibility[key] = sorted(r.eligible)
        if r.photo is not None:
            photos[key] = r.photo
    return await uow.records.bulk_upsert(session_id, rows, eligibility, photos)


async def import_scores(uow: UnitOfWork, rows: list[ScoreRow]) -> tuple[int, int]:
    """R41: writes parsed CET score records; returns (new, updated)."""
    return await uow.scores.bulk_upsert(
        [
            {
                "ticket_no": r.ticket_no,
                "name": r.name,
                "id_number": r.id_number,
                "subject": r.subject,
                "score": r.score,
                "session_label": r.session,
            }
            for r in rows
        ]
    )


async def set_capacity(
    uow: UnitOfWork, clock: Clock, *, campus_id: int, subject_code: str, capacity: int
) -> list[Promotion]:
    """Changes a capacity; raising it hands the new seats to the queue (R37)."""
    if capacity < 0:
        raise errors.InvalidInput(field="capacity")
    campus = await uow.sessions.campus(campus_id)
    if campus is None:
        raise errors.UnknownCampus(campus=campus_id)
    offered = await uow.sessions.offered(campus.session_id)
    if subject_code not in offered:
        raise errors.UnknownSubject(subject=subject_code)
    if not await uow.sessions.set_capacity(campus_id, subject_code, capacity):
        seats = await uow.sessions.seats(campus_id, subject_code)
        raise errors.InvalidInput(field="capacity", taken=seats.taken if seats else 0)
    promotions = await promote(uow, clock.now(), campus_id, subject_code)
    await tell_promotions(uow, clock.now(), promotions)  # R37: told at once
    return promotions


@dataclass(frozen=True, slots=True)
class SeatLine:
    campus_code: str
    subject_code: str
    capacity: int
    taken: int
    paid: int
    unpaid: int
    waiting: int


@dataclass(frozen=True, slots=True)
class SessionStats:
    code: str
    records: int
    registrations: int
    entries_by_status: dict[str, int]
    seats: list[SeatLine]


async def stats(uow: UnitOfWork, session_id: int) -> SessionStats:
    session = await uow.sessions.get(session_id)
    if session is None:
        raise errors.NotFound(what="session")
    campuses = {c.id: c for c in await uow.sessions.campuses(session_id)}
    counts = await uow.entries.active_counts(session_id)
    waiting = await uow.waitlists.lengths(session_id)
    lines = [
        SeatLine(
            campus_code=campuses[s.campus_id].code,
            subject_code=s.subject_code,
            capacity=s.capacity,
            taken=s.taken,
            paid=counts.get((s.campus_id, s.subject_code, "paid"), 0),
            unpaid=counts.get((s.campus_id, s.subject_code, "unpaid"), 0),
            waiting=waiting.get((s.campus_id, s.subject_code), 0),
        )
        for s in await uow.sessions.seats_of_session(session_id)
    ]
    return SessionStats(
        code=session.code,
        records=await uow.records.count(session_id),
        registrations=await uow.registrations.count_active(session_id),
        entries_by_status=await uow.entries.counts_by_status(session_id),
        seats=lines,
    )
