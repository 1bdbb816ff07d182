"""School administrators in the chat: the CET-6 review queue with its evidence, decisions
with a note, and the school's registration figures (R19, R42).

Nothing here trusts the conversation state or a button's ids: every handler and screen
looks the user up as an administrator again (a forged or stale admin button from anyone
else changes nothing), and the services refuse another school's request (Forbidden).
"""

from __future__ import annotations

from backoffice import administration
from bot.conversation import inputs
from bot.conversation.callbacks import Callback
from bot.conversation.context import Ctx, Screen, on_button, on_text, screen
from registration import errors
from storage.repos.administration import AdminDTO

# A chat message holds a screenful: the oldest requests first, the rest after those.
QUEUE_SHOWN = 10


async def _find(ctx: Ctx) -> AdminDTO | None:
    return await administration.admin_for(
        ctx.uow,
        platform=ctx.platform,
        user_id=ctx.user_id,
        authority_ids=ctx.settings.admin_ids(),
    )


async def may_administer(ctx: Ctx) -> bool:
    """Whether `/admin` opens the admin flow for this user (the engine asks)."""
    return await _find(ctx) is not None


async def _admin(ctx: Ctx) -> AdminDTO:
    """The administrator acting in this event; their changes are audited under their name."""
    found = await _find(ctx)
    if found is None:
        raise errors.Forbidden(what="admin")
    ctx.uow.actor = administration.actor_of(found)
    ctx.uow.find_actor = None
    return found


def _scope(ctx: Ctx, admin: AdminDTO) -> str:
    return admin.school if admin.school is not None else ctx.t("admin-scope-all")


async def _session_id(ctx: Ctx) -> int | None:
    session = await ctx.session()
    return session.id if session is not None else None


# --- the admin menu ------------------------------------------------------------------


@screen("admin")
async def admin_screen(ctx: Ctx) -> Screen:
    admin = await _admin(ctx)
    queue = await administration.review_queue(ctx.uow, admin, session_id=await _session_id(ctx))
    return Screen(
        ctx.t("admin-prompt-admin", scope=_scope(ctx, admin)),
        [
            [ctx.button(ctx.t("admin-btn-queue", count=len(queue)), "adqueue")],
            [ctx.button(ctx.t("admin-btn-stats"), "adstats")],
            ctx.nav(),
        ],
    )


@on_button("admin", "adqueue")
async def open_queue(ctx: Ctx, cb: Callback) -> None:
    await _admin(ctx)
    ctx.goto("admin.reviews")


@on_button("admin", "adstats")
async def open_stats(ctx: Ctx, cb: Callback) -> None:
    await _admin(ctx)
    ctx.goto("admin.stats")


# --- the queue and one request's evidence ----------------------------------------------


@screen("admin.reviews")
async def queue_screen(ctx: Ctx) -> Screen:
    admin = await _admin(ctx)
    queue = await administration.review_queue(ctx.uow, admin, session_id=await _session_id(ctx))
    lines = [ctx.t("admin-prompt-admin-reviews", scope=_scope(ctx, admin), count=len(queue))]
    if not queue:
        lines.append(ctx.t("admin-reviews-none"))
    elif len(queue) > QUEUE_SHOWN:
        lines.append(ctx.t("admin-reviews-more", count=len(queue) - QUEUE_SHOWN))
    keyboard = []
    for review in queue[:QUEUE_SHOWN]:
        record = await ctx.uow.records.get(review.record_id)
        name = record.name if record is not None else "?"
        label = ctx.t("admin-review-button", id=review.id, name=name, ticket=review.ticket_no)
        keyboard.append([ctx.button(label, "adopen", review.id)])
    keyboard.append(ctx.nav())
    return Screen("\n\n".join(lines), keyboard)


@on_button("admin.reviews", "adopen")
async def open_review(ctx: Ctx, cb: Callback) -> None:
    admin = await _admin(ctx)
    review_id = cb.int_arg(0)
    if review_id is None:
        raise errors.NotFound(what="review")
    # R42: another school's request is refused here, whatever the button said.
    await administration.review_evidence(ctx.uow, admin, review_id=review_id)
    ctx.goto("admin.review", review=review_id)


@screen("admin.review")
async def review_screen(ctx: Ctx) -> Screen:
    admin = await _admin(ctx)
    evidence = await administration.review_evidence(
        ctx.uow, admin, review_id=int(ctx.data.get("review", 0))
    )
    review, record, score = evidence.review, evidence.record, evidence.score
    lines = [
        ctx.t("admin-prompt-admin-review", id=review.id),
        ctx.t(
            "admin-evidence-request",
            ticket=review.ticket_no,
            at=ctx.when(review.created_at),
            status=ctx.t(f"admin-status-{review.status.replace('_', '-')}"),
        ),
        ctx.t(
            "admin-evidence-record",
            name=record.name,
            school=record.school,
            student_no=record.student_no,
            id_number=inputs.mask_id(record.id_number),
        ),
    ]
    if score is None:
        lines.append(ctx.t("admin-evidence-no-score"))
    else:
        lines.append(
            ctx.t(
                "admin-evidence-score",
                name=score.name,
                subject=score.subject,
                score=score.score,
                sitting=score.session_label,
                id_number=inputs.mask_id(score.id_number),
            )
        )
    keyboard = []
    if review.status == "not_reviewed":
        keyboard.append(
            [
                ctx.button(ctx.t("admin-btn-approve"), "adapprove", review.id),
                ctx.button(ctx.t("admin-btn-reject"), "adreject", review.id),
            ]
        )
    else:
        lines.append(ctx.t("admin-review-decided", note=review.note or "-"))
    keyboard.append(ctx.nav())
    return Screen("\n".join(lines), keyboard)


