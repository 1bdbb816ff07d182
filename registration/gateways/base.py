"""The payment gateway interface every gateway (sandbox, Alipay, PayEase...) implements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from registration.errors import DomainError

# What a gateway can say about one payment.
GatewayStatus = Literal["pending", "paid", "failed"]


class CallbackRefused(DomainError):
    """R28: a callback that is forged, stale, replayed or names no payment of ours."""

    rule, code = "R28", "callback-refused"


class GatewayUnavailable(DomainError):
    """The gateway could not be asked (network, 5xx); nothing was changed."""

    rule, code = "R29", "gateway-unavailable"


@dataclass(frozen=True, slots=True)
class PaymentState:
    """A gateway's answer about one payment, from a query or a verified callback."""

    payment_id: str
    status: GatewayStatus
    amount_fen: int
    gateway_ref: str | None = None
    # When the bank charged the candidate (R4 is judged by this, not by our clock).
    paid_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class VerifiedCallback:
    """A callback whose signature checked out; `nonce` and `sent_at` guard against replay."""

    state: PaymentState
    nonce: str
    sent_at: datetime


class Gateway(Protocol):
    """One payment provider. `name` is stored with each payment (payments.gateway)."""

    name: str
    # True when `create_payment` only makes the link (no call to the provider): a link
    # made and not handed out registers nothing, so the pay step may make it before it
    # knows whether the entry has a pending payment (registration.payments).
    creates_offline: bool

    async def create_payment(
        self, payment_id: str, amount_fen: int, description: str, return_url: str
    ) -> str:
        """Registers a payment with the provider; returns the link the candidate opens."""
        ...

    async def query(self, payment_id: str) -> PaymentState:
        """Asks the provider where a payment stands (R29 "Update", R33); may raise
        GatewayUnavailable."""
        ...

    def verify_callback(
        self, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> VerifiedCallback:
        """Checks the signature and the timestamp window of a callback; raises
        CallbackRefused. Nonce replay is checked by the caller against the database."""
        ...
