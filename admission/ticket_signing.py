"""Signs and verifies the admission ticket QR payload (R38) with Ed25519, offline."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

# Payload layout, version 1 (every part is printable ASCII):
#
#   CT1/<ticket no>/<session>/<subject>/<room>/<seat>/<id digest>/<signature>
#
# "/" separates the parts because it belongs to the QR alphanumeric character set (as do
# digits, upper-case letters and base32), so a payload of upper-case codes is encoded at
# 5.5 bits per character instead of 8, and because a shell does not need it quoted.
# The signature covers every byte before the last "/" (prefix included), so a changed
# version, field or separator fails. Base32 (not base64) keeps the signature alphanumeric.
PAYLOAD_PREFIX = "CT1"
SEPARATOR = "/"
KEY_FILE_NAME = "ticket_signing_key.pem"
ID_DIGEST_BYTES = 8
_SIGNATURE_BYTES = 64
_FIELD_COUNT = 6  # ticket no, session, subject, room, seat, id digest
_TICKET_NO = re.compile(r"[0-9]{15}")
# A field may hold any printable character but the separator; no spaces at the ends,
# because phone scanners and copy-paste tend to trim them.
_FIELD = re.compile(r"[^\s/](?:[^/\x00-\x1f\x7f]*[^\s/])?")

REASON_BAD_FORMAT = "bad-format"
REASON_BAD_SIGNATURE = "bad-signature"
REASON_REVOKED = "revoked"


class TicketKeyError(RuntimeError):
    """The configured signing key cannot be used (unreadable, not Ed25519, missing)."""


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def _unb32(text: str) -> bytes:
    """Decodes unpadded base32, refusing any text that is not the canonical encoding."""
    padded = text + "=" * (-len(text) % 8)
    data = base64.b32decode(padded, casefold=False)
    # The last base32 character carries unused low bits; without this round trip two
    # different texts would decode to the same signature and a changed byte could pass.
    if _b32(data) != text:
        raise ValueError("non-canonical base32")
    return data


def normalize_id_number(id_number: str) -> str:
    """The ID number as it is hashed: no spaces, upper case (the check digit may be `x`)."""
    return "".join(id_number.split()).upper()


def id_number_digest(ticket_no: str, id_number: str) -> str:
    """The salted, truncated hash of an ID number that a ticket carries instead of the number.

    The salt is the ticket number itself (with a domain tag), so a checker holding the
    ticket and the candidate's ID card recomputes it as
    ``base32(SHA-256("CT1:" + ticket_no + ":" + ID number upper-cased, no spaces)[:8])``
    and compares; see `VerifyResult.matches_id_number`. Per-ticket salting stops one
    precomputed table from serving every ticket; it does not make an ID number secret
    (ID numbers have little entropy), it only keeps it off the printed code in clear.
    """
    material = f"{PAYLOAD_PREFIX}:{ticket_no}:{normalize_id_number(id_number)}"
    return _b32(hashlib.sha256(material.encode("utf-8")).digest()[:ID_DIGEST_BYTES])


@dataclass(frozen=True, slots=True)
class TicketClaims:
    """What the QR code vouches for; the ID number appears only as `id_digest`."""

    ticket_no: str
    session: str
    subject: str
    room: str
    seat: str
    id_digest: str

    @classmethod
    def for_candidate(
        cls,
        *,
        ticket_no: str,
        session: str,
        subject: str,
        room: str,
        seat: str | int,
        id_number: str,
    ) -> TicketClaims:
        """Builds the claims from the clear ID number, which is hashed here and dropped."""
        return cls(
            ticket_no=ticket_no,
            session=session,
            subject=subject,
            room=room,
            seat=str(seat),
            id_digest=id_number_digest(ticket_no, id_number),
        )

    def fields(self) -> tuple[str, ...]:
        return (self.ticket_no, self.session, self.subject, self.room, self.seat, self.id_digest)

    def check(self) -> None:
        """Raises ValueError when a field cannot be carried in the payload unambiguously."""
        if not _TICKET_NO.fullmatch(self.ticket_no):
            raise ValueError("ticket number must be 15 digits")
        for value in self.fields()[1:]:
            if not _FIELD.fullmatch(value):
                raise ValueError(f"field {value!r} is empty, padded or contains {SEPARATOR!r}")


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """Outcome of `verify_ticket`; `claims` is None unless the signature is genuine."""

    valid: bool
    reason: str | None
    claims: TicketClaims | None

    def matches_id_number(self, id_number: str) -> bool:
        """Whether the ID card in the checker's hand is the one the ticket was issued for."""
        if self.claims is None:
            return False
        return self.claims.id_digest == id_number_digest(self.claims.ticket_no, id_number)


