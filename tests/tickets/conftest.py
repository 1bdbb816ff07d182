"""Shared pieces for the admission ticket tests: a key, a candidate, rendered tickets."""

from __future__ import annotations

import io
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image, ImageDraw

from admission.ticket_pdf import TicketView, render_ticket
from admission.ticket_signing import TicketClaims, sign_ticket

ID_NUMBER = "11010520040307123X"
TICKET_NO = "110105261200127"


def make_photo(size: tuple[int, int] = (270, 360), fmt: str = "JPEG") -> bytes:
    """A fictional passport-style picture: coloured background, face, shoulders."""
    w, h = size
    img = Image.new("RGB", size, (70, 120, 200))
    draw = ImageDraw.Draw(img)
    draw.ellipse((w * 0.3, h * 0.18, w * 0.7, h * 0.55), fill=(235, 200, 170))
    draw.ellipse((w * 0.1, h * 0.6, w * 0.9, h * 1.3), fill=(40, 40, 60))
    out = io.BytesIO()
    img.save(out, fmt, quality=85)
    return out.getvalue()


@pytest.fixture(scope="session")
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture(scope="session")
def claims() -> TicketClaims:
    return TicketClaims.for_candidate(
        ticket_no=TICKET_NO,
        session="2026-12",
        subject="CET4",
        room="A-301",
        seat=27,
        id_number=ID_NUMBER,
    )


@pytest.fixture(scope="session")
def payload(signing_key: Ed25519PrivateKey, claims: TicketClaims) -> str:
    return sign_ticket(signing_key, claims)


def base_view(payload: str, subject: str) -> TicketView:
    return TicketView(
        name="阿依古丽·买买提",
        gender="F",
        id_type_key="ticket-id-type-resident",
        id_number=ID_NUMBER,
        subject_names=(subject,),
        # 09:00-11:20 Beijing time, given in UTC to check the time zone conversion.
        exam_start=datetime(2026, 12, 19, 1, 0, tzinfo=UTC),
        exam_end=datetime(2026, 12, 19, 3, 20, tzinfo=UTC),
        campus_name="北京示例大学海淀校区",
        campus_address="北京市海淀区示例路100号第三教学楼",
        room="A-301",
        seat="27",
        ticket_no=TICKET_NO,
        session_name="2026年12月全国大学英语四、六级考试",
        qr_payload=payload,
        photo=make_photo(),
    )


@pytest.fixture(scope="session")
def views(payload: str) -> dict[str, TicketView]:
    zh = base_view(payload, "英语四级")
    en = replace(zh, subject_names=("CET-4 (English Band 4)",), session_name="CET December 2026")
    return {"zh": zh, "en": en}


@pytest.fixture(scope="session")
def pdfs(views: dict[str, TicketView]) -> dict[str, bytes]:
    return {loc: render_ticket(view, loc) for loc, view in views.items()}


@pytest.fixture(scope="session")
def pdf_files(pdfs: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tickets")
    files = {}
    for loc, data in pdfs.items():
        path = folder / f"ticket-{loc}.pdf"
        path.write_bytes(data)
        files[loc] = path
    return files


def page_png(pdf: Path, out_dir: Path, dpi: int = 150) -> Path:
    """Page 1 of `pdf` as a PNG, drawn by poppler (not by the library that wrote it)."""
    stem = out_dir / pdf.stem
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf), stem],
        check=True,
        timeout=30,
    )
    return stem.with_suffix(".png")


@pytest.fixture(scope="session")
def page_pngs(pdf_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("pages")
    return {loc: page_png(path, folder) for loc, path in pdf_files.items()}
