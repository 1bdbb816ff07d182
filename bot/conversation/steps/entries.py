"""Registering subjects (R20-R25), the overview (R24, R26) with pay / update / change / cancel
(R24, R28, R29), and printing tickets (R5)."""

from __future__ import annotations

import logging
from types import ModuleType
from typing import Any

from admission import tickets
from bot.conversation.callbacks import Callback
from bot.conversation.context import Ctx, Screen, on_button, rows, screen
from bot.conversation.types import Button, SendDocument
from registration import errors
from registration.common import Phase, campus_for, own_entry, owned, require_open
from registration.eligibility import Overview
from registration.entries import (
    PAPER_REPORTS,
    cancel_entry,
    change_campus,
    check_payable,
    register_subject,
    set_paper_report,
)
from registration.notices import tell_promotions
from storage.dto import (
    CampusDTO,
    EntryDTO,
    OfferedSubjectDTO,
    RegistrationDTO,
    StudentRecordDTO,
    SubjectDTO,
    WaitlistDTO,
)

log = logging.getLogger(__name__)


def payments_module() -> ModuleType | None:
    """`registration.payments` once it exists (written in parallel); None until then."""
    try:
        from registration import payments
    except Exception:  # absent or half-written: the pay step says "being prepared"
        log.warning("registration.payments is not available yet", exc_info=True)
        return None
    needed = ("payment_link", "refresh_payment", "gateway_from_settings")
    return payments if all(hasattr(payments, name) for name in needed) else None


async def _registration(ctx: Ctx) -> RegistrationDTO:
    registration = await ctx.registration()
    if registration is None:
        raise errors.NotRegistered()
    return registration


async def _record(ctx: Ctx, registration: RegistrationDTO) -> StudentRecordDTO:
    record = await ctx.record(registration.record_id)
    if record is None:
        raise errors.NoMatchingRecord()
    return record


async def _entry(ctx: Ctx, entry_id: Any) -> tuple[RegistrationDTO, EntryDTO]:
    """The candidate's own entry; ids from buttons are re-checked here (Forbidden)."""
    registration = await _registration(ctx)
    number = int(entry_id) if str(entry_id).isdigit() else 0
    known = ctx.remembered_entry(number) or ctx.read_entry(registration, number)
    if known is not None:
        return registration, owned(registration.id, known)
    return registration, await own_entry(ctx.uow, registration.id, number)


def _unpaid(entry: EntryDTO) -> None:
    if entry.status == "paid":
        raise errors.EntryPaid(entry=entry.id)  # R24: paid entries are final
    if entry.status != "unpaid":
        raise errors.EntryNotActive(entry=entry.id)


async def _subjects(ctx: Ctx) -> dict[str, SubjectDTO]:
    return await ctx.uow.sessions.subjects()


async def _campus_name(ctx: Ctx, campus_id: int) -> str:
    campus = await ctx.uow.sessions.campus(campus_id)
    return campus.name(ctx.locale) if campus else str(campus_id)


async def _deadline(ctx: Ctx, entry: EntryDTO) -> str:
    """R31/R4: pay before the 24 hours run out and before the campus's payment deadline."""
    campus = await ctx.uow.sessions.campus(entry.campus_id)
    due = min(entry.expires_at, campus.pay_deadline) if campus else entry.expires_at
    return ctx.when(due)


async def enter_overview(ctx: Ctx) -> None:
    """My registration: needs a bound, verified account with saved information."""
    session = await ctx.session()
    if session is None:
        ctx.notice("chat-no-session")
        ctx.goto("menu")
        return
    account = await ctx.account()
    if account is None:
        ctx.goto("account", after_account="ov")
        return
    if account.email_verified_at is None:
        ctx.notice("chat-verify-first")
        ctx.goto("verify.code", after_account="ov")
        return
    if await ctx.registration() is None:
        ctx.notice("chat-not-registered-yet")
        ctx.goto("menu")
        return
    ctx.goto("overview")


@on_button("menu", "ov", savepoint=False)
async def open_overview(ctx: Ctx, cb: Callback) -> None:
    await enter_overview(ctx)


# --- the overview ----------------------------------------------------------------------


