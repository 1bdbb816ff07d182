"""Start registration: agreement, lookup, confirmation view, phone, saved (R2, R9, R11-R13);
and the CET-6 review (R14-R19) from the confirmation view or the overview."""

from __future__ import annotations

from bot.conversation import inputs
from bot.conversation.callbacks import Callback
from bot.conversation.context import Ctx, Screen, on_button, on_contact, on_text, screen
from bot.conversation.steps.main import id_type_buttons, prompt_screen
from bot.conversation.types import Button, SendPhoto
from registration import errors, identity
from registration.common import Phase, require_open
from registration.eligibility import lookup_record, save_registration
from registration.identity import IdType
from registration.review import REVIEWED_SUBJECT, request_review
from storage.dto import StudentRecordDTO

_SCRATCH = ("agreed", "id_type", "name", "record_id", "claimed")


async def enter_registration(ctx: Ctx) -> None:
    """Start registration: needs a session, a bound and verified account (R9), then R11."""
    session = await ctx.session()
    current = await ctx.phase()
    if session is None or current is Phase.UNPUBLISHED:
        ctx.notice("chat-no-session")
        ctx.goto("menu")
        return
    account = await ctx.account()
    if account is None:
        ctx.goto("account", after_account="reg")
        return
    if account.email_verified_at is None:
        ctx.notice("chat-verify-first")
        ctx.goto("verify.code", after_account="reg")
        return
    if await ctx.registration() is not None:
        ctx.notice("chat-already-saved")
        ctx.goto("overview")
        return
    if current is Phase.CLOSED:
        ctx.notices.append(ctx.error_text(errors.WindowClosed(closed_at=session.closes_at)))
        ctx.goto("menu")
        return
    ctx.clear(*_SCRATCH)
    ctx.goto("reg.agreement")


@on_button("menu", "reg")
async def start_registration(ctx: Ctx, cb: Callback) -> None:
    await enter_registration(ctx)


# --- agreement (R11), ID type, name, ID number (R12) -------------------------------------


@screen("reg.agreement")
async def agreement_screen(ctx: Ctx) -> Screen:
    return Screen(
        ctx.t("chat-prompt-reg-agreement"),
        [[ctx.button("chat-btn-agree", "agree")], ctx.nav()],
    )


@on_button("reg.agreement", "agree")
async def agree(ctx: Ctx, cb: Callback) -> None:
    ctx.goto("reg.id_type", agreed=True)


@screen("reg.id_type")
async def id_type_screen(ctx: Ctx) -> Screen:
    return Screen(ctx.t("chat-prompt-id-type"), [*id_type_buttons(ctx), ctx.nav()])


@on_button("reg.id_type", "idt")
async def choose_id_type(ctx: Ctx, cb: Callback) -> None:
    if cb.arg(0) in {kind.value for kind in IdType}:
        ctx.goto("reg.name", id_type=cb.arg(0))


@screen("reg.name", "quick.name")
async def name_screen(ctx: Ctx) -> Screen:
    return prompt_screen(ctx)


@on_text("reg.name")
async def type_name(ctx: Ctx, text: str) -> None:
    name = inputs.clean_name(text)
    if name is None:
        ctx.notice("chat-name-invalid")
        return
    ctx.goto("reg.id_number", name=name)


@screen("reg.id_number", "quick.id_number")
async def id_number_screen(ctx: Ctx) -> Screen:
    screen_ = prompt_screen(ctx)
    kind = ctx.data.get("id_type", "")
    hint = ctx.t(f"chat-idtype-hint-{kind.replace('_', '-')}") if kind else ""
    screen_.text = "\n".join(part for part in (screen_.text, hint) if part)
    return screen_


def id_problem(ctx: Ctx, err: errors.InvalidIdNumber) -> None:
    """Says what is wrong with a typed ID number (check digit, length...), never which record."""
    reason = str(err.params.get("reason", ""))
    key = f"chat-id-problem-{reason}"
    text = ctx.t(key)
    ctx.notices.append(text if text != key else ctx.error_text(err))


