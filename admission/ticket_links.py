"""Short-lived signed links to an admission ticket's PDF (R38), for platforms that send
no files (a WeChat service account gets the ticket as a picture plus this link).

A link names one stored ticket PDF (entry id and locale) and the instant it stops
working, with an HMAC-SHA256 tag over both::

    {PUBLIC_URL}/tickets/{entry_id}.{locale}.{expires, unix seconds}.{tag}.pdf

The key is derived (HKDF-SHA256, its own label) from the ticket signing key
(`TICKET_SIGNING_KEY`, or the key generated into `DATA_DIR`): a secret every bot and
worker process of a deployment already shares, that never leaves it (unlike the
payment secret, which the gateway knows too), and with no default. Nothing else is
signed with the derived key, and the Ed25519 signatures of the QR codes never see it.

The tag is checked before anything else is looked at: a forged or altered link is
refused as forged (403) even when it also names a past instant; only an authentic
link can be "expired" (410).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from foundation.i18n import LOCALES

# Long enough to open on a slow phone connection, short enough that a forwarded link
# soon stops showing a stranger the ticket.
LINK_LIFETIME: Final = timedelta(minutes=30)
ROUTE_PREFIX: Final = "/tickets/"
SUFFIX: Final = ".pdf"
_TAG_BYTES: Final = 16  # 128 bits: as strong as the key's use needs, and a short URL
_KEY_LABEL: Final = b"cetbot ticket link v1"
_TAG_CONTEXT: Final = b"ticket-link\x00"
_TOKEN: Final = re.compile(
    r"(?P<entry>[1-9][0-9]{0,17})\.(?P<locale>[a-z]{2})\.(?P<expires>[1-9][0-9]{0,11})"
    r"\.(?P<tag>[A-Za-z0-9_-]{22})"
)


class LinkRefused(Exception):
    """A link that must not open: `reason` is "forged" (bad form, unknown locale or a
    tag that does not match) or "expired" (authentic, but its time has passed)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MissingPublicUrl(RuntimeError):
    """PUBLIC_URL is not set: a link would have no address to point at."""


@dataclass(frozen=True, slots=True)
class TicketLink:
    """What an authentic link names."""

    entry_id: int
    locale: str
    expires_at: datetime


def link_key(signing_key: Ed25519PrivateKey) -> bytes:
    """The links' HMAC key, derived from the ticket signing key (see the module docs)."""
    seed = signing_key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_LABEL).derive(seed)


def _tag(key: bytes, body: str) -> str:
    digest = hmac.new(key, _TAG_CONTEXT + body.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:_TAG_BYTES]).rstrip(b"=").decode("ascii")


def make_token(key: bytes, *, entry_id: int, locale: str, expires_at: datetime) -> str:
    """The signed name of one ticket PDF, valid until `expires_at` (whole seconds)."""
    if entry_id <= 0 or locale not in LOCALES:
        raise ValueError("a link names a stored ticket: a positive entry id and a locale")
    body = f"{entry_id}.{locale}.{int(expires_at.timestamp())}"
    return f"{body}.{_tag(key, body)}"


def read_token(key: bytes, token: str, now: datetime) -> TicketLink:
    """What `token` names, if it was made with `key` and has not expired at `now`;
    raises LinkRefused otherwise (see the module docs for the order of the checks)."""
    found = _TOKEN.fullmatch(token)
    if found is None:
        raise LinkRefused("forged")
    body = token[: found.start("tag") - 1]
    if not hmac.compare_digest(_tag(key, body), found["tag"]):
        raise LinkRefused("forged")
    if found["locale"] not in LOCALES:  # pragma: no cover - only ever signed for a locale
        raise LinkRefused("forged")
    expires_at = datetime.fromtimestamp(int(found["expires"]), UTC)
    if now >= expires_at:
        raise LinkRefused("expired")
    return TicketLink(int(found["entry"]), found["locale"], expires_at)


def token_of_path(name: str) -> str:
    """The token in the last part of a link's path (`<token>.pdf`); "" when it has none."""
    return name[: -len(SUFFIX)] if name.endswith(SUFFIX) else ""


def link_url(public_url: str | None, token: str) -> str:
    """The address a candidate opens: under `public_url` (PUBLIC_URL), the bot's own
    web server."""
    if not public_url or not urlsplit(public_url).hostname:
        raise MissingPublicUrl()
    return f"{public_url.rstrip('/')}{ROUTE_PREFIX}{token}{SUFFIX}"


def ticket_link(
    signing_key: Ed25519PrivateKey,
    public_url: str | None,
    now: datetime,
    *,
    entry_id: int,
    locale: str,
    lifetime: timedelta = LINK_LIFETIME,
) -> str:
    """A link to the stored PDF of `entry_id` in `locale`, working for `lifetime` from `now`."""
    token = make_token(
        link_key(signing_key), entry_id=entry_id, locale=locale, expires_at=now + lifetime
    )
    return link_url(public_url, token)
