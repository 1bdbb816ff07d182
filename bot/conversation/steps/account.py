"""The pass account inside the chat: sign up, sign in, verify, recover, reset, sign out (R7-R10)."""

from __future__ import annotations

from bot.conversation import inputs
from bot.conversation.callbacks import Callback
from bot.conversation.context import Ctx, Screen, on_button, on_text, screen
from bot.conversation.steps.main import id_type_buttons, prompt_screen
from registration import accounts, errors
from registration.identity import IdType


async def continue_after_account(ctx: Ctx) -> None:
    """Where a finished sign-in / verification leads: back to what the candidate wanted."""
    from bot.conversation.steps.eligibility import enter_registration
    from bot.conversation.steps.entries import enter_overview

    ctx.forget_account()
    after = ctx.data.pop("after_account", None)
    if after == "reg":
        await enter_registration(ctx)
    elif after == "ov":
        await enter_overview(ctx)
    else:
        ctx.goto("account")


# --- the account screen --------------------------------------------------------------


@screen("account")
async def account_screen(ctx: Ctx) -> Screen:
    account = await ctx.account()
    if account is None:
        key = "chat-account-needed" if ctx.data.get("after_account") else "chat-prompt-account"
        return Screen(
            ctx.t(key),
            [
                [
                    ctx.button("chat-btn-sign-up", "signup"),
                    ctx.button("chat-btn-sign-in", "signin"),
                ],
                [
                    ctx.button("chat-btn-recover", "recover"),
                    ctx.button("chat-btn-reset", "reset"),
                ],
                ctx.nav(),
            ],
        )
    if account.email_verified_at is None:
        return Screen(
            ctx.t("chat-account-unverified", email=account.email),
            [
                [ctx.button("chat-btn-enter-code", "code")],
                [ctx.button("chat-btn-sign-out", "signout")],
                ctx.nav(),
            ],
        )
    return Screen(
        ctx.t("chat-account-signed-in", email=account.email),
        [
            [ctx.button("chat-btn-start-registration", "goreg")],
            [ctx.button("chat-btn-sign-out", "signout")],
            ctx.nav(),
        ],
    )


@on_button("account", "signup")
async def start_sign_up(ctx: Ctx, cb: Callback) -> None:
    ctx.goto("signup.email")


@on_button(("account", "signup.email", "recover.done"), "signin")
async def start_sign_in(ctx: Ctx, cb: Callback) -> None:
    ctx.goto("signin.email")


@on_button("account", "recover")
async def start_recovery(ctx: Ctx, cb: Callback) -> None:
    ctx.goto("recover.name")


@on_button(("account", "recover.done", "signin.password"), "reset")
async def start_reset(ctx: Ctx, cb: Callback) -> None:
    ctx.goto("reset.email")


@on_button("account", "signout")
async def sign_out(ctx: Ctx, cb: Callback) -> None:
    await accounts.sign_out(ctx.uow, ctx.platform, ctx.user_id)
    ctx.forget_account()
    ctx.notice("chat-signed-out")


@on_button("account", "code")
async def enter_code(ctx: Ctx, cb: Callback) -> None:
    if await ctx.account() is not None:
        ctx.goto("verify.code")


@on_button("account", "goreg")
async def go_register(ctx: Ctx, cb: Callback) -> None:
    from bot.conversation.steps.eligibility import enter_registration

    await enter_registration(ctx)


# --- sign up -----------------------------------------------------------------------


@screen("signup.email")
async def signup_email_screen(ctx: Ctx) -> Screen:
    return prompt_screen(ctx, [ctx.button("chat-btn-have-account", "signin")])


@on_text("signup.email")
async def signup_email(ctx: Ctx, text: str) -> None:
    email = accounts.normalize_email(text)
    if await ctx.uow.accounts.by_email(email) is not None:
        raise errors.AccountExists(email=email)
    ctx.goto("signup.password", email=email)


@screen("signup.password", "signin.password", "reset.password")
async def password_screen(ctx: Ctx) -> Screen:
    extra = [ctx.button("chat-btn-reset", "reset")] if ctx.state == "signin.password" else []
    screen_ = prompt_screen(ctx, extra)
    screen_.text = ctx.t(
        f"chat-prompt-{ctx.state.replace('.', '-')}", email=ctx.data.get("email", "")
    )
    return screen_