@on_text("reg.id_number")
async def type_id_number(ctx: Ctx, text: str) -> None:
    session = await ctx.session()
    if session is None:
        raise errors.SessionNotPublished()
    try:
        record = await lookup_record(
            ctx.uow,
            ctx.clock,
            session_id=session.id,
            name=ctx.data.get("name", ""),
            id_type=ctx.data.get("id_type", ""),
            id_number=text,
        )
    except errors.InvalidIdNumber as err:
        id_problem(ctx, err)
        return
    photo = await ctx.uow.records.photo(record.id)
    if photo:
        ctx.before.append(SendPhoto(ctx.chat_id, photo, caption=record.name))
    ctx.goto("reg.confirm", record_id=record.id)


# --- the confirmation view (R13) ----------------------------------------------------------


async def _record(ctx: Ctx) -> StudentRecordDTO:
    record = await ctx.uow.records.get(int(ctx.data.get("record_id") or 0))
    if record is None:
        raise errors.NoMatchingRecord()
    return record


async def subject_names(ctx: Ctx, codes: set[str] | frozenset[str]) -> str:
    subjects = await ctx.uow.sessions.subjects()
    named = [subjects[c].name(ctx.locale) for c in sorted(codes) if c in subjects]
    return ", ".join(named) if named else ctx.t("chat-none")


async def record_text(ctx: Ctx, record: StudentRecordDTO) -> str:
    campus = await ctx.uow.sessions.campus_by_code(record.session_id, record.campus_code)
    return ctx.t(
        "chat-record",
        name=record.name,
        gender=ctx.t(f"chat-gender-{record.gender.lower()}")
        if record.gender in ("F", "M")
        else record.gender,
        id_type=ctx.t(f"chat-idtype-{record.id_type.replace('_', '-')}"),
        id_number=inputs.mask_id(record.id_number),
        school=record.school,
        campus=campus.name(ctx.locale) if campus else record.campus_code,
        student_no=record.student_no,
        eligible=await subject_names(ctx, record.eligible),
    )


@screen("reg.confirm")
async def confirm_screen(ctx: Ctx) -> Screen:
    record = await _record(ctx)
    session = await ctx.session()
    parts = [ctx.t("chat-prompt-reg-confirm"), await record_text(ctx, record)]
    if not record.has_photo:
        parts.append(ctx.t("chat-no-photo"))
    if session is not None and await ctx.phase() is Phase.BEFORE_WINDOW:
        parts.append(ctx.t("chat-before-window", opens=ctx.when(session.opens_at)))
    keyboard: list[list[Button]] = [[ctx.button("chat-btn-confirm-record", "confirm")]]
    if REVIEWED_SUBJECT not in record.eligible:
        keyboard.append([ctx.button("chat-btn-review", "review")])
    keyboard.append([ctx.button("chat-btn-not-me", "redo")])
    keyboard.append(ctx.nav())
    return Screen("\n\n".join(parts), keyboard)


@on_button("reg.confirm", "confirm")
async def confirm_record(ctx: Ctx, cb: Callback) -> None:
    session = await ctx.session()
    if session is None:
        raise errors.SessionNotPublished()
    require_open(session, ctx.now)  # R2: before the window nothing is saved; says when
    if not ctx.data.get("agreed"):
        raise errors.AgreementRequired()
    await _record(ctx)
    ctx.goto("reg.phone")


@on_button("reg.confirm", "redo")
async def not_my_record(ctx: Ctx, cb: Callback) -> None:
    ctx.clear("record_id", "name")
    ctx.goto("reg.id_type")


# --- phone, saved ----------------------------------------------------------------------


@screen("reg.phone")
async def phone_screen(ctx: Ctx) -> Screen:
    record = await _record(ctx)
    keyboard = [
        [
            ctx.button("chat-btn-use-phone", "usephone"),
            ctx.button("chat-btn-new-phone", "newphone"),
        ]
    ]
    if ctx.data.get("claimed"):
        keyboard.append([ctx.button("chat-btn-recover", "recover")])
    keyboard.append(ctx.nav())
    return Screen(ctx.t("chat-prompt-reg-phone", phone=record.phone), keyboard)


