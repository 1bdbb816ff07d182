"""The database schema: one declarative model per table (SQLAlchemy 2).

Only `storage/` touches these classes; everything above gets frozen DTOs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Entries and waitlists in these states hold a seat / a queue place.
ACTIVE_ENTRY = "status IN ('unpaid', 'paid')"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ExamSession(Base):
    __tablename__ = "exam_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    help_phone: Mapped[str] = mapped_column(String(64), default="")
    room_size: Mapped[int] = mapped_column(Integer, default=30)
    # R2-R5: the windows.
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    print_written_at: Mapped[datetime] = mapped_column(UTCDateTime)
    print_oral_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Subject(Base):
    """R1: the catalogue, shared by all sessions."""

    __tablename__ = "subjects"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    level: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))  # written | oral
    language: Mapped[str] = mapped_column(String(8))
    requires: Mapped[str | None] = mapped_column(String(16), nullable=True)
    __table_args__ = (
        CheckConstraint("kind IN ('written', 'oral')", name="kind"),
        CheckConstraint("level IN (4, 6)", name="level"),
    )


class SessionSubject(Base):
    """A subject offered in one session: fee and exam time."""

    __tablename__ = "session_subjects"
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), primary_key=True)
    subject_code: Mapped[str] = mapped_column(ForeignKey("subjects.code"), primary_key=True)
    fee_fen: Mapped[int] = mapped_column(Integer)
    exam_start: Mapped[datetime] = mapped_column(UTCDateTime)
    exam_end: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (CheckConstraint("fee_fen >= 0", name="fee"),)


class Campus(Base):
    __tablename__ = "campuses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"))
    code: Mapped[str] = mapped_column(String(32))
    school: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    address_zh: Mapped[str] = mapped_column(String(300), default="")
    address_en: Mapped[str] = mapped_column(String(300), default="")
    # R4: 报名管理时间, the last moment an unpaid entry here may be paid.
    pay_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (UniqueConstraint("session_id", "code"),)


class CampusSeats(Base):
    """R23: seats of one (campus, subject); `taken` only moves by conditional UPDATE."""

    __tablename__ = "campus_seats"
    campus_id: Mapped[int] = mapped_column(ForeignKey("campuses.id"), primary_key=True)
    subject_code: Mapped[str] = mapped_column(ForeignKey("subjects.code"), primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (
        CheckConstraint("capacity >= 0", name="capacity"),
        CheckConstraint("taken >= 0 AND taken <= capacity", name="taken"),
    )


class StudentRecord(Base):
    """One roster row (学籍) of a session."""

    __tablename__ = "student_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"))
    name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[str] = mapped_column(String(1))
    id_type: Mapped[str] = mapped_column(String(24))
    id_number: Mapped[str] = mapped_column(String(32))
    school: Mapped[str] = mapped_column(String(200))
    campus_code: Mapped[str] = mapped_column(String(32))
    student_no: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(20))
    has_photo: Mapped[bool] = mapped_column(default=False)
    __table_args__ = (UniqueConstraint("session_id", "id_type", "id_number"),)


class RecordPhoto(Base):
    __tablename__ = "record_photos"
    record_id: Mapped[int] = mapped_column(ForeignKey("student_records.id"), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class RecordEligibility(Base):
    """R20: a written subject a record may take; source `roster` or `review` (R19)."""

    __tablename__ = "record_eligibility"
    record_id: Mapped[int] = mapped_column(ForeignKey("student_records.id"), primary_key=True)
    subject_code: Mapped[str] = mapped_column(ForeignKey("subjects.code"), primary_key=True)
    source: Mapped[str] = mapped_column(String(8), default="roster")


class ScoreRecord(Base):
    """A past CET-4 result, used by the CET-6 review (R14-R18)."""

    __tablename__ = "score_records"
    ticket_no: Mapped[str] = mapped_column(String(15), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    id_number: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(16))
    score: Mapped[int] = mapped_column(Integer)
    session_label: Mapped[str] = mapped_column(String(32))


class Account(Base):
    """R7: a pass account (通行证), identified by its e-mail."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChatBinding(Base):
    """R7: a chat user bound to one account; an account may have several."""

    __tablename__ = "chat_bindings"
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VerificationCode(Base):
    """R9/R10: one-time codes sent by mail (verify the address, reset a password)."""

    __tablename__ = "verification_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Registration(Base):
    """The registration information (报名信息) of one record in one session (R13)."""

    __tablename__ = "registrations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"))
    record_id: Mapped[int] = mapped_column(ForeignKey("student_records.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    phone: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(8), default="active")  # active | deleted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Bumped by every change: the UPDATE doubles as a per-candidate lock.
    version: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (
        Index(
            "uq_registrations_active_record",
            "session_id",
            "record_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index(
            "uq_registrations_active_account",
            "session_id",
            "account_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )


class Entry(Base):
    """One subject at one campus (报考科目): the unit that holds a seat and is paid."""

    __tablename__ = "entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"))
    subject_code: Mapped[str] = mapped_column(ForeignKey("subjects.code"))
    campus_id: Mapped[int] = mapped_column(ForeignKey("campuses.id"))
    kind: Mapped[str] = mapped_column(String(8))
    level: Mapped[int] = mapped_column(Integer)
    # Set for written entries only, so a unique index can enforce R22.
    written_level: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="unpaid")
    paper_report: Mapped[str] = mapped_column(String(16), default="none")  # R25
    fee_fen: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # R31
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    __table_args__ = (
        CheckConstraint("status IN ('unpaid', 'paid', 'cancelled', 'expired')", name="status"),
        # R22: the same subject cannot be held twice ...
        Index(
            "uq_entries_active_subject",
            "registration_id",
            "subject_code",
            unique=True,
            sqlite_where=text(ACTIVE_ENTRY),
            postgresql_where=text(ACTIVE_ENTRY),
        ),
        # ... and at most one written entry per level.
        Index(
            "uq_entries_active_written_level",
            "registration_id",
            "written_level",
            unique=True,
            sqlite_where=text(ACTIVE_ENTRY + " AND written_level IS NOT NULL"),
            postgresql_where=text(ACTIVE_ENTRY + " AND written_level IS NOT NULL"),
        ),
        Index(
            "ix_entries_unpaid_expiry",
            "expires_at",
            sqlite_where=text("status = 'unpaid'"),
            postgresql_where=text("status = 'unpaid'"),
        ),
    )


class Review(Base):
    """A CET-6 qualification review request (R14-R19)."""

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"))
    record_id: Mapped[int] = mapped_column(ForeignKey("student_records.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    ticket_no: Mapped[str] = mapped_column(String(15))
    # passed | not_reviewed | approved | rejected
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    __table_args__ = (
        CheckConstraint(
            "status IN ('passed', 'not_reviewed', 'approved', 'rejected')", name="status"
        ),
    )


class Waitlist(Base):
    """A place in the queue (候补) for a full (campus, subject) (R34-R37)."""

    __tablename__ = "waitlists"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"))
    campus_id: Mapped[int] = mapped_column(ForeignKey("campuses.id"))
    subject_code: Mapped[str] = mapped_column(ForeignKey("subjects.code"))
    kind: Mapped[str] = mapped_column(String(8))
    level: Mapped[int] = mapped_column(Integer)
    # waiting | succeeded | cancelled | closed
    status: Mapped[str] = mapped_column(String(10), default="waiting")
    cancel_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"), nullable=True)
    __table_args__ = (
        CheckConstraint("status IN ('waiting', 'succeeded', 'cancelled', 'closed')", name="status"),
        # R35: one waiting place per level (and kind) per candidate.
        Index(
            "uq_waitlists_waiting_level",
            "registration_id",
            "kind",
            "level",
            unique=True,
            sqlite_where=text("status = 'waiting'"),
            postgresql_where=text("status = 'waiting'"),
        ),
        # R37: the queue of one (campus, subject), earliest first.
        Index(
            "ix_waitlists_queue",
            "campus_id",
            "subject_code",
            "id",
            sqlite_where=text("status = 'waiting'"),
            postgresql_where=text("status = 'waiting'"),
        ),
    )