@on_button("admin.review", "adapprove", "adreject")
async def choose_decision(ctx: Ctx, cb: Callback) -> None:
    admin = await _admin(ctx)
    review_id = cb.int_arg(0)
    if review_id is None:
        raise errors.NotFound(what="review")
    evidence = await administration.review_evidence(ctx.uow, admin, review_id=review_id)
    if evidence.review.status != "not_reviewed":
        raise errors.ReviewAlreadyDecided(review=review_id, status=evidence.review.status)
    ctx.goto("admin.note", review=review_id, approve=cb.action == "adapprove")


# --- the note, and the decision --------------------------------------------------------


def _decision(ctx: Ctx) -> str:
    return ctx.t("admin-decision-approve" if ctx.data.get("approve") else "admin-decision-reject")


@screen("admin.note")
async def note_screen(ctx: Ctx) -> Screen:
    await _admin(ctx)
    return Screen(
        ctx.t("admin-prompt-admin-note", decision=_decision(ctx), limit=administration.MAX_NOTE),
        [ctx.nav()],
    )


@on_text("admin.note")
async def decide_with_note(ctx: Ctx, text: str) -> None:
    admin = await _admin(ctx)
    decided = await administration.decide(
        ctx.uow,
        ctx.clock,
        admin,
        review_id=int(ctx.data.get("review", 0)),
        approve=bool(ctx.data.get("approve")),
        note=text,
    )
    ctx.notice("admin-decided", id=decided.id, decision=_decision(ctx))
    ctx.clear("review", "approve")
    ctx.goto("admin.reviews")


# --- figures -------------------------------------------------------------------------


@screen("admin.stats")
async def stats_screen(ctx: Ctx) -> Screen:
    admin = await _admin(ctx)
    session = await ctx.session()
    if session is None:
        return Screen(ctx.t("admin-stats-no-session"), [ctx.nav()])
    figures = await administration.school_figures(ctx.uow, admin, session_id=session.id)
    names = {c.code: c.name(ctx.locale) for c in await ctx.uow.sessions.campuses(session.id)}
    subjects = await ctx.uow.sessions.subjects()
    scope = _scope(ctx, admin)
    lines = [ctx.t("admin-prompt-admin-stats", session=figures.session_code, scope=scope)]
    for line in figures.lines:
        subject = subjects.get(line.subject_code)
        lines.append(
            ctx.t(
                "admin-stats-line",
                campus=names.get(line.campus_code, line.campus_code),
                subject=subject.name(ctx.locale) if subject else line.subject_code,
                registered=line.paid + line.unpaid,
                paid=line.paid,
                free=max(line.capacity - line.taken, 0),
                waiting=line.waiting,
            )
        )
    if not figures.lines:
        lines.append(ctx.t("admin-stats-none"))
    return Screen("\n".join(lines), [ctx.nav()])


# --- the slash commands the admin menu implies: /approve ID [NOTE], /reject ID NOTE ----------

ADMIN_COMMANDS = frozenset({"approve", "reject"})


async def decide_by_command(ctx: Ctx, command: str, args: str) -> None:
    """`/approve ID [NOTE]` or `/reject ID NOTE`: the decision of the buttons, by the same
    service and checks (R19, R42: a school administrator decides only their school's
    requests). Arguments that do not fit get one usage line and change nothing."""
    admin = await _admin(ctx)
    head, _, note = args.strip().partition(" ")
    number = head.removeprefix("#")
    approve = command == "approve"
    note = note.strip()
    if not (number.isdigit() and len(number) <= 18) or (not approve and not note):
        ctx.notice("admin-command-usage")
        return
    if not note:
        # R19 wants a note with every decision; an approval needs no explanation.
        note = ctx.t("admin-note-approved")
    decided = await administration.decide(
        ctx.uow, ctx.clock, admin, review_id=int(number), approve=approve, note=note
    )
    decision = ctx.t("admin-decision-approve" if approve else "admin-decision-reject")
    ctx.notice("admin-decided", id=decided.id, decision=decision)
    if ctx.state in ("admin.review", "admin.note") and ctx.data.get("review") == decided.id:
        # The decision the step was about is made: back to the queue.
        ctx.clear("review", "approve")
        ctx.state = "admin.reviews"
