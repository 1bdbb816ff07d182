"""The worker's claim of due outbox rows (storage/repos/outbox.py) on both databases.

On PostgreSQL the claim is one statement that commits by itself and reads each
recipient's language with the rows (issue 17); the notices read the same either way.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.worker_runtime import NoticeRenderer
from storage.db import Database

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
PAYLOAD = {"at": "2026-11-25T10:00:00+08:00"}


async def _queue(db: Database, chat_id: int, locale: str | None) -> None:
    async with db.uow() as uow:
        if locale is not None:
            conv = await uow.conversations.lock_or_create("telegram", chat_id, chat_id, NOW)
            await uow.conversations.save(replace(conv, locale=locale), NOW)
        await uow.outbox.add(
            platform="telegram",
            chat_id=chat_id,
            kind="signed-in-elsewhere",
            payload=PAYLOAD,
            now=NOW,
        )
        await uow.commit()


async def test_r7_a_notice_is_rendered_in_its_recipients_language_when_claimed(
    db: Database,
) -> None:
    await _queue(db, 501, "en")
    await _queue(db, 502, "zh")
    await _queue(db, 503, None)  # never chatted in a language: the default (Chinese)
    statements: list[str] = []
    async with db.uow() as uow:
        with db.watching_statements(statements.append):
            claimed = await uow.outbox.claim("w", NOW, NOW + timedelta(minutes=1), 10, "telegram")
            renderer = NoticeRenderer()
            texts = {m.chat_id: (await renderer.render(uow, m, NOW)).text for m in claimed}
        await uow.commit()
    assert [m.chat_id for m in claimed] == [501, 502, 503]
    assert all(m.status == "sending" and m.lease_owner == "w" for m in claimed)
    assert texts[501] is not None and texts[501].startswith("Your pass account was signed in")
    assert texts[502] is not None and texts[502] == texts[503]
    assert "Your pass account" not in texts[502]
    if not db.is_sqlite:
        # The pick, the lease and the three languages in one statement.
        assert len(statements) == 1, statements


async def test_a_postgresql_claim_stands_even_when_its_unit_of_work_rolls_back(
    db: Database,
) -> None:
    """The claim commits by itself on PostgreSQL (one round trip, no BEGIN): what the
    worker's unit of work does after it cannot undo the lease. Either way nothing is lost:
    a leased row is claimed again once its lease runs out."""
    await _queue(db, 601, "en")
    lease_until = NOW + timedelta(minutes=1)
    async with db.uow() as uow:
        [claimed] = await uow.outbox.claim("w", NOW, lease_until, 10)
        await uow.rollback()
    async with db.uow() as uow:
        again = await uow.outbox.claim("w2", NOW, lease_until, 10)
        later = await uow.outbox.claim("w3", lease_until + timedelta(seconds=1), lease_until, 10)
        await uow.commit()
    if db.is_sqlite:
        assert [m.id for m in again] == [claimed.id]  # rolled back with the unit
    else:
        assert again == []  # leased to "w" until its lease runs out
        assert [m.id for m in later] == [claimed.id]