async def entry_line(ctx: Ctx, entry: EntryDTO, subjects: dict[str, SubjectDTO]) -> str:
    subject = subjects[entry.subject_code].name(ctx.locale)
    campus = await _campus_name(ctx, entry.campus_id)
    if entry.status == "paid":
        # R26: paid is the only success sign.
        return ctx.t(
            "chat-entry-paid", subject=subject, campus=campus, fee=ctx.money(entry.fee_fen)
        )
    line = ctx.t(
        "chat-entry-unpaid",
        subject=subject,
        campus=campus,
        fee=ctx.money(entry.fee_fen),
        deadline=await _deadline(ctx, entry),
    )
    if entry.kind == "written":
        line += "\n" + ctx.t("chat-entry-paper", paper=ctx.t(f"chat-paper-{entry.paper_report}"))
    return line


@screen("overview")
async def overview_screen(ctx: Ctx) -> Screen:
    registration = await _registration(ctx)
    # What `registration.eligibility.overview` reads, asked of the context: on PostgreSQL
    # the candidate's snapshot has it all.
    view = Overview(
        registration=registration,
        record=await _record(ctx, registration),
        entries=await ctx.entries(registration),
        waitlists=await ctx.waitlists(registration),
        reviews=await ctx.reviews(registration),
    )
    subjects = await _subjects(ctx)
    parts = [
        ctx.t(
            "chat-overview-head",
            name=view.record.name,
            phone=view.registration.phone,
        )
    ]
    if view.entries:
        parts += [await entry_line(ctx, e, subjects) for e in view.entries]
    else:
        parts.append(ctx.t("chat-overview-no-entries"))
    waiting = [(w, pos) for w, pos in await _positions(ctx, view.waitlists) if pos]
    for w, pos in waiting:
        parts.append(
            ctx.t(
                "chat-overview-waiting",
                subject=subjects[w.subject_code].name(ctx.locale),
                campus=await _campus_name(ctx, w.campus_id),
                position=pos,
            )
        )
    for review in view.reviews:
        parts.append(ctx.t(f"chat-review-status-{review.status.replace('_', '-')}"))
    entry_buttons = [
        ctx.button(subjects[e.subject_code].name(ctx.locale), "entry", e.id) for e in view.entries
    ]
    keyboard = rows(entry_buttons, 2)
    actions: list[Button] = []
    if await ctx.phase() is Phase.OPEN:
        actions.append(ctx.button("chat-btn-add-subject", "add"))
    if "CET6" not in view.record.eligible and any(e.kind == "written" for e in view.entries):
        actions.append(ctx.button("chat-btn-review", "review"))
    if view.waitlists:
        actions.append(ctx.button("chat-btn-waitlists", "wl"))
    if any(e.status == "paid" for e in view.entries):
        actions.append(ctx.button("chat-btn-print", "print"))
    keyboard += rows(actions, 2)
    keyboard.append(ctx.nav())
    return Screen("\n\n".join(parts), keyboard)


async def _positions(ctx: Ctx, waitlists: list[WaitlistDTO]) -> list[tuple[WaitlistDTO, int]]:
    """As `waitlists_of`, for the waitlists the overview has already read (R36)."""
    return [
        (w, await ctx.uow.waitlists.position(w) if w.status == "waiting" else 0) for w in waitlists
    ]


@on_button("overview", "entry", savepoint=False)
async def open_entry(ctx: Ctx, cb: Callback) -> None:
    _, entry = await _entry(ctx, cb.arg(0))
    ctx.goto("entry.detail", entry_id=entry.id)


@on_button("overview", "wl", savepoint=False)
async def open_waitlists(ctx: Ctx, cb: Callback) -> None:
    ctx.goto("waitlists")


@on_button("overview", "print")
async def print_tickets(ctx: Ctx, cb: Callback) -> None:
    registration = await _registration(ctx)
    try:
        await tickets.printable_entries(ctx.uow, ctx.clock, registration_id=registration.id)
    except errors.NotFound:
        ctx.notice("chat-no-paid-entries")
        return
    documents = getattr(tickets, "ticket_documents", None)
    if documents is None:
        ctx.notice("chat-tickets-coming-soon")
        return
    docs = await documents(
        ctx.uow,
        ctx.clock,
        registration_id=registration.id,
        locale=ctx.locale,
        settings=ctx.settings,
    )
    send_documents(ctx, docs)


