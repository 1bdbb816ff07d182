"""R38: the admission ticket as a phone-sized PNG (for platforms without file messages):
the page's content fills the width, the size stays under WeChat's image limit, and the
QR code on the picture still scans back to the signed payload."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from reportlab.pdfgen.canvas import Canvas

from admission.ticket_image import (
    MAX_IMAGE_BYTES,
    MIN_WIDTH,
    PHONE_WIDTH,
    TicketImageError,
    ticket_png,
)
from admission.ticket_signing import verify_ticket

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PHOTO_BLUE = (70, 120, 200)  # the background of conftest.make_photo


def _open(data: bytes) -> Image.Image:
    assert data.startswith(PNG_SIGNATURE)
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def _qr_texts(img: Image.Image) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)]


def _ink_share(img: Image.Image) -> float:
    grey = img.convert("L")
    dark = sum(grey.histogram()[:128])
    return dark / (grey.width * grey.height)


@pytest.fixture(scope="module")
def pngs(pdfs: dict[str, bytes]) -> dict[str, bytes]:
    return {loc: ticket_png(pdf) for loc, pdf in pdfs.items()}


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_r38_ticket_picture_is_phone_wide_portrait_and_under_the_limit(
    pngs: dict[str, bytes], locale: str
) -> None:
    data = pngs[locale]
    img = _open(data)
    assert img.format == "PNG"
    assert img.width == PHONE_WIDTH
    # An A4 page without its margins: taller than wide, about 1.4-1.6 times.
    assert 1.3 < img.height / img.width < 1.7
    assert len(data) <= MAX_IMAGE_BYTES


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_r38_ticket_picture_shows_the_page_not_a_blank(pngs: dict[str, bytes], locale: str) -> None:
    img = _open(pngs[locale]).convert("RGB")
    share = _ink_share(img)
    assert 0.03 < share < 0.4, share  # text, grid and QR; not empty, not a black box
    # The photo came through in colour (top right of the content).
    w, h = img.size
    box = img.crop((int(w * 0.8), int(h * 0.12), int(w * 0.9), int(h * 0.16)))
    # JPEG in the PDF shifts colours a little: the box's median is near the photo's blue.
    bands = [sorted(band.get_flattened_data()) for band in box.split()]
    median = tuple(band[len(band) // 2] for band in bands)
    assert all(abs(a - b) <= 16 for a, b in zip(median, PHOTO_BLUE, strict=True)), median


def test_r38_ticket_picture_cuts_the_paper_margins(pngs: dict[str, bytes]) -> None:
    # The table's outer lines sit within a few pixels of both edges (the PDF has 18 mm of
    # paper on each side: drawn whole, they would start about 100 px in).
    grey = _open(pngs["zh"]).convert("L")
    w, h = grey.size
    row = [grey.getpixel((x, int(h * 0.3))) for x in range(w)]
    dark = [x for x, v in enumerate(row) if v < 160]
    assert dark[0] < 40, dark[0]
    assert dark[-1] > w - 40, dark[-1]


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_r38_qr_on_the_ticket_picture_scans_and_verifies(
    pngs: dict[str, bytes], locale: str, payload: str, signing_key: Ed25519PrivateKey
) -> None:
    texts = _qr_texts(_open(pngs[locale]))
    assert texts == [payload]
    assert verify_ticket(texts[0], signing_key.public_key()).valid


def test_a_tight_limit_falls_back_to_a_palette_and_still_scans(
    pdfs: dict[str, bytes], payload: str
) -> None:
    full = ticket_png(pdfs["zh"])
    tight = len(full) // 2
    data = ticket_png(pdfs["zh"], max_bytes=tight)
    assert len(data) <= tight
    img = _open(data)
    assert img.mode == "P"
    assert _qr_texts(img) == [payload]


def test_the_smallest_width_still_scans(pdfs: dict[str, bytes], payload: str) -> None:
    img = _open(ticket_png(pdfs["zh"], width=MIN_WIDTH))
    assert img.width == MIN_WIDTH
    assert _qr_texts(img) == [payload]


def test_a_limit_no_picture_fits_is_refused(pdfs: dict[str, bytes]) -> None:
    with pytest.raises(TicketImageError):
        ticket_png(pdfs["zh"], max_bytes=10_000)


def test_too_narrow_for_the_qr_code_is_refused(pdfs: dict[str, bytes]) -> None:
    with pytest.raises(ValueError):
        ticket_png(pdfs["zh"], width=MIN_WIDTH - 1)


def test_bytes_that_are_not_a_pdf_are_refused() -> None:
    with pytest.raises(TicketImageError):
        ticket_png(b"%PDF-1.4 this is not really a PDF")


def test_a_blank_page_is_refused() -> None:
    out = io.BytesIO()
    canvas = Canvas(out)
    canvas.showPage()
    canvas.save()
    with pytest.raises(TicketImageError):
        ticket_png(out.getvalue())
