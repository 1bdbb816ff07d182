"""Draws the admission ticket PDF (R38) with reportlab: one A4 page, CJK font subset."""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import segno
from PIL import Image, UnidentifiedImageError
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from foundation.i18n import t

log = logging.getLogger(__name__)

FONT_NAME = "CetTicketCJK"
# reportlab reads only TrueType outlines, so the CFF-based Noto/Source Han OTFs do not
# qualify; WenQuanYi Micro Hei (Debian `fonts-wqy-microhei`) is the one we ship for.
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc"),
    Path("/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc"),
)
# Characters the font must have, checked once so a wrong font fails loudly instead of
# printing empty boxes: the first character of the zh title and of the rules heading.
_PROBE_CHARS = "\u51c6\u8003\u987b\u77e5"
MAX_PHOTO_BYTES = 20_000
_PHOTO_PIXELS = (270, 360)  # 3:4, about 200 dpi in the 34 x 45 mm box: enough for print
_PHOTO_QUALITIES = (80, 65, 50)
_MAX_VALUE_LINES = 3

PAGE_W, PAGE_H = A4
MARGIN = 18 * mm
CONTENT_W = PAGE_W - 2 * MARGIN
LABEL_W = 27 * mm
PHOTO_COL_W = 40 * mm
PHOTO_W, PHOTO_H = 34 * mm, 45.3 * mm
UPPER_ROW_H = 10.4 * mm
ROW_H = 10 * mm
QR_SIZE = 42 * mm
QR_COL_W = 54 * mm
LABEL_SIZE = 10.5
VALUE_SIZE = 12
# Rule text sizes tried largest first; the first whose rules fit above the footer is used.
RULE_SIZES = (11.5, 11.0, 10.5, 10.0, 9.5, 9.0, 8.5, 8.0, 7.5)
RULE_GAP = 2.5
INK = (0.1, 0.1, 0.1)
LABEL_INK = (0.3, 0.3, 0.3)
GRID_INK = (0.45, 0.45, 0.45)
LABEL_FILL = (0.95, 0.95, 0.95)


class TicketFontMissing(RuntimeError):
    """No CJK TrueType font is installed, so a ticket would print as empty boxes."""


@dataclass(frozen=True, slots=True)
class TicketView:
    """Everything printed on one ticket, already looked up; texts in the ticket's locale.

    `gender` is a code (`M`/`F`, `male`/`female`, or GB/T 2261 `1`/`2`); `id_type_key` is a
    Fluent key; `id_number` is the clear number, masked when drawn; `subject_names` are in
    the locale the ticket is rendered in; exam times are aware and shown in `timezone`.
    """

    name: str
    gender: str
    id_type_key: str
    id_number: str = field(repr=False)
    subject_names: tuple[str, ...]
    exam_start: datetime
    exam_end: datetime
    campus_name: str
    campus_address: str
    room: str
    seat: str
    ticket_no: str
    session_name: str
    qr_payload: str
    photo: bytes | None = field(default=None, repr=False)
    timezone: str = "Asia/Shanghai"


def mask_id_number(id_number: str) -> str:
    """Hides the middle of an ID number: first 6 and last 4 stay for 15+ characters
    (`110105********1234`), first 2 and last 2 for shorter documents such as passports."""
    number = "".join(id_number.split())
    if len(number) >= 15:
        keep_head, keep_tail = 6, 4
    elif len(number) >= 6:
        keep_head, keep_tail = 2, 2
    else:
        return "*" * len(number)
    hidden = len(number) - keep_head - keep_tail
    return number[:keep_head] + "*" * hidden + number[-keep_tail:]


_GENDER_KEYS = {
    "m": "ticket-gender-male",
    "male": "ticket-gender-male",
    "1": "ticket-gender-male",
    "f": "ticket-gender-female",
    "female": "ticket-gender-female",
    "2": "ticket-gender-female",
}


def _font_has_probe(path: Path) -> bool:
    try:
        face = TTFont("probe", str(path), subfontIndex=0).face
    except Exception:  # any parse failure just disqualifies this file
        return False
    return all(ord(ch) in face.charToGlyph for ch in _PROBE_CHARS)