def send_documents(ctx: Ctx, docs: list[Any]) -> None:
    for doc in docs:
        entry_id = getattr(doc, "entry_id", None)
        ctx.after.append(
            SendDocument(
                ctx.chat_id,
                filename=doc.filename,
                data=doc.pdf,
                file_id=doc.file_id,
                cache_key=f"ticket:{entry_id}:{ctx.locale}" if entry_id is not None else None,
            )
        )
    ctx.notice("chat-tickets-sent", count=len(docs))


# --- register: subject, campus, paper report (R20-R25) ---------------------------------------


async def _options(ctx: Ctx, registration: RegistrationDTO) -> list[OfferedSubjectDTO]:
    """Subjects the candidate may add now: eligible written ones of a free level (R20, R22),
    oral ones whose written entry is held (R21), offered at a campus of their school."""
    record = await _record(ctx, registration)
    offered = await ctx.uow.sessions.offered(registration.session_id)
    active = await ctx.entries(registration)
    held = {e.subject_code for e in active}
    levels = {e.level for e in active if e.kind == "written"}
    at_school = await _seat_subjects(ctx, registration.session_id, record.school)
    out = []
    for code, item in offered.items():
        subject = item.subject
        if code in held or code not in at_school:
            continue
        if subject.kind == "written":
            if code in record.eligible and subject.level not in levels:
                out.append(item)
        elif subject.requires in held:
            out.append(item)
    return out


async def _seat_subjects(ctx: Ctx, session_id: int, school: str) -> set[str]:
    campuses = {c.id for c in await ctx.uow.sessions.campuses(session_id, school=school)}
    pairs = await ctx.uow.sessions.seat_pairs(session_id)
    return {subject for campus, subject in pairs if campus in campuses}


@on_button("overview", "add", savepoint=False)
@on_button("entry.detail", "more", savepoint=False)
async def add_subject(ctx: Ctx, cb: Callback) -> None:
    session = await ctx.session()
    if session is None:
        raise errors.SessionNotPublished()
    require_open(session, ctx.now)
    ctx.goto("entry.subject")


@screen("entry.subject")
async def subject_screen(ctx: Ctx) -> Screen:
    registration = await _registration(ctx)
    options = await _options(ctx, registration)
    if not options:
        return Screen(ctx.t("chat-nothing-to-register"), [ctx.nav()])
    lines = [ctx.t("chat-prompt-entry-subject")]
    for item in options:
        lines.append(
            ctx.t(
                "chat-subject-line",
                subject=item.subject.name(ctx.locale),
                fee=ctx.money(item.fee_fen),
                exam=ctx.when(item.exam_start),
            )
        )
    buttons = [ctx.button(i.subject.name(ctx.locale), "subj", i.subject.code) for i in options]
    return Screen("\n".join(lines), [*rows(buttons, 2), ctx.nav()])


@on_button("entry.subject", "subj", savepoint=False)
async def choose_subject(ctx: Ctx, cb: Callback) -> None:
    registration = await _registration(ctx)
    codes = {item.subject.code for item in await _options(ctx, registration)}
    if cb.arg(0) not in codes:
        raise errors.NotEligible(subject=cb.arg(0))
    ctx.goto("entry.campus", subject=cb.arg(0))


async def campus_buttons(
    ctx: Ctx, registration: RegistrationDTO, subject: str, *, skip: int | None = None
) -> list[list[Button]]:
    """One campus a row (names are long), each with its free seats (R23) or "full" (R34)."""
    record = await _record(ctx, registration)
    campuses = await ctx.uow.sessions.campuses(registration.session_id, school=record.school)
    campuses = [c for c in campuses if c.id != skip]
    free = await ctx.uow.sessions.seats_of_subject([c.id for c in campuses], subject)
    out = []
    for campus in campuses:
        seats = free.get(campus.id)
        if seats is None:
            continue
        name = campus.name(ctx.locale)
        label = (
            ctx.t("chat-campus-free", campus=name, free=seats.free)
            if seats.free > 0
            else ctx.t("chat-campus-full", campus=name)
        )
        out.append([ctx.button(label, "camp", campus.id)])
    return out


@screen("entry.campus")
async def campus_screen(ctx: Ctx) -> Screen:
    registration = await _registration(ctx)
    subject = ctx.data.get("subject", "")
    subjects = await _subjects(ctx)
    if subject not in subjects:
        raise errors.UnknownSubject(subject=subject)
    return Screen(
        ctx.t("chat-prompt-entry-campus", subject=subjects[subject].name(ctx.locale)),
        [*await campus_buttons(ctx, registration, subject), ctx.nav()],
    )


