"""The candidate's snapshot (storage/repos/snapshot.py) equals the one-by-one reads.

On PostgreSQL one statement reads the bound account, its active registration, the record
with its eligibility, the active entries, the waitlists and the reviews; the chat answers
its look-ups from it. Every DTO must be what the repositories build (same values, same
types: aware UTC instants, a frozenset of eligible subjects), for every shape a candidate
can be in. SQLite reads them one by one (no snapshot there).
"""

from __future__ import annotations

import asyncio
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.conversation.context import Ctx
from bot.conversation.types import Event, EventKind
from foundation.settings import Settings
from outgoing.mailer import MailboxMailer
from storage.db import UnitOfWork
from storage.dto import EntryDTO, RegistrationDTO
from storage.repos import snapshot
from storage.repos.snapshot import CandidateSnapshot
from tests.rules.conftest import World

PLATFORM = "telegram"


async def _one_by_one(uow: UnitOfWork, user_id: int, session_id: int) -> CandidateSnapshot:
    """What the chat read before the snapshot, statement by statement."""
    account, reg = await uow.accounts.bound_account_and_registration(PLATFORM, user_id, session_id)
    if account is None or reg is None:
        return CandidateSnapshot(account=account)
    return CandidateSnapshot(
        account=account,
        registration=reg,
        record=await uow.records.get(reg.record_id),
        entries=tuple(await uow.entries.of_registration(reg.id)),
        waitlists=tuple(await uow.waitlists.of_registration(reg.id)),
        reviews=tuple(await uow.reviews.of_record(reg.session_id, reg.record_id)),
    )


def _same(ours: Any, theirs: Any, where: str = "snapshot") -> None:
    """Equal, and of the same types all the way down (an aware instant is not a naive
    one, a list of subjects is not a frozenset)."""
    assert type(ours) is type(theirs), (where, ours, theirs)
    if isinstance(ours, tuple | list):
        assert len(ours) == len(theirs), (where, ours, theirs)
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            _same(a, b, f"{where}[{i}]")
    elif hasattr(ours, "__dataclass_fields__"):
        for f in fields(ours):
            _same(getattr(ours, f.name), getattr(theirs, f.name), f"{where}.{f.name}")
    else:
        assert ours == theirs, (where, ours, theirs)
        if isinstance(ours, datetime):
            assert ours.tzinfo is theirs.tzinfo, (where, ours, theirs)


async def _check(world: World, user_id: int) -> CandidateSnapshot:
    async with world.db.uow(readonly=True) as uow:
        found = await uow.accounts.candidate_snapshot(PLATFORM, user_id, world.session_id)
        expected = await _one_by_one(uow, user_id, world.session_id)
        if not world.db.is_sqlite:
            # The same statement through SQLAlchemy (where `storage.direct` does not send
            # it) builds the same snapshot.
            params = {
                "b_platform": PLATFORM,
                "b_user_id": user_id,
                "b_session_id": world.session_id,
            }
            _same(
                snapshot.build((await uow.conn.execute(snapshot.STATEMENT, params)).all()), expected
            )
    if world.db.is_sqlite:
        assert found is None  # read one by one there
        return expected
    assert found is not None
    _same(found, expected)
    return found


async def _bind(world: World, user_id: int, account_id: int) -> None:
    async with world.db.uow() as uow:
        await uow.accounts.bind(PLATFORM, user_id, account_id, world.clock.now())
        await uow.commit()


def _entry(reg: RegistrationDTO, campus_id: int, subject: str, now: datetime) -> dict[str, Any]:
    oral = subject.startswith("CJ")
    return {
        "registration_id": reg.id,
        "session_id": reg.session_id,
        "subject_code": subject,
        "campus_id": campus_id,
        "kind": "oral" if oral else "written",
        "level": 4 if "4" in subject else 6,
        "written_level": 4 if oral else None,
        "status": "unpaid",
        "paper_report": "none",
        "fee_fen": 3000,
        "created_at": now,
        "expires_at": now + timedelta(hours=24),
    }


async def test_no_account_bound_and_an_account_without_registration(world: World) -> None:
    found = await _check(world, 501)
    assert found.account is None and found.registration is None
    account = await world.account()
    await _bind(world, 502, account.id)
    found = await _check(world, 502)
    assert found.account == account and found.registration is None and found.record is None


