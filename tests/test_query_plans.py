"""The statements every chat update runs find their rows through an index (SQLite plans).

A bound status value hides a partial index (`WHERE status = 'active'`) from SQLite's
planner, and the statement then reads the whole table on every update: with a national
roster that is millions of rows per button press. Counts of plans, not timings.

PostgreSQL's side, where the pooled connections use generic plans (which see no bound
value either): tests/conversation/test_generic_plans.py explains every statement the main
path and the worker send.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.dialects import sqlite

from storage.models import Base
from storage.repos import accounts, conversations, payments, records, registrations, sessions

HOT = {
    "conversation touch": conversations._TOUCH,
    "conversation save": conversations._SAVE,
    "conversation get": conversations._GET,
    "account and registration": accounts._BOUND_AND_REGISTRATION,
    "account": accounts._GET,
    "active registration of account": registrations._ACTIVE_OF_ACCOUNT,
    "registration": registrations._REGISTRATION,
    "registration lock": registrations._LOCK,
    "entry": registrations._ENTRY,
    "active entries": registrations._ACTIVE_ENTRIES,
    "reviews of record": registrations._REVIEWS_OF_RECORD,
    "waitlists": registrations._WAITLISTS_ALL,
    "waiting places": registrations._WAITLISTS_WAITING,
    "record with eligibility": records._GET_WITH_ELIGIBILITY,
    "pending payment": payments._PENDING_OF_ENTRY,
    "seats": sessions._SEATS,
}


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = Path(tmp_path_factory.mktemp("plans")) / "plans.db"
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    connection = sqlite3.connect(path)
    yield connection
    connection.close()


@pytest.mark.parametrize("name", sorted(HOT))
def test_hot_statement_reads_no_whole_table(conn: Any, name: str) -> None:
    sql = str(HOT[name].compile(dialect=sqlite.dialect()))
    plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, [1] * sql.count("?"))]
    scans = [step for step in plan if step.startswith("SCAN")]
    assert not scans, (name, plan)


def test_a_bound_status_would_scan(conn: Any) -> None:
    """The check above can fail: the same look-up with the status bound scans."""
    from sqlalchemy import select

    reg = registrations.REG
    bound = select(reg).where(reg.c.session_id == 1, reg.c.account_id == 1, reg.c.status == "x")
    sql = str(bound.compile(dialect=sqlite.dialect()))
    plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, [1] * sql.count("?"))]
    assert any(step.startswith("SCAN") for step in plan), plan
