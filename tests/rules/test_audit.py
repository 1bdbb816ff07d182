"""The audit log (issue 8) and the administrators' rules (R19, R42) on both databases.

Every change of an entry, review, waitlist, payment or eligibility leaves one row with
who, when, before and after, written in the changing transaction by the repository; the
administrators' services keep each school to its own requests.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from background import jobs
from backoffice import administration
from registration import entries, errors, review, waitlist
from storage.db import Database, UnitOfWork, acting_as
from storage.dto import EntryDTO, RegistrationDTO
from storage.models import AuditRecord
from storage.repos.administration import AdminDTO, AuditDTO
from storage.repos.audit import mask_id_numbers
from tests.rules.conftest import OTHER_SCHOOL, SCHOOL, World
from tests.test_cli import _seed, cli  # noqa: F401 - the fixture is re-used
from tests.worker.conftest import Pay, pay  # noqa: F401 - the fixture is re-used
from tests.worker.helpers import link, press

TICKET = "110010261105118"  # well formed; the rule tests load no score records


def _as(uow: UnitOfWork, world: World, actor: str) -> UnitOfWork:
    uow.actor, uow.clock = actor, world.clock
    return uow


async def _register(
    world: World, reg: RegistrationDTO, subject: str = "CET4", campus: str = "BSU-HD"
) -> EntryDTO:
    async with world.db.uow() as uow:
        _as(uow, world, f"candidate:{reg.account_id}")
        entry = await entries.register_subject(
            uow,
            world.clock,
            registration_id=reg.id,
            subject_code=subject,
            campus_id=world.campus[campus],
        )
        await uow.commit()
    return entry


async def _trail(db: Database, object_type: str, object_id: object) -> list[AuditDTO]:
    async with db.uow(readonly=True) as uow:
        return await uow.administration.audit_of(object_type, str(object_id))


async def _all_audit_text(db: Database) -> str:
    async with db.uow(readonly=True) as uow:
        rows = (await uow.conn.execute(select(AuditRecord))).all()  # tests may read tables
    return "\n".join(repr(tuple(r)) for r in rows)


def _change(a: AuditDTO) -> tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]:
    return a.actor, a.action, a.before, a.after


async def test_every_change_of_an_entry_is_audited_with_actor_time_before_after(
    world: World,
    pay: Pay,  # noqa: F811 - the fixture imported above
) -> None:
    reg = await world.candidate()
    me = f"candidate:{reg.account_id}"
    entry = await _register(world, reg)
    async with world.db.uow() as uow:
        _as(uow, world, me)
        await entries.set_paper_report(
            uow, world.clock, registration_id=reg.id, entry_id=entry.id, paper_report="report"
        )
        await entries.change_campus(
            uow,
            world.clock,
            registration_id=reg.id,
            entry_id=entry.id,
            campus_id=world.campus["BSU-CP"],
        )
        await uow.commit()
    got = await link(world, reg, entry.id, pay.gateway)  # no actor set: "system"
    world.clock.advance(timedelta(minutes=5))
    await press(got.url, "pay")  # the callback: the gateway acts

    trail = await _trail(world.db, "entry", entry.id)
    assert [a.action for a in trail] == ["create", "update", "update", "pay"]
    created, paper, moved, paid = trail
    assert created.actor == me and created.before is None
    assert created.after is not None and created.after["status"] == "unpaid"
    assert created.after["campus_id"] == world.campus["BSU-HD"]
    assert created.at == entry.created_at  # the rules' clock, when the caller set one
    assert _change(paper) == (me, "update", {"paper_report": "none"}, {"paper_report": "report"})
    assert moved.before == {"campus_id": world.campus["BSU-HD"]}
    assert moved.after == {"campus_id": world.campus["BSU-CP"]}
    assert paid.actor == "gateway:sandbox" and paid.before == {"status": "unpaid"}
    assert paid.after is not None and paid.after["status"] == "paid"
    assert paid.at == world.clock.now()

    (payment,) = await _trail_payments(world.db, entry.id)
    assert [(a.actor, a.action) for a in payment] == [
        ("system", "create"),
        ("gateway:sandbox", "finish"),
    ]
    assert payment[0].after is not None and "link" not in payment[0].after
    assert payment[1].before == {"status": "pending"}
    # The operator's view: the entry and its payments, in the order they happened.
    async with world.db.uow(readonly=True) as uow:
        merged = await administration.audit_trail(uow, entry_id=entry.id)
    assert [(a.object_type, a.action) for a in merged] == [
        ("entry", "create"),
        ("entry", "update"),
        ("entry", "update"),
        ("payment", "create"),
        ("entry", "pay"),
        ("payment", "finish"),
    ]


async def _trail_payments(db: Database, entry_id: int) -> list[list[AuditDTO]]:
    async with db.uow(readonly=True) as uow:
        ids = [p.id for p in await uow.payments.of_entry(entry_id)]
    return [await _trail(db, "payment", pid) for pid in ids]


async def test_the_worker_expiry_and_window_close_are_audited_as_the_worker(world: World) -> None:
    reg = await world.candidate()
    entry = await _register(world, reg)
    world.clock.advance(timedelta(hours=25))
    result = await jobs.sweep_expired(world.db, world.clock, None)
    assert [e.id for e in result.expired] == [entry.id]
    ended = (await _trail(world.db, "entry", entry.id))[-1]
    assert _change(ended) == (
        "worker",
        "end",
        {"status": "unpaid"},
        {"status": "expired", "end_reason": "unpaid-24h", "ended_at": ended.at.isoformat()},
    )
    assert ended.at == world.clock.now()


async def test_waitlist_join_promotion_and_close_are_audited(world: World) -> None:
    await world.set_capacity("BSU-HD", "CET4", 1)
    holder = await world.candidate()
    held = await _register(world, holder)
    waiter = await world.candidate()
    latecomer = await world.candidate()
    joined = []
    for reg in (waiter, latecomer):
        async with world.db.uow() as uow:
            _as(uow, world, f"candidate:{reg.account_id}")
            joined.append(
                await waitlist.join_waitlist(
                    uow,
                    world.clock,
                    registration_id=reg.id,
                    campus_id=world.campus["BSU-HD"],
                    subject_code="CET4",
                )
            )
            await uow.commit()
    # The holder cancels: the seat goes to the waiter (R37), a change the holder caused.
    async with world.db.uow() as uow:
        _as(uow, world, f"candidate:{holder.account_id}")
        _, promotions = await entries.cancel_entry(
            uow, world.clock, registration_id=holder.id, entry_id=held.id
        )
        await uow.commit()
    (promotion,) = promotions
    first = await _trail(world.db, "waitlist", joined[0].id)
    assert [(a.actor, a.action) for a in first] == [
        (f"candidate:{waiter.account_id}", "create"),
        (f"candidate:{holder.account_id}", "finish"),
    ]
    assert first[1].before == {"status": "waiting"}
    assert first[1].after is not None and first[1].after["entry_id"] == promotion.entry.id
    assert (await _trail(world.db, "entry", held.id))[-1].after == {
        "status": "cancelled",
        "end_reason": "cancelled",
        "ended_at": world.clock.now().isoformat(),
    }
    assert (await _trail(world.db, "entry", promotion.entry.id))[0].action == "create"
    # The window closes: one statement closes every queue, one audit row per place.
    world.after_window()
    assert await jobs.close_finished_windows(world.db, world.clock) == 1
    closed = (await _trail(world.db, "waitlist", joined[1].id))[-1]
    assert _change(closed) == (
        "worker",
        "close",
        {"status": "waiting"},
        {
            "status": "closed",
            "finished_at": world.clock.now().isoformat(),
            "cancel_reason": "window-closed",
        },
    )


async def test_registering_the_level_directly_closes_its_waitlist_audited(world: World) -> None:
    await world.set_capacity("BSU-HD", "CET4", 1)
    await _register(world, await world.candidate())
    reg = await world.candidate()
    async with world.db.uow() as uow:
        place = await waitlist.join_waitlist(
            uow,
            world.clock,
            registration_id=reg.id,
            campus_id=world.campus["BSU-HD"],
            subject_code="CET4",
        )
        await uow.commit()
    await _register(world, reg, campus="BSU-CP")
    closed = (await _trail(world.db, "waitlist", place.id))[-1]
    assert (closed.actor, closed.action) == (f"candidate:{reg.account_id}", "close")
    assert closed.after is not None and closed.after["cancel_reason"] == "registered"


async def test_a_refused_or_rolled_back_change_leaves_no_trail(world: World) -> None:
    await world.set_capacity("BSU-HD", "CET4", 0)
    reg = await world.candidate()
    with pytest.raises(errors.SeatsFull):
        await _register(world, reg)
    async with world.db.uow() as uow:
        await entries.register_subject(
            uow,
            world.clock,
            registration_id=reg.id,
            subject_code="CET4",
            campus_id=world.campus["BSU-CP"],
        )
        # Left without commit: the entry and its audit row go together.
    assert "'entry'" not in await _all_audit_text(world.db)


async def test_actor_and_clock_default_from_acting_as_else_system_and_wall_time(
    world: World,
) -> None:
    async with world.db.uow() as uow:
        assert (uow.actor, uow.clock) == ("system", None)
    async with acting_as("worker", world.clock):
        async with world.db.uow() as uow:
            assert (uow.actor, uow.clock) == ("worker", world.clock)
    async with world.db.uow() as uow:
        assert uow.actor == "system"


async def _school_admin(world: World, user_id: int, school: str | None) -> AdminDTO:
    async with world.db.uow() as uow:
        admin = await administration.add_admin(
            uow, world.clock, platform="telegram", user_id=user_id, school=school
        )
        await uow.commit()
    return admin


async def _pending_review(world: World, school: str = SCHOOL) -> tuple[RegistrationDTO, int]:
    campus = "BSU-HD" if school == SCHOOL else "JNIT-MAIN"
    reg = await world.candidate(school=school, campus=campus)
    async with world.db.uow() as uow:
        _as(uow, world, f"candidate:{reg.account_id}")
        asked = await review.request_review(
            uow,
            world.clock,
            account_id=reg.account_id,
            session_id=world.session_id,
            record_id=reg.record_id,
            ticket_no=TICKET,
        )
        await uow.commit()
    assert asked.status == "not_reviewed"  # R18: not in the score records
    return reg, asked.id


async def test_r42_a_school_admin_sees_and_decides_only_their_school(world: World) -> None:
    mine_reg, mine = await _pending_review(world)
    _, theirs = await _pending_review(world, OTHER_SCHOOL)
    admin = await _school_admin(world, 4200000001, SCHOOL)
    authority = await _school_admin(world, 4200000002, None)
    async with world.db.uow() as uow:
        assert [r.id for r in await administration.review_queue(uow, admin, session_id=None)] == [
            mine
        ]
        everything = await administration.review_queue(uow, authority, session_id=None)
        assert [r.id for r in everything] == [mine, theirs]
        evidence = await administration.review_evidence(uow, admin, review_id=mine)
        assert evidence.record.school == SCHOOL and evidence.score is None
        with pytest.raises(errors.Forbidden):
            await administration.review_evidence(uow, admin, review_id=theirs)
        with pytest.raises(errors.Forbidden):
            await administration.decide(
                uow, world.clock, admin, review_id=theirs, approve=True, note="ok"
            )
        with pytest.raises(errors.InvalidInput):
            await administration.decide(
                uow, world.clock, admin, review_id=mine, approve=True, note="  "
            )
    async with world.db.uow() as uow:
        uow.actor = administration.actor_of(admin)
        decided = await administration.decide(
            uow, world.clock, admin, review_id=mine, approve=True, note="证明已核对"
        )
        await uow.commit()
    assert decided.status == "approved" and decided.decided_by == "admin:telegram:4200000001"
    trail = await _trail(world.db, "review", mine)
    assert [(a.actor, a.action) for a in trail] == [
        (f"candidate:{mine_reg.account_id}", "create"),
        ("admin:telegram:4200000001", "decide"),
    ]
    assert trail[1].before == {"status": "not_reviewed"}
    granted = await _trail(world.db, "record", mine_reg.record_id)
    assert [(a.action, a.after) for a in granted] == [
        ("eligible", {"subject_code": "CET6", "source": "review"})
    ]
    async with world.db.uow(readonly=True) as uow:
        still = await uow.reviews.get(theirs)
    assert still is not None and still.status == "not_reviewed"


async def test_r42_admin_user_ids_are_the_authority_and_others_are_nobody(world: World) -> None:
    async with world.db.uow(readonly=True) as uow:
        found = await administration.admin_for(
            uow, platform="telegram", user_id=777, authority_ids={777}
        )
        assert found is not None and found.school is None
        assert await administration.admin_for(uow, platform="telegram", user_id=778) is None


async def test_no_id_number_reaches_the_audit_log(world: World) -> None:
    number = "110108200503140231"
    reg = await world.candidate(id_number=number)
    await _register(world, reg)
    _, pending = await _pending_review(world)
    admin = await _school_admin(world, 4200000003, SCHOOL)
    async with world.db.uow() as uow:
        # Even typed into a note, the number is masked in the log (and in its text).
        await administration.decide(
            uow, world.clock, admin, review_id=pending, approve=False, note=f"见 {number}"
        )
        await uow.commit()
    text = await _all_audit_text(world.db)
    assert number not in text and "110108********0231" in text
    assert mask_id_numbers(f"x{number}") == f"x{number}"  # only whole numbers are masked


def test_cli_admin_audit_shows_the_trail(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    import asyncio
    import os

    _seed(cli)

    async def book() -> int:
        db = Database(os.environ["DATABASE_URL"])
        try:
            async with db.uow() as uow:
                _, entry_id = await _book_first_candidate(uow)
                await uow.commit()
            return entry_id
        finally:
            await db.dispose()

    entry_id = asyncio.run(book())
    code, out = cli("admin", "audit", str(entry_id))
    assert code == 0, out
    assert "candidate:" in out and "create" in out and "status" in out
    code, out = cli("admin", "audit", "999999")
    assert code == 0 and "no recorded changes" in out


async def _book_first_candidate(uow: UnitOfWork) -> tuple[int, int]:
    """The first roster record gets an account and an entry, acting as its candidate."""
    from foundation.clock import FrozenClock
    from registration import eligibility

    session = await uow.sessions.by_code("2026-12")
    assert session is not None
    clock = FrozenClock(session.opens_at + timedelta(days=1))
    record = await uow.records.get(1)
    assert record is not None
    created = await uow.accounts.create("audit@example.com", "x", clock.now())
    await uow.accounts.mark_verified(created.id, clock.now())
    account = await uow.accounts.get(created.id)
    assert account is not None
    uow.actor, uow.clock = f"candidate:{account.id}", clock
    reg = await eligibility.save_registration(
        uow,
        clock,
        account=account,
        session_id=session.id,
        record_id=record.id,
        phone="13912345678",
        agreed=True,
    )
    subject = sorted(record.eligible)[0]
    campus = await uow.sessions.campus_by_code(session.id, record.campus_code)
    assert campus is not None
    entry = await entries.register_subject(
        uow, clock, registration_id=reg.id, subject_code=subject, campus_id=campus.id
    )
    return reg.id, entry.id
