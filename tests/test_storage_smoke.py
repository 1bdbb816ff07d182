"""The storage layer opens, writes and reads on both databases."""

from datetime import UTC, datetime

from storage.db import Database


async def test_unit_of_work_commits_once_and_rolls_back_otherwise(db: Database) -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)
    async with db.uow() as uow:
        await uow.accounts.create("a@example.com", "h", now)
        # no commit: rolled back
    async with db.uow() as uow:
        assert await uow.accounts.by_email("a@example.com") is None
        acc = await uow.accounts.create("a@example.com", "h", now)
        await uow.accounts.bind("telegram", 2**40, acc.id, now)  # BIGINT chat ids
        await uow.commit()
    async with db.uow(readonly=True) as uow:
        found = await uow.accounts.bound_account("telegram", 2**40)
        assert found is not None and found.email == "a@example.com"
        assert found.created_at == now


async def test_r7_racing_account_creation_reports_a_conflict_not_a_db_error(db: Database) -> None:
    from storage.errors import Conflict

    now = datetime(2026, 11, 25, tzinfo=UTC)
    async with db.uow() as first:
        await first.accounts.create("race@example.com", "h", now)
        await first.commit()
    async with db.uow() as second:
        try:
            await second.accounts.create("race@example.com", "h", now)
        except Conflict:
            pass
        else:
            raise AssertionError("duplicate e-mail accepted")
        # The transaction is still usable after the refusal (savepoint).
        assert await second.accounts.by_email("race@example.com") is not None
