"""Under a generic plan every statement of the main path still finds its rows by an index.

The bot's and the worker's pooled connections on PostgreSQL plan each prepared statement
once, without its parameters' values (`plan_cache_mode = force_generic_plan`, storage/db.py;
issue 17, tenth round). A value that is a bound parameter then cannot match a partial
index's condition (`WHERE status = 'active'`): such a statement would read the whole table
at every update, which is why the repositories write their status words into the SQL
(`status_is`). Here the statements that a candidate's updates (sign-up to paid), the
payment's settlement, the worker's outbox claim and its periodic jobs send
(`watching_statements`) are prepared again on a connection of their own and explained
under a generic plan with sequential scans disabled: a table still read whole is one that
no index can serve for the statement. Plans are counted, not timed.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import make_url

from background import jobs
from storage.db import Database
from tests.conversation.conftest import Chat, Harness
from tests.conversation.flows_helpers import ZHANG, ZHOU, save_information, sign_up
from tests.conversation.scenarios import bank_says_paid

POSTGRESQL = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)

# Tables that stay small whatever the roster (a session's own data, the staff): a statement
# may read them whole. Every other table grows with the candidates.
SMALL = frozenset(
    {"exam_sessions", "subjects", "session_subjects", "campuses", "campus_seats", "admins", "news"}
)
_PLANNED = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


def _dsn(db: Database) -> str:
    return make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)


def _scans(node: dict[str, Any]) -> list[str]:
    found = [node["Relation Name"]] if node["Node Type"] == "Seq Scan" else []
    for child in node.get("Plans", ()):
        found += _scans(child)
    return found


async def generic_plan_scans(conn: asyncpg.Connection, sql: str) -> list[str]:
    """The tables a generic plan of `sql` reads whole although sequential scans are off:
    those no index can serve for it."""
    await conn.execute("SET plan_cache_mode = force_generic_plan")
    await conn.execute("SET enable_seqscan = off")
    await conn.execute(f"PREPARE probe AS {sql}")
    try:
        count = await conn.fetchval(
            "SELECT cardinality(parameter_types) FROM pg_prepared_statements WHERE name = 'probe'"
        )
        args = ", ".join(["NULL"] * count)
        explained = await conn.fetchval(
            f"EXPLAIN (FORMAT JSON) EXECUTE probe{f'({args})' if count else ''}"
        )
    finally:
        await conn.execute("DEALLOCATE probe")
    return _scans(json.loads(explained)[0]["Plan"])


async def _register_and_pay(h: Harness, chat: Chat) -> None:
    await chat.command("start")
    await chat.press("我的报名")
    await chat.press("报考科目")
    await chat.press("英语四级")
    await chat.press("海淀校区")
    await chat.press("不需要")
    assert "已报考 英语四级" in chat.text
    await chat.press("去支付")
    await chat.press("更新支付状态")  # the gateway is down (its port refuses)
    await bank_says_paid(h)
    await chat.press("更新支付状态")
    assert "已支付" in chat.text, chat.text


async def _worker_round(h: Harness) -> None:
    """What the worker runs over and over: its outbox claim and its periodic jobs."""
    now = h.clock.now()
    async with h.db.uow() as uow:
        await uow.outbox.claim("worker-1", now, now + timedelta(minutes=1), 10)
        await uow.outbox.next_due()
        await uow.commit()
    await jobs.sweep_expired(h.db, h.clock, None)
    await jobs.queue_reminders(h.db, h.clock, (24 * 60, 60))
    await jobs.promote_free_seats(h.db, h.clock)
    await jobs.close_finished_windows(h.db, h.clock)
    await jobs.forget_old_nonces(h.db, h.clock)
    await jobs.ticket_jobs(h.db, h.clock, h.settings)


@POSTGRESQL
async def test_the_main_paths_statements_use_an_index_under_a_generic_plan(
    harness: Harness,
) -> None:
    harness.db.session_cache.ttl = 3600
    first = harness.chat()
    await sign_up(harness, first, "first@example.com")
    await save_information(first, ZHANG)
    await _register_and_pay(harness, first)
    second = harness.chat()
    sent: set[str] = set()
    with harness.db.watching_statements(sent.add):
        # The second candidate runs with the processes' caches warm (as in a rush).
        await sign_up(harness, second, "second@example.com")
        await save_information(second, ZHOU)
        await _register_and_pay(harness, second)
        await harness.bot.flush_clears()  # the kept replies' clears, written together
        await _worker_round(harness)
    statements = sorted(s for s in sent if s.lstrip().upper().startswith(_PLANNED))
    # The snapshot with the conversation, the booking's and the pay link's statements.
    assert any(s.lstrip().startswith("WITH candidate") for s in statements), statements
    assert any("FROM unnest(" in s for s in statements), statements  # the clears' batch
    assert len(statements) >= 40, statements
    conn = await asyncpg.connect(_dsn(harness.db))
    try:
        whole = {sql: await generic_plan_scans(conn, sql) for sql in statements}
    finally:
        await conn.close()
    bad = {sql: tables for sql, tables in whole.items() if set(tables) - SMALL}
    assert not bad, bad


@POSTGRESQL
async def test_a_bound_status_reads_the_whole_table_under_a_generic_plan(
    harness: Harness,
) -> None:
    """The check above can fail: the active registration looked up with its status bound
    matches the partial index under a custom plan only, and the generic plan scans."""
    literal = (
        "SELECT id FROM registrations WHERE session_id = $1 AND account_id = $2"
        " AND status = 'active'"
    )
    bound = "SELECT id FROM registrations WHERE session_id = $1 AND account_id = $2 AND status = $3"
    conn = await asyncpg.connect(_dsn(harness.db))
    try:
        assert await generic_plan_scans(conn, literal) == []
        assert await generic_plan_scans(conn, bound) == ["registrations"]
        # With the value in hand (a custom plan) the planner matches the partial index.
        custom = bound.replace("$3", "'active'").replace("$1", "1").replace("$2", "2")
        await conn.execute("SET enable_seqscan = off")
        explained = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {custom}")
        assert _scans(json.loads(explained)[0]["Plan"]) == []
    finally:
        await conn.close()


@POSTGRESQL
async def test_pooled_connections_plan_generically(harness: Harness) -> None:
    """Every connection of the product's pool (the bot's, the worker's) says so."""
    async with harness.db.engine.connect() as conn:
        mode = (await conn.exec_driver_sql("SHOW plan_cache_mode")).scalar()
    assert mode == "force_generic_plan"
