"""A seeded session for the rule tests: the example session, records made to order."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text

from backoffice import authority
from backoffice.importing import parse_session_toml
from foundation.clock import FrozenClock
from registration import eligibility
from registration.identity import make_id_card_number
from storage.db import Database
from storage.dto import AccountDTO, RegistrationDTO, StudentRecordDTO
from tests.conftest import ROOT

SESSION_FILE = ROOT / "examples" / "session-2026-12.toml"
SCHOOL = "北京示范大学"
OTHER_SCHOOL = "江南理工学院"


@dataclass
class World:
    db: Database
    clock: FrozenClock
    session_id: int
    campus: dict[str, int]
    opens_at: datetime
    closes_at: datetime
    _seq: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def waiting_for_the_registration(self, who: str) -> None:
        """Until a unit of work (`who`: a booking, a pay link...) waits behind the holder of
        a registration's lock (bounded: 10 s): on SQLite it queues for the one writer, on
        PostgreSQL for the row locked by `UPDATE registrations` (or, in the booking's, the
        pay link's and the payment callback's statements, `FOR NO KEY UPDATE` of the
        registration)."""
        end = asyncio.get_running_loop().time() + 10
        while asyncio.get_running_loop().time() < end:
            if self.db.is_sqlite:
                lock = self.db._write_lock
                assert lock is not None
                if getattr(lock, "_waiters", None):
                    return
            elif await self.pg_lock_waiters(
                "%UPDATE registrations%", "%FROM registrations%FOR NO KEY UPDATE%"
            ):
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"the {who} never waited for the registration")

    async def pg_lock_waiters(self, *queries: str) -> int:
        """PostgreSQL: the sessions of this database waiting for a lock while running a
        statement LIKE one of `queries`."""
        like = " OR ".join(f"query LIKE :q{i}" for i in range(len(queries)))
        async with self.db.engine.connect() as conn:
            waiting = await conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname ="
                    f" current_database() AND wait_event_type = 'Lock' AND ({like})"
                ),
                {f"q{i}": q for i, q in enumerate(queries)},
            )
            return int(waiting.scalar_one())

    async def record(
        self,
        *,
        name: str = "张伟",
        eligible: tuple[str, ...] = ("CET4",),
        school: str = SCHOOL,
        campus: str = "BSU-HD",
        id_number: str | None = None,
    ) -> StudentRecordDTO:
        n = next(self._seq)
        number = id_number or make_id_card_number("110108", date(2005, 3, 1), n % 1000)
        async with self.db.uow() as uow:
            await uow.records.bulk_upsert(
                self.session_id,
                [
                    {
                        "name": name,
                        "gender": "M",
                        "id_type": "id_card",
                        "id_number": number,
                        "school": school,
                        "campus_code": campus,
                        "student_no": f"S{n:06d}",
                        "phone": "13800000000",
                        "has_photo": False,
                    }
                ],
                {("id_card", number): list(eligible)},
                {},
            )
            rec = await uow.records.find(self.session_id, "id_card", number)
            await uow.commit()
        assert rec is not None
        return rec

    async def account(self, email: str | None = None) -> AccountDTO:
        n = next(self._seq)
        async with self.db.uow() as uow:
            acc = await uow.accounts.create(email or f"c{n}@example.com", "x", self.clock.now())
            await uow.accounts.mark_verified(acc.id, self.clock.now())
            acc = await uow.accounts.get(acc.id)
            await uow.commit()
        assert acc is not None
        return acc

    async def candidate(self, **record_kw: object) -> RegistrationDTO:
        """A verified account with saved registration information for a new record."""
        rec = await self.record(**record_kw)  # type: ignore[arg-type]
        acc = await self.account()
        async with self.db.uow() as uow:
            reg = await eligibility.save_registration(
                uow,
                self.clock,
                account=acc,
                session_id=self.session_id,
                record_id=rec.id,
                phone="13912345678",
                agreed=True,
            )
            await uow.commit()
        return reg

    async def set_capacity(self, campus: str, subject: str, n: int) -> None:
        async with self.db.uow() as uow:
            await authority.set_capacity(
                uow, self.clock, campus_id=self.campus[campus], subject_code=subject, capacity=n
            )
            await uow.commit()

    async def seats(self, campus: str, subject: str) -> tuple[int, int]:
        async with self.db.uow(readonly=True) as uow:
            s = await uow.sessions.seats(self.campus[campus], subject)
        assert s is not None
        return s.capacity, s.taken

    def before_window(self) -> None:
        self.clock.set(self.opens_at - timedelta(days=1))

    def after_window(self) -> None:
        self.clock.set(self.closes_at + timedelta(hours=1))


@pytest.fixture
async def world(db: Database, clock: FrozenClock) -> World:
    spec = parse_session_toml(SESSION_FILE)
    async with db.uow() as uow:
        session_id = await authority.load_session(uow, spec)
        campuses = {c.code: c.id for c in await uow.sessions.campuses(session_id)}
        await uow.commit()
    return World(
        db,
        clock,
        session_id,
        campuses,
        spec.windows.registration_opens,
        spec.windows.registration_closes,
    )
