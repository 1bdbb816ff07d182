"""Eligibility, review, entries, overview and waitlists through the chat (R2, R11-R37)."""

from __future__ import annotations

from datetime import timedelta

from registration.importing import parse_session_toml
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
    chat = harness.chat()
    await sign_up(harness, chat, "view@example.com")
    await look_up(chat, ZHANG)
    assert len(chat.photos) == 1 and chat.photos[0].data[:2] == b"\xff\xd8"
    assert "110108********0231" in chat.text and "110108200503140231" not in chat.text
    assert "可报考的笔试科目：英语四级" in chat.text
    # No photo in the roster: said so.
    other = harness.chat()
    await sign_up(harness, other, "nophoto@example.com")
    await look_up(other, ("赵磊", "id_card", "130102200512254674"))
    assert not other.photos and "学籍中没有照片" in other.text


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
    cases = [
        (("徐梦琪", "id_card", "320506200412123944"), "320050261103321", "未复核"),  # R16
        (("高远", "id_card", "140105200406154697"), "110010261108803", "均不一致"),  # R17
        (("罗佳琪", "id_card", "360102200408205429"), "110010261104226", "398 分"),  # R18
        (("宋雨轩", "id_card", "230103200402296179"), "110010261112030", "未复核"),  # R18
    ]
    for i, (person, ticket, expected) in enumerate(cases):
        chat = harness.chat()
        await sign_up(harness, chat, f"review{i}@example.com")
        await look_up(chat, person)
        await chat.press("CET6 资格复核")
        await chat.send("12345")
        assert "15 位数字" in chat.text
        await chat.send(ticket)
        assert expected in chat.text, (person, chat.text)


async def test_r19_review_from_the_overview_needs_a_written_entry(harness: Harness) -> None:
    chat = harness.chat()
    await sign_up(harness, chat, "wang@example.com")
    await save_information(chat, WANG_HR)
    await register(chat, "英语四级", "海淀校区")
    await chat.press("返回")
    await chat.press("CET6 资格复核")
    await chat.send("110010261105118")
    assert "复核通过" in chat.text
    assert "CET6 资格复核：已通过" in chat.text
    assert (await harness.conversation(chat))[0] == "overview"


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
    chat = harness.chat()
    await sign_up(harness, chat, "oral@example.com")
    await save_information(chat, ZHANG)
    assert not chat.has_button("英语四级口试")  # R21: not before the written entry
    await register(chat, "英语四级", "海淀校区", paper="纸质成绩报告单")
    await chat.press("报考科目")
    assert chat.has_button("英语四级口试") and not chat.has_button("英语四级 ")
    await chat.press("英语四级口试")
    await chat.press("海淀校区")  # oral: no paper report step
    assert "已报考 英语四级口试" in chat.text
    await chat.press("返回")
    assert "纸质成绩报告单：纸质成绩报告单" in chat.text
    await chat.press("英语四级")
    await chat.press("取消报考")
    assert "同时取消它的口试" in chat.text and "英语四级口试" in chat.text
    await chat.press("确认取消")
    assert "已取消：英语四级, 英语四级口试" in chat.text
    assert "还没有报考科目" in chat.text


async def test_r25_report_and_certificate(harness: Harness) -> None:
    chat = harness.chat()
    await sign_up(harness, chat, "cert@example.com")
    await save_information(chat, ZHANG)
    await register(chat, "英语四级", "海淀校区", paper="成绩报告单和证书")
    assert "纸质成绩报告单：成绩报告单和证书" in chat.text


async def test_r24_r25_change_campus_and_paper_report(harness: Harness) -> None:
    chat = harness.chat()
    await sign_up(harness, chat, "move@example.com")
    await save_information(chat, ZHANG)
    await register(chat, "英语四级", "海淀校区")
    await chat.press("更换校区")
    assert not chat.has_button("海淀校区")  # the current campus is not offered again
    await chat.press("昌平校区（余 3）")
    assert "已更换到 北京示范大学昌平校区" in chat.text
    await chat.press("纸质成绩报告单")
    await chat.press("纸质成绩报告单")
    assert "纸质成绩报告单已设为：纸质成绩报告单" in chat.text
    async with harness.db.uow(readonly=True) as uow:
        bsu_cp = await uow.sessions.campus_by_code(harness.session_id, "BSU-CP")
        seats = await uow.sessions.seats(bsu_cp.id, "CET4")
    assert seats is not None and seats.taken == 1


async def test_r34_r36_waitlist_join_one_per_level_cancel_with_reason(harness: Harness) -> None:
    await harness.set_capacity("BSU-CP", "CET4", 0)
    chat = harness.chat()
    await sign_up(harness, chat, "wait@example.com")
    await save_information(chat, ZHANG)
    await chat.press("英语四级")
    assert chat.has_button("昌平校区（已满，可候补）")
    await chat.press("昌平校区")
    assert "已报满，目前有 0 人候补" in chat.text
    await chat.press("加入候补")
    assert "已加入候补：英语四级｜北京示范大学昌平校区，排第 1 位" in chat.text
    await chat.press("返回")
    assert "候补中：英语四级｜北京示范大学昌平校区｜排第 1 位" in chat.text
    await chat.press("我的候补")
    await chat.press("取消候补")
    assert chat.has_button("计划有变")
    await chat.press("时间冲突")
    assert "已取消候补" in chat.text
    assert "已结束的候补" in chat.text and "已取消：时间冲突" in chat.text


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
