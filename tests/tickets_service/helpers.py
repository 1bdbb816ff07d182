"""Candidates, payments, print times and seat assignment for the ticket service tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from admission.tickets import assign_seats
from registration import entries
from storage.db import Database
from storage.dto import EntryDTO, RegistrationDTO, StudentRecordDTO
from tests.rules.conftest import World

# The example session: oral tickets print from 2 December 09:00, written from 7 December.
PRINT_ORAL = datetime.fromisoformat("2026-12-02T09:00:00+08:00")
PRINT_WRITTEN = datetime.fromisoformat("2026-12-07T09:00:00+08:00")


@dataclass(frozen=True)
class Candidate:
    registration: RegistrationDTO
    record: StudentRecordDTO
    entries: dict[str, EntryDTO]


async def register(world: World, reg_id: int, subject: str, campus: str) -> EntryDTO:
    async with world.db.uow() as uow:
        entry = await entries.register_subject(
            uow,
            world.clock,
            registration_id=reg_id,
            subject_code=subject,
            campus_id=world.campus[campus],
        )
        await uow.commit()
    return entry


async def pay(world: World, entry_id: int) -> EntryDTO:
    async with world.db.uow() as uow:
        paid = await entries.mark_paid(uow, world.clock, entry_id=entry_id)
        await uow.commit()
    return paid


async def candidate(
    world: World,
    subjects: tuple[str, ...] = ("CET4",),
    *,
    campus: str = "BSU-HD",
    paid: bool = True,
    **record_kw: Any,
) -> Candidate:
    """A candidate registered (during the window) for `subjects` at `campus`, paid or not."""
    eligible = tuple(s for s in subjects if "-SET" not in s) or ("CET4",)
    record_kw.setdefault("eligible", eligible)
    if campus == "JNIT-MAIN":
        record_kw.setdefault("school", "江南理工学院")
        record_kw.setdefault("campus", "JNIT-MAIN")
    else:
        record_kw.setdefault("campus", campus)
    reg = await world.candidate(**record_kw)
    held: dict[str, EntryDTO] = {}
    for subject in subjects:
        held[subject] = await register(world, reg.id, subject, campus)
    if paid:
        for subject in subjects:  # written first, as R27 wants
            held[subject] = await pay(world, held[subject].id)
    async with world.db.uow(readonly=True) as uow:
        record = await uow.records.get(reg.record_id)
    assert record is not None
    return Candidate(reg, record, held)


async def set_session(world: World, **values: Any) -> None:
    """Changes fields of the example session (room size, print times) in place."""
    async with world.db.uow() as uow:
        await uow.sessions.upsert({"code": "2026-12", **values})
        await uow.commit()


def at_written_print(world: World) -> None:
    world.clock.set(PRINT_WRITTEN + timedelta(minutes=1))


def at_oral_print(world: World) -> None:
    world.clock.set(PRINT_ORAL + timedelta(minutes=1))


async def assign(world: World, db: Database | None = None) -> int:
    async with (db or world.db).uow() as uow:
        count = await assign_seats(uow, world.clock, session_id=world.session_id)
        await uow.commit()
    return count