async def _chosen_campus(ctx: Ctx, registration: RegistrationDTO, arg: str) -> CampusDTO:
    record = await _record(ctx, registration)
    number = int(arg) if arg.isdigit() else 0
    return await campus_for(ctx.uow, registration.session_id, number, record)


# Its only write is `_register`'s service call (`Ctx.call`: a savepoint, or none needed).
@on_button("entry.campus", "camp", savepoint=False)
async def choose_campus(ctx: Ctx, cb: Callback) -> None:
    registration = await _registration(ctx)
    campus = await _chosen_campus(ctx, registration, cb.arg(0))
    subject = ctx.data.get("subject", "")
    seats = await ctx.uow.sessions.seats(campus.id, subject)
    if seats is None:
        raise errors.UnknownCampus(campus=campus.id)
    if seats.free <= 0:
        ctx.goto("waitlist.offer", campus_id=campus.id)  # R34
        return
    subjects = await _subjects(ctx)
    if subjects[subject].kind == "written":
        ctx.goto("entry.paper", campus_id=campus.id)
        return
    await _register(ctx, registration, subject, campus.id, "none")


@screen("entry.paper", "entry.paper_change")
async def paper_screen(ctx: Ctx) -> Screen:
    buttons = [ctx.button(f"chat-paper-{choice}", "paper", choice) for choice in PAPER_REPORTS]
    return Screen(ctx.t("chat-prompt-entry-paper"), [*rows(buttons, 1), ctx.nav()])


@on_button("entry.paper", "paper", savepoint=False)
async def choose_paper(ctx: Ctx, cb: Callback) -> None:
    if cb.arg(0) not in PAPER_REPORTS:
        raise errors.InvalidInput(field="paper_report")
    registration = await _registration(ctx)
    campus_id = int(ctx.data.get("campus_id") or 0)
    await _register(ctx, registration, ctx.data.get("subject", ""), campus_id, cb.arg(0))


async def _register(
    ctx: Ctx, registration: RegistrationDTO, subject: str, campus_id: int, paper: str
) -> None:
    try:
        entry = await ctx.call(
            register_subject,
            ctx.uow,
            ctx.clock,
            registration_id=registration.id,
            subject_code=subject,
            campus_id=campus_id,
            paper_report=paper,
        )
    except errors.SeatsFull:
        # R34: taken by someone else a moment ago; offer the queue.
        ctx.notice("chat-just-filled")
        ctx.goto("waitlist.offer", campus_id=campus_id)
        return
    # Booked on it: the registration is still the active one (only its version moved),
    # and the entry is as the booking returned it.
    ctx.remember_registration(registration)
    ctx.remember_entry(entry)
    subjects = await _subjects(ctx)
    ctx.notice(
        "chat-registered",
        subject=subjects[subject].name(ctx.locale),
        campus=await _campus_name(ctx, campus_id),
        deadline=await _deadline(ctx, entry),
    )
    ctx.clear("subject", "campus_id")
    ctx.goto("entry.detail", entry_id=entry.id)


# --- one entry: pay, update, change campus, cancel, paper report -------------------------------


@screen("entry.detail")
async def entry_screen(ctx: Ctx) -> Screen:
    _, entry = await _entry(ctx, ctx.data.get("entry_id"))
    subjects = await _subjects(ctx)
    text = await entry_line(ctx, entry, subjects)
    keyboard: list[list[Button]] = []
    if entry.status == "unpaid":
        keyboard.append([ctx.button("chat-btn-pay", "pay"), ctx.button("chat-btn-update", "upd")])
        if await ctx.phase() is Phase.OPEN:
            keyboard.append(
                [ctx.button("chat-btn-change-campus", "chc"), ctx.button("chat-btn-cancel", "cxl")]
            )
            if entry.kind == "written":
                keyboard.append([ctx.button("chat-btn-paper", "ppr")])
        text += "\n\n" + ctx.t("chat-entry-unpaid-hint")
    elif entry.status == "paid":
        text += "\n\n" + ctx.t("chat-entry-paid-hint")
    if await ctx.phase() is Phase.OPEN:
        keyboard.append([ctx.button("chat-btn-add-subject", "more")])
    keyboard.append(ctx.nav())
    return Screen(text, keyboard)


