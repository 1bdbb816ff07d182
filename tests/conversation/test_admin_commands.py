"""Issue 18, deliverable 5: school administrators' slash commands `/approve ID [NOTE]` and
`/reject ID NOTE` (R19, R42), with the same checks as the admin menu's buttons."""

from __future__ import annotations

from tests.conversation.conftest import Chat, Harness
from tests.conversation.test_admin import (
    ADMIN_A,
    ADMIN_B,
    SCHOOL_A,
    SCHOOL_B,
    XU,
    XU_TICKET,
    _add_admin,
    _ask_review,
    _audit_rows,
    _notices,
    _review_of,
    _status,
)

USAGE = "用法：/approve"


async def _xu_waiting(h: Harness) -> int:
    await _ask_review(h, XU, XU_TICKET, "xu@example.com")
    return await _review_of(h, "徐梦琪")


async def _admin(h: Harness, user_id: int, school: str) -> Chat:
    await _add_admin(h, user_id, school)
    chat = h.chat(user_id=user_id)
    await chat.command("start")
    return chat


async def test_r19_approve_by_command_decides_tells_and_audits(harness: Harness) -> None:
    review_id = await _xu_waiting(harness)
    admin = await _admin(harness, ADMIN_A, SCHOOL_A)
    await admin.command("approve", str(review_id))
    assert f"申请 #{review_id} 已处理：通过" in admin.text
    assert await _status(harness, review_id) == "approved"
    decided = [p for k, p in await _notices(harness) if k == "review-decided"]
    assert decided and decided[-1]["status"] == "approved" and decided[-1]["note"]
    async with harness.db.uow(readonly=True) as uow:
        trail = await uow.administration.audit_of("review", str(review_id))
    assert (trail[-1].actor, trail[-1].action) == (f"admin:telegram:{ADMIN_A}", "decide")
    assert (await harness.conversation(admin))[0] == "menu"  # the admin's place is kept


async def test_r19_reject_by_command_with_note_from_the_review_screen(harness: Harness) -> None:
    review_id = await _xu_waiting(harness)
    admin = await _admin(harness, ADMIN_A, SCHOOL_A)
    await admin.command("admin")
    await admin.press("待复核申请")
    await admin.press("徐梦琪")
    await admin.command("reject", f"#{review_id} 成绩单姓名不符")
    assert "已处理：不通过" in admin.text
    assert await _status(harness, review_id) == "rejected"
    decided = [p for k, p in await _notices(harness) if k == "review-decided"]
    assert decided[-1]["note"] == "成绩单姓名不符"
    # The request it was looking at is decided: back to the queue.
    assert (await harness.conversation(admin))[0] == "admin.reviews"
    # Deciding again is refused and changes nothing.
    await admin.command("approve", str(review_id))
    assert await _status(harness, review_id) == "rejected"


async def test_r42_command_on_another_schools_request_is_refused_and_changes_nothing(
    harness: Harness,
) -> None:
    review_id = await _xu_waiting(harness)
    other = await _admin(harness, ADMIN_B, SCHOOL_B)
    before, audit = await harness.conversation(other), await _audit_rows(harness)
    for name, args in (("approve", str(review_id)), ("reject", f"{review_id} 不符")):
        await other.command(name, args)
        assert "不属于" in other.text
        assert await _status(harness, review_id) == "not_reviewed"
        assert await harness.conversation(other) == before
    assert await _audit_rows(harness) == audit


async def test_admin_command_missing_or_wrong_arguments_get_one_usage_line(
    harness: Harness,
) -> None:
    review_id = await _xu_waiting(harness)
    admin = await _admin(harness, ADMIN_A, SCHOOL_A)
    before, audit = await harness.conversation(admin), await _audit_rows(harness)
    for name, args in (
        ("approve", ""),
        ("approve", "abc"),
        ("approve", "-1"),
        ("approve", "1; DROP TABLE reviews"),
        ("reject", str(review_id)),  # a rejection needs its note (R19)
        ("reject", ""),
    ):
        await admin.command(name, args)
        assert admin.text.count(USAGE) == 1, (name, args, admin.text)
        assert "没有“/" not in admin.text
        assert await harness.conversation(admin) == before
    await admin.command("approve", "999999")
    assert await _status(harness, review_id) == "not_reviewed"
    assert await _audit_rows(harness) == audit


async def test_r42_non_admin_slash_approve_is_an_unknown_command(harness: Harness) -> None:
    review_id = await _xu_waiting(harness)
    intruder = harness.chat()
    await intruder.command("start")
    before = await harness.conversation(intruder)
    await intruder.command("approve", str(review_id))
    assert "没有“/approve”这个命令" in intruder.text
    await intruder.command("reject", f"{review_id} no")
    assert "没有“/reject”这个命令" in intruder.text
    assert await _status(harness, review_id) == "not_reviewed"
    assert await harness.conversation(intruder) == before
