"""The outbox of messages that are not direct replies, and reminder bookkeeping (R32)."""

from __future__ import annotations

from storage.repos.base import Repository


class OutboxRepository(Repository):
    pass
