"""R38: the admission ticket PDF shows every field in the candidate's language, embeds a CJK
font subset, and carries a QR code that scans back to the signed payload."""

from __future__ import annotations

import io
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from pypdf import PdfReader

from admission import ticket_pdf
from admission.ticket_pdf import (
    TicketFontMissing,
    TicketView,
    find_cjk_font,
    format_exam_time,
    mask_id_number,
    render_ticket,
    wrap_text,
)
from admission.ticket_signing import verify_ticket
from foundation.i18n import t

from .conftest import ID_NUMBER, TICKET_NO, make_photo, page_png

MAX_PDF_BYTES = 80 * 1024


def _squash(text: str) -> str:
    # Extractors differ in where they put spaces and line breaks; compare without them.
    return re.sub(r"\s+", "", text)


def _pdftotext(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _pypdf_text(data: bytes) -> str:
    return PdfReader(io.BytesIO(data)).pages[0].extract_text()


def _expected_texts(view: TicketView, locale: str) -> list[str]:
    date, time = format_exam_time(locale, view.exam_start, view.exam_end, view.timezone)
    labels = [
        t(locale, f"ticket-label-{k}")
        for k in (
            "name gender id-type id-number ticket-no subject date time campus address room seat"
        ).split()
    ]
    rules = [t(locale, f"ticket-rule-{i}") for i in range(1, 9)]
    return [
        t(locale, "ticket-title"),
        view.session_name,
        view.name,
        t(locale, "ticket-gender-female"),
        t(locale, view.id_type_key),
        mask_id_number(view.id_number),
        view.ticket_no,
        *view.subject_names,
        date,
        time,
        view.campus_name,
        view.campus_address,
        view.room,
        view.seat,
        *labels,
        t(locale, "ticket-rules-title"),
        *rules,
    ]


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_r38_pdf_text_has_every_field(
    locale: str, views: dict, pdfs: dict, pdf_files: dict
) -> None:
    view = views[locale]
    for extracted in (_pdftotext(pdf_files[locale]), _pypdf_text(pdfs[locale])):
        flat = _squash(extracted)
        assert _squash(t(locale, "ticket-qr-caption")) in flat
        # The QR caption sits beside the rules, so extractors may put it between two
        # lines of a rule; it is taken out (line by line, as drawn) before comparing.
        for line in (t(locale, "ticket-qr-caption"), *ticket_pdf._static(locale).qr_note_lines):
            flat = flat.replace(_squash(line), "")
        missing = [s for s in _expected_texts(view, locale) if _squash(s) not in flat]
        assert not missing
        assert ID_NUMBER not in flat  # only the masked number is printed


def test_r38_exam_time_is_shown_in_beijing_time(views: dict) -> None:
    view = views["zh"]
    assert format_exam_time("zh", view.exam_start, view.exam_end, view.timezone) == (
        "2026年12月19日（星期六）",
        "09:00–11:20（北京时间）",
    )
    assert format_exam_time("en", view.exam_start, view.exam_end, view.timezone) == (
        "Saturday, 2026-12-19",
        "09:00–11:20 (Beijing time)",
    )
    # A zone without a name of its own shows its offset.
    assert format_exam_time("en", view.exam_start, view.exam_end, "Asia/Tokyo")[1] == (
        "10:00–12:20 (UTC+09:00)"
    )


def test_r38_one_a4_page_small_and_deterministic(pdfs: dict, views: dict) -> None:
    for locale, data in pdfs.items():
        reader = PdfReader(io.BytesIO(data))
        assert len(reader.pages) == 1
        box = reader.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == (595, 842)
        assert len(data) <= MAX_PDF_BYTES
        assert render_ticket(views[locale], locale) == data


def test_r38_cjk_font_is_embedded_as_subset(pdf_files: dict) -> None:
    for path in pdf_files.values():
        out = subprocess.run(
            ["pdffonts", str(path)], capture_output=True, text=True, check=True
        ).stdout
        rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
        assert rows, out
        for row in rows:
            # name type... emb sub uni object ID: the three yes/no columns sit before the id.
            emb, sub = row[-5], row[-4]
            assert (emb, sub) == ("yes", "yes"), out
            assert re.fullmatch(r"[A-Z]{6}\+.*", row[0]), out
        assert any("MicroHei" in row[0] or "ZenHei" in row[0] for row in rows), out


def test_r38_qr_on_the_printed_page_scans_and_verifies(
    page_pngs: dict, payload: str, signing_key: Ed25519PrivateKey
) -> None:
    for png in page_pngs.values():
        with Image.open(png) as img:
            found = zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)
        texts = [b.text for b in found]
        assert texts == [payload]
        assert verify_ticket(texts[0], signing_key.public_key()).valid