def sign_ticket(key: Ed25519PrivateKey, claims: TicketClaims) -> str:
    """The QR payload text: the claims plus an Ed25519 signature over them."""
    claims.check()
    message = SEPARATOR.join((PAYLOAD_PREFIX, *claims.fields()))
    signature = key.sign(message.encode("utf-8"))
    return f"{message}{SEPARATOR}{_b32(signature)}"


def parse_ticket(text: str) -> tuple[TicketClaims, bytes, bytes] | None:
    """Splits a payload into claims, signed bytes and signature; None when malformed."""
    message, sep, signature_text = text.rpartition(SEPARATOR)
    if not sep:
        return None
    parts = message.split(SEPARATOR)
    if len(parts) != _FIELD_COUNT + 1 or parts[0] != PAYLOAD_PREFIX:
        return None
    try:
        signature = _unb32(signature_text)
    except (ValueError, binascii.Error):
        return None
    if len(signature) != _SIGNATURE_BYTES:
        return None
    claims = TicketClaims(*parts[1:])
    try:
        claims.check()
    except ValueError:
        return None
    return claims, message.encode("utf-8"), signature


def verify_ticket(
    text: str, public_key: Ed25519PublicKey, revoked: set[str] | frozenset[str] = frozenset()
) -> VerifyResult:
    """Checks a payload offline; `revoked` holds ticket numbers that are no longer good."""
    parsed = parse_ticket(text)
    if parsed is None:
        return VerifyResult(False, REASON_BAD_FORMAT, None)
    claims, message, signature = parsed
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return VerifyResult(False, REASON_BAD_SIGNATURE, None)
    if claims.ticket_no in revoked:
        return VerifyResult(False, REASON_REVOKED, claims)
    return VerifyResult(True, None, claims)


def _private_key_from_pem(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise TicketKeyError(
            f"ticket signing key is not a readable PEM private key: {exc}"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise TicketKeyError("ticket signing key must be an Ed25519 private key")
    return key


def _pem_of(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _configured_key(setting: str) -> Ed25519PrivateKey:
    text = setting.strip()
    if text.startswith("-----BEGIN"):
        # A PEM squeezed onto one line of an .env file often keeps "\n" as two characters.
        if "\n" not in text and "\\n" in text:
            text = text.replace("\\n", "\n")
        return _private_key_from_pem(text.encode("ascii"))
    path = Path(text).expanduser()
    try:
        return _private_key_from_pem(path.read_bytes())
    except OSError as exc:
        raise TicketKeyError(f"cannot read ticket signing key file {path}: {exc}") from exc


def _create_key_file(path: Path) -> Ed25519PrivateKey:
    """Writes a new key to `path` with mode 0600, or returns the key another process won with."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    # mkstemp creates the file 0600; linking it into place fails if the name already
    # exists, so two processes starting together end up sharing one complete key.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".ticket-key-")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(_pem_of(key))
            tmp.flush()
            os.fsync(tmp.fileno())
        try:
            os.link(tmp_name, path)
        except FileExistsError:
            return _private_key_from_pem(path.read_bytes())
        return key
    finally:
        os.unlink(tmp_name)


def load_or_create_signing_key(data_dir: Path, pem: str | None) -> Ed25519PrivateKey:
    """The ticket signing key: the TICKET_SIGNING_KEY setting (PEM text or a file path) if
    given, else `data_dir/ticket_signing_key.pem`, generated on first use and reused."""
    if pem and pem.strip():
        return _configured_key(pem)
    path = Path(data_dir) / KEY_FILE_NAME
    if path.exists():
        return _private_key_from_pem(path.read_bytes())
    return _create_key_file(path)


def load_public_key(data_dir: Path, pem: str | None) -> Ed25519PublicKey:
    """The verifying key for the configured signing key, without ever creating one."""
    if pem and pem.strip():
        return _configured_key(pem).public_key()
    path = Path(data_dir) / KEY_FILE_NAME
    if not path.exists():
        raise TicketKeyError(f"no ticket signing key at {path}; pass a public key file")
    return _private_key_from_pem(path.read_bytes()).public_key()


def export_public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public half as PEM text, to hand to checkers for offline verification."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_key_pem(pem: bytes | str) -> Ed25519PublicKey:
    """Reads a public key exported by `export_public_key_pem` (a private key PEM also works)."""
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    if b"PRIVATE KEY" in data:
        return _private_key_from_pem(data).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise TicketKeyError(f"not a readable PEM public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise TicketKeyError("ticket verifying key must be an Ed25519 public key")
    return key
