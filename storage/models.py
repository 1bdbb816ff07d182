"""The database schema: one declarative model per table (SQLAlchemy 2).

Only `storage/` touches these classes; everything above gets frozen DTOs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
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
    # R4: the campus payment deadline, the last moment an unpaid entry here may be paid.
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
    """One roster row (student record) of a session."""

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
    """R7: a pass account, identified by its e-mail."""

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
    # Reset codes: the chat that asked ("platform:user id"); only it may use the code
    # (revision 0003). Verification codes: NULL (any chat bound to the account).
    requester: Mapped[str | None] = mapped_column(String(80), nullable=True)


class Registration(Base):
    """The registration information of one record in one session (R13)."""

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
    """One subject at one campus (an entry): the unit that holds a seat and is paid."""

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
    paper_report: Mapped[str] = mapped_column(String(32), default="none")  # R25
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
    """A place in the waitlist for a full (campus, subject) (R34-R37)."""

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


# --- Chat, background work, payments, tickets, administration (revision 0002) ---


class Conversation(Base):
    """UI state of one chat user (not domain state): which step, and its scratch data."""

    __tablename__ = "conversations"
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    state: Mapped[str] = mapped_column(String(64), default="start")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    locale: Mapped[str | None] = mapped_column(String(8), nullable=True)
    menu_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Increments with every applied update; a button carries it so old menus expire.
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The reply of the last update that changed something, written with that update and
    # cleared once it is out: a process killed between commit and send loses nothing.
    reply: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    reply_update_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    __table_args__ = (
        Index(
            "ix_conversations_reply_at",
            "reply_at",
            sqlite_where=text("reply_at IS NOT NULL"),
            postgresql_where=text("reply_at IS NOT NULL"),
        ),
    )


class ProcessedUpdate(Base):
    """Update ids already applied: a re-delivered update does nothing the second time."""

    __tablename__ = "processed_updates"
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class OutboxMessage(Base):
    """A message that is not a direct reply, written with the domain change, sent later."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))  # what to render: a message key
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # pending | sending | sent | undeliverable | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Makes "tell them once" idempotent (e.g. "reminder:<entry>:<offset>").
    dedupe_key: Mapped[str | None] = mapped_column(String(120), nullable=True, unique=True)
    __table_args__ = (
        Index(
            "ix_outbox_due",
            "due_at",
            "id",
            sqlite_where=text("status IN ('pending', 'sending')"),
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
    )


class EntryReminder(Base):
    """R32: a reminder before expiry, recorded once per (entry, offset)."""

    __tablename__ = "entry_reminders"
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), primary_key=True)
    offset_minutes: Mapped[int] = mapped_column(Integer, primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Payment(Base):
    """One payment attempt of one entry through a gateway (R28-R30, R33)."""

    __tablename__ = "payments"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True)
    gateway: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int] = mapped_column(Integer)
    # pending | paid | failed | refund
    status: Mapped[str] = mapped_column(String(16), default="pending")
    link: Mapped[str] = mapped_column(String(500))
    gateway_ref: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    __table_args__ = (
        # R29: no second payment of an entry while one is pending.
        Index(
            "uq_payments_pending_entry",
            "entry_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )


class PaymentNonce(Base):
    """Callback nonces seen (replay protection)."""

    __tablename__ = "payment_nonces"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Ticket(Base):
    """R38: the admission ticket of a paid entry: number, room, seat, rendered PDF."""

    __tablename__ = "tickets"
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), primary_key=True)
    ticket_no: Mapped[str] = mapped_column(String(15), unique=True)
    campus_id: Mapped[int] = mapped_column(ForeignKey("campuses.id"))
    subject_code: Mapped[str] = mapped_column(ForeignKey("subjects.code"))
    room: Mapped[str] = mapped_column(String(16))
    seat: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A seat in a room holds one candidate per subject sitting; never moved once issued.
    __table_args__ = (UniqueConstraint("campus_id", "subject_code", "room", "seat"),)


class TicketFile(Base):
    """A rendered ticket PDF per locale, and the platform's file id once uploaded."""

    __tablename__ = "ticket_files"
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), primary_key=True)
    locale: Mapped[str] = mapped_column(String(8), primary_key=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    file_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    rendered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RateEvent(Base):
    """One counted attempt (quick print, sign-in...), for sliding-window rate limits."""

    __tablename__ = "rate_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (Index("ix_rate_events_key_at", "key", "at"),)


class Admin(Base):
    """A school administrator (school set) or an authority operator (school empty)."""

    __tablename__ = "admins"
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    school: Mapped[str | None] = mapped_column(String(200), nullable=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditRecord(Base):
    """Who changed what: entries, reviews, waitlists, payments (before and after)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    __table_args__ = (Index("ix_audit_object", "object_type", "object_id", "id"),)


class NewsItem(Base):
    """Latest news added by the authority (R40)."""

    __tablename__ = "news"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("exam_sessions.id"), nullable=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    body_zh: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


# --- Users of platforms whose ids are not integers; WeChat state (revision 0005) ---


class PlatformUser(Base):
    """An external user id (a WeChat OpenID) -> the internal user number the core keys on.

    The number is `PLATFORM_USER_BASE + id`, above every Telegram id (at most 52
    significant bits), so chat bindings, conversations, processed updates and the outbox
    take it as any other user id. The WeChat columns count what the customer-service
    message quota allows since the user's last action, and remember the choices offered."""

    __tablename__ = "platform_users"
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The last action of the user that opens a customer-service window ("message",
    # "event"), when, and how many customer-service messages went out since.
    action_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    action_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The push of that action (a retry of it opens no new quota).
    action_update: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    custom_used: Mapped[int] = mapped_column(Integer, default=0)
    # The buttons' payloads last offered (numbered options or a menu message), and the
    # number of that offer (menu message ids carry it, so an old menu is told apart).
    offers: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    offers_seq: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (UniqueConstraint("platform", "external_id"),)


class PlatformToken(Base):
    """A platform's access token shared by every process (WeChat: `wx:<appid>`), with a
    short lease that one process takes while it fetches a new one."""

    __tablename__ = "platform_tokens"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str | None] = mapped_column(Text, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