def _fc_match_candidates() -> list[Path]:
    if shutil.which("fc-match") is None:
        return []
    found: list[Path] = []
    for pattern in ("WenQuanYi Micro Hei", ":lang=zh-cn:fontformat=TrueType"):
        try:
            out = subprocess.run(
                ["fc-match", "-f", "%{file}", pattern],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            continue
        if out:
            found.append(Path(out))
    return found


def find_cjk_font(extra_candidates: Iterable[Path] = ()) -> Path:
    """The path of a TrueType CJK font: known locations first, then fontconfig."""
    seen: set[Path] = set()
    for path in (*extra_candidates, *FONT_CANDIDATES, *_fc_match_candidates()):
        if path in seen:
            continue
        seen.add(path)
        # fc-match always answers with *some* font, so every hit is checked for CJK glyphs.
        if path.is_file() and path.suffix.lower() in {".ttf", ".ttc"} and _font_has_probe(path):
            return path
    raise TicketFontMissing(
        "no CJK TrueType font found for admission tickets; install Debian's "
        "fonts-wqy-microhei (make system-deps) or put wqy-microhei.ttc in one of: "
        + ", ".join(str(p) for p in FONT_CANDIDATES)
    )


@cache
def register_font() -> str:
    """Registers the CJK font with reportlab once per process; returns its name."""
    path = find_cjk_font()
    # reportlab embeds only the glyphs a document uses (a subset), so the 5 MB font file
    # costs a few kilobytes per ticket.
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=0))
    # reportlab wraps binary streams (the photo, page contents) in ASCII85 by default,
    # which makes them a quarter larger and costs time; every PDF reader takes binary.
    rl_config.useA85 = 0
    return FONT_NAME


def _width(text: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, FONT_NAME, size)


# Latin words (with the spaces after them) stay whole; anything else breaks per character,
# which is how Chinese is set.
_TOKENS = re.compile(r"[0-9A-Za-z\u00c0-\u024f'\u2019.,;:!?()\[\]/+*#@&%\-]+ *| +|.", re.S)
# Closing punctuation may not start a line (kinsoku); written as escapes to keep
# Chinese characters out of Python sources.
_NO_LINE_START = set(",.;:!?)]\u3001\u3002\uff0c\uff1b\uff1a\uff01\uff1f\uff09\u300b\u201d")


def wrap_text(text: str, size: float, width: float, max_lines: int | None = None) -> list[str]:
    """Breaks `text` into lines no wider than `width` (Chinese per character, Latin per
    word); with `max_lines`, the last kept line ends in an ellipsis."""
    lines: list[str] = []
    line = ""
    for token in _TOKENS.findall(text):
        if _width(line + token.rstrip(" "), size) <= width:
            line += token
            continue
        if line and token[0] in _NO_LINE_START:
            # A slight overhang reads better than a comma at the start of a line.
            line += token
            continue
        if line.strip():
            lines.append(line.rstrip(" "))
        line = token.lstrip(" ")
        while _width(line.rstrip(" "), size) > width and len(line) > 1:
            cut = len(line) - 1
            while cut > 1 and _width(line[:cut], size) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip(" "))
    if max_lines is not None and len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and _width(last + "\u2026", size) > width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last + "\u2026"]
    return lines or [""]


@dataclass(frozen=True, slots=True)
class _RuleLayout:
    """The rules for candidates wrapped at one font size."""

    size: float
    leading: float
    rules: tuple[tuple[str, tuple[str, ...]], ...]  # (number, wrapped lines)
    height: float


def _layout_rules(texts: Sequence[str], size: float, width: float) -> _RuleLayout:
    leading = size * 1.5
    rules = tuple(
        (f"{i}.", tuple(wrap_text(text, size, width))) for i, text in enumerate(texts, start=1)
    )
    height = sum(len(lines) for _, lines in rules) * leading + len(rules) * RULE_GAP
    return _RuleLayout(size, leading, rules, height)


@dataclass(frozen=True, slots=True)
class _Static:
    """What is the same on every ticket of a locale, built once."""

    labels: dict[str, str]
    title: str
    rules_title: str
    rule_layouts: tuple[_RuleLayout, ...]  # one per size of RULE_SIZES
    qr_caption: str
    qr_note_lines: tuple[str, ...]
    photo_missing: str
    footer: str
    separator: str


_LABEL_KEYS = (
    "name",
    "gender",
    "id-type",
    "id-number",
    "ticket-no",
    "subject",
    "date",
    "time",
    "campus",
    "address",
    "room",
    "seat",
)
_RULE_COUNT = 8
_RULE_NUMBER_W = 6 * mm


def _rules_width() -> float:
    return CONTENT_W - QR_COL_W - 4 * mm


