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
