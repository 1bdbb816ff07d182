"""School administrators and operators: who may administer what, the audit trail,
the exam office's export, and the latest news (R40-R42)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from backoffice.authority import SeatLine, stats
from foundation.clock import Clock
from registration import errors
from registration.review import decide_review
from storage.db import UnitOfWork
from storage.dto import ReviewDTO, ScoreRecordDTO, StudentRecordDTO
from storage.repos.administration import AdminDTO, AuditDTO, NewsDTO

# R19: the note an administrator gives with a decision (one chat message).
MAX_NOTE = 200


async def admin_for(
    uow: UnitOfWork, *, platform: str, user_id: int, authority_ids: Iterable[int] = ()
) -> AdminDTO | None:
    """The admin row of a chat user; ADMIN_USER_IDS count as the authority (all schools)."""
    found = await uow.administration.admin(platform, user_id)
    if found is not None:
        return found
    if user_id in set(authority_ids):
        return AdminDTO(platform=platform, user_id=user_id, school=None, added_at=datetime.min)
    return None


def may_see_school(admin: AdminDTO, school: str) -> bool:
    """R42: a school administrator sees their own school only; the authority sees all."""
    return admin.school is None or admin.school == school


def actor_of(admin: AdminDTO) -> str:
    """How an administrator is named in the audit log and in `decided_by`."""
    return f"admin:{admin.platform}:{admin.user_id}"


@dataclass(frozen=True, slots=True)
class ReviewEvidence:
    """What a school administrator decides on (R16, R18, R42): the request, the student
    record it is for, and the CET-4 score record of its ticket number (None: not in the
    score records)."""

    review: ReviewDTO
    record: StudentRecordDTO
    score: ScoreRecordDTO | None


async def review_queue(
    uow: UnitOfWork, admin: AdminDTO, *, session_id: int | None
) -> list[ReviewDTO]:
    """R42: the "not reviewed" CET-6 requests an administrator may decide, oldest first."""
    return await uow.reviews.pending(session_id, school=admin.school)


async def review_evidence(uow: UnitOfWork, admin: AdminDTO, *, review_id: int) -> ReviewEvidence:
    """One request with its evidence; Forbidden for another school's request (R42)."""
    review = await uow.reviews.get(review_id)
    if review is None:
        raise errors.NotFound(what="review")
    record = await uow.records.get(review.record_id)
    if record is None:  # pragma: no cover - foreign key
        raise errors.NotFound(what="record")
    if not may_see_school(admin, record.school):
        raise errors.Forbidden(what="review")
    return ReviewEvidence(review, record, await uow.scores.get(review.ticket_no))


async def decide(
    uow: UnitOfWork, clock: Clock, admin: AdminDTO, *, review_id: int, approve: bool, note: str
) -> ReviewDTO:
    """R19/R42: approves or rejects a request of the administrator's school with a note;
    the candidate is told (decide_review queues the notice)."""
    note = " ".join(note.split())
    if not note or len(note) > MAX_NOTE:
        raise errors.InvalidInput(field="note")
    return await decide_review(
        uow,
        clock,
        review_id=review_id,
        approve=approve,
        note=note,
        decided_by=actor_of(admin),
        school=admin.school,
    )


@dataclass(frozen=True, slots=True)
class SchoolFigures:
    """Per campus and subject of the administrator's campuses (all for the authority)."""

    session_code: str
    lines: list[SeatLine]


async def school_figures(uow: UnitOfWork, admin: AdminDTO, *, session_id: int) -> SchoolFigures:
    """Registrations (active entries), paid entries, free seats and waitlist lengths."""
    figures = await stats(uow, session_id)
    mine = {c.code for c in await uow.sessions.campuses(session_id, school=admin.school)}
    return SchoolFigures(figures.code, [line for line in figures.seats if line.campus_code in mine])


async def add_admin(
    uow: UnitOfWork, clock: Clock, *, platform: str, user_id: int, school: str | None
) -> AdminDTO:
    if user_id <= 0:
        raise errors.InvalidInput(field="user_id")
    return await uow.administration.put_admin(platform, user_id, school or None, clock.now())


async def audit_trail(uow: UnitOfWork, *, entry_id: int) -> list[AuditDTO]:
    """Every recorded change of an entry and of its payments, oldest first."""
    trail = await uow.administration.audit_of("entry", str(entry_id))
    for payment in await uow.payments.of_entry(entry_id):
        trail += await uow.administration.audit_of("payment", payment.id)
    # Ids grow with time: the merged trail reads in the order the changes were written.
    return sorted(trail, key=lambda a: a.id)


@dataclass(frozen=True, slots=True)
class ExportRow:
    entry_id: int
    school: str
    student_no: str
    name: str
    gender: str
    id_type: str
    id_number: str
    subject: str
    campus: str
    status: str
    paper_report: str
    fee_fen: int
    created_at: datetime
    paid_at: datetime | None


EXPORT_COLUMNS = tuple(ExportRow.__dataclass_fields__)


async def export_entries(uow: UnitOfWork, *, session_id: int) -> list[ExportRow]:
    """The active entries of a session for the exam office (paid first)."""
    campuses = {c.id: c.code for c in await uow.sessions.campuses(session_id)}
    rows: list[ExportRow] = []
    for entry, record in await uow.entries.active_with_records(session_id):
        rows.append(
            ExportRow(
                entry_id=entry.id,
                school=record.school,
                student_no=record.student_no,
                name=record.name,
                gender=record.gender,
                id_type=record.id_type,
                id_number=record.id_number,
                subject=entry.subject_code,
                campus=campuses.get(entry.campus_id, str(entry.campus_id)),
                status=entry.status,
                paper_report=entry.paper_report,
                fee_fen=entry.fee_fen,
                created_at=entry.created_at,
                paid_at=entry.paid_at,
            )
        )
    rows.sort(key=lambda r: (r.status != "paid", r.school, r.campus, r.subject, r.entry_id))
    return rows


async def add_news(
    uow: UnitOfWork,
    clock: Clock,
    *,
    session_id: int | None,
    title_zh: str,
    title_en: str,
    body_zh: str,
    body_en: str,
) -> NewsDTO:
    """R40: the authority publishes a short news item in both languages."""
    for field, value, limit in (
        ("title_zh", title_zh, 100),
        ("title_en", title_en, 200),
        ("body_zh", body_zh, 700),
        ("body_en", body_en, 1400),
    ):
        if not value.strip() or len(value) > limit:
            raise errors.InvalidInput(field=field)
    return await uow.administration.add_news(
        {
            "session_id": session_id,
            "title_zh": title_zh.strip(),
            "title_en": title_en.strip(),
            "body_zh": body_zh.strip(),
            "body_en": body_en.strip(),
            "published_at": clock.now(),
        }
    )


async def latest_news(uow: UnitOfWork, clock: Clock, *, session_id: int | None) -> list[NewsDTO]:
    return await uow.administration.latest_news(session_id, clock.now(), 5)