# Its only write is the payment link's service call (`Ctx.call`: a savepoint, or none needed).
@on_button("entry.detail", "pay", savepoint=False)
async def pay(ctx: Ctx, cb: Callback) -> None:
    payments = payments_module()
    if payments is None:
        _, entry = await _entry(ctx, ctx.data.get("entry_id"))
        await check_payable(ctx.uow, ctx.now, entry)  # R4, R27: says why before any link
        ctx.notice("chat-payment-preparing")
        return
    # The service checks the entry is the candidate's own and payable (R4, R27) before
    # any link, with the same refusals.
    registration = await _registration(ctx)
    entry_id = str(ctx.data.get("entry_id"))
    number = int(entry_id) if entry_id.isdigit() else 0
    # The entry as the candidate's snapshot shows it, with the registration's version: on
    # PostgreSQL the payment is then written with the lock, in one statement.
    link = await ctx.call(
        payments.payment_link,
        ctx.uow,
        ctx.clock,
        registration_id=registration.id,
        entry_id=number,
        gateway=payments.gateway_from_settings(ctx.settings),
        seen=ctx.seen_entry(registration, number),
    )
    # The link changed neither: the pay screen shows them without reading them again.
    ctx.remember_registration(registration)
    if link.entry is not None:
        ctx.remember_entry(link.entry)
    ctx.goto("entry.pay", pay_url=link.url, pay_amount=link.amount_fen)


@screen("entry.pay")
async def pay_screen(ctx: Ctx) -> Screen:
    _, entry = await _entry(ctx, ctx.data.get("entry_id"))
    subjects = await _subjects(ctx)
    amount = ctx.money(int(ctx.data.get("pay_amount") or entry.fee_fen))
    keyboard: list[list[Button]] = []
    url = str(ctx.data.get("pay_url") or "")
    if url.startswith(("http://", "https://")):
        keyboard.append([ctx.link(ctx.t("chat-btn-pay-link", amount=amount), url)])
    keyboard.append([ctx.button("chat-btn-update", "upd")])
    keyboard.append(ctx.nav())
    return Screen(
        ctx.t(
            "chat-prompt-entry-pay",
            subject=subjects[entry.subject_code].name(ctx.locale),
            amount=amount,
            deadline=await _deadline(ctx, entry),
        ),
        keyboard,
    )


# Its only write is the refresh's service call (which refuses before it writes, see
# `Ctx.call`): an entry shown paid already, or a payment still pending, writes nothing.
@on_button(("entry.detail", "entry.pay"), "upd", savepoint=False)
async def update_payment(ctx: Ctx, cb: Callback) -> None:
    """R29: ask the gateway again when the bank charged but the entry still shows unpaid."""
    registration, entry = await _entry(ctx, ctx.data.get("entry_id"))
    payments = payments_module()
    if payments is None:
        ctx.notice("chat-payment-preparing")
        return
    if entry.status == "unpaid":
        refreshed = await ctx.call(
            payments.refresh_payment,
            ctx.uow,
            ctx.clock,
            registration_id=registration.id,
            entry_id=entry.id,
            gateway=payments.gateway_from_settings(ctx.settings),
            entry=entry,
        )
        if refreshed.status == entry.status:
            # Nothing applied: the screen shows them without reading them again.
            ctx.remember_registration(registration)
            ctx.remember_entry(refreshed)
        entry = owned(registration.id, refreshed)
    if entry.status == "paid":
        ctx.notice("chat-paid")
        ctx.clear("pay_url", "pay_amount")
        ctx.goto("entry.detail")
    else:
        ctx.notice("chat-still-unpaid")


@on_button("entry.detail", "chc", savepoint=False)
async def open_change(ctx: Ctx, cb: Callback) -> None:
    _, entry = await _entry(ctx, ctx.data.get("entry_id"))
    _unpaid(entry)
    ctx.goto("entry.change")


@screen("entry.change")
async def change_screen(ctx: Ctx) -> Screen:
    registration, entry = await _entry(ctx, ctx.data.get("entry_id"))
    subjects = await _subjects(ctx)
    return Screen(
        ctx.t(
            "chat-prompt-entry-change",
            subject=subjects[entry.subject_code].name(ctx.locale),
            campus=await _campus_name(ctx, entry.campus_id),
        ),
        [
            *await campus_buttons(ctx, registration, entry.subject_code, skip=entry.campus_id),
            ctx.nav(),
        ],
    )


