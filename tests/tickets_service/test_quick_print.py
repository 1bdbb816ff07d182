"""R39: quick print by name and ID number: hits, misses that all look alike, rate limits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from admission import tickets
from foundation.i18n import t
from foundation.settings import Settings
from registration import errors
from tests.rules.conftest import World

from .helpers import PRINT_ORAL, at_written_print, candidate


async def quick(
    world: World,
    settings: Settings,
    *,
    name: str,
    id_number: str,
    requester: str = "telegram:1001",
    locale: str = "zh",
) -> list[tickets.TicketDocument]:
    """Calls quick_print the way the chat must: commit after a miss, so it stays counted."""
    async with world.db.uow() as uow:
        try:
            docs = await tickets.quick_print(
                uow,
                world.clock,
                session_id=world.session_id,
                name=name,
                id_number=id_number,
                requester=requester,
                locale=locale,
                settings=settings,
            )
        except tickets.QUICK_PRINT_KEEP_ERRORS:
            await uow.commit()
            raise
        await uow.commit()
    return docs


@pytest.mark.parametrize("locale", ["zh", "en"])
async def test_r39_name_and_id_number_give_the_tickets(
    world: World, settings: Settings, locale: str
) -> None:
    c = await candidate(world, ("CET4", "CET-SET4"), name="阿依古丽·买买提")
    at_written_print(world)
    # Typed loosely: full-width dot, spaces in the number, lower-case check letter.
    number = " ".join(c.record.id_number.lower()[i : i + 6] for i in range(0, 18, 6))
    docs = await quick(world, settings, name="阿依古丽．买买提", id_number=number, locale=locale)
    assert [d.entry_id for d in docs] == [c.entries["CET4"].id, c.entries["CET-SET4"].id]
    assert all(d.filename.endswith(".pdf") and d.pdf.startswith(b"%PDF") for d in docs)
    word = "准考证" if locale == "zh" else "admission-ticket"
    assert all(d.filename.startswith(word) for d in docs)


async def test_r39_every_miss_gets_the_same_answer(world: World, settings: Settings) -> None:
    paid = await candidate(world, ("CET4",), name="王芳")
    unpaid = await candidate(world, ("CET4",), name="赵强", paid=False)
    no_registration = await world.record(name="刘洋")
    at_written_print(world)
    misses = [
        ("王芳", "110108200503010019"),  # nobody has this number
        ("王小芳", paid.record.id_number),  # the number is right, the name is not
        ("赵强", unpaid.record.id_number),  # registered, nothing paid
        ("刘洋", no_registration.id_number),  # on the roster, never registered
        ("王芳", "not a number"),
        ("王芳", ""),
    ]
    answers = []
    for i, (name, number) in enumerate(misses):
        with pytest.raises(errors.NoMatchingRecord) as miss:
            await quick(world, settings, name=name, id_number=number, requester=f"tg:{i}")
        answers.append((type(miss.value), tuple(miss.value.params.items()), str(miss.value)))
    assert len(set(answers)) == 1
    assert answers[0][1] == ()
    assert t("zh", "error-no-matching-record") != "error-no-matching-record"


async def test_r39_before_print_time_nothing_is_looked_up(world: World, settings: Settings) -> None:
    await candidate(world, ("CET4",))
    with pytest.raises(errors.TicketNotYet) as early:
        await quick(world, settings, name="nobody", id_number="110108200503010019")
    assert early.value.params["opens_at"] == PRINT_ORAL


async def test_r39_per_requester_limit_counts_misses_and_slides(
    world: World, settings: Settings
) -> None:
    c = await candidate(world, ("CET4",), name="周杰")
    at_written_print(world)
    for i in range(tickets.QUICK_PRINT_PER_REQUESTER):
        with pytest.raises(errors.NoMatchingRecord):
            await quick(world, settings, name=f"guess{i}", id_number=c.record.id_number)
        world.clock.advance(timedelta(minutes=10))
    # The sixth attempt in the hour is refused even with the right name.
    with pytest.raises(errors.TooManyRequests) as limited:
        await quick(world, settings, name="周杰", id_number=c.record.id_number)
    assert limited.value.params["minutes"] == 10  # the first attempt leaves the window then
    assert t("en", "error-too-many-requests", limited.value.params).endswith("10 minute(s).")
    # Another chat user is not held up by this one.
    docs = await quick(world, settings, name="周杰", id_number=c.record.id_number, requester="tg:2")
    assert len(docs) == 1
    world.clock.advance(timedelta(minutes=10, seconds=1))
    assert len(await quick(world, settings, name="周杰", id_number=c.record.id_number)) == 1


async def test_r39_per_id_number_limit_across_chat_users(world: World, settings: Settings) -> None:
    c = await candidate(world, ("CET4",), name="黄磊")
    other = await candidate(world, ("CET4",), name="吴静")
    at_written_print(world)
    for i in range(tickets.QUICK_PRINT_PER_ID_NUMBER):
        with pytest.raises(errors.NoMatchingRecord):
            await quick(world, settings, name="x", id_number=c.record.id_number, requester=f"u{i}")
    with pytest.raises(errors.TooManyRequests):
        await quick(world, settings, name="黄磊", id_number=c.record.id_number, requester="fresh")
    # Another ID number from the same fresh user is fine.
    docs = await quick(
        world, settings, name="吴静", id_number=other.record.id_number, requester="fresh"
    )
    assert len(docs) == 1
    async with world.db.uow() as uow:
        world.clock.advance(timedelta(hours=2))
        # Each counted attempt left one event per key; the refused one left none.
        assert await tickets.prune_rate_events(uow, world.clock) == (10 + 1) * 2
        await uow.commit()
