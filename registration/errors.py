"""Typed domain errors: each names the rule that refused and carries what the message needs.

The conversation layer turns an error into a localized message with the key
`error-<code>` and the error's `params`; the CLI prints the same text.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule refused the request; nothing was changed."""

    rule: str = ""
    code: str = "domain"

    def __init__(self, **params: Any) -> None:
        self.params = params
        super().__init__(f"{self.rule} {self.code} {params}".strip())


class InvalidInput(DomainError):
    """Input of the wrong form (e.g. a 17-character ID, a negative capacity)."""

    code = "invalid-input"


class NotFound(DomainError):
    code = "not-found"


# R2-R5: windows.
class WindowNotOpen(DomainError):
    rule, code = "R2", "window-not-open"


class WindowClosed(DomainError):
    rule, code = "R4", "window-closed"


class SessionNotPublished(DomainError):
    rule, code = "R2", "session-not-published"


class PayDeadlinePassed(DomainError):
    rule, code = "R4", "pay-deadline-passed"


class TicketNotYet(DomainError):
    rule, code = "R5", "ticket-not-yet"


# R7-R10: accounts.
class InvalidEmail(DomainError):
    rule, code = "R7", "invalid-email"


class AccountExists(DomainError):
    rule, code = "R7", "account-exists"


class WeakPassword(DomainError):
    rule, code = "R8", "weak-password"


class CommonPassword(WeakPassword):
    """R8: the form is right but the password is one guessers try first (Passw0rd!)."""

    rule, code = "R8", "common-password"


class BadCredentials(DomainError):
    rule, code = "R8", "bad-credentials"


class SignInLocked(DomainError):
    """R8: too many wrong passwords for this account or from this chat; `minutes` to wait."""

    rule, code = "R8", "sign-in-locked"


class EmailNotVerified(DomainError):
    rule, code = "R9", "email-not-verified"


class CodeInvalid(DomainError):
    rule, code = "R9", "code-invalid"


class CodeExpired(DomainError):
    rule, code = "R9", "code-expired"


class TooManyAttempts(DomainError):
    rule, code = "R9", "too-many-attempts"


class TooManyCodes(DomainError):
    rule, code = "R9", "too-many-codes"


class AccountNotFound(DomainError):
    rule, code = "R10", "account-not-found"


# R11-R13: eligibility and confirmation.
class AgreementRequired(DomainError):
    rule, code = "R11", "agreement-required"


class InvalidIdNumber(DomainError):
    rule, code = "R12", "invalid-id-number"


class NoMatchingRecord(DomainError):
    rule, code = "R12", "no-matching-record"


class RecordClaimed(DomainError):
    rule, code = "R13", "record-claimed"


class AlreadyRegistered(DomainError):
    rule, code = "R13", "already-registered"


class NotRegistered(DomainError):
    rule, code = "R13", "not-registered"


# R14-R19: CET-6 review.
class BadTicketNumber(DomainError):
    rule, code = "R14", "bad-ticket-number"


class ScoreTooLow(DomainError):
    rule, code = "R18", "score-too-low"


class ReviewMismatch(DomainError):
    rule, code = "R17", "review-mismatch"


class AlreadyEligible(DomainError):
    rule, code = "R19", "already-eligible"


class ReviewPending(DomainError):
    rule, code = "R19", "review-pending"


class ReviewNeedsEntry(DomainError):
    rule, code = "R19", "review-needs-entry"


class ReviewAlreadyDecided(DomainError):
    rule, code = "R19", "review-already-decided"


# R20-R25: entries.
class NotEligible(DomainError):
    rule, code = "R20", "not-eligible"


class OralNeedsWritten(DomainError):
    rule, code = "R21", "oral-needs-written"


class LevelTaken(DomainError):
    rule, code = "R22", "level-taken"


class SubjectHeld(DomainError):
    rule, code = "R22", "subject-held"


class SeatsFull(DomainError):
    rule, code = "R23", "seats-full"


class UnknownSubject(DomainError):
    rule, code = "R1", "unknown-subject"


class UnknownCampus(DomainError):
    rule, code = "R23", "unknown-campus"


class EntryPaid(DomainError):
    rule, code = "R24", "entry-paid"


class EntryNotActive(DomainError):
    rule, code = "R24", "entry-not-active"


class ConfirmCascade(DomainError):
    """R24: cancelling a written entry takes its unpaid oral entry along; confirm first."""

    rule, code = "R24", "confirm-cascade"


class PaperReportNotAllowed(DomainError):
    rule, code = "R25", "paper-report-not-allowed"


# R26-R27: payment.
class OralPayNeedsWritten(DomainError):
    rule, code = "R27", "oral-pay-needs-written"


# R34-R37: waitlist.
class NotFull(DomainError):
    rule, code = "R34", "not-full"


class WaitlistLevelTaken(DomainError):
    rule, code = "R35", "waitlist-level-taken"


class WaitlistNotActive(DomainError):
    rule, code = "R36", "waitlist-not-active"


class BadCancelReason(DomainError):
    rule, code = "R36", "bad-cancel-reason"


class Forbidden(DomainError):
    """The thing named belongs to someone else."""

    code = "forbidden"


# R39: quick print.
class TooManyRequests(DomainError):
    """Too many attempts in the sliding window; `minutes` says when one is free again."""

    rule, code = "R39", "too-many-requests"