@on_button("entry.change", "camp")
async def change_to_campus(ctx: Ctx, cb: Callback) -> None:
    registration, entry = await _entry(ctx, ctx.data.get("entry_id"))
    campus = await _chosen_campus(ctx, registration, cb.arg(0))
    moved, promotions = await change_campus(
        ctx.uow, ctx.clock, registration_id=registration.id, entry_id=entry.id, campus_id=campus.id
    )
    await tell_promotions(ctx.uow, ctx.now, promotions)  # R37: the freed seat's new owner
    ctx.notice("chat-campus-changed", campus=campus.name(ctx.locale))
    ctx.goto("entry.detail", entry_id=moved.id)


async def _cascade(ctx: Ctx, registration: RegistrationDTO, entry: EntryDTO) -> list[EntryDTO]:
    """R24: the unpaid oral entries cancelled together with a written one."""
    if entry.kind != "written":
        return []
    subjects = await _subjects(ctx)
    return [
        e
        for e in await ctx.entries(registration)
        if e.kind == "oral" and subjects[e.subject_code].requires == entry.subject_code
    ]


@on_button("entry.detail", "cxl", savepoint=False)
async def open_cancel(ctx: Ctx, cb: Callback) -> None:
    _, entry = await _entry(ctx, ctx.data.get("entry_id"))
    _unpaid(entry)
    ctx.goto("entry.cancel")


@screen("entry.cancel")
async def cancel_screen(ctx: Ctx) -> Screen:
    registration, entry = await _entry(ctx, ctx.data.get("entry_id"))
    subjects = await _subjects(ctx)
    going = [entry, *await _cascade(ctx, registration, entry)]
    ctx.data["cascade"] = [e.id for e in going[1:]]
    lines = []
    for e in going:
        campus = await _campus_name(ctx, e.campus_id)
        lines.append(f"- {subjects[e.subject_code].name(ctx.locale)} ({campus})")
    names = "\n".join(lines)
    key = "chat-prompt-entry-cancel-cascade" if len(going) > 1 else "chat-prompt-entry-cancel"
    return Screen(
        ctx.t(key, entries=names),
        [[ctx.button("chat-btn-confirm-cancel", "yes")], ctx.nav()],
    )


@on_button("entry.cancel", "yes")
async def confirm_cancel(ctx: Ctx, cb: Callback) -> None:
    registration, entry = await _entry(ctx, ctx.data.get("entry_id"))
    # Confirmed only for what the screen listed: an oral entry added since asks again.
    listed = set(ctx.data.get("cascade") or [])
    actual = {e.id for e in await _cascade(ctx, registration, entry)}
    if actual - listed:
        raise errors.ConfirmCascade(entries=[entry.id, *sorted(actual)])
    cancelled, promotions = await cancel_entry(
        ctx.uow,
        ctx.clock,
        registration_id=registration.id,
        entry_id=entry.id,
        confirmed=bool(actual),
    )
    await tell_promotions(ctx.uow, ctx.now, promotions)  # R37
    subjects = await _subjects(ctx)
    ctx.notice(
        "chat-cancelled-entries",
        entries=", ".join(subjects[e.subject_code].name(ctx.locale) for e in cancelled),
    )
    ctx.clear("entry_id", "cascade")
    ctx.goto("overview")


@on_button("entry.detail", "ppr", savepoint=False)
async def open_paper(ctx: Ctx, cb: Callback) -> None:
    _, entry = await _entry(ctx, ctx.data.get("entry_id"))
    _unpaid(entry)
    if entry.kind != "written":
        raise errors.PaperReportNotAllowed(entry=entry.id)
    ctx.goto("entry.paper_change")


@on_button("entry.paper_change", "paper")
async def change_paper(ctx: Ctx, cb: Callback) -> None:
    registration, entry = await _entry(ctx, ctx.data.get("entry_id"))
    await set_paper_report(
        ctx.uow,
        ctx.clock,
        registration_id=registration.id,
        entry_id=entry.id,
        paper_report=cb.arg(0),
    )
    ctx.notice("chat-paper-set", paper=ctx.t(f"chat-paper-{cb.arg(0)}"))
    ctx.goto("entry.detail")