@on_text("signup.password")
async def signup_password(ctx: Ctx, text: str) -> None:
    email = ctx.data.get("email", "")
    account = await accounts.sign_up(ctx.uow, ctx.clock, ctx.mailer, email, text, ctx.locale)
    await accounts.bind_chat(ctx.uow, ctx.clock, ctx.platform, ctx.user_id, account.id)
    ctx.forget_account()
    ctx.notice("chat-signed-up", email=account.email)
    ctx.clear("email")
    ctx.goto("verify.code")


# --- verification (R9) ---------------------------------------------------------------


@screen("verify.code")
async def verify_screen(ctx: Ctx) -> Screen:
    account = await ctx.account()
    screen_ = prompt_screen(ctx, [ctx.button("chat-btn-resend-code", "resend")])
    screen_.text = ctx.t("chat-prompt-verify-code", email=account.email if account else "")
    return screen_


@on_text("verify.code")
async def verify_code(ctx: Ctx, text: str) -> None:
    account = await ctx.account()
    if account is None:
        ctx.goto("account")
        return
    code = inputs.six_digits(text)
    if code is None:
        ctx.notice("chat-code-form")
        return
    # A wrong code raises and the engine keeps its counted attempt (CODE_ATTEMPT_ERRORS).
    await accounts.verify_email(ctx.uow, ctx.clock, account.email, code)
    ctx.notice("chat-verified")
    await continue_after_account(ctx)


@on_button("verify.code", "resend")
async def resend_code(ctx: Ctx, cb: Callback) -> None:
    account = await ctx.account()
    if account is None:
        ctx.goto("account")
        return
    await accounts.send_verification_code(ctx.uow, ctx.clock, ctx.mailer, account.email, ctx.locale)
    ctx.notice("chat-code-sent", email=account.email)


# --- sign in -----------------------------------------------------------------------


@screen(
    "signin.email",
    "reset.email",
    "recover.name",
    "recover.id_number",
    "reset.code",
)
async def typed_screen(ctx: Ctx) -> Screen:
    extra = [ctx.button("chat-btn-resend-code", "resend")] if ctx.state == "reset.code" else []
    return prompt_screen(ctx, extra)


@on_text("signin.email")
async def signin_email(ctx: Ctx, text: str) -> None:
    ctx.goto("signin.password", email=accounts.normalize_email(text))


def requester(ctx: Ctx) -> str:
    """Who asks, for the attempt limits and reset codes: this chat user."""
    return f"{ctx.platform}:{ctx.user_id}"


@on_text("signin.password")
async def signin_password(ctx: Ctx, text: str) -> None:
    # R8: a wrong password is counted (per account and per chat) and the count stays.
    ctx.keep_on = (*ctx.keep_on, *accounts.SIGN_IN_KEEP_ERRORS)
    account = await accounts.sign_in(
        ctx.uow, ctx.clock, ctx.data.get("email", ""), text, requester(ctx)
    )
    await accounts.bind_chat(ctx.uow, ctx.clock, ctx.platform, ctx.user_id, account.id)
    ctx.clear("email")
    ctx.notice("chat-signed-in", email=account.email)
    if account.email_verified_at is None:
        try:
            await ctx.call(
                accounts.send_verification_code,
                ctx.uow,
                ctx.clock,
                ctx.mailer,
                account.email,
                ctx.locale,
            )
            ctx.notice("chat-code-sent", email=account.email)
        except errors.TooManyCodes as err:
            ctx.notices.append(ctx.error_text(err))
        ctx.forget_account()
        ctx.goto("verify.code")
        return
    await continue_after_account(ctx)


# --- forgotten account (R10) ---------------------------------------------------------


@on_text("recover.name")
async def recover_name(ctx: Ctx, text: str) -> None:
    name = inputs.clean_name(text)
    if name is None:
        ctx.notice("chat-name-invalid")
        return
    ctx.goto("recover.id_type", name=name)


