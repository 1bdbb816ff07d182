"""The built-in sandbox gateway (R28): HMAC-SHA256 signed links, callbacks and query answers."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import aiohttp

from registration.gateways.base import (
    CallbackRefused,
    GatewayUnavailable,
    PaymentState,
    VerifiedCallback,
)

log = logging.getLogger(__name__)

# A callback older (or newer) than this is refused as stale; nonces are kept this long.
REPLAY_WINDOW = timedelta(minutes=5)

HEADER_TIMESTAMP = "X-Sandbox-Timestamp"
HEADER_NONCE = "X-Sandbox-Nonce"
HEADER_SIGNATURE = "X-Sandbox-Signature"


def sign(secret: bytes, timestamp: str, nonce: str, body: bytes) -> str:
    """The signature of a message: HMAC-SHA256 over timestamp, nonce and body."""
    mac = hmac.new(secret, digestmod=hashlib.sha256)
    mac.update(timestamp.encode() + b"\n" + nonce.encode() + b"\n")
    mac.update(body)
    return mac.hexdigest()


def sign_link(secret: bytes, payment_id: str, amount_fen: int, description: str, ret: str) -> str:
    """Signs the payment page's parameters so nobody can change the amount in the address."""
    text = "\n".join(("link", payment_id, str(amount_fen), description, ret))
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()


def signed_headers(secret: bytes, body: bytes, now: datetime, nonce: str) -> dict[str, str]:
    timestamp = str(int(now.timestamp()))
    return {
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: sign(secret, timestamp, nonce, body),
        "Content-Type": "application/json",
    }


def verify_signed(
    secret: bytes, body: bytes, headers: Mapping[str, str], now: datetime
) -> tuple[str, datetime]:
    """Checks signature and timestamp window; returns (nonce, sent_at) or raises."""
    lower = {k.lower(): v for k, v in headers.items()}
    timestamp = lower.get(HEADER_TIMESTAMP.lower(), "")
    nonce = lower.get(HEADER_NONCE.lower(), "")
    given = lower.get(HEADER_SIGNATURE.lower(), "")
    if not timestamp.isdigit() or not (8 <= len(nonce) <= 64) or not given:
        raise CallbackRefused(reason="malformed")
    # compare_digest: no timing hints about how much of a forged signature was right.
    if not hmac.compare_digest(sign(secret, timestamp, nonce, body), given):
        raise CallbackRefused(reason="signature")
    sent_at = datetime.fromtimestamp(int(timestamp), UTC)
    if abs(now - sent_at) > REPLAY_WINDOW:
        raise CallbackRefused(reason="stale")
    return nonce, sent_at


def _whole_fen(value: object) -> int:
    # 3000.7 is not 3000: an amount that is not a whole number of fen is malformed, never
    # rounded (bool is an int in Python, and no amount either).
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"amount_fen {value!r} is not a whole number")
    return value


def _aware(text: object) -> datetime:
    # A charge time without a zone cannot be compared with the deadline (R4): malformed.
    if not isinstance(text, str):
        raise ValueError(f"paid_at {text!r} is not a string")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"paid_at {text!r} has no time zone")
    return moment


def state_from_json(data: Mapping[str, Any]) -> PaymentState:
    try:
        status = data["status"]
        if status not in ("pending", "paid", "failed"):
            raise ValueError(status)
        paid_at = data.get("paid_at")
        gateway_ref = data.get("gateway_ref")
        if gateway_ref is not None and not isinstance(gateway_ref, str):
            raise ValueError("gateway_ref")
        return PaymentState(
            payment_id=str(data["payment_id"]),
            status=status,
            amount_fen=_whole_fen(data["amount_fen"]),
            gateway_ref=gateway_ref,
            paid_at=_aware(paid_at) if paid_at else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("sandbox payment state refused as malformed: %s", exc)
        raise CallbackRefused(reason="malformed") from None


def state_to_json(state: PaymentState) -> dict[str, Any]:
    return {
        "payment_id": state.payment_id,
        "status": state.status,
        "amount_fen": state.amount_fen,
        "gateway_ref": state.gateway_ref,
        "paid_at": state.paid_at.isoformat() if state.paid_at else None,
    }


class SandboxGateway:
    """Talks to the sandbox payment server (payment_web/sandbox_server.py).

    Creating a payment needs no round trip: the link carries the payment's
    parameters, signed, and the server learns the payment when the page opens.
    Queries go over HTTP and their answers are signed like callbacks.
    """

    name = "sandbox"
    # `create_payment` only signs a link (no call out): a link made and then not used
    # (the entry had a pending payment after all) registers nothing anywhere.
    creates_offline = True

    def __init__(self, base_url: str, secret: str, *, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret.encode()
        self.timeout = timeout

    async def create_payment(
        self, payment_id: str, amount_fen: int, description: str, return_url: str
    ) -> str:
        query = {
            "amount": str(amount_fen),
            "desc": description,
            "return": return_url,
            "sig": sign_link(self.secret, payment_id, amount_fen, description, return_url),
        }
        return f"{self.base_url}/pay/{payment_id}?{urlencode(query)}"

    async def query(self, payment_id: str) -> PaymentState:
        url = f"{self.base_url}/api/payments/{payment_id}"
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.get(url) as resp:
                    body = await resp.read()
                    if resp.status != 200:
                        raise GatewayUnavailable(status=resp.status)
                    headers = dict(resp.headers)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise GatewayUnavailable(reason=type(exc).__name__) from None
        # The answer is signed: a spoofed "paid" must not mark an entry paid. Its
        # timestamp is the server's, so only the signature is checked here.
        lower = {k.lower(): v for k, v in headers.items()}
        timestamp = lower.get(HEADER_TIMESTAMP.lower(), "")
        nonce = lower.get(HEADER_NONCE.lower(), "")
        given = lower.get(HEADER_SIGNATURE.lower(), "")
        if not hmac.compare_digest(sign(self.secret, timestamp, nonce, body), given):
            raise GatewayUnavailable(reason="bad-signature")
        state = state_from_json(json.loads(body))
        if state.payment_id != payment_id:
            raise GatewayUnavailable(reason="wrong-payment")
        return state

    def verify_callback(
        self, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> VerifiedCallback:
        nonce, sent_at = verify_signed(self.secret, body, headers, now)
        try:
            data = json.loads(body)
        except ValueError:
            raise CallbackRefused(reason="malformed") from None
        if not isinstance(data, dict):
            raise CallbackRefused(reason="malformed")
        return VerifiedCallback(state=state_from_json(data), nonce=nonce, sent_at=sent_at)
