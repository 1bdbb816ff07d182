"""`cetbot ticket verify`: valid / invalid with reasons and exit codes, from text or a picture."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from typer.testing import CliRunner

from admission.ticket_signing import export_public_key_pem, load_or_create_signing_key
from cetbot.ticket_cli import ticket_app

from .conftest import ID_NUMBER, TICKET_NO

runner = CliRunner()


@pytest.fixture
def public_key_file(signing_key: Ed25519PrivateKey, tmp_path: Path) -> Path:
    path = tmp_path / "ticket-public.pem"
    path.write_text(export_public_key_pem(signing_key))
    return path


def _verify(*args: str | Path) -> tuple[int, list[str]]:
    result = runner.invoke(ticket_app, ["verify", *map(str, args)])
    return result.exit_code, result.output.splitlines()


def test_r38_cli_valid_payload(payload: str, public_key_file: Path) -> None:
    code, lines = _verify(payload, "--public-key", public_key_file)
    assert code == 0
    assert lines[0] == "valid"
    assert f"ticket_no: {TICKET_NO}" in lines and "room: A-301" in lines and "seat: 27" in lines


def test_r38_cli_changed_payload_is_invalid(payload: str, public_key_file: Path) -> None:
    forged = payload.replace("/27/", "/28/")
    code, lines = _verify(forged, "--public-key", public_key_file)
    assert (code, lines) == (1, ["invalid: bad-signature"])
    assert _verify("garbage", "--public-key", public_key_file) == (1, ["invalid: bad-format"])


def test_r38_cli_revoked_file(payload: str, public_key_file: Path, tmp_path: Path) -> None:
    revoked = tmp_path / "revoked.txt"
    revoked.write_text(f"# lost tickets\n\n{TICKET_NO}  # reported 2026-12-01\n")
    code, lines = _verify(payload, "--public-key", public_key_file, "--revoked", revoked)
    assert code == 1 and lines[0] == "invalid: revoked"


def test_r38_cli_id_card_check(payload: str, public_key_file: Path) -> None:
    code, _ = _verify(payload, "--public-key", public_key_file, "--id-number", ID_NUMBER)
    assert code == 0
    code, lines = _verify(
        payload, "--public-key", public_key_file, "--id-number", "110105200403071231"
    )
    assert code == 1 and lines[0] == "invalid: id-mismatch"


def test_r38_cli_reads_the_qr_from_a_picture(
    page_pngs: dict, public_key_file: Path, tmp_path: Path
) -> None:
    # A phone-like picture: the printed page, shrunk and saved as JPEG.
    with Image.open(page_pngs["zh"]) as page:
        photo = tmp_path / "phone.jpg"
        page.convert("RGB").resize((page.width * 2 // 3, page.height * 2 // 3)).save(photo)
    code, lines = _verify("--image", photo, "--public-key", public_key_file)
    assert code == 0 and lines[0] == "valid"

    blank = tmp_path / "blank.png"
    Image.new("RGB", (200, 200), "white").save(blank)
    assert _verify("--image", blank, "--public-key", public_key_file) == (
        1,
        ["invalid: no-qr-code"],
    )


def test_r38_cli_uses_the_key_in_the_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from admission.ticket_signing import TicketClaims, sign_ticket

    monkeypatch.chdir(tmp_path)  # no stray .env is read
    monkeypatch.delenv("TICKET_SIGNING_KEY", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    code, _ = _verify("CT1/x")
    assert code == 2  # no key yet: told to pass --public-key, and no key is made
    assert not (tmp_path / "data").exists()

    key = load_or_create_signing_key(tmp_path / "data", None)
    claims = TicketClaims.for_candidate(
        ticket_no=TICKET_NO, session="S", subject="CET6", room="B2", seat="9", id_number=ID_NUMBER
    )
    code, lines = _verify(sign_ticket(key, claims))
    assert code == 0 and lines[0] == "valid"


def test_r38_cli_needs_text_or_image(public_key_file: Path) -> None:
    code, _ = _verify("--public-key", public_key_file)
    assert code == 2
