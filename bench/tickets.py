"""Measures admission ticket rendering (R38): ms per ticket, tickets/s, PDF size, peak memory.

Run: .venv/bin/python bench/tickets.py [--count 300] [--locale zh] [--no-photo]
     [--sample docs/ticket-zh.pdf]   (also writes one fictional ticket and its PNG, 120 dpi)

Prints figures only (no pass/fail). Each ticket has its own name, seat, ticket number and
freshly signed QR payload, so nothing is reused between renders but what the renderer
itself keeps (the font and the per-locale static texts). The first render, which loads
the font, is reported apart from the rest.
"""

from __future__ import annotations

import argparse
import io
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: E402
    Ed25519PrivateKey,
)
from PIL import Image, ImageDraw  # noqa: E402

from registration.ticket_pdf import TicketView, render_ticket  # noqa: E402
from registration.ticket_signing import TicketClaims, sign_ticket  # noqa: E402

SURNAMES = "张王李赵刘陈杨黄周吴"
GIVEN = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "杰", "娟")


def sample_photo() -> bytes:
    """A fictional 270x360 JPEG, about the size a roster photo has after import."""
    img = Image.new("RGB", (270, 360), (70, 120, 200))
    draw = ImageDraw.Draw(img)
    draw.ellipse((80, 65, 190, 200), fill=(235, 200, 170))
    draw.ellipse((27, 215, 243, 470), fill=(40, 40, 60))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def make_views(count: int, key: Ed25519PrivateKey, photo: bytes | None) -> list[TicketView]:
    views = []
    for i in range(count):
        ticket_no = f"110105261{i:06d}"
        id_number = f"110105200{i % 10}0307{i % 1000:03d}X"
        seat = str(i % 30 + 1)
        room = f"A-{301 + i // 30}"
        payload = sign_ticket(
            key,
            TicketClaims.for_candidate(
                ticket_no=ticket_no,
                session="2026-12",
                subject="CET4",
                room=room,
                seat=seat,
                id_number=id_number,
            ),
        )
        views.append(
            TicketView(
                name=SURNAMES[i % len(SURNAMES)] + GIVEN[i % len(GIVEN)],
                gender="F" if i % 2 else "M",
                id_type_key="ticket-id-type-resident",
                id_number=id_number,
                subject_names=("英语四级",),
                exam_start=datetime(2026, 12, 19, 1, 0, tzinfo=UTC),
                exam_end=datetime(2026, 12, 19, 3, 20, tzinfo=UTC),
                campus_name="北京示例大学海淀校区",
                campus_address="北京市海淀区示例路100号第三教学楼",
                room=room,
                seat=seat,
                ticket_no=ticket_no,
                session_name="2026年12月全国大学英语四、六级考试",
                qr_payload=payload,
                photo=photo,
            )
        )
    return views


def write_sample(path: Path, pdf: bytes) -> None:
    """Writes a sample ticket and, when poppler is installed, page 1 as a PNG beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-r", "120", "-png", "-singlefile", str(path), str(path.with_suffix(""))],
            check=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--locale", default="zh", choices=("zh", "en"))
    parser.add_argument("--no-photo", action="store_true")
    parser.add_argument("--sample", type=Path, help="write the first ticket here (and a .png)")
    args = parser.parse_args()

    key = Ed25519PrivateKey.generate()
    views = make_views(args.count + 1, key, None if args.no_photo else sample_photo())

    start = time.perf_counter()
    render_ticket(views[0], args.locale)
    cold_ms = (time.perf_counter() - start) * 1000

    times: list[float] = []
    sizes: list[int] = []
    wall = time.perf_counter()
    for view in views[1:]:
        start = time.perf_counter()
        pdf = render_ticket(view, args.locale)
        times.append((time.perf_counter() - start) * 1000)
        sizes.append(len(pdf))
    wall = time.perf_counter() - wall

    if args.sample is not None:
        write_sample(args.sample, render_ticket(views[0], args.locale))

    times.sort()
    p99 = times[min(len(times) - 1, round(len(times) * 0.99) - 1)]
    # ru_maxrss is in KiB on Linux.
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"tickets          {args.count} ({args.locale}, photo: {not args.no_photo})")
    print(f"first render     {cold_ms:.1f} ms (loads the font)")
    print(f"render p50       {statistics.median(times):.1f} ms")
    print(f"render p99       {p99:.1f} ms")
    print(f"throughput       {args.count / wall:.1f} tickets/s (one process)")
    print(f"pdf bytes        median {int(statistics.median(sizes))}, max {max(sizes)}")
    print(f"peak rss         {peak_mib:.1f} MiB")


if __name__ == "__main__":
    main()
