"""R38: the ticket QR payload is signed, compact, and any change to it is caught offline."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import string
from pathlib import Path

import pytest
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from admission.ticket_signing import (
    KEY_FILE_NAME,
    REASON_BAD_FORMAT,
    REASON_BAD_SIGNATURE,
    REASON_REVOKED,
    TicketClaims,
    TicketKeyError,
    export_public_key_pem,
    id_number_digest,
    load_or_create_signing_key,
    load_public_key,
    load_public_key_pem,
    sign_ticket,
    verify_ticket,
)

from .conftest import ID_NUMBER, TICKET_NO

_ALPHABET = string.ascii_uppercase + string.digits + "/-"


def _changed(text: str, pos: int) -> str:
    """`text` with the character at `pos` replaced by a different one."""
    old = text[pos]
    new = next(ch for ch in _ALPHABET if ch != old)
    return text[:pos] + new + text[pos + 1 :]


def test_r38_signed_payload_verifies_and_returns_the_fields(
    signing_key: Ed25519PrivateKey, payload: str, claims: TicketClaims
) -> None:
    result = verify_ticket(payload, signing_key.public_key())
    assert result.valid and result.reason is None
    assert result.claims == claims
    assert payload.startswith(f"CT1/{TICKET_NO}/2026-12/CET4/A-301/27/")


def test_r38_every_single_changed_character_fails(
    signing_key: Ed25519PrivateKey, payload: str
) -> None:
    public = signing_key.public_key()
    for pos in range(len(payload)):
        result = verify_ticket(_changed(payload, pos), public)
        assert not result.valid, f"change at {pos} passed"
        assert result.reason in {REASON_BAD_FORMAT, REASON_BAD_SIGNATURE}
        assert result.claims is None


def test_r38_changed_bytes_of_the_utf8_text_fail(
    signing_key: Ed25519PrivateKey, payload: str
) -> None:
    public = signing_key.public_key()
    raw = payload.encode()
    for pos in range(0, len(raw), 7):
        flipped = bytearray(raw)
        flipped[pos] ^= 0x01
        text = flipped.decode("utf-8", errors="replace")
        assert not verify_ticket(text, public).valid


def test_r38_last_signature_character_cannot_hide_a_change(
    signing_key: Ed25519PrivateKey, payload: str
) -> None:
    # 64 bytes of base32 leave 3 unused bits in the last character; those must not pass.
    public = signing_key.public_key()
    for ch in string.ascii_uppercase + "234567":
        if ch != payload[-1]:
            assert not verify_ticket(payload[:-1] + ch, public).valid


def test_r38_other_key_fails(payload: str) -> None:
    result = verify_ticket(payload, Ed25519PrivateKey.generate().public_key())
    assert (result.valid, result.reason) == (False, REASON_BAD_SIGNATURE)


def test_r38_revoked_ticket_fails_with_its_fields(
    signing_key: Ed25519PrivateKey, payload: str
) -> None:
    result = verify_ticket(payload, signing_key.public_key(), revoked={TICKET_NO})
    assert (result.valid, result.reason) == (False, REASON_REVOKED)
    assert result.claims is not None and result.claims.ticket_no == TICKET_NO
    other = verify_ticket(payload, signing_key.public_key(), revoked={"999999999999999"})
    assert other.valid


@pytest.mark.parametrize(
    "text",
    ["", "hello", "CT1", "CT2/1/2/3/4/5/6/AAAA", "CT1/110105261200127/a/b/c/d/e", "CT1//////////"],
)
def test_r38_malformed_text_is_bad_format(signing_key: Ed25519PrivateKey, text: str) -> None:
    result = verify_ticket(text, signing_key.public_key())
    assert (result.valid, result.reason) == (False, REASON_BAD_FORMAT)


def test_r38_extra_or_missing_field_is_bad_format(
    signing_key: Ed25519PrivateKey, payload: str
) -> None:
    public = signing_key.public_key()
    head, _, sig = payload.rpartition("/")
    assert verify_ticket(f"{head}/X/{sig}", public).reason == REASON_BAD_FORMAT
    assert verify_ticket(head.rsplit("/", 1)[0] + "/" + sig, public).reason == REASON_BAD_FORMAT


def test_r38_claims_refuse_ambiguous_fields(signing_key: Ed25519PrivateKey) -> None:
    good = dict(ticket_no=TICKET_NO, session="2026-12", subject="CET4", room="A1", seat="1")
    for bad in ({"ticket_no": "12345"}, {"room": "A/1"}, {"seat": ""}, {"subject": " CET4"}):
        claims = TicketClaims.for_candidate(**{**good, **bad}, id_number=ID_NUMBER)
        with pytest.raises(ValueError):
            sign_ticket(signing_key, claims)


def test_r38_id_digest_is_recomputed_from_the_id_card(
    signing_key: Ed25519PrivateKey, payload: str
) -> None:
    result = verify_ticket(payload, signing_key.public_key())
    assert result.matches_id_number(ID_NUMBER)
    # Lower-case check digit and spaces, as typed from a card, still match.
    assert result.matches_id_number("110105 20040307 123x")
    assert not result.matches_id_number("110105200403071231")
    # The documented recipe, spelled out independently of the module.
    material = f"CT1:{TICKET_NO}:{ID_NUMBER}".encode()
    expected = base64.b32encode(hashlib.sha256(material).digest()[:8]).decode().rstrip("=")
    assert id_number_digest(TICKET_NO, ID_NUMBER) == expected
    assert ID_NUMBER not in payload
    # The salt is per ticket: the same person on another ticket gets another digest.
    assert id_number_digest("110105261200128", ID_NUMBER) != expected


def test_r38_qr_stays_small(payload: str, signing_key: Ed25519PrivateKey) -> None:
    qr = segno.make_qr(payload, error="m")
    assert qr.version <= 7 and qr.mode == "alphanumeric"
    # A room written in Chinese falls back to byte mode and still fits version 10.
    claims = TicketClaims.for_candidate(
        ticket_no=TICKET_NO,
        session="2026年12月",
        subject="CET-SET4",
        room="第三教学楼A-301",
        seat="127",
        id_number=ID_NUMBER,
    )
    assert segno.make_qr(sign_ticket(signing_key, claims), error="m").version <= 10


def test_r38_key_is_generated_once_with_0600_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = load_or_create_signing_key(data_dir, None)
    key_file = data_dir / KEY_FILE_NAME
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    pem_before = key_file.read_bytes()
    second = load_or_create_signing_key(data_dir, None)
    assert export_public_key_pem(first) == export_public_key_pem(second)
    assert key_file.read_bytes() == pem_before
    assert [p.name for p in data_dir.iterdir()] == [KEY_FILE_NAME]  # no temp file left
    assert export_public_key_pem(load_public_key(data_dir, None)) == export_public_key_pem(first)


def test_r38_configured_key_as_pem_text_or_path(tmp_path: Path) -> None:
    generated = load_or_create_signing_key(tmp_path, None)
    pem = (tmp_path / KEY_FILE_NAME).read_text()
    other_dir = tmp_path / "other"
    for setting in (pem, pem.replace("\n", "\\n"), str(tmp_path / KEY_FILE_NAME)):
        key = load_or_create_signing_key(other_dir, setting)
        assert export_public_key_pem(key) == export_public_key_pem(generated)
    assert not other_dir.exists()  # a configured key never writes a file


def test_r38_bad_configured_key_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TicketKeyError):
        load_or_create_signing_key(tmp_path, "-----BEGIN PRIVATE KEY-----\nxx\n-----END")
    with pytest.raises(TicketKeyError):
        load_or_create_signing_key(tmp_path, str(tmp_path / "missing.pem"))
    with pytest.raises(TicketKeyError):
        load_public_key(tmp_path / "empty", None)
    assert not (tmp_path / "empty").exists()


def test_r38_public_key_pem_round_trip(signing_key: Ed25519PrivateKey, payload: str) -> None:
    pem = export_public_key_pem(signing_key)
    assert "PRIVATE" not in pem
    assert verify_ticket(payload, load_public_key_pem(pem)).valid
