"""Template messages (模板消息) for notices pushed outside WeChat's 48-hour window: every
outbox notice kind has a template and a `WECHAT_TEMPLATE_*` setting, and its fields are
filled from the same rendering as the chat text, within WeChat's documented limits."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from background import jobs
from bot.handlers.wechat.templates import (
    NOTICE_TEMPLATES,
    THING_MAX,
    BadTemplateSetting,
    TemplateMessage,
    read_choice,
    template_message,
    template_problems,
    template_settings,
)
from bot.worker_runtime import NoticeRenderer, Rendered
from foundation.i18n import message_ids, t
from foundation.settings import Settings
from registration import entries
from storage.db import UnitOfWork
from tests.rules.conftest import World

CHAT = 7001  # the WeChat user's internal number (the OpenID table maps it)
# Every kind of notice the rules queue (registration/, background/): a new one must get a
# template here, or it could never reach a WeChat user who has not written for 48 hours.
NOTICE_KINDS = {
    "reminder",
    "promoted",
    "entry-expired",
    "payment-paid",
    "payment-restored",
    "payment-refund",
    "review-decided",
    "signed-in-elsewhere",
}
# notices.ftl keys that are parts of a notice, not kinds of their own.
NOTICE_PARTS = {"review-approved", "review-rejected", "signed-in-elsewhere-button"}

# The documented value formats of the types used (see templates.py).
TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
AMOUNT = re.compile(r"¥?\d{1,10}(\.\d{1,2})?元?")
CHARACTER_STRING = re.compile(r"[\x21-\x7e]{1,32}")


def settings(**values: str) -> Settings:
    ids = {name: f"TPL-{name.removeprefix('wechat_template_')}" for name in template_settings()}
    return Settings(_env_file=None, **{**ids, **values})


async def speak(uow: UnitOfWork, world: World, locale: str) -> None:
    """The WeChat user chose `locale` in the chat (kept with their conversation)."""
    conv = await uow.conversations.lock_or_create("wechat", CHAT, CHAT, world.clock.now())
    await uow.conversations.save(replace(conv, locale=locale), world.clock.now())


async def rendered(world: World, kind: str, payload: dict[str, Any], locale: str) -> Rendered:
    """An outbox row for the WeChat chat, rendered as the worker renders it."""
    async with world.db.uow() as uow:
        await speak(uow, world, locale)
        await uow.outbox.add(
            platform="wechat", chat_id=CHAT, kind=kind, payload=payload, now=world.clock.now()
        )
        now = world.clock.now()
        [row] = await uow.outbox.claim("test", now, now + timedelta(minutes=1), 10)
        out = await NoticeRenderer().render(uow, row, now)
        await uow.commit()
    return out


def check_limits(kind: str, message: TemplateMessage) -> None:
    tpl = NOTICE_TEMPLATES[kind]
    values = [message.data[f"keyword{i}"]["value"] for i in range(1, len(tpl.fields) + 1)]
    for field, value in zip(tpl.fields, values, strict=True):
        assert value, (kind, field)
        assert "{" not in value and "$" not in value, (kind, value)  # every argument given
        if field.type == "thing":
            assert len(value) <= THING_MAX, (kind, value)
        elif field.type == "time":
            assert TIME.fullmatch(value), (kind, value)
        elif field.type == "amount":
            assert AMOUNT.fullmatch(value), (kind, value)
        else:
            assert CHARACTER_STRING.fullmatch(value), (kind, value)


def test_every_notice_kind_has_a_template_and_a_setting() -> None:
    kinds = {key.removeprefix("notice-") for key in message_ids("zh") if key.startswith("notice-")}
    assert kinds - NOTICE_PARTS == NOTICE_KINDS
    assert set(NOTICE_TEMPLATES) == NOTICE_KINDS
    for name in template_settings():
        assert name in Settings.model_fields, name
    for tpl in NOTICE_TEMPLATES.values():
        labels = [f.label for f in tpl.fields]
        for key in (tpl.title, tpl.first, tpl.remark, *(f.text for f in tpl.fields), *labels):
            for locale in ("zh", "en"):
                assert key in message_ids(locale), (locale, key)


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_our_own_texts_fit_their_fields_uncut(locale: str) -> None:
    # Cutting is for names we do not control (subjects, campuses, notes), not our words.
    for tpl in NOTICE_TEMPLATES.values():
        for field in tpl.fields:
            text = t(locale, field.text, {"status": "approved"})
            if field.type == "thing" and "$" not in text and "{" not in text:
                assert len(text) <= THING_MAX, (locale, field.text, text)
        for status in ("approved", "rejected"):
            decision = t(locale, "wx-template-review-decision", {"status": status})
            assert len(decision) <= THING_MAX


@pytest.mark.parametrize("locale", ["zh", "en"])
async def test_r32_a_reminder_queued_by_the_job_fills_the_reminder_template(
    world: World, locale: str
) -> None:
    reg = await world.candidate()
    async with world.db.uow() as uow:
        await uow.accounts.bind("wechat", CHAT, reg.account_id, world.clock.now())
        await speak(uow, world, locale)
        entry = await entries.register_subject(
            uow,
            world.clock,
            registration_id=reg.id,
            subject_code="CET4",
            campus_id=world.campus["BSU-HD"],
        )
        await uow.commit()
    world.clock.set(entry.expires_at - timedelta(hours=5))
    report = await jobs.queue_reminders(world.db, world.clock, (360, 60))
    assert report.queued == 1
    async with world.db.uow() as uow:
        now = world.clock.now()
        [row] = await uow.outbox.claim("test", now, now + timedelta(minutes=1), 10)
        notice = await NoticeRenderer().render(uow, row, now)
        subject = (await uow.sessions.subjects())["CET4"].name(locale)
        campus = await uow.sessions.campus(world.campus["BSU-HD"])
        await uow.commit()
    assert row.kind == "reminder" and notice.text and notice.locale == locale
    message = template_message(row.kind, notice.args, notice.locale, settings())
    assert message is not None and message.template_id == "TPL-reminder"
    assert list(message.data) == ["first", "keyword1", "keyword2", "keyword3", "remark"]
    assert message.data["first"]["value"] == t(locale, "wx-template-reminder-first")
    assert message.data["keyword1"]["value"] == subject[:THING_MAX] or (
        len(subject) > THING_MAX and message.data["keyword1"]["value"].endswith("…")
    )
    assert campus is not None
    expected_campus = campus.name(locale)
    assert message.data["keyword2"]["value"] in (expected_campus, expected_campus[:19] + "…")
    # The deadline in Beijing time, as the chat text states it.
    deadline = message.data["keyword3"]["value"]
    beijing = entry.expires_at + timedelta(hours=8)
    assert deadline == beijing.strftime("%Y-%m-%d %H:%M")
    assert deadline in notice.text
    check_limits("reminder", message)


async def test_a_category_template_gets_its_own_keywords_and_no_first_or_remark(
    world: World,
) -> None:
    notice = await rendered(
        world,
        "promoted",
        {
            "entry_id": 1,
            "subject": "CET4",
            "campus_id": world.campus["BSU-HD"],
            "expires_at": "2026-11-26T10:00:00+08:00",
        },
        "zh",
    )
    chosen = settings(wechat_template_waitlist="AbC-123_x:thing1,thing5,time12")
    message = template_message("promoted", notice.args, notice.locale, chosen)
    assert message is not None and message.template_id == "AbC-123_x"
    assert list(message.data) == ["thing1", "thing5", "time12"]
    assert message.data["time12"]["value"] == "2026-11-26 10:00"


@pytest.mark.parametrize("locale", ["zh", "en"])
@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        (
            "promoted",
            {
                "entry_id": 1,
                "subject": "CET6",
                "campus_id": 0,
                "expires_at": "2026-11-26T02:00:00+00:00",
            },
        ),
        ("entry-expired", {"entry_id": 1, "subject": "CET4", "campus_id": 0}),
        ("payment-paid", {"entry_id": 1, "subject": "CET4", "campus_id": 0, "amount_fen": 3000}),
        (
            "payment-restored",
            {"entry_id": 1, "subject": "CET4", "campus_id": 0, "amount_fen": 3050},
        ),
        ("payment-refund", {"entry_id": 1, "subject": "CET4", "campus_id": 0, "amount_fen": 3000}),
        (
            "review-decided",
            {"review_id": 1, "status": "approved", "note": None, "ticket_no": "110105252100127"},
        ),
        (
            "review-decided",
            {
                "review_id": 1,
                "status": "rejected",
                "note": "成绩单上的姓名与报名信息不一致，请携带身份证到教务处核对",
                "ticket_no": "110105252100127",
            },
        ),
        ("signed-in-elsewhere", {"at": "2026-11-25T02:30:00+00:00"}),
    ],
)
async def test_every_notice_fills_its_template_within_the_documented_limits(
    world: World, kind: str, payload: dict[str, Any], locale: str
) -> None:
    if "campus_id" in payload:
        payload = {**payload, "campus_id": world.campus["BSU-HD"]}
    notice = await rendered(world, kind, payload, locale)
    assert notice.text and notice.text != f"notice-{kind}"
    message = template_message(kind, notice.args, notice.locale, settings(), client_msg_id="ob-1")
    assert message is not None
    assert message.template_id == "TPL-" + NOTICE_TEMPLATES[kind].setting.removeprefix(
        "wechat_template_"
    )
    check_limits(kind, message)
    body = message.body("o6_bmjrPTlm6_2sgVt7hMZOPfL2M")
    assert body["touser"] == "o6_bmjrPTlm6_2sgVt7hMZOPfL2M" and body["client_msg_id"] == "ob-1"
    values = [v["value"] for v in message.data.values()]
    if kind == "review-decided":
        decision = t(locale, "wx-template-review-decision", {"status": payload["status"]})
        assert decision in values
        assert payload["ticket_no"] in values
    if kind.startswith("payment-"):
        state = kind.removeprefix("payment-")
        assert t(locale, f"wx-template-payment-state-{state}") in values
        assert any(str(payload["amount_fen"] // 100) in v for v in values)


def test_a_long_thing_is_cut_with_an_ellipsis_not_refused() -> None:
    args = {"subject": "CET Band 4 (English) — written test, December sitting", "campus": "X"}
    args |= {"expires_at": "2026-11-26 10:00"}
    message = template_message("reminder", args, "en", settings())
    assert message is not None
    value = message.data["keyword1"]["value"]
    assert len(value) == THING_MAX and value.endswith("…")
    assert value.startswith("CET Band 4 (English)"[: THING_MAX - 1])


def test_no_template_without_its_setting_or_for_an_unknown_kind() -> None:
    args = {"subject": "CET4", "campus": "X", "expires_at": "2026-11-26 10:00"}
    assert template_message("reminder", args, "zh", Settings(_env_file=None)) is None
    assert template_message("reminder", args, "zh", settings(wechat_template_reminder="  ")) is None
    assert template_message("no-such-kind", args, "zh", settings()) is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("has space", "template-id"),
        ("id/with/slash", "template-id"),
        (":thing1,thing2,time3", "template-id"),
        ("TPL:thing1,time3", "keyword-count"),
        ("TPL:thing1,thing1,time3", "keyword-count"),
        ("TPL:thing1,thing2,time 3", "keyword-name"),
        ("TPL:Thing1,thing2,time3", "keyword-name"),
    ],
)
def test_bad_template_settings_are_reported(value: str, reason: str) -> None:
    with pytest.raises(BadTemplateSetting) as bad:
        read_choice("wechat_template_reminder", value)
    assert bad.value.reason == reason
    problems = template_problems(settings(wechat_template_reminder=value))
    assert [(p.setting, p.reason) for p in problems] == [("wechat_template_reminder", reason)]


def test_good_template_settings_have_no_problems() -> None:
    assert template_problems(settings()) == []
    assert template_problems(Settings(_env_file=None)) == []
    choice = read_choice("wechat_template_reminder", " TPL : thing1 , thing2 , time3 ")
    assert choice is not None and choice.keys == ("thing1", "thing2", "time3")
