"""`cetbot ticket ...`: checks an admission ticket's QR code offline, from text or a picture."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from admission.ticket_signing import (
    PAYLOAD_PREFIX,
    TicketKeyError,
    VerifyResult,
    load_public_key,
    load_public_key_pem,
    verify_ticket,
)
from foundation.i18n import pick_locale, t

ticket_app = typer.Typer(no_args_is_help=True)


@ticket_app.callback()
def ticket() -> None:
    """Admission tickets (R38)."""
    # A callback keeps `verify` a subcommand even while it is the only one.


# Reason codes of our own, next to those of verify_ticket; printed as `invalid: <code>`.
REASON_NO_QR_CODE = "no-qr-code"
REASON_ID_MISMATCH = "id-mismatch"


def _locale() -> str:
    # Operators read the error lines in their shell's language (LANG=zh_CN.UTF-8 -> zh).
    return pick_locale(os.environ.get("LC_ALL") or os.environ.get("LANG"))


def _fail(key: str, **args: str) -> typer.Exit:
    typer.echo(t(_locale(), key, args), err=True)
    return typer.Exit(2)


def read_qr_texts(image: Path) -> list[str]:
    """Every QR code text found in a photo or screenshot, ticket payloads first."""
    import zxingcpp  # imported here: only --image needs the native decoder
    from PIL import Image

    with Image.open(image) as img:
        img.load()
        barcodes = zxingcpp.read_barcodes(
            img, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
        )
    texts = [b.text for b in barcodes if b.valid and b.text]
    # A phone picture may also catch another code (a poster, a payment code): prefer ours.
    return sorted(texts, key=lambda s: not s.startswith(PAYLOAD_PREFIX + "/"))


def read_revoked(path: Path) -> frozenset[str]:
    """Revoked ticket numbers, one a line; blank lines and `#` comments are skipped."""
    numbers = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            numbers.add(entry)
    return frozenset(numbers)


def _print_result(result: VerifyResult, reason: str | None) -> None:
    typer.echo("valid" if reason is None else f"invalid: {reason}")
    if result.claims is not None:
        for name in ("ticket_no", "session", "subject", "room", "seat", "id_digest"):
            typer.echo(f"{name}: {getattr(result.claims, name)}")


@ticket_app.command()
def verify(
    text: Annotated[str | None, typer.Argument()] = None,
    image: Annotated[Path | None, typer.Option(exists=True, dir_okay=False)] = None,
    public_key: Annotated[Path | None, typer.Option(exists=True, dir_okay=False)] = None,
    revoked: Annotated[Path | None, typer.Option(exists=True, dir_okay=False)] = None,
    id_number: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Verify an admission ticket QR payload offline; exit code 0 when valid, 1 when not.

    TEXT is the QR code text, or --image a photo or screenshot of it.

    --public-key: a PEM file; default: the key in the data folder.

    --revoked: a file of revoked ticket numbers, one a line.

    --id-number: the ID card in hand, compared with the ticket's digest.
    """
    if (text is None) == (image is None):
        raise _fail("ticket-cli-no-text")
    if public_key is not None:
        try:
            key = load_public_key_pem(public_key.read_bytes())
        except TicketKeyError as exc:
            raise _fail("ticket-cli-bad-key", error=str(exc)) from exc
    else:
        from foundation.settings import Settings

        settings = Settings()
        secret = settings.ticket_signing_key
        try:
            key = load_public_key(
                settings.data_dir, secret.get_secret_value() if secret is not None else None
            )
        except TicketKeyError as exc:
            raise _fail("ticket-cli-no-key") from exc
    revoked_numbers = read_revoked(revoked) if revoked is not None else frozenset()

    if image is not None:
        try:
            texts = read_qr_texts(image)
        except OSError as exc:
            raise _fail("ticket-cli-bad-image", error=str(exc)) from exc
        if not texts:
            typer.echo(f"invalid: {REASON_NO_QR_CODE}")
            raise typer.Exit(1)
        text = texts[0]
    assert text is not None  # one of text and image was given, checked above

    result = verify_ticket(text.strip(), key, revoked_numbers)
    reason = result.reason
    if result.valid and id_number is not None and not result.matches_id_number(id_number):
        reason = REASON_ID_MISMATCH
    _print_result(result, reason)
    raise typer.Exit(0 if reason is None else 1)
