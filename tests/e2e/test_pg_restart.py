"""Issue 20, robust intake: after PostgreSQL drops the connections (pg_terminate_backend, a
restart), no candidate's message is lost: the unit of work on a dead pooled connection is
retried once on a fresh one (it was rolled back, so nothing is applied twice)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import BotApp
from cetbot.demo import seed_example_session
from foundation.i18n import t
from storage.db import Database, UnitOfWork
from tests.conftest import _pg_truncate
from tests.e2e.conftest import DEMO_NOW, BotHarness, Chat, real_engine

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

USER = 750_001


async def kill_backends(url: str) -> int:
    """Terminates every other backend of this test's own database, as a restart would."""
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            killed = await conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            return int(killed.scalar_one())
    finally:
        await engine.dispose()


@pytest.fixture
def seeded_pg(pg_url: str) -> str:
    async def seed() -> None:
        await _pg_truncate(pg_url)
        database = Database(pg_url)
        try:
            await seed_example_session(database, DEMO_NOW.date())
        finally:
            await database.dispose()

    asyncio.run(seed())
    return pg_url


async def test_killed_backends_cost_no_candidates_message(
    harness: BotHarness, seeded_pg: str, chat_factory: Callable[[BotApp, int], Chat]
) -> None:
    app = await harness.polling(harness.build(seeded_pg, engine=real_engine))
    candidate = chat_factory(app, USER)
    await candidate.start(language_code="en")
    apology = t("en", "bot-error-apology")
    await candidate.command("start")
    menu = await candidate.last_text()
    assert menu != apology
    for round_ in range(3):
        # Every pooled connection is dead now; the bot does not know yet.
        assert await kill_backends(seeded_pg) >= 1, "the bot held no connection to kill"
        await candidate.command("start")
        assert await candidate.last_text() == menu, f"round {round_}: answered with an apology"
        await candidate.command("help")
        assert await candidate.last_text() != apology
    assert app.adapter.runner.stats.failed_events == 0
    texts = [m["text"] for m in await candidate.messages()]
    assert apology not in texts


async def test_a_unit_of_work_on_a_dead_connection_is_retried_once_and_applied_once(
    seeded_pg: str,
) -> None:
    database = Database(seeded_pg, pool_size=4)
    try:

        async def hold() -> None:
            async with database.uow() as uow:
                await uow.sessions.all()
                await asyncio.sleep(0.05)  # four at once: the pool opens four connections

        await asyncio.gather(*(hold() for _ in range(4)))
        assert await kill_backends(seeded_pg) >= 1
        calls = 0

        async def add_news(uow: UnitOfWork) -> None:
            nonlocal calls
            calls += 1
            await uow.administration.add_news(
                {
                    "title_zh": "标题",
                    "title_en": "title",
                    "body_zh": "正文",
                    "body_en": "body",
                    "published_at": DEMO_NOW,
                }
            )
            await uow.commit()

        await database.run(add_news)
        assert calls == 2  # the first try met a dead connection; the retry went through
        async with database.uow(readonly=True) as uow:
            assert len(await uow.administration.latest_news(None, DEMO_NOW, 10)) == 1
    finally:
        await database.dispose()