@cache
def _static(locale: str) -> _Static:
    register_font()
    texts = [t(locale, f"ticket-rule-{i}") for i in range(1, _RULE_COUNT + 1)]
    rule_text_w = _rules_width() - _RULE_NUMBER_W
    return _Static(
        labels={k: t(locale, f"ticket-label-{k}") for k in _LABEL_KEYS},
        title=t(locale, "ticket-title"),
        rules_title=t(locale, "ticket-rules-title"),
        rule_layouts=tuple(_layout_rules(texts, size, rule_text_w) for size in RULE_SIZES),
        qr_caption=t(locale, "ticket-qr-caption"),
        qr_note_lines=tuple(wrap_text(t(locale, "ticket-qr-note"), 8, QR_COL_W)),
        photo_missing=t(locale, "ticket-photo-missing"),
        footer=t(locale, "ticket-footer"),
        separator=t(locale, "ticket-list-separator"),
    )


def _zone_label(locale: str, zone: str, moment: datetime) -> str:
    key = "ticket-zone-" + re.sub(r"[^a-z0-9]+", "-", zone.lower())
    text = t(locale, key)
    if text != key:
        return text
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def format_exam_time(locale: str, start: datetime, end: datetime, zone: str) -> tuple[str, str]:
    """The exam date line and time line, in the session's time zone."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("exam times must be timezone-aware")
    tz = ZoneInfo(zone)
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    # Strings, not numbers: Fluent would group 2026 as "2,026".
    date = t(
        locale,
        "ticket-date",
        {
            "year": str(local_start.year),
            "month": str(local_start.month),
            "day": str(local_start.day),
            "weekday": t(locale, f"ticket-weekday-{local_start.isoweekday()}"),
        },
    )
    time = t(
        locale,
        "ticket-time-range",
        {
            "start": local_start.strftime("%H:%M"),
            "end": local_end.strftime("%H:%M"),
            "zone": _zone_label(locale, zone, local_start),
        },
    )
    return date, time


def _photo_reader(photo: bytes) -> ImageReader | None:
    """The photo ready to embed, shrunk when large so the PDF stays small; None if unreadable."""
    try:
        with Image.open(io.BytesIO(photo)) as img:
            fits = img.width <= 2 * _PHOTO_PIXELS[0] and len(photo) <= MAX_PHOTO_BYTES
            if img.format == "JPEG" and img.mode in {"RGB", "L"} and fits:
                # reportlab copies a JPEG's bytes straight into the PDF: no decoding.
                return ImageReader(io.BytesIO(photo))
            rgb = img.convert("RGB")
            rgb.thumbnail(_PHOTO_PIXELS)
            for quality in _PHOTO_QUALITIES:
                encoded = io.BytesIO()
                rgb.save(encoded, "JPEG", quality=quality, optimize=True)
                if encoded.tell() <= MAX_PHOTO_BYTES:
                    break
    except (UnidentifiedImageError, OSError, ValueError):
        log.warning("ticket photo is not a readable image; drawing the placeholder")
        return None
    encoded.seek(0)
    return ImageReader(encoded)


def _draw_placeholder(c: Canvas, x: float, y: float, w: float, h: float, caption: str) -> None:
    """A neutral grey head-and-shoulders outline for a candidate without a photo."""
    c.saveState()
    clip = c.beginPath()
    clip.rect(x, y, w, h)
    c.clipPath(clip, stroke=0, fill=0)
    c.setFillColorRGB(0.93, 0.93, 0.93)
    c.rect(x, y, w, h, stroke=0, fill=1)
    c.setFillColorRGB(0.75, 0.75, 0.75)
    cx = x + w / 2
    c.circle(cx, y + h * 0.64, w * 0.2, stroke=0, fill=1)
    c.ellipse(cx - w * 0.4, y - h * 0.25, cx + w * 0.4, y + h * 0.43, stroke=0, fill=1)
    c.setFillColorRGB(*LABEL_INK)
    c.setFont(FONT_NAME, 7.5)
    c.drawCentredString(cx, y + 2.2 * mm, caption)
    c.restoreState()


def _draw_qr(c: Canvas, payload: str, x: float, y: float, size: float) -> None:
    """Draws the QR code as vector runs of dark modules; the page around it is the quiet zone."""
    qr = segno.make_qr(payload, error="m")
    rows = [list(row) for row in qr.matrix_iter(scale=1, border=0)]
    count = len(rows)
    c.saveState()
    # Drawing in module units keeps every coordinate a small integer: a shorter content
    # stream, and much less number formatting than millimetre floats for ~500 runs.
    c.translate(x, y + size)
    c.scale(size / count, -size / count)
    path = c.beginPath()
    for r, row in enumerate(rows):
        col = 0
        while col < count:
            if not row[col]:
                col += 1
                continue
            start = col
            while col < count and row[col]:
                col += 1
            path.rect(start, r, col - start, 1)
    c.setFillColorRGB(0, 0, 0)
    c.drawPath(path, stroke=0, fill=1)
    c.restoreState()


def _draw_bold(
    c: Canvas, x: float, y: float, text: str, size: float, centred: bool = False
) -> None:
    """Text filled and thinly stroked: a bold look from a font that has one weight."""
    c.saveState()
    c.setStrokeColorRGB(*INK)
    c.setLineWidth(size / 48)
    obj = c.beginText()
    obj.setTextRenderMode(2)
    obj.setFont(FONT_NAME, size)
    obj.setTextOrigin(x - (_width(text, size) / 2 if centred else 0), y)
    obj.textOut(text)
    # The render mode is text state, which outlives the text object, so it is reset here.
    obj.setTextRenderMode(0)
    c.drawText(obj)
    c.restoreState()


def _draw_lines(
    c: Canvas, lines: Sequence[str], x: float, top: float, size: float, leading: float
) -> None:
    c.setFont(FONT_NAME, size)
    for i, line in enumerate(lines):
        c.drawString(x, top - size - i * leading, line)


def _cell_height(lines: int, size: float, minimum: float) -> float:
    return max(minimum, lines * size * 1.3 + 4 * mm)


def _draw_row(
    c: Canvas,
    cells: Sequence[tuple[str, list[str], float]],
    x: float,
    top: float,
    height: float,
    value_size: float = VALUE_SIZE,
) -> None:
    """One table row of (label, value lines, value width) pairs, text centred vertically."""
    for label, lines, value_w in cells:
        c.setFillColorRGB(*LABEL_FILL)
        c.setStrokeColorRGB(*GRID_INK)
        c.rect(x, top - height, LABEL_W, height, stroke=1, fill=1)
        c.rect(x + LABEL_W, top - height, value_w, height, stroke=1, fill=0)
        c.setFillColorRGB(*LABEL_INK)
        c.setFont(FONT_NAME, LABEL_SIZE)
        c.drawCentredString(x + LABEL_W / 2, top - height / 2 - LABEL_SIZE * 0.35, label)
        c.setFillColorRGB(*INK)
        leading = value_size * 1.3
        block = len(lines) * leading
        first_baseline = top - (height - block) / 2 - value_size * 0.95
        c.setFont(FONT_NAME, value_size)
        for i, line in enumerate(lines):
            c.drawString(x + LABEL_W + 2.5 * mm, first_baseline - i * leading, line)
        x += LABEL_W + value_w


def render_ticket(view: TicketView, locale: str) -> bytes:
    """The ticket as PDF bytes, in `locale`."""
    static = _static(locale)
    labels = static.labels
    out = io.BytesIO()
    # invariant=1 drops the timestamp and random ids, so one ticket always gives the same bytes.
    c = Canvas(out, pagesize=A4, pageCompression=1, invariant=1, initialFontName=FONT_NAME)
    c.setTitle(
        t(locale, "ticket-doc-title", {"session": view.session_name, "ticket": view.ticket_no})
    )
    c.setLineWidth(0.6)

    # Header: session, title, rule.
    c.setFillColorRGB(*INK)
    c.setFont(FONT_NAME, 13)
    y = PAGE_H - MARGIN - 4 * mm
    for line in wrap_text(view.session_name, 13, CONTENT_W, max_lines=2):
        c.drawCentredString(PAGE_W / 2, y, line)
        y -= 16
    _draw_bold(c, PAGE_W / 2, y - 22, static.title, 24, centred=True)
    y -= 32
    c.setLineWidth(0.6)

    # Upper block: five rows beside the photo.
    top = y - 2 * mm
    value_w = CONTENT_W - LABEL_W - PHOTO_COL_W
    sep = static.separator
    gender = t(locale, _GENDER_KEYS.get(view.gender.strip().lower(), view.gender))
    upper = [
        (labels["name"], wrap_text(view.name, 13, value_w - 5 * mm, _MAX_VALUE_LINES), 13),
        (labels["gender"], wrap_text(gender, VALUE_SIZE, value_w - 5 * mm, 1), VALUE_SIZE),
        (
            labels["id-type"],
            wrap_text(t(locale, view.id_type_key), VALUE_SIZE, value_w - 5 * mm, 2),
            VALUE_SIZE,
        ),
        (labels["id-number"], [mask_id_number(view.id_number)], 12),
        (labels["ticket-no"], [view.ticket_no], 13),
    ]
    heights = [_cell_height(len(lines), size, UPPER_ROW_H) for _, lines, size in upper]
    # The photo cell spans the upper rows, so they must be at least as tall as the photo.
    shortfall = PHOTO_H + 5 * mm - sum(heights)
    if shortfall > 0:
        heights = [h + shortfall / len(heights) for h in heights]
    row_top = top
    for (label, lines, size), h in zip(upper, heights, strict=True):
        _draw_row(c, [(label, lines, value_w)], MARGIN, row_top, h, size)
        row_top -= h
    photo_x = MARGIN + CONTENT_W - PHOTO_COL_W
    c.setStrokeColorRGB(*GRID_INK)
    c.rect(photo_x, row_top, PHOTO_COL_W, top - row_top, stroke=1, fill=0)
    px = photo_x + (PHOTO_COL_W - PHOTO_W) / 2
    py = row_top + (top - row_top - PHOTO_H) / 2
    reader = _photo_reader(view.photo) if view.photo else None
    if reader is None:
        _draw_placeholder(c, px, py, PHOTO_W, PHOTO_H, static.photo_missing)
    else:
        c.drawImage(reader, px, py, PHOTO_W, PHOTO_H, preserveAspectRatio=True, anchor="c")

    # Lower block: full-width rows.
    full_w = CONTENT_W - LABEL_W
    date_text, time_text = format_exam_time(locale, view.exam_start, view.exam_end, view.timezone)
    wrap_w = full_w - 5 * mm
    lower = [
        (labels["subject"], wrap_text(sep.join(view.subject_names), VALUE_SIZE, wrap_w, 2)),
        (labels["date"], wrap_text(date_text, VALUE_SIZE, wrap_w, 1)),
        (labels["time"], wrap_text(time_text, VALUE_SIZE, wrap_w, 1)),
        (labels["campus"], wrap_text(view.campus_name, VALUE_SIZE, wrap_w, 2)),
        (labels["address"], wrap_text(view.campus_address, VALUE_SIZE, wrap_w, _MAX_VALUE_LINES)),
    ]
    for label, lines in lower:
        h = _cell_height(len(lines), VALUE_SIZE, ROW_H)
        _draw_row(c, [(label, lines, full_w)], MARGIN, row_top, h)
        row_top -= h
    half_value_w = CONTENT_W / 2 - LABEL_W
    room_seat = [
        (labels["room"], wrap_text(view.room, 13, half_value_w - 5 * mm, 1), half_value_w),
        (labels["seat"], wrap_text(view.seat, 13, half_value_w - 5 * mm, 1), half_value_w),
    ]
    h = _cell_height(1, 13, ROW_H)
    _draw_row(c, room_seat, MARGIN, row_top, h, 13)
    row_top -= h

    # Rules on the left, QR code on the right.
    block_top = row_top - 7 * mm
    c.setFillColorRGB(*INK)
    _draw_bold(c, MARGIN, block_top - 12.5, static.rules_title, 12.5)
    y = block_top - 12.5 - 8
    # A long name or address makes the table taller; smaller rules keep it one page.
    room_for_rules = y - (MARGIN + 8 * mm)
    fitting = [lay for lay in static.rule_layouts if lay.height <= room_for_rules]
    layout = fitting[0] if fitting else static.rule_layouts[-1]
    for number, rule_lines in layout.rules:
        c.setFont(FONT_NAME, layout.size)
        c.drawString(MARGIN, y - layout.size, number)
        _draw_lines(c, rule_lines, MARGIN + _RULE_NUMBER_W, y, layout.size, layout.leading)
        y -= len(rule_lines) * layout.leading + RULE_GAP

    qr_x = MARGIN + CONTENT_W - QR_COL_W + (QR_COL_W - QR_SIZE) / 2
    qr_top = block_top - 2 * mm
    _draw_qr(c, view.qr_payload, qr_x, qr_top - QR_SIZE, QR_SIZE)
    c.setFillColorRGB(*INK)
    c.setFont(FONT_NAME, 10)
    center = qr_x + QR_SIZE / 2
    c.drawCentredString(center, qr_top - QR_SIZE - 5 * mm, static.qr_caption)
    c.setFillColorRGB(*LABEL_INK)
    c.setFont(FONT_NAME, 8)
    note_y = qr_top - QR_SIZE - 10 * mm
    for line in static.qr_note_lines:
        c.drawCentredString(center, note_y, line)
        note_y -= 10

    # Footer.
    c.setStrokeColorRGB(*GRID_INK)
    c.line(MARGIN, MARGIN + 5 * mm, PAGE_W - MARGIN, MARGIN + 5 * mm)
    c.setFillColorRGB(*LABEL_INK)
    c.setFont(FONT_NAME, 8.5)
    c.drawCentredString(PAGE_W / 2, MARGIN, static.footer)

    c.showPage()
    c.save()
    return out.getvalue()
