"""The main menu and the language choice, and the screens and keyboards shared by typed steps."""

from __future__ import annotations

from bot.conversation import flows
from bot.conversation.callbacks import Callback
from bot.conversation.context import Ctx, Screen, on_button, rows, screen
from bot.conversation.types import Button
from foundation.i18n import LOCALES
from registration.common import Phase
from registration.identity import IdType


def prompt_screen(ctx: Ctx, *extra: list[Button], back: bool = True) -> Screen:
    """A typed step: its prompt (which says what to type) and Back / Main menu."""
    step = flows.STEPS[ctx.state]
    keyboard = [row for row in extra if row]
    keyboard.append(ctx.nav(back=back))
    return Screen(ctx.t(step.prompt), keyboard)


def id_type_buttons(ctx: Ctx) -> list[list]:
    """The ID types as buttons (shared by sign-up and the registration's record look-up)."""
    buttons = [
        ctx.button(f"chat-idtype-{kind.value.replace('_', '-')}", "idt", kind.value)
        for kind in IdType
    ]
    return rows(buttons, 2)


@screen("menu")
async def menu_screen(ctx: Ctx) -> Screen:
    session = await ctx.session()
    lines = [ctx.t("chat-prompt-menu")]
    if session is not None:
        name = session.name_zh if ctx.locale == "zh" else session.name_en
        current = await ctx.phase()
        if current is Phase.BEFORE_WINDOW:
            status = ctx.t("chat-phase-before", opens=ctx.when(session.opens_at))
        elif current is Phase.OPEN:
            status = ctx.t("chat-phase-open", closes=ctx.when(session.closes_at))
        else:
            status = ctx.t("chat-phase-closed")
        lines.insert(0, f"{name}\n{status}")
    return Screen(
        "\n\n".join(lines),
        [
            [ctx.button("chat-btn-start-registration", "reg"), ctx.button("chat-btn-my", "ov")],
            [ctx.button("chat-btn-quick-print", "qp"), ctx.button("chat-btn-info", "info")],
            [ctx.button("chat-btn-account", "acct"), ctx.button("chat-btn-language", "lang")],
        ],
    )


@on_button("menu", "lang", savepoint=False)
async def open_language(ctx: Ctx, cb: Callback) -> None:
    ctx.goto("language")


@on_button("menu", "acct", savepoint=False)
async def open_account(ctx: Ctx, cb: Callback) -> None:
    ctx.clear("after_account")
    ctx.goto("account")


@on_button("menu", "info", savepoint=False)
async def open_info(ctx: Ctx, cb: Callback) -> None:
    ctx.goto("info")


@screen("language")
async def language_screen(ctx: Ctx) -> Screen:
    return Screen(
        ctx.t("chat-prompt-language"),
        [
            [ctx.button(ctx.t(f"chat-language-{loc}"), "setlang", loc) for loc in LOCALES],
            ctx.nav(),
        ],
    )


@on_button("language", "setlang", savepoint=False)
async def set_language(ctx: Ctx, cb: Callback) -> None:
    if cb.arg(0) in LOCALES:
        ctx.locale = cb.arg(0)
    ctx.notice("chat-language-set")
    ctx.goto("menu")
