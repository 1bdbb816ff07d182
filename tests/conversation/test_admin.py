"""School administrators in the chat (R19, R42): who gets the admin flow, what each school
sees, forged buttons, decisions with a note told to the candidate, the audit log."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from backoffice import administration
from bot.conversation import callbacks
from bot.conversation.engine import Conversations
from foundation.settings import Settings
from storage.models import AuditRecord, OutboxMessage
from tests.conversation.conftest import Chat, Harness
from tests.conversation.flows_helpers import look_up, register, save_information, sign_up

XU = ("徐梦琪", "id_card", "320506200412123944")  # R16: her name is on the CET-4 record
XU_TICKET = "320050261103321"
SHEN = ("沈思远", "id_card", "320102200509097677")  # 江南理工学院
UNKNOWN_TICKET = "110010261112030"  # R18: not in the score records
SCHOOL_A, SCHOOL_B = "北京示范大学", "江南理工学院"
ADMIN_A, ADMIN_B, AUTHORITY = 4_100_000_001, 4_100_000_002, 4_100_000_003


async def _ask_review(h: Harness, person: tuple[str, str, str], ticket: str, email: str) -> Chat:
    """A candidate asks for the CET-6 review from the confirmation view; it waits (R16/R18)."""
    chat = h.chat()
    await sign_up(h, chat, email)
    await look_up(chat, person)
    await chat.press("CET6 资格复核")
    await chat.send(ticket)
    assert "未复核" in chat.text
    return chat


async def _review_of(h: Harness, name: str) -> int:
    async with h.db.uow(readonly=True) as uow:
        for r in await uow.reviews.pending(None):
            record = await uow.records.get(r.record_id)
            if record is not None and record.name == name:
                return r.id
    raise AssertionError(f"no pending review of {name}")


async def _status(h: Harness, review_id: int) -> str:
    async with h.db.uow(readonly=True) as uow:
        found = await uow.reviews.get(review_id)
    assert found is not None
    return found.status


async def _add_admin(h: Harness, user_id: int, school: str | None) -> None:
    async with h.db.uow() as uow:
        await administration.add_admin(
            uow, h.clock, platform="telegram", user_id=user_id, school=school
        )
        await uow.commit()


async def _audit_rows(h: Harness) -> list[tuple]:
    async with h.db.uow(readonly=True) as uow:
        return [tuple(r) for r in await uow.conn.execute(select(AuditRecord))]


async def _notices(h: Harness) -> list[tuple[str, dict]]:
    async with h.db.uow(readonly=True) as uow:
        rows = await uow.conn.execute(
            select(OutboxMessage.kind, OutboxMessage.payload).order_by(OutboxMessage.id)
        )
        return [(r[0], r[1]) for r in rows]


async def test_r42_a_non_admin_gets_no_admin_menu(harness: Harness) -> None:
    chat = harness.chat()
    await chat.command("start")
    menu = list(chat.labels)
    await chat.command("admin")
    assert "没有“/admin”这个命令" in chat.text  # the same reply as any unknown command
    assert chat.labels == menu and not any("复核申请" in label for label in chat.labels)
    assert (await harness.conversation(chat))[0] == "menu"


async def test_r42_forged_admin_buttons_from_a_non_admin_change_nothing(harness: Harness) -> None:
    await _ask_review(harness, XU, XU_TICKET, "xu@example.com")
    review_id = await _review_of(harness, "徐梦琪")
    before = await _audit_rows(harness)
    intruder = harness.chat()
    await intruder.command("start")
    for action, args in (
        ("adqueue", ()),
        ("adopen", (review_id,)),
        ("adapprove", (review_id,)),
        ("adreject", (review_id,)),
    ):
        # Made by hand with the current version, as a forger would.
        await intruder.press_payload(callbacks.encode(intruder.version(), action, *args))
        assert intruder.answers[0].text == "菜单已过期"
        assert "这个菜单已过期" in intruder.text
        assert (await harness.conversation(intruder))[0] == "menu"
    await intruder.send("证明已核对")  # as if it were the note
    assert await _status(harness, review_id) == "not_reviewed"
    assert await _audit_rows(harness) == before


async def test_r42_school_admins_see_and_decide_only_their_own_school(harness: Harness) -> None:
    await _ask_review(harness, XU, XU_TICKET, "xu@example.com")
    await _ask_review(harness, SHEN, UNKNOWN_TICKET, "shen@example.com")
    mine, theirs = await _review_of(harness, "徐梦琪"), await _review_of(harness, "沈思远")
    await _add_admin(harness, ADMIN_A, SCHOOL_A)
    admin = harness.chat(user_id=ADMIN_A)
    await admin.command("admin")
    assert SCHOOL_A in admin.text
    await admin.press("待复核申请（1）")
    assert admin.has_button("徐梦琪") and not admin.has_button("沈思远")
    # A forged "open" of the other school's request, at the list where "open" is offered.
    await admin.press_payload(callbacks.encode(admin.version(), "adopen", theirs))
    assert "不属于" in admin.text and "沈思远" not in admin.text
    assert (await harness.conversation(admin))[0] == "admin.reviews"
    # At a request of their own: a forged approval of the other one is refused too.
    await admin.press("徐梦琪")
    await admin.press_payload(callbacks.encode(admin.version(), "adapprove", theirs))
    assert "不属于" in admin.text
    assert (await harness.conversation(admin))[0] == "admin.review"
    assert await _status(harness, theirs) == "not_reviewed"
    assert await _status(harness, mine) == "not_reviewed"
    # School B's administrator sees only B's request.
    await _add_admin(harness, ADMIN_B, SCHOOL_B)
    other = harness.chat(user_id=ADMIN_B)
    await other.command("admin")
    await other.press("待复核申请（1）")
    assert other.has_button("沈思远") and not other.has_button("徐梦琪")


async def test_r19_approve_end_to_end_with_evidence_note_notice_and_audit(
    harness: Harness,
) -> None:
    candidate = await _ask_review(harness, XU, XU_TICKET, "xu@example.com")
    review_id = await _review_of(harness, "徐梦琪")
    await _add_admin(harness, ADMIN_A, SCHOOL_A)
    admin = harness.chat(user_id=ADMIN_A)
    await admin.command("admin")
    await admin.press("待复核申请")
    await admin.press("徐梦琪")
    # The evidence: the record (masked ID) and the CET-4 score record of the ticket.
    assert "学号 20240119" in admin.text and "320506********3944" in admin.text
    assert "徐梦琪，CET4 450 分" in admin.text and "320506********2861" in admin.text
    assert "320506200412123944" not in admin.text
    await admin.press("通过")
    assert (await harness.conversation(admin))[0] == "admin.note"
    await admin.send("学生证和成绩单已核对？")  # a note, even with a question mark
    assert "已处理：通过" in admin.text
    assert (await harness.conversation(admin))[0] == "admin.reviews"
    assert await _status(harness, review_id) == "approved"
    kinds = [(k, p) for k, p in await _notices(harness) if k == "review-decided"]
    assert kinds and kinds[-1][1]["status"] == "approved"
    assert kinds[-1][1]["note"] == "学生证和成绩单已核对？"
    async with harness.db.uow(readonly=True) as uow:
        trail = await uow.administration.audit_of("review", str(review_id))
    assert [(a.actor, a.action) for a in trail][-1] == (f"admin:telegram:{ADMIN_A}", "decide")
    assert trail[0].actor.startswith("candidate:")  # the candidate's own request
    # R19: CET6 is now eligible for the candidate.
    await look_up(candidate, XU)
    assert "英语六级" in candidate.text


async def test_r19_reject_by_the_authority_from_admin_user_ids(harness: Harness) -> None:
    await _ask_review(harness, SHEN, UNKNOWN_TICKET, "shen@example.com")
    review_id = await _review_of(harness, "沈思远")
    settings = Settings(
        _env_file=None, data_dir=harness.settings.data_dir, admin_user_ids=str(AUTHORITY)
    )
    harness.bot = Conversations(harness.db, harness.clock, settings, harness.mailer)
    authority = harness.chat(user_id=AUTHORITY)
    await authority.command("admin")
    assert "全部学校" in authority.text
    await authority.press("待复核申请")
    await authority.press("沈思远")
    assert "成绩库中没有这个准考证号" in authority.text
    await authority.press("不通过")
    await authority.send("   ")
    assert (await harness.conversation(authority))[0] == "admin.note"
    await authority.send("请携带成绩单到教务处")
    assert "已处理：不通过" in authority.text
    assert await _status(harness, review_id) == "rejected"
    assert any(
        k == "review-decided" and p["status"] == "rejected" for k, p in await _notices(harness)
    )


async def test_r42_figures_per_campus_and_subject_of_the_school(harness: Harness) -> None:
    chat = harness.chat()
    await sign_up(harness, chat, "zhang@example.com")
    await save_information(chat, ("张伟", "id_card", "110108200503140231"))
    await register(chat, "英语四级", "海淀校区")
    await _add_admin(harness, ADMIN_A, SCHOOL_A)
    admin = harness.chat(user_id=ADMIN_A)
    await admin.command("admin")
    await admin.press("报名统计")
    assert "海淀校区 · 英语四级：已报名 1，已缴费 0" in admin.text
    assert "候补 0" in admin.text and "江南" not in admin.text


async def test_a_removed_admin_is_refused_at_the_next_press(harness: Harness) -> None:
    await _add_admin(harness, ADMIN_A, SCHOOL_A)
    admin = harness.chat(user_id=ADMIN_A)
    await admin.command("admin")
    async with harness.db.uow() as uow:
        await uow.administration.remove_admin("telegram", ADMIN_A)
        await uow.commit()
    await admin.press("报名统计")
    assert (await harness.conversation(admin))[0] == "menu"
    assert not admin.has_button("报名统计")


async def test_no_id_number_in_the_audit_log_or_the_logs_after_a_full_flow(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    number = XU[2]
    await _ask_review(harness, XU, XU_TICKET, "xu@example.com")
    await _add_admin(harness, ADMIN_A, SCHOOL_A)
    admin = harness.chat(user_id=ADMIN_A)
    await admin.command("admin")
    await admin.press("待复核申请")
    await admin.press("徐梦琪")
    await admin.press("通过")
    await admin.send(f"核对证件 {number}")  # even typed into a note
    chat = harness.chat()
    await sign_up(harness, chat, "zhang@example.com")
    await save_information(chat, ("张伟", "id_card", "110108200503140231"))
    await register(chat, "英语四级", "海淀校区")
    rows = await _audit_rows(harness)
    assert any(r[4] == "entry" for r in rows) and any(r[4] == "review" for r in rows)
    text = repr(rows)
    for secret in (number, "110108200503140231", "320506200412122861"):
        assert secret not in text
        assert secret not in caplog.text
