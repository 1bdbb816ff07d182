"""Eligibility, review, entries, overview and waitlists through the chat (R2, R11-R37)."""

from __future__ import annotations

from datetime import timedelta

from backoffice.importing import parse_session_toml
from tests.conversation import scenarios
from tests.conversation.conftest import EXAMPLES, Harness
from tests.conversation.flows_helpers import (
    WANG_HR,
    ZHANG,
    look_up,
    register,
    save_information,
    sign_up,
)


async def test_r13_confirmation_view_shows_photo_masked_id_and_subjects(harness: Harness) -> None:
    await scenarios.confirmation_view_shows_photo_masked_id_and_subjects(harness)


async def test_r2_before_the_window_lookup_and_review_only(harness: Harness) -> None:
    spec = parse_session_toml(EXAMPLES / "session-2026-12.toml")
    chat = harness.chat()
    await sign_up(harness, chat, "early@example.com")
    harness.clock.set(spec.windows.registration_opens - timedelta(days=1))
    await look_up(chat, WANG_HR)
    assert "网上报名将于 2026年11月20日 09:00（北京时间）开始" in chat.text
    await chat.press("信息无误")
    assert "网上报名尚未开始" in chat.text
    assert (await harness.conversation(chat))[0] == "reg.confirm"
    await chat.press("CET6 资格复核")
    await chat.send("110010261105118")
    assert "复核通过" in chat.text  # R15, allowed before the window (R2)
    assert "英语四级, 英语六级" in chat.text or "英语六级" in chat.text


async def test_r14_r18_review_outcomes(harness: Harness) -> None:
    for i, (person, ticket, expected) in enumerate(scenarios.REVIEW_CASES):
        await scenarios.review_outcome(harness, person, ticket, expected, f"review{i}@example.com")


async def test_r19_review_from_the_overview_needs_a_written_entry(harness: Harness) -> None:
    await scenarios.review_from_the_overview_passes(harness)


async def test_r13_record_claimed_by_another_account_points_to_recovery(harness: Harness) -> None:
    await sign_up(harness, first := harness.chat(), "first@example.com")
    await save_information(first, ZHANG)
    second = harness.chat()
    await sign_up(harness, second, "second@example.com")
    await look_up(second, ZHANG)
    await second.press("信息无误")
    await second.press("使用此号码")
    assert "该学籍已被其他通行证账号确认" in second.text
    await second.press("找回已报名账号")
    assert "请输入学籍上的姓名" in second.text


async def test_r21_r24_oral_after_written_and_cancel_lists_both(harness: Harness) -> None:
    await scenarios.oral_after_written_and_cancel_lists_both(harness)


async def test_r25_report_and_certificate(harness: Harness) -> None:
    chat = harness.chat()
    await sign_up(harness, chat, "cert@example.com")
    await save_information(chat, ZHANG)
    await register(chat, "英语四级", "海淀校区", paper="成绩报告单和证书")
    assert "纸质成绩报告单：成绩报告单和证书" in chat.text


async def test_r24_r25_change_campus_and_paper_report(harness: Harness) -> None:
    await scenarios.change_campus_and_paper_report(harness)


async def test_r34_r36_waitlist_join_one_per_level_cancel_with_reason(harness: Harness) -> None:
    await scenarios.waitlist_join_one_per_level_cancel_with_reason(harness)


async def test_r4_window_closed_refuses_registration(harness: Harness) -> None:
    spec = parse_session_toml(EXAMPLES / "session-2026-12.toml")
    chat = harness.chat()
    await sign_up(harness, chat, "late2@example.com")
    harness.clock.set(spec.windows.registration_closes + timedelta(hours=1))
    await chat.command("start")
    assert "网上报名已截止" in chat.text
    await chat.press("开始报名")
    assert "网上报名已经截止" in chat.text


async def test_r5_print_before_the_print_time_or_unpaid(harness: Harness) -> None:
    chat = harness.chat()
    await sign_up(harness, chat, "print@example.com")
    await save_information(chat, ZHANG)
    await register(chat, "英语四级", "海淀校区")
    await chat.press("返回")
    assert not chat.has_button("打印准考证")  # only once an entry is paid