@screen("reg.phone_typed")
async def phone_typed_screen(ctx: Ctx) -> Screen:
    extra = [ctx.button("chat-btn-recover", "recover")] if ctx.data.get("claimed") else []
    return prompt_screen(ctx, extra)


@on_button("reg.phone", "newphone")
async def new_phone(ctx: Ctx, cb: Callback) -> None:
    ctx.goto("reg.phone_typed")


@on_button(("reg.phone", "reg.phone_typed"), "recover")
async def recover_from_claimed(ctx: Ctx, cb: Callback) -> None:
    ctx.clear(*_SCRATCH)
    ctx.goto("recover.name")


@on_button("reg.phone", "usephone")
async def use_roster_phone(ctx: Ctx, cb: Callback) -> None:
    record = await _record(ctx)
    await _save(ctx, record.phone)


@on_text("reg.phone_typed")
@on_contact("reg.phone", "reg.phone_typed")
async def type_phone(ctx: Ctx, text: str) -> None:
    try:
        phone = identity.check_phone(text)
    except identity.InvalidPhone as bad:
        ctx.notice(f"chat-phone-problem-{bad.reason}")
        return
    await _save(ctx, phone)


async def _save(ctx: Ctx, phone: str) -> None:
    """R13: saves the registration information, then straight on to the subjects."""
    session, account = await ctx.session(), await ctx.account()
    if session is None:
        raise errors.SessionNotPublished()
    if account is None:
        raise errors.NotRegistered()
    try:
        await ctx.call(
            save_registration,
            ctx.uow,
            ctx.clock,
            account=account,
            session_id=session.id,
            record_id=int(ctx.data.get("record_id") or 0),
            phone=phone,
            agreed=bool(ctx.data.get("agreed")),
        )
    except errors.RecordClaimed as err:
        # R13: someone else's account holds this record: point to account recovery (R10).
        ctx.notices.append(ctx.error_text(err))
        ctx.data["claimed"] = True
        return
    ctx.clear(*_SCRATCH)
    ctx.notice("chat-saved")
    ctx.goto("entry.subject")


# --- CET-6 review (R14-R19) -------------------------------------------------------------


@on_button("reg.confirm", "review")
async def review_from_confirmation(ctx: Ctx, cb: Callback) -> None:
    ctx.goto("review.ticket", origin="reg.confirm")


@on_button("overview", "review")
async def review_from_overview(ctx: Ctx, cb: Callback) -> None:
    registration = await ctx.registration()
    if registration is None:
        raise errors.NotRegistered()
    entries = await ctx.entries(registration)
    if not any(e.kind == "written" for e in entries):
        raise errors.ReviewNeedsEntry()  # R19: from the overview only with a written entry
    ctx.goto("review.ticket", origin="overview")


@screen("review.ticket")
async def review_screen(ctx: Ctx) -> Screen:
    return prompt_screen(ctx)


@on_text("review.ticket")
async def type_ticket_number(ctx: Ctx, text: str) -> None:
    session, account = await ctx.session(), await ctx.account()
    if session is None:
        raise errors.SessionNotPublished()
    if account is None:
        raise errors.NotRegistered()
    origin = ctx.data.get("origin")
    if origin == "overview":
        registration = await ctx.registration()
        if registration is None:
            raise errors.NotRegistered()
        record_id = registration.record_id
    else:
        origin = "reg.confirm"
        record_id = int(ctx.data.get("record_id") or 0)
    review = await request_review(
        ctx.uow,
        ctx.clock,
        account_id=account.id,
        session_id=session.id,
        record_id=record_id,
        ticket_no=text,
    )
    if review.status == "passed":
        ctx.notice("chat-review-passed")  # R15
    else:
        ctx.notice("chat-review-not-reviewed")  # R16, R18
    ctx.goto(origin)