def _photo_box_pixels(png: Path) -> set[tuple[int, int, int]]:
    """The colours in the middle of the photo box (top right of the page)."""
    with Image.open(png) as img:
        rgb = img.convert("RGB")
        w, h = rgb.size
        box = rgb.crop((int(w * 0.76), int(h * 0.17), int(w * 0.88), int(h * 0.28)))
        return set(box.get_flattened_data())


def test_r38_ticket_without_photo_shows_the_placeholder(
    views: dict, page_pngs: dict, tmp_path: Path
) -> None:
    view = replace(views["zh"], photo=None)
    data = render_ticket(view, "zh")
    assert "/XObject" not in PdfReader(io.BytesIO(data)).pages[0]["/Resources"]
    assert _squash(t("zh", "ticket-photo-missing")) in _squash(_pypdf_text(data))
    path = tmp_path / "nophoto.pdf"
    path.write_bytes(data)
    placeholder = _photo_box_pixels(page_png(path, tmp_path))
    # Only greys in the box: the silhouette, not the blue of the sample photo.
    assert all(max(px) - min(px) <= 3 for px in placeholder)
    with_photo = _photo_box_pixels(page_pngs["zh"])
    assert any(b - r > 60 for r, _g, b in with_photo)


def test_r38_unreadable_photo_falls_back_to_the_placeholder(views: dict) -> None:
    data = render_ticket(replace(views["zh"], photo=b"not a picture"), "zh")
    assert _squash(t("zh", "ticket-photo-missing")) in _squash(_pypdf_text(data))


def test_r38_large_photo_is_shrunk_to_keep_the_pdf_small(views: dict) -> None:
    big = make_photo((1800, 2400), "PNG")
    assert len(big) > 20_000
    data = render_ticket(replace(views["zh"], photo=big), "zh")
    assert len(data) <= MAX_PDF_BYTES


def test_r38_long_values_stay_on_one_page(views: dict) -> None:
    view = replace(
        views["en"],
        name="Alexandria Konstantinopoulou-Wolfeschlegelsteinhausen Bergerdorff the Third",
        campus_name="An Extremely Long Campus Name " * 4,
        campus_address="No. 1234 Somewhere Very Far Away Road, Building 7, " * 5,
        subject_names=("CET-4", "CET-4 Spoken English Test", "Japanese Band 4"),
    )
    data = render_ticket(view, "en")
    text = _squash(_pypdf_text(data))
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    assert "\u2026" in text  # the address was cut with an ellipsis, not off the page
    assert _squash(t("en", "ticket-rule-8")) in text


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("11010519491231002X", "110105********002X"),
        ("110105491231002", "110105*****1002"),
        ("E12345678", "E1*****78"),
        ("12345", "*****"),
    ],
)
def test_r38_id_number_is_masked(number: str, masked: str) -> None:
    assert mask_id_number(number) == masked


def test_wrap_text_breaks_chinese_per_character_and_latin_per_word() -> None:
    ticket_pdf.register_font()
    rule = "考生须同时携带本准考证和有效身份证件入场，缺一不可。"
    lines = wrap_text(rule, 10, 100)
    assert len(lines) > 1 and "".join(lines) == rule
    assert not any(line.startswith(("，", "。")) for line in lines)
    words = wrap_text("Bring this ticket and the valid ID document", 10, 80)
    assert " ".join(words) == "Bring this ticket and the valid ID document"
    assert wrap_text("a " * 200, 10, 50, max_lines=2)[-1].endswith("\u2026")


def test_missing_cjk_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(ticket_pdf, "FONT_CANDIDATES", (tmp_path / "none.ttc",))
    monkeypatch.setattr(ticket_pdf, "_fc_match_candidates", lambda: [])
    with pytest.raises(TicketFontMissing, match="fonts-wqy-microhei"):
        find_cjk_font()
    # A font without Chinese glyphs (what fc-match answers on a bare system) is refused too.
    latin_only = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if latin_only.exists():
        monkeypatch.setattr(ticket_pdf, "_fc_match_candidates", lambda: [latin_only])
        with pytest.raises(TicketFontMissing):
            find_cjk_font()


def test_installed_font_is_found() -> None:
    assert find_cjk_font().suffix in {".ttc", ".ttf"}
    assert TICKET_NO  # the shared sample stays the 15-digit number the payload signs