@screen("recover.id_type")
async def recover_id_type_screen(ctx: Ctx) -> Screen:
    return Screen(ctx.t("chat-prompt-id-type"), [*id_type_buttons(ctx), ctx.nav()])


@on_button("recover.id_type", "idt")
async def recover_id_type(ctx: Ctx, cb: Callback) -> None:
    if cb.arg(0) in {kind.value for kind in IdType}:
        ctx.goto("recover.id_number", id_type=cb.arg(0))


@on_text("recover.id_number")
async def recover_id_number(ctx: Ctx, text: str) -> None:
    session = await ctx.session()
    if session is None:
        raise errors.SessionNotPublished()
    # One answer whatever was found (no ID-number oracle); the address is mailed.
    await accounts.recover_account(
        ctx.uow,
        ctx.clock,
        ctx.mailer,
        session.id,
        ctx.data.get("name", ""),
        ctx.data.get("id_type", ""),
        text,
        requester=requester(ctx),
        locale=ctx.locale,
    )
    ctx.clear("name", "id_type")
    ctx.goto("recover.done")


@screen("recover.done")
async def recover_done_screen(ctx: Ctx) -> Screen:
    return Screen(
        ctx.t("chat-recovered"),
        [
            [ctx.button("chat-btn-sign-in", "signin"), ctx.button("chat-btn-reset", "reset")],
            ctx.nav(),
        ],
    )


# --- forgotten password (R10) --------------------------------------------------------


@on_text("reset.email")
async def reset_email(ctx: Ctx, text: str) -> None:
    email = accounts.normalize_email(text)
    await accounts.start_password_reset(
        ctx.uow, ctx.clock, ctx.mailer, email, ctx.locale, requester=requester(ctx)
    )
    # The same words whether or not the address has an account (no hint to strangers).
    ctx.notice("chat-reset-sent", email=email)
    ctx.goto("reset.code", email=email)


@on_button("reset.code", "resend")
async def reset_resend(ctx: Ctx, cb: Callback) -> None:
    email = ctx.data.get("email", "")
    await accounts.start_password_reset(
        ctx.uow, ctx.clock, ctx.mailer, email, ctx.locale, requester=requester(ctx)
    )
    ctx.notice("chat-reset-sent", email=email)


@on_text("reset.code")
async def reset_code(ctx: Ctx, text: str) -> None:
    code = inputs.six_digits(text)
    if code is None:
        ctx.notice("chat-code-form")
        return
    # Kept only until the new password is typed (15 minutes at most, R9), then dropped.
    ctx.goto("reset.password", reset_code=code)


@on_text("reset.password")
async def reset_password(ctx: Ctx, text: str) -> None:
    email, code = ctx.data.get("email", ""), ctx.data.get("reset_code", "")
    try:
        account = await ctx.call(
            accounts.reset_password,
            ctx.uow,
            ctx.clock,
            email,
            code,
            text,
            requester=requester(ctx),
            keep_on=accounts.CODE_ATTEMPT_ERRORS,
        )
    except (errors.CodeInvalid, errors.CodeExpired, errors.TooManyAttempts) as err:
        # The code was wrong: ask for it again (the attempt was counted and stays).
        ctx.notices.append(ctx.error_text(err))
        ctx.clear("reset_code")
        ctx.goto("reset.code")
        return
    await accounts.bind_chat(ctx.uow, ctx.clock, ctx.platform, ctx.user_id, account.id)
    ctx.clear("reset_code", "email")
    ctx.notice("chat-password-reset", email=account.email)
    await continue_after_account(ctx)


# --- "not me": a sign-in from another chat (R7) ----------------------------------------


async def not_me(ctx: Ctx, cb: Callback) -> None:
    """The button of the "signed in from another chat" notice, pressed at any step: signs
    every chat of this chat's account out and mails a reset code asked for from here."""
    email = await accounts.sign_out_everywhere(
        ctx.uow, ctx.clock, ctx.mailer, ctx.platform, ctx.user_id, ctx.locale
    )
    ctx.forget_account()
    if email is None:
        ctx.notice("chat-not-me-signed-out")
        ctx.goto("account")
        return
    ctx.notice("chat-not-me-done", email=email)
    ctx.clear("reset_code")
    ctx.goto("reset.code", email=email)
