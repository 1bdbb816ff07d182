"""Waitlists for a full (campus, subject): join, view, cancel with a reason (R34-R37)."""

from __future__ import annotations

from bot.conversation.callbacks import Callback
from bot.conversation.context import Ctx, Screen, on_button, rows, screen
from bot.conversation.types import Button
from registration import errors
from registration.waitlist import CANCEL_REASONS, cancel_waitlist, join_waitlist, waitlists_of


async def _registration_id(ctx: Ctx) -> int:
    registration = await ctx.registration()
    if registration is None:
        raise errors.NotRegistered()
    return registration.id


async def _names(ctx: Ctx, subject: str, campus_id: int) -> dict[str, str]:
    subjects = await ctx.uow.sessions.subjects()
    campus = await ctx.uow.sessions.campus(campus_id)
    return {
        "subject": subjects[subject].name(ctx.locale) if subject in subjects else subject,
        "campus": campus.name(ctx.locale) if campus else str(campus_id),
    }


@screen("waitlist.offer")
async def offer_screen(ctx: Ctx) -> Screen:
    subject, campus_id = ctx.data.get("subject", ""), int(ctx.data.get("campus_id") or 0)
    waiting = await ctx.uow.waitlists.length(campus_id, subject)
    return Screen(
        ctx.t(
            "chat-prompt-waitlist-offer", waiting=waiting, **await _names(ctx, subject, campus_id)
        ),
        [[ctx.button("chat-btn-join-waitlist", "join")], ctx.nav()],
    )


@on_button("waitlist.offer", "join")
async def join(ctx: Ctx, cb: Callback) -> None:
    subject, campus_id = ctx.data.get("subject", ""), int(ctx.data.get("campus_id") or 0)
    waitlist = await join_waitlist(
        ctx.uow,
        ctx.clock,
        registration_id=await _registration_id(ctx),
        campus_id=campus_id,
        subject_code=subject,
    )
    position = await ctx.uow.waitlists.position(waitlist)
    ctx.notice("chat-waitlist-joined", position=position, **await _names(ctx, subject, campus_id))
    ctx.clear("subject", "campus_id")
    ctx.goto("waitlists")


@screen("waitlists")
async def waitlists_screen(ctx: Ctx) -> Screen:
    lines = [ctx.t("chat-prompt-waitlists")]
    buttons: list[Button] = []
    finished = []
    for waitlist, position in await waitlists_of(ctx.uow, await _registration_id(ctx)):
        names = await _names(ctx, waitlist.subject_code, waitlist.campus_id)
        if waitlist.status == "waiting":
            lines.append(ctx.t("chat-waitlist-waiting", position=position, **names))
            buttons.append(ctx.button(ctx.t("chat-btn-leave", **names), "wlx", waitlist.id))
        else:
            key = f"chat-wl-reason-{waitlist.cancel_reason or ''}"
            reason = ctx.t(key) if waitlist.cancel_reason else ""
            finished.append(
                ctx.t(
                    f"chat-waitlist-{waitlist.status}",
                    # A reason code without words (an eligibility refusal) is shown as it is.
                    reason=reason if reason != key else str(waitlist.cancel_reason),
                    **names,
                )
            )
    if len(lines) == 1:
        lines.append(ctx.t("chat-waitlist-none-waiting"))
    if finished:
        lines += ["", ctx.t("chat-waitlist-finished-title"), *finished]
    return Screen("\n".join(lines), [*rows(buttons, 1), ctx.nav()])


@on_button("waitlists", "wlx")
async def open_cancel(ctx: Ctx, cb: Callback) -> None:
    waitlist = await ctx.uow.waitlists.get(cb.int_arg(0) or 0)
    if waitlist is None:
        raise errors.NotFound(what="waitlist")
    if waitlist.registration_id != await _registration_id(ctx):
        raise errors.Forbidden(what="waitlist")  # ids from buttons are never trusted
    if waitlist.status != "waiting":
        raise errors.WaitlistNotActive(waitlist=waitlist.id)
    ctx.goto("waitlist.reason", waitlist_id=waitlist.id)


@screen("waitlist.reason")
async def reason_screen(ctx: Ctx) -> Screen:
    buttons = [ctx.button(f"chat-wl-reason-{r}", "why", r) for r in CANCEL_REASONS]
    return Screen(ctx.t("chat-prompt-waitlist-reason"), [*rows(buttons, 2), ctx.nav()])


@on_button("waitlist.reason", "why")
async def cancel_with_reason(ctx: Ctx, cb: Callback) -> None:
    await cancel_waitlist(
        ctx.uow,
        ctx.clock,
        registration_id=await _registration_id(ctx),
        waitlist_id=int(ctx.data.get("waitlist_id") or 0),
        reason=cb.arg(0),
    )
    ctx.notice("chat-waitlist-left")
    ctx.clear("waitlist_id")
    ctx.goto("waitlists")
