"""Payments of entries through a gateway, and callback nonces (R28-R30)."""

from __future__ import annotations

from storage.repos.base import Repository


class PaymentRepository(Repository):
    pass
