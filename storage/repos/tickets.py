"""Admission tickets: numbers, rooms and seats, rendered PDFs; rate-limit events (R38, R39)."""

from __future__ import annotations

from storage.repos.base import Repository


class TicketRepository(Repository):
    pass