async def test_a_registration_without_entries(world: World) -> None:
    reg = await world.candidate(eligible=("CET4", "CET6"))
    await _bind(world, 503, reg.account_id)
    found = await _check(world, 503)
    assert found.registration == reg and found.entries == found.waitlists == found.reviews == ()
    assert found.record is not None and found.record.eligible == frozenset({"CET4", "CET6"})
    # A record without any eligible subject: an empty frozenset, not None.
    bare = await world.candidate(eligible=())
    await _bind(world, 504, bare.account_id)
    found = await _check(world, 504)
    assert found.record is not None and found.record.eligible == frozenset()


async def test_entries_of_every_status_waitlists_and_reviews(world: World) -> None:
    reg = await world.candidate(eligible=("CET4",))
    other = await world.candidate(eligible=("CET4",))  # none of theirs may show
    await _bind(world, 505, reg.account_id)
    await _bind(world, 506, other.account_id)
    now = world.clock.now()
    hd, cp = world.campus["BSU-HD"], world.campus["BSU-CP"]
    later = now + timedelta(minutes=5)
    async with world.db.uow() as uow:
        # Entries: unpaid, paid, and two ended ones (left out, as `of_registration` does).
        paid = await uow.entries.create(_entry(reg, hd, "CET4", now))
        assert await uow.entries.mark_paid(paid.id, later)
        unpaid = await uow.entries.create(_entry(reg, cp, "CJT4", now))
        for status in ("cancelled", "expired"):
            ended = await uow.entries.create(_entry(reg, hd, "CET6", now))
            assert await uow.entries.end(ended.id, status, status, later)
        await uow.entries.create(_entry(other, hd, "CET4", now))
        # Waitlists of any status (all shown; one waiting place a level), and one of the
        # other candidate's.
        for registration, status in ((reg, "cancelled"), (reg, "waiting"), (other, "waiting")):
            place = await uow.waitlists.create(
                {
                    "registration_id": registration.id,
                    "session_id": registration.session_id,
                    "campus_id": cp,
                    "subject_code": "CET6",
                    "kind": "written",
                    "level": 6,
                    "status": "waiting",
                    "created_at": now,
                }
            )
            if status != "waiting":
                assert await uow.waitlists.finish(place.id, status, later, reason="changed-mind")
        # Reviews of the record: decided and not; one of the other's record.
        for registration, decided in ((reg, True), (reg, False), (other, False)):
            review = await uow.reviews.create(
                {
                    "session_id": registration.session_id,
                    "record_id": registration.record_id,
                    "account_id": registration.account_id,
                    "ticket_no": "123456789012345",
                    "status": "not_reviewed",
                    "note": "",
                    "created_at": now,
                }
            )
            if decided:
                assert await uow.reviews.decide(review.id, "approved", "ok", "admin:x", later)
        await uow.commit()
    found = await _check(world, 505)
    entries: tuple[EntryDTO, ...] = found.entries
    assert [(e.id, e.status) for e in entries] == [(paid.id, "paid"), (unpaid.id, "unpaid")]
    assert entries[0].paid_at == later and entries[0].paid_at.tzinfo is UTC
    assert [w.status for w in found.waitlists] == ["cancelled", "waiting"]
    assert [r.status for r in found.reviews] == ["approved", "not_reviewed"]
    assert {w.registration_id for w in found.waitlists} == {reg.id}
    assert {r.record_id for r in found.reviews} == {reg.record_id}
    # The other candidate sees their own only.
    theirs = await _check(world, 506)
    assert len(theirs.entries) == len(theirs.waitlists) == len(theirs.reviews) == 1


async def test_a_deleted_registration_is_not_the_active_one(world: World) -> None:
    reg = await world.candidate()
    await _bind(world, 507, reg.account_id)
    async with world.db.uow() as uow:
        await uow.registrations.delete(reg.id, world.clock.now())
        await uow.commit()
    found = await _check(world, 507)
    assert found.account is not None and found.registration is None


# --- the chat's context answers from the snapshot until a write ----------------------------


