"""Frozen data objects the repositories return; nothing above storage sees ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ExamSessionDTO:
    id: int
    code: str
    name_zh: str
    name_en: str
    timezone: str
    help_phone: str
    room_size: int
    published_at: datetime
    opens_at: datetime
    closes_at: datetime
    print_written_at: datetime
    print_oral_at: datetime


@dataclass(frozen=True, slots=True)
class SubjectDTO:
    code: str
    name_zh: str
    name_en: str
    level: int
    kind: str
    language: str
    requires: str | None

    def name(self, locale: str) -> str:
        return self.name_zh if locale == "zh" else self.name_en


@dataclass(frozen=True, slots=True)
class OfferedSubjectDTO:
    subject: SubjectDTO
    session_id: int
    fee_fen: int
    exam_start: datetime
    exam_end: datetime


@dataclass(frozen=True, slots=True)
class CampusDTO:
    id: int
    session_id: int
    code: str
    school: str
    name_zh: str
    name_en: str
    address_zh: str
    address_en: str
    pay_deadline: datetime

    def name(self, locale: str) -> str:
        return self.name_zh if locale == "zh" else self.name_en


@dataclass(frozen=True, slots=True)
class SeatsDTO:
    campus_id: int
    subject_code: str
    capacity: int
    taken: int

    @property
    def free(self) -> int:
        return self.capacity - self.taken


@dataclass(frozen=True, slots=True)
class StudentRecordDTO:
    id: int
    session_id: int
    name: str
    gender: str
    id_type: str
    id_number: str
    school: str
    campus_code: str
    student_no: str
    phone: str
    has_photo: bool
    eligible: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class ScoreRecordDTO:
    ticket_no: str
    name: str
    id_number: str
    subject: str
    score: int
    session_label: str


@dataclass(frozen=True, slots=True)
class AccountDTO:
    id: int
    email: str
    password_hash: str
    email_verified_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class VerificationCodeDTO:
    id: int
    email: str
    purpose: str
    code_hash: str
    created_at: datetime
    expires_at: datetime
    attempts: int
    consumed_at: datetime | None
    requester: str | None = None


@dataclass(frozen=True, slots=True)
class RegistrationDTO:
    id: int
    session_id: int
    record_id: int
    account_id: int
    phone: str
    status: str
    created_at: datetime
    deleted_at: datetime | None
    version: int


@dataclass(frozen=True, slots=True)
class EntryDTO:
    id: int
    registration_id: int
    session_id: int
    subject_code: str
    campus_id: int
    kind: str
    level: int
    status: str
    paper_report: str
    fee_fen: int
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None

    @property
    def active(self) -> bool:
        return self.status in ("unpaid", "paid")


@dataclass(frozen=True, slots=True)
class ReviewDTO:
    id: int
    session_id: int
    record_id: int
    account_id: int
    ticket_no: str
    status: str
    note: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None


@dataclass(frozen=True, slots=True)
class WaitlistDTO:
    id: int
    registration_id: int
    session_id: int
    campus_id: int
    subject_code: str
    kind: str
    level: int
    status: str
    cancel_reason: str | None
    created_at: datetime
    finished_at: datetime | None
    entry_id: int | None
