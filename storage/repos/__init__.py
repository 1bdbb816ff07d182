"""Repositories: each wraps the unit of work's connection and returns frozen DTOs."""

from storage.repos.accounts import AccountRepository
from storage.repos.records import RecordRepository, ScoreRepository
from storage.repos.registrations import (
    EntryRepository,
    RegistrationRepository,
    ReviewRepository,
    WaitlistRepository,
)
from storage.repos.sessions import SessionRepository

__all__ = [
    "AccountRepository",
    "EntryRepository",
    "RecordRepository",
    "RegistrationRepository",
    "ReviewRepository",
    "ScoreRepository",
    "SessionRepository",
    "WaitlistRepository",
]