def _ctx(
    world: World,
    uow: UnitOfWork,
    user_id: int,
    tmp_path: Path,
    snapshot: tuple[int, CandidateSnapshot] | None = None,
) -> Ctx:
    event = Event(
        platform=PLATFORM, update_id=1, user_id=user_id, chat_id=user_id, kind=EventKind.TEXT
    )
    return Ctx(
        uow=uow,
        clock=world.clock,
        settings=Settings(_env_file=None, data_dir=tmp_path),  # type: ignore[call-arg]
        mailer=MailboxMailer(),
        platform=PLATFORM,
        event=event,
        state="overview",
        data={},
        locale="zh",
        version=1,
        snapshot=snapshot,
    )


async def test_the_context_reads_once_and_again_after_a_write(world: World, tmp_path: Path) -> None:
    reg = await world.candidate(eligible=("CET4",))
    await _bind(world, 508, reg.account_id)
    now = world.clock.now()
    hd = world.campus["BSU-HD"]
    async with world.db.uow() as uow:
        first = await uow.entries.create(_entry(reg, hd, "CET4", now))
        await uow.commit()
    statements: list[str] = []
    async with world.db.uow() as uow:
        ctx = _ctx(world, uow, 508, tmp_path)
        assert await ctx.session() is not None
        with world.db.watching_statements(statements.append):
            registration = await ctx.registration()
            assert registration is not None and registration.id == reg.id
            assert await ctx.record(reg.record_id) is not None
            assert [e.id for e in await ctx.entries(registration)] == [first.id]
            assert await ctx.waitlists(registration) == []
            assert await ctx.reviews(registration) == []
            # SQLite: no snapshot, the entry is read by id (`own_entry`) as before.
            known = ctx.read_entry(registration, first.id)
            assert known == (None if world.db.is_sqlite else first)
        # PostgreSQL: the snapshot, once; SQLite: one statement per look-up.
        assert len(statements) == (5 if world.db.is_sqlite else 1), statements

        async def book(subject: str) -> EntryDTO:
            return await uow.entries.create(_entry(reg, hd, subject, now))

        second = await ctx.call(book, "CJT4")
        # After the write everything is read again: the new entry shows.
        assert ctx.read_entry(registration, second.id) is None
        registration = await ctx.registration()
        assert registration is not None
        assert [e.id for e in await ctx.entries(registration)] == [first.id, second.id]
        assert (ctx.read_entry(registration, second.id) is not None) is not world.db.is_sqlite
        # A write's own result is remembered as before (the booking's screen).
        await ctx.call(book, "CET6")
        ctx.remember_registration(registration)
        ctx.remember_entry(second)
        del statements[:]
        with world.db.watching_statements(statements.append):
            assert await ctx.registration() == registration
            assert ctx.remembered_entry(second.id) == second
        assert statements == []
        # ... and its entries are read, not answered from a snapshot of before the write.
        assert len(await ctx.entries(registration)) == 3


# --- read with the conversation (issue 17): the same as read after it ---------------------


async def _conversation(world: World, user_id: int) -> None:
    async with world.db.uow() as uow:
        await uow.conversations.lock_or_create(PLATFORM, user_id, user_id, world.clock.now())
        await uow.commit()


async def _started(
    world: World, user_id: int, update_id: int, session_id: int | None
) -> tuple[Any, CandidateSnapshot | None]:
    """`start_update` in a transaction rolled back after: (conversation, the snapshot
    read with it; else, with `session_id`, the one `Ctx` would read next)."""
    async with world.db.uow() as uow:
        started = await uow.conversations.start_update(
            "bot", update_id, PLATFORM, user_id, user_id, world.clock.now(), session_id=session_id
        )
        assert started is not None
        if session_id is not None and started.snapshot is None:
            assert world.db.is_sqlite  # PostgreSQL reads it with the conversation
            return started.conversation, await _one_by_one(uow, user_id, session_id)
        return started.conversation, started.snapshot
        # (rolled back: the update id stays unrecorded)


