"""The ticket jobs of the worker (R5, R38, R39) on both databases, the clock moved: nothing
before print time; after it every paid entry has a seat and its PDFs; a rerun changes
nothing; two workers at once issue each seat once and draw each PDF once."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from admission.tickets import QUICK_PRINT_WINDOW
from background import jobs
from bot.worker_runtime import WorkerRuntime
from foundation.settings import Settings
from storage.db import Database
from storage.repos.tickets import TicketDTO
from tests.rules.conftest import World
from tests.tickets_service.helpers import PRINT_ORAL, PRINT_WRITTEN, candidate
from tests.worker.raw_performer import RawBotApiPerformer

LOCALES = ("zh", "en")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # A fresh signing key in the test's own folder; nothing read from the environment.
    return Settings(_env_file=None, data_dir=tmp_path / "data", ticket_signing_key=None)  # type: ignore[call-arg]


async def issued(db: Database, session_id: int) -> dict[int, TicketDTO]:
    async with db.uow(readonly=True) as uow:
        return {t.entry_id: t for t in await uow.tickets.of_session(session_id)}


async def kept_pdfs(db: Database, entry_ids: list[int]) -> dict[tuple[int, str], datetime]:
    """(entry, locale) -> when its PDF was drawn."""
    out: dict[tuple[int, str], datetime] = {}
    async with db.uow(readonly=True) as uow:
        for locale in LOCALES:
            for entry_id, f in (await uow.tickets.files(entry_ids, locale)).items():
                assert f.pdf.startswith(b"%PDF")
                out[(entry_id, locale)] = f.rendered_at
    return out


def runtime(world: World, settings: Settings) -> WorkerRuntime:
    # The performer is never used: nothing is queued for sending in these tests but
    # expiry notices, which have no started chat and are not drained here.
    performer = RawBotApiPerformer("http://127.0.0.1:9", "0:unused")
    return WorkerRuntime(world.db, world.clock, performer, None, (360, 60), settings=settings)


async def test_r5_r38_seats_and_pdfs_after_print_time_and_a_rerun_changes_nothing(
    world: World, settings: Settings
) -> None:
    paid = [await candidate(world, ("CET4",)) for _ in range(3)]
    unpaid = await candidate(world, ("CET4",), paid=False)
    paid_ids = [c.entries["CET4"].id for c in paid]
    w = runtime(world, settings)

    world.clock.set(PRINT_ORAL - timedelta(hours=1))  # before any print time
    report = await w.tick()
    assert report["seats_assigned"] == report["tickets_rendered"] == 0
    assert await issued(world.db, world.session_id) == {}

    world.clock.set(PRINT_WRITTEN - timedelta(minutes=1))  # oral printing open, written not
    report = await w.tick()
    assert report["seats_assigned"] == report["tickets_rendered"] == 0
    assert await issued(world.db, world.session_id) == {}

    world.clock.set(PRINT_WRITTEN + timedelta(minutes=1))
    report = await w.tick()
    assert report["seats_assigned"] == 3 and report["tickets_rendered"] == 3 * len(LOCALES)
    assert report["tickets_more"] == 0
    tickets = await issued(world.db, world.session_id)
    assert sorted(tickets) == sorted(paid_ids)  # every paid entry, the unpaid one not
    assert unpaid.entries["CET4"].id not in tickets
    assert len({(t.room, t.seat) for t in tickets.values()}) == 3
    pdfs = await kept_pdfs(world.db, paid_ids)
    assert set(pdfs) == {(e, loc) for e in paid_ids for loc in LOCALES}

    world.clock.advance(timedelta(hours=2))
    report = await w.tick()
    assert report["seats_assigned"] == report["tickets_rendered"] == 0
    assert await issued(world.db, world.session_id) == tickets  # no seat moved
    assert await kept_pdfs(world.db, paid_ids) == pdfs  # nothing drawn again


async def test_r39_old_quick_print_attempts_are_pruned(world: World, settings: Settings) -> None:
    w = runtime(world, settings)
    world.clock.set(PRINT_WRITTEN + timedelta(minutes=1))
    async with world.db.uow() as uow:
        await uow.tickets.add_rate_event("quick-print:chat:x", world.clock.now())
        await uow.commit()
    assert (await w.tick())["rate_events_pruned"] == 0  # still inside its window
    world.clock.advance(QUICK_PRINT_WINDOW + timedelta(minutes=1))
    assert (await w.tick())["rate_events_pruned"] == 1
    assert (await w.tick())["rate_events_pruned"] == 0


async def test_two_workers_at_once_issue_each_seat_once_and_draw_each_pdf_once(
    world: World, settings: Settings, db_url: str
) -> None:
    people = [await candidate(world, ("CET4",)) for _ in range(7)]
    ids = [c.entries["CET4"].id for c in people]
    world.clock.set(PRINT_WRITTEN + timedelta(minutes=1))
    # Two processes' worth of connections: each worker has its own Database.
    other = Database(db_url, pool_size=5)
    try:
        reports = await asyncio.gather(
            jobs.ticket_jobs(world.db, world.clock, settings, batch=3),
            jobs.ticket_jobs(other, world.clock, settings, batch=3),
        )
    finally:
        await other.dispose()
    assert sum(r.seats for r in reports) == 7
    assert sum(r.rendered for r in reports) == 7 * len(LOCALES)  # none drawn twice
    tickets = await issued(world.db, world.session_id)
    assert sorted(tickets) == sorted(ids)
    assert len({t.ticket_no for t in tickets.values()}) == 7
    assert len({(t.room, t.seat) for t in tickets.values()}) == 7
    assert len(await kept_pdfs(world.db, ids)) == 7 * len(LOCALES)
