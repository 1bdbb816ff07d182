"""R5, R38: ticket numbers, rooms and seats: unique, deterministic, stable, concurrent."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from admission.tickets import assign_seats, ticket_documents
from registration import errors
from registration.identity import parse_ticket_no
from storage.db import Database
from storage.repos.tickets import TicketDTO, TicketRepository
from tests.rules.conftest import World

from .helpers import (
    assign,
    at_oral_print,
    at_written_print,
    candidate,
    pay,
    register,
    set_session,
)


async def _tickets(world: World) -> dict[int, TicketDTO]:
    async with world.db.uow(readonly=True) as uow:
        return {t.entry_id: t for t in await uow.tickets.of_session(world.session_id)}


async def test_r38_numbers_are_unique_15_digits_with_the_documented_parts(world: World) -> None:
    hd = [await candidate(world, ("CET4", "CET-SET4")) for _ in range(2)]
    hd6 = await candidate(world, ("CET6",), eligible=("CET6",))
    cj = await candidate(world, ("CJT4",))
    jn = await candidate(world, ("CET4",), campus="JNIT-MAIN")
    at_written_print(world)
    assert await assign(world) == 7
    tickets = await _tickets(world)
    assert len({t.ticket_no for t in tickets.values()}) == 7
    async with world.db.uow(readonly=True) as uow:
        campus_no = {
            c.id: i for i, c in enumerate(await uow.sessions.campuses(world.session_id), 1)
        }
    for c in (*hd, hd6, cj, jn):
        for subject, entry in c.entries.items():
            ticket = tickets[entry.id]
            assert len(ticket.ticket_no) == 15 and ticket.ticket_no.isdigit()
            # The layout the CET-6 review reads: centre, year, half-year, level, room, seat.
            parts = parse_ticket_no(ticket.ticket_no)
            kind_digit = "2" if "-SET" in subject else "1"
            assert parts.centre == f"{campus_no[entry.campus_id]:05d}{kind_digit}"
            assert (parts.year, parts.half) == (2026, 2)
            assert parts.level == entry.level
            assert (parts.room, parts.seat) == (int(ticket.room), ticket.seat)
            assert ticket.campus_id == entry.campus_id and ticket.subject_code == subject
    # Same sitting (BSU-HD, written, level 4): CET4 in room 001, CJT4 in the next room.
    assert [tickets[c.entries["CET4"].id].room for c in hd] == ["001", "001"]
    assert [tickets[c.entries["CET4"].id].seat for c in hd] == [1, 2]
    assert (tickets[cj.entries["CJT4"].id].room, tickets[cj.entries["CJT4"].id].seat) == ("002", 1)
    # Another sitting (level 6) and another campus start again at room 001, seat 1.
    assert tickets[hd6.entries["CET6"].id].ticket_no[-5:] == "00101"
    assert tickets[jn.entries["CET4"].id].ticket_no[-5:] == "00101"


async def test_r38_seats_follow_entry_order_and_room_size(world: World) -> None:
    await set_session(world, room_size=3)
    cet4 = [await candidate(world, ("CET4",)) for _ in range(7)]
    cjt4 = [await candidate(world, ("CJT4",)) for _ in range(2)]
    at_written_print(world)
    assert await assign(world) == 9
    tickets = await _tickets(world)
    got = [(tickets[c.entries["CET4"].id].room, tickets[c.entries["CET4"].id].seat) for c in cet4]
    assert got == [
        ("001", 1), ("001", 2), ("001", 3),
        ("002", 1), ("002", 2), ("002", 3),
        ("003", 1),
    ]  # fmt: skip
    got = [(tickets[c.entries["CJT4"].id].room, tickets[c.entries["CJT4"].id].seat) for c in cjt4]
    assert got == [("004", 1), ("004", 2)]


async def test_r38_rerun_moves_nothing_and_late_payers_fill_after_the_last_seat(
    world: World,
) -> None:
    await set_session(world, room_size=3)
    early = [await candidate(world, ("CET4", "CET-SET4")) for _ in range(4)]
    late = [await candidate(world, ("CET4", "CET-SET4"), paid=False) for _ in range(3)]
    for c in late:  # the written part is paid in time, the speaking test late
        await pay(world, c.entries["CET4"].id)
    at_oral_print(world)  # oral tickets print, the campus still takes payments
    assert await assign(world) == 4  # only the paid orals: written tickets print later
    before = await _tickets(world)
    assert await assign(world) == 0
    assert await _tickets(world) == before
    for c in late:
        await pay(world, c.entries["CET-SET4"].id)
    assert await assign(world) == 3
    after = await _tickets(world)
    assert {k: after[k] for k in before} == before
    seats = [
        (after[c.entries["CET-SET4"].id].room, after[c.entries["CET-SET4"].id].seat) for c in late
    ]
    # Room 001 was full (3), room 002 had seat 1: the late payers fill 002, then open 003.
    assert seats == [("002", 2), ("002", 3), ("003", 1)]
    assert all(after[c.entries["CET-SET4"].id].ticket_no for c in early)


async def test_r38_two_assigners_at_once_hand_out_each_seat_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await set_session(world, room_size=4)
    paid = [await candidate(world, ("CET4",)) for _ in range(12)]
    paid += [await candidate(world, ("CJT4",)) for _ in range(5)]
    at_written_print(world)
    read_pending = TicketRepository.unassigned_paid

    async def slow_read(self: TicketRepository, *args: Any) -> Any:
        # Widens the read-then-write gap, so unserialized assigners would surely collide.
        found = await read_pending(self, *args)
        await asyncio.sleep(0.2)
        return found

    monkeypatch.setattr(TicketRepository, "unassigned_paid", slow_read)
    # Two engines: separate connections, as two worker processes would have.
    other = Database(world.db.url, pool_size=2)
    try:
        counts = await asyncio.gather(assign(world), assign(world, other), assign(world, other))
    finally:
        await other.dispose()
    assert sum(counts) == 17
    tickets = list((await _tickets(world)).values())
    assert len(tickets) == 17
    assert len({t.ticket_no for t in tickets}) == 17
    assert len({(t.campus_id, t.subject_code, t.room, t.seat) for t in tickets}) == 17
    assert max(t.seat for t in tickets) == 4
    assert {t.entry_id for t in tickets} == {e.id for c in paid for e in c.entries.values()}


async def test_r5_no_ticket_before_print_time_or_for_an_unpaid_entry(
    world: World, settings: object
) -> None:
    paid = await candidate(world, ("CET4",))
    unpaid = await candidate(world, ("CET4",), paid=False)
    assert await assign(world) == 0  # the window is still open
    async with world.db.uow() as uow:
        with pytest.raises(errors.TicketNotYet):
            await ticket_documents(
                uow,
                world.clock,
                registration_id=paid.registration.id,
                locale="zh",
                settings=settings,  # type: ignore[arg-type]
            )
    at_written_print(world)
    assert await assign(world) == 1
    tickets = await _tickets(world)
    assert set(tickets) == {paid.entries["CET4"].id}
    assert unpaid.entries["CET4"].id not in tickets
    async with world.db.uow() as uow:
        with pytest.raises(errors.NotFound):
            await ticket_documents(
                uow,
                world.clock,
                registration_id=unpaid.registration.id,
                locale="zh",
                settings=settings,  # type: ignore[arg-type]
            )


async def test_r5_written_and_oral_each_from_their_own_print_time(
    world: World, settings: object
) -> None:
    c = await candidate(world, ("CET4", "CET-SET4"))
    at_oral_print(world)
    async with world.db.uow() as uow:
        assert await assign_seats(uow, world.clock, session_id=world.session_id) == 1
        docs = await ticket_documents(
            uow,
            world.clock,
            registration_id=c.registration.id,
            locale="zh",
            settings=settings,  # type: ignore[arg-type]
        )
        await uow.commit()
    assert [d.entry_id for d in docs] == [c.entries["CET-SET4"].id]
    at_written_print(world)
    async with world.db.uow() as uow:
        # No worker ran: the written ticket gets its seat on demand.
        docs = await ticket_documents(
            uow,
            world.clock,
            registration_id=c.registration.id,
            locale="zh",
            settings=settings,  # type: ignore[arg-type]
        )
        await uow.commit()
    assert [d.entry_id for d in docs] == [c.entries["CET4"].id, c.entries["CET-SET4"].id]
    assert set(await _tickets(world)) == {e.id for e in c.entries.values()}


async def test_r38_registering_needs_the_window_but_assignment_does_not(world: World) -> None:
    # Guard for the helpers above: an entry cannot be added once the window closed (R4).
    c = await candidate(world, ("CET4",))
    at_written_print(world)
    with pytest.raises(errors.WindowClosed):
        await register(world, c.registration.id, "CET-SET4", "BSU-HD")
    assert await assign(world) == 1