async def test_issue17_the_snapshot_read_with_the_conversation_is_the_one_read_after_it(
    world: World,
) -> None:
    """The optimistic peek and `start_update` read the candidate's snapshot in the same
    statement as the conversation (PostgreSQL): the same conversation, row version and
    re-delivery answer as without it, and the same snapshot as the reads one by one, for
    every shape of candidate. SQLite reads no snapshot with the conversation."""
    reg = await world.candidate(eligible=("CET4", "CET6"))
    account = await world.account()
    now = world.clock.now()
    async with world.db.uow() as uow:
        await uow.entries.create(_entry(reg, world.campus["BSU-HD"], "CET4", now))
        await uow.commit()
    shapes = {511: None, 512: account.id, 513: reg.account_id}  # none, no registration, entries
    for user_id, account_id in shapes.items():
        if account_id is not None:
            await _bind(world, user_id, account_id)
        await _conversation(world, user_id)
        expected = await _check(world, user_id)
        conv, found = await _started(world, user_id, 1, None)
        conv_fused, found_fused = await _started(world, user_id, 1, world.session_id)
        assert found is None
        assert conv_fused == conv
        assert found_fused is not None
        _same(found_fused, expected, f"start_update of {user_id}")
        if world.db.is_sqlite:
            continue
        async with world.db.uow(optimistic=True) as uow:
            plain = await uow.conversations.peek("bot", 1, PLATFORM, user_id, user_id)
            fused = await uow.conversations.peek(
                "bot", 1, PLATFORM, user_id, user_id, session_id=world.session_id
            )
        assert plain.snapshot is None and fused.conversation is not None
        assert (fused.conversation, fused.row_version, fused.processed) == (
            plain.conversation,
            plain.row_version,
            plain.processed,
        )
        assert fused.snapshot is not None
        _same(fused.snapshot, expected, f"peek of {user_id}")
    # A re-delivery: nothing locked, nothing read; the peek says so with or without.
    async with world.db.uow() as uow:
        assert await uow.conversations.start_update(
            "bot", 2, PLATFORM, 513, 513, now, session_id=world.session_id
        )
        await uow.commit()
    async with world.db.uow() as uow:
        assert (
            await uow.conversations.start_update(
                "bot", 2, PLATFORM, 513, 513, now, session_id=world.session_id
            )
            is None
        )
    if not world.db.is_sqlite:
        async with world.db.uow(optimistic=True) as uow:
            peek = await uow.conversations.peek(
                "bot", 2, PLATFORM, 513, 513, session_id=world.session_id
            )
        assert peek.processed
    # A new user (no conversation row yet): the row is created, the snapshot left unread.
    await _bind(world, 514, reg.account_id)
    async with world.db.uow() as uow:
        started = await uow.conversations.start_update(
            "bot", 3, PLATFORM, 514, 514, now, session_id=world.session_id
        )
        assert started is not None and started.snapshot is None
        assert started.conversation.state == "start"
        await uow.commit()


async def test_issue17_a_start_that_waited_for_the_row_lock_reads_the_snapshot_after_it(
    world: World,
) -> None:
    """Another update of the chat holds the conversation row and books an entry: a
    `start_update` reading the snapshot with the row waits for the lock, and must then see
    the booking (its statement's own view is from before it). It leaves the snapshot
    unread, and the next read shows the entry."""
    if world.db.is_sqlite:
        pytest.skip("SQLite reads no snapshot with the conversation (one writer at a time)")
    reg = await world.candidate(eligible=("CET4",))
    await _bind(world, 515, reg.account_id)
    await _conversation(world, 515)
    holding, release = asyncio.Event(), asyncio.Event()

    async def other_update() -> int:
        async with world.db.uow() as uow:
            conv = await uow.conversations.lock_or_create(PLATFORM, 515, 515, world.clock.now())
            entry = await uow.entries.create(
                _entry(reg, world.campus["BSU-HD"], "CET4", world.clock.now())
            )
            holding.set()
            await release.wait()
            await uow.conversations.save(replace(conv, state="entry.done"), world.clock.now())
            await uow.commit()
            return entry.id

    async def this_update() -> tuple[Any, CandidateSnapshot | None, CandidateSnapshot]:
        async with world.db.uow() as uow:
            started = await uow.conversations.start_update(
                "bot", 9, PLATFORM, 515, 515, world.clock.now(), session_id=world.session_id
            )
            assert started is not None
            after = await uow.accounts.candidate_snapshot(PLATFORM, 515, world.session_id)
            assert after is not None
            await uow.commit()
            return started.conversation, started.snapshot, after

    other = asyncio.create_task(other_update())
    await holding.wait()
    this = asyncio.create_task(this_update())
    end = asyncio.get_running_loop().time() + 10
    while True:
        async with world.db.engine.connect() as conn:
            waiting = await conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND query LIKE 'WITH candidate%'"
                )
            )
            if waiting.scalar_one():
                break
        assert asyncio.get_running_loop().time() < end, "start_update never waited"
        await asyncio.sleep(0.01)
    release.set()
    entry_id = await other
    conv, found, after = await asyncio.wait_for(this, 10)
    assert conv.state == "entry.done"  # the row as the other update left it, locked
    assert found is None  # its statement's snapshot missed the booking: not used
    assert [e.id for e in after.entries] == [entry_id]


