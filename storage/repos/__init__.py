"""Repositories: each wraps the unit of work's connection and returns frozen DTOs."""

from storage.repos.accounts import AccountRepository
from storage.repos.administration import AdministrationRepository
from storage.repos.conversations import ConversationRepository
from storage.repos.outbox import OutboxRepository
from storage.repos.payments import PaymentRepository
from storage.repos.platform_users import PlatformUserRepository
from storage.repos.records import RecordRepository, ScoreRepository
from storage.repos.registrations import (
    EntryRepository,
    RegistrationRepository,
    ReviewRepository,
    WaitlistRepository,
)
from storage.repos.sessions import SessionRepository
from storage.repos.tickets import TicketRepository

__all__ = [
    "AccountRepository",
    "AdministrationRepository",
    "ConversationRepository",
    "EntryRepository",
    "OutboxRepository",
    "PaymentRepository",
    "PlatformUserRepository",
    "RecordRepository",
    "RegistrationRepository",
    "ReviewRepository",
    "ScoreRepository",
    "SessionRepository",
    "TicketRepository",
    "WaitlistRepository",
]
