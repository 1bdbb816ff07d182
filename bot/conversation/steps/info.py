"""The information menu and free-text questions, both answered from the FAQ (R40)."""

from __future__ import annotations

from bot.conversation import inputs
from bot.conversation.callbacks import Callback
from bot.conversation.context import Ctx, Screen, on_button, rows, screen, values_for_faq
from registration.faq import TOPICS, FaqIndex


async def _values(ctx: Ctx) -> dict[str, str]:
    return dict(values_for_faq(ctx, await ctx.session()))


async def _help_phone(ctx: Ctx) -> str:
    session = await ctx.session()
    return session.help_phone if session else ctx.t("chat-help-phone-unknown")


@screen("info")
async def info_screen(ctx: Ctx) -> Screen:
    buttons = [ctx.button(f"chat-topic-{topic}", "topic", topic) for topic in TOPICS]
    return Screen(
        ctx.t("chat-prompt-info", phone=await _help_phone(ctx)),
        [*rows(buttons, 2), ctx.nav()],
    )


@on_button("info", "topic")
async def open_topic(ctx: Ctx, cb: Callback) -> None:
    if cb.arg(0) in TOPICS:
        ctx.goto("info.topic", topic=cb.arg(0))


@screen("info.topic")
async def topic_screen(ctx: Ctx) -> Screen:
    topic = ctx.data.get("topic", "other")
    index = FaqIndex.load(ctx.locale)
    buttons = [
        [ctx.button(entry.phrasings[0], "faq", entry.id)]
        for entry in index.entries.values()
        if entry.topic == topic
    ]
    return Screen(
        ctx.t("chat-prompt-info-topic", topic=ctx.t(f"chat-topic-{topic}")),
        [*buttons, ctx.nav()],
    )


@on_button(("info.topic", "info.answer"), "faq")
async def open_answer(ctx: Ctx, cb: Callback) -> None:
    index = FaqIndex.load(ctx.locale)
    entry = index.entries.get(cb.arg(0))
    if entry is None:
        return
    ctx.goto("info.answer", faq=entry.id, topic=entry.topic, origin="info.topic", related=[])


@screen("info.answer")
async def answer_screen(ctx: Ctx) -> Screen:
    index = FaqIndex.load(ctx.locale)
    entry_id = ctx.data.get("faq")
    if entry_id not in index.entries:
        return Screen(index.no_answer(await _values(ctx)), [ctx.nav(back=False)])
    text = index.answer(entry_id, await _values(ctx))
    related = [r for r in ctx.data.get("related", []) if r in index.entries]
    keyboard = [[ctx.button(index.entries[r].phrasings[0], "faq", r)] for r in related]
    if related:
        text += "\n\n" + str(index.meta.get("related_title", ""))
    keyboard.append(ctx.nav())
    return Screen(text, keyboard)


async def answer_free_text(ctx: Ctx, text: str) -> None:
    """Text at a step that expects buttons: the best FAQ answer, or "I don't know" + phone."""
    index = FaqIndex.load(ctx.locale)
    match = index.match(text[: inputs.MAX_FAQ_QUERY], await _values(ctx))
    if match is None:
        # Stay where the candidate was; say so and give the help-desk phone.
        ctx.notices.append(index.no_answer(await _values(ctx)))
        return
    ctx.goto(
        "info.answer",
        faq=match.entry_id,
        topic=match.topic,
        origin="info.topic",
        related=[r.id for r in match.related],
    )


async def answer_at_step(ctx: Ctx, text: str) -> None:
    """An obvious question at a typed step: answer it, then ask for the input again."""
    index = FaqIndex.load(ctx.locale)
    match = index.match(text[: inputs.MAX_FAQ_QUERY], await _values(ctx))
    ctx.notices.append(match.answer if match else index.no_answer(await _values(ctx)))
    ctx.notice("chat-question-then-input")