async def test_issue17_the_context_answers_from_a_snapshot_read_with_the_conversation(
    world: World, tmp_path: Path
) -> None:
    """`Ctx` given the snapshot (of its session) reads nothing more for the candidate;
    after a write it reads again; one of another session is not used."""
    reg = await world.candidate(eligible=("CET4",))
    await _bind(world, 516, reg.account_id)
    found = await _check(world, 516)
    statements: list[str] = []
    async with world.db.uow() as uow:
        ctx = _ctx(world, uow, 516, tmp_path, snapshot=(world.session_id, found))
        assert await ctx.session() is not None
        with world.db.watching_statements(statements.append):
            assert await ctx.account() == found.account
            registration = await ctx.registration()
            assert registration == reg
            assert await ctx.record(reg.record_id) == found.record
            assert await ctx.entries(registration) == []
            assert await ctx.waitlists(registration) == await ctx.reviews(registration) == []
        assert statements == [] and ctx.asked_candidate

        async def book(subject: str) -> EntryDTO:
            return await uow.entries.create(_entry(reg, world.campus["BSU-HD"], subject, now))

        now = world.clock.now()
        booked = await ctx.call(book, "CET4")
        registration = await ctx.registration()
        assert registration is not None
        assert [e.id for e in await ctx.entries(registration)] == [booked.id]
        await uow.commit()
    async with world.db.uow() as uow:
        other = _ctx(world, uow, 516, tmp_path, snapshot=(world.session_id + 1000, found))
        assert await other.session() is not None
        registration = await other.registration()
        assert registration is not None
        assert [e.id for e in await other.entries(registration)] == [booked.id]
        # Nothing asked for the candidate: the engine learns the step does not need it.
        untouched = _ctx(world, uow, 516, tmp_path, snapshot=(world.session_id, found))
        assert not untouched.asked_candidate


async def test_issue17_the_reads_with_the_snapshot_are_prepared_once_per_connection(
    world: World,
) -> None:
    """The conversation read with the snapshot is over asyncpg's default size of a
    statement it prepares once (15 KiB): planned again at every execution it cost ten
    times the server's CPU. storage/db.py raises the size; the statements stay prepared."""
    if world.db.is_sqlite:
        pytest.skip("PostgreSQL's prepared statements")
    from storage import direct
    from storage.repos import conversations as cv

    await _conversation(world, 517)
    async with world.db.uow() as uow:
        for update_id in (1, 2):
            await uow.conversations.peek(
                "bot", update_id, PLATFORM, 517, 517, session_id=world.session_id
            )
            await uow.conversations.start_update(
                "bot", update_id, PLATFORM, 517, 517, world.clock.now(), session_id=world.session_id
            )
        for statement in (cv._PEEK_WITH_SNAPSHOT_PG, cv._START_UPDATE_WITH_SNAPSHOT_PG):
            sql = direct._compiled(statement, uow.conn.dialect).sql
            assert len(sql) > 15 * 1024
            prepared = await uow.conn.execute(
                text("SELECT count(*) FROM pg_prepared_statements WHERE statement = :sql"),
                {"sql": sql},
            )
            assert prepared.scalar_one() == 1, sql[:60]
