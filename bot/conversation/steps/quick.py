"""Quick print (R39): name and ID number get the tickets without signing in."""

from __future__ import annotations

from admission import tickets
from bot.conversation import inputs
from bot.conversation.callbacks import Callback
from bot.conversation.context import Ctx, on_button, on_text
from bot.conversation.steps.entries import send_documents
from registration import errors


@on_button("menu", "qp")
async def open_quick_print(ctx: Ctx, cb: Callback) -> None:
    if getattr(tickets, "quick_print", None) is None:
        ctx.notice("chat-tickets-coming-soon")
        return
    ctx.goto("quick.name")


@on_text("quick.name")
async def quick_name(ctx: Ctx, text: str) -> None:
    name = inputs.clean_name(text)
    if name is None:
        ctx.notice("chat-name-invalid")
        return
    ctx.goto("quick.id_number", name=name)


@on_text("quick.id_number")
async def quick_id_number(ctx: Ctx, text: str) -> None:
    quick_print = getattr(tickets, "quick_print", None)
    session = await ctx.session()
    if quick_print is None or session is None:
        ctx.notice("chat-tickets-coming-soon")
        ctx.goto("menu")
        return
    # R39: misses are counted per chat user and ID number; the count survives a refusal.
    ctx.keep_on = (*ctx.keep_on, *getattr(tickets, "QUICK_PRINT_KEEP_ERRORS", ()))
    docs = await quick_print(
        ctx.uow,
        ctx.clock,
        session_id=session.id,
        name=ctx.data.get("name", ""),
        id_number=text,
        requester=f"{ctx.platform}:{ctx.user_id}",
        locale=ctx.locale,
        settings=ctx.settings,
    )
    if not docs:
        raise errors.NotFound(what="paid-entry")
    send_documents(ctx, list(docs))
    ctx.clear("name")
    ctx.goto("menu")
