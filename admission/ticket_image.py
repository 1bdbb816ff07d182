"""The admission ticket as a picture (R38): the PDF's page drawn to a PNG sized for a phone.

For platforms that cannot send files (a WeChat service account sends images, not PDFs):
the page is drawn by PDFium (pypdfium2, in this process), the white margins cut off so the
text fills a phone's width, and scaled to `PHONE_WIDTH` pixels. WeChat's temporary media
accept images of a few MB (the documentation names 2 MB for `image`, older pages 1 MB):
the PNG stays under `MAX_IMAGE_BYTES`, falling back to a 256-colour palette and then to a
smaller width, never below what a phone camera at the exam hall still scans.
"""

from __future__ import annotations

import io
import threading
from typing import Final

import pypdfium2
from PIL import Image

# 1080 px is the width of most phone screens (CSS 360-430 px at 2.5-3x): the image is
# shown at full width without being scaled up, and the QR code gets about 240 px.
PHONE_WIDTH: Final = 1080
# Under every limit WeChat has documented for `image` media (1 MB, 2 MB, 10 MB).
MAX_IMAGE_BYTES: Final = 1_000_000
# Below this width the QR code (version 7 for a signed payload: 45 modules a side, plus
# the quiet zone) gets fewer than 3 pixels a module.
MIN_WIDTH: Final = 720
# Paper kept around the content once the page's margins are cut, in PDF points (~3 mm).
BORDER_PT: Final = 8.0
# The preview that finds the content is drawn this many pixels per point.
_PREVIEW_SCALE: Final = 0.5
# Lighter than this counts as paper when finding the content (grey label cells are ~242).
_PAPER: Final = 250

# PDFium is not thread-safe: one page at a time per process (callers use to_thread).
_PDFIUM_LOCK = threading.Lock()


class TicketImageError(ValueError):
    """The bytes are not a PDF PDFium can draw, or the page cannot fit the size limit."""


def _content_box(page: pypdfium2.PdfPage) -> tuple[float, float, float, float]:
    """The content's box (left, top, right, bottom, in points from the top left corner)
    with `BORDER_PT` of paper around it; found on a coarse preview of the page."""
    preview = page.render(scale=_PREVIEW_SCALE)
    try:
        grey = preview.to_pil().convert("L")
    finally:
        preview.close()
    box = grey.point(lambda v: 255 if v < _PAPER else 0).getbbox()
    if box is None:
        raise TicketImageError("the page is blank")
    width, height = page.get_size()
    left, top, right, bottom = (v / _PREVIEW_SCALE for v in box)
    # One preview pixel of slack on each side, so anti-aliased edges are not clipped.
    slack = 1 / _PREVIEW_SCALE + BORDER_PT
    return (
        max(0.0, left - slack),
        max(0.0, top - slack),
        min(width, right + slack),
        min(height, bottom + slack),
    )


def _draw(pdf: bytes, width: int) -> Image.Image:
    """The first page's content, `width` pixels wide."""
    with _PDFIUM_LOCK:
        try:
            doc = pypdfium2.PdfDocument(pdf)
        except pypdfium2.PdfiumError as bad:
            raise TicketImageError(f"not a drawable PDF: {bad}") from None
        try:
            if len(doc) < 1:
                raise TicketImageError("the PDF has no page")
            page = doc[0]
            try:
                left, top, right, bottom = _content_box(page)
                scale = width / (right - left)
                bitmap = page.render(scale=scale)
                try:
                    drawn = bitmap.to_pil().convert("RGB")
                finally:
                    bitmap.close()
            finally:
                page.close()
        finally:
            doc.close()
    x, y = round(left * scale), round(top * scale)
    x = min(x, drawn.width - width)  # rounding must not leave a column short
    return drawn.crop((x, y, x + width, min(drawn.height, round(bottom * scale))))


def _png(image: Image.Image, *, palette: bool) -> bytes:
    out = io.BytesIO()
    if palette:
        image = image.quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    image.save(out, "PNG", compress_level=9 if palette else 6)
    return out.getvalue()


def ticket_png(pdf: bytes, *, width: int = PHONE_WIDTH, max_bytes: int = MAX_IMAGE_BYTES) -> bytes:
    """The ticket's first page as a PNG `width` pixels wide (margins cut off), at most
    `max_bytes` long. Synchronous and CPU-bound (about 0.1 s): call it in a thread.

    Raises TicketImageError for bytes that are not a PDF, a blank page, or a page that
    does not fit `max_bytes` even as a palette image `MIN_WIDTH` pixels wide.
    """
    if width < MIN_WIDTH:
        raise ValueError(f"width {width} is below {MIN_WIDTH} px: the QR code would not scan")
    full = _draw(pdf, width)
    for palette in (False, True):
        data = _png(full, palette=palette)
        if len(data) <= max_bytes:
            return data
    if width > MIN_WIDTH:
        small = _draw(pdf, MIN_WIDTH)
        data = _png(small, palette=True)
        if len(data) <= max_bytes:
            return data
    raise TicketImageError(f"the page does not fit in {max_bytes} bytes")
