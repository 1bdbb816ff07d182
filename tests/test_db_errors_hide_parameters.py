"""Issue 20, robust intake: a database error during an ID-number look-up must not put the
number into the exception text or the log (engines hide SQL parameters), on both databases."""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import Database

# A well-formed mainland ID number (fictional): what an error message must never show.
ID_NUMBER = "11010520030714123X"


async def _ddl(url: str, sql: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture
async def records_gone(db_url: str) -> AsyncIterator[None]:
    """The look-up's table is missing (a half-applied migration, a restore in progress):
    the database refuses the statement that carries the ID number."""
    await _ddl(db_url, "ALTER TABLE student_records RENAME TO student_records_away")
    try:
        yield
    finally:
        await _ddl(db_url, "ALTER TABLE student_records_away RENAME TO student_records")


async def test_database_error_in_id_lookup_keeps_the_id_number_out_of_error_and_log(
    db: Database, records_gone: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG), pytest.raises(Exception) as raised:
        async with db.uow(readonly=True) as uow:
            await uow.records.find_by_id_number(1, ID_NUMBER)
    logging.getLogger("test").exception("look-up failed", exc_info=raised.value)
    said = "".join(traceback.format_exception(raised.value)) + caplog.text
    assert "student_records" in said  # the error is there, with its SQL...
    assert ID_NUMBER not in said  # ...but not the candidate's number
    assert ID_NUMBER[6:14] not in said  # nor the birth date inside it


async def test_unique_violation_detail_keeps_the_id_number_out(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    # PostgreSQL's DETAIL quotes the duplicate key ("Key (...)=(<ID number>) already exists").
    await _ddl(db.url, "CREATE TABLE id_probe (id_number VARCHAR(32) UNIQUE)")
    try:
        async with db.uow() as uow:
            await uow.conn.execute(text(f"INSERT INTO id_probe VALUES ('{ID_NUMBER}')"))
            await uow.commit()
        with pytest.raises(Exception) as raised:
            async with db.uow() as uow:
                await uow.conn.execute(text("INSERT INTO id_probe VALUES (:n)"), {"n": ID_NUMBER})
        logging.getLogger("test").exception("insert failed", exc_info=raised.value)
        said = "".join(traceback.format_exception(raised.value)) + caplog.text
        assert "id_probe" in said
        assert ID_NUMBER not in said
    finally:
        await _ddl(db.url, "DROP TABLE id_probe")
