"""Measures admission ticket rendering (R38): ms per ticket, tickets/s, PDF size, peak memory.

Run: .venv/bin/python bench/tickets.py [--count 300] [--locale zh] [--no-photo]
     [--sample docs/ticket-zh.pdf]   (also writes one fictional ticket and its PNG, 120 dpi)
     [--db-candidates 200] [--database-url URL]   (0 skips the database part)

Prints figures only (no pass/fail). Each ticket has its own name, seat, ticket number and
freshly signed QR payload, so nothing is reused between renders but what the renderer
itself keeps (the font and the per-locale static texts). The first render, which loads
the font, is reported apart from the rest.

The database part seeds the example session with paid candidates (a fresh SQLite file
unless --database-url names an empty, migrated database), assigns seats, pre-renders
every ticket in both locales through `admission.tickets.prerender` (batches of 20,
one transaction each, as the worker would), then serves each candidate's cached ticket
through `ticket_documents`, one unit of work per request as the chat would.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: E402
    Ed25519PrivateKey,
)
from PIL import Image, ImageDraw  # noqa: E402

from admission.ticket_pdf import TicketView, render_ticket  # noqa: E402
from admission.ticket_signing import TicketClaims, sign_ticket  # noqa: E402

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


async def _seed(db: object, count: int, photo: bytes | None) -> tuple[int, list[int], object]:
    """The example session with `count` paid CET-4 candidates; returns ids and the clock."""
    from backoffice import authority
    from backoffice.importing import parse_session_toml
    from foundation.clock import FrozenClock
    from registration import eligibility, entries
    from registration.identity import make_id_card_number
    from storage.db import Database

    assert isinstance(db, Database)
    spec = parse_session_toml(ROOT / "examples" / "session-2026-12.toml")
    clock = FrozenClock(spec.windows.registration_opens + timedelta(days=1))
    async with db.uow() as uow:
        session_id = await authority.load_session(uow, spec)
        campus = await uow.sessions.campus_by_code(session_id, "BSU-HD")
        assert campus is not None
        await uow.sessions.set_capacity(campus.id, "CET4", count)
        numbers = [
            make_id_card_number("110108", datetime(2005, 3, 1).date(), i) for i in range(count)
        ]
        rows = [
            {
                "name": SURNAMES[i % len(SURNAMES)] + GIVEN[i % len(GIVEN)],
                "gender": "F" if i % 2 else "M",
                "id_type": "id_card",
                "id_number": number,
                "school": campus.school,
                "campus_code": campus.code,
                "student_no": f"B{i:07d}",
                "phone": "13800000000",
                "has_photo": photo is not None,
            }
            for i, number in enumerate(numbers)
        ]
        await uow.records.bulk_upsert(
            session_id,
            rows,
            {("id_card", n): ["CET4"] for n in numbers},
            {("id_card", n): photo for n in numbers} if photo else {},
        )
        ids = await uow.records.keys_of_session(session_id)
        await uow.commit()
    registrations = []
    for i, number in enumerate(numbers):
        async with db.uow() as uow:
            acc = await uow.accounts.create(f"bench{i}@example.com", "x", clock.now())
            await uow.accounts.mark_verified(acc.id, clock.now())
            acc = await uow.accounts.get(acc.id)
            assert acc is not None
            reg = await eligibility.save_registration(
                uow,
                clock,
                account=acc,
                session_id=session_id,
                record_id=ids[("id_card", number)],
                phone="13912345678",
                agreed=True,
            )
            entry = await entries.register_subject(
                uow, clock, registration_id=reg.id, subject_code="CET4", campus_id=campus.id
            )
            await entries.mark_paid(uow, clock, entry_id=entry.id)
            await uow.commit()
        registrations.append(reg.id)
    clock.set(spec.windows.print_written + timedelta(minutes=1))
    return session_id, registrations, clock


async def _db_bench(count: int, url: str | None, photo: bytes | None) -> list[str]:
    from admission import tickets
    from foundation.settings import Settings
    from storage.db import Database
    from storage.models import Base

    with tempfile.TemporaryDirectory() as tmp:
        if url is None:
            url = f"sqlite+aiosqlite:///{tmp}/bench.db"
            db = Database(url)
            async with db.engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
        else:
            db = Database(url)
        settings = Settings(_env_file=None, data_dir=Path(tmp) / "data", ticket_signing_key=None)
        try:
            session_id, registrations, clock = await _seed(db, count, photo)
            start = time.perf_counter()
            async with db.uow() as uow:
                assigned = await tickets.assign_seats(uow, clock, session_id=session_id)
                await uow.commit()
            assign_ms = (time.perf_counter() - start) * 1000

            rendered = 0
            start = time.perf_counter()
            while True:
                async with db.uow() as uow:
                    n = await tickets.prerender(
                        uow, clock, session_id=session_id, settings=settings, limit=20
                    )
                    await uow.commit()
                if n == 0:
                    break
                rendered += n
            prerender_s = time.perf_counter() - start

            served: list[float] = []
            for reg_id in registrations:
                start = time.perf_counter()
                async with db.uow() as uow:
                    docs = await tickets.ticket_documents(
                        uow, clock, registration_id=reg_id, locale="zh", settings=settings
                    )
                    await uow.commit()
                served.append((time.perf_counter() - start) * 1000)
                assert len(docs) == 1
        finally:
            await db.dispose()
    served.sort()
    p99 = served[min(len(served) - 1, round(len(served) * 0.99) - 1)]
    kind = url.split(":", 1)[0]
    return [
        f"db               {kind}, {count} paid candidates",
        f"assign seats     {assigned} in {assign_ms:.0f} ms",
        f"pre-render       {rendered} PDFs (zh+en) at {rendered / prerender_s:.1f} PDFs/s",
        f"cached serve p50 {statistics.median(served):.2f} ms (ticket_documents, own uow)",
        f"cached serve p99 {p99:.2f} ms",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--locale", default="zh", choices=("zh", "en"))
    parser.add_argument("--no-photo", action="store_true")
    parser.add_argument("--sample", type=Path, help="write the first ticket here (and a .png)")
    parser.add_argument("--db-candidates", type=int, default=200, help="0: skip the db part")
    parser.add_argument("--database-url", help="an empty migrated database (default: SQLite)")
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
    if args.db_candidates > 0:
        photo = None if args.no_photo else sample_photo()
        for line in asyncio.run(_db_bench(args.db_candidates, args.database_url, photo)):
            print(line)


if __name__ == "__main__":
    main()
