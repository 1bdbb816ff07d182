"""The information menu (R40): fixed pages, the timetable, latest news, and the FAQ.

Free-text questions are answered from the FAQ as well. Page texts live in
`locales/*/info.ftl`; each message stays under about 700 characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from backoffice import administration
from bot.conversation import inputs
from bot.conversation.callbacks import Callback
from bot.conversation.context import Ctx, Screen, on_button, rows, screen, values_for_faq
from helpdesk.faq import ACT, ANSWER, ASK, TOPICS, FaqIndex
from storage.dto import ExamSessionDTO, OfferedSubjectDTO
from storage.repos.administration import NewsDTO

# The information pages and how many messages (parts) each has, in menu order.
PAGES: dict[str, int] = {
    "intro": 1,
    "notice": 1,
    "timetable": 1,
    "steps": 3,
    "special": 1,
    "phone": 1,
}


def _local(ctx: Ctx, instant: datetime, session: ExamSessionDTO | None) -> dict[str, str]:
    return inputs.local_parts(instant, session.timezone if session else "Asia/Shanghai")


def _exam_date(
    ctx: Ctx, offered: Mapping[str, OfferedSubjectDTO], session: ExamSessionDTO | None
) -> str:
    """The day of the first written exam of the session (the FAQ's `exam_date`)."""
    starts = [o.exam_start for o in offered.values() if o.subject.kind == "written"]
    if not starts:
        return ""
    return ctx.t("info-date", **_local(ctx, min(starts), session))


def _fees(ctx: Ctx, offered: Mapping[str, OfferedSubjectDTO]) -> str:
    """The session's fees, one line per amount with the subjects it applies to (the FAQ's
    `fees`): the bot knows them, so a fee question gets the amounts, not "see when you pay"."""
    by_fee: dict[int, list[str]] = {}
    for item in offered.values():
        by_fee.setdefault(item.fee_fen, []).append(item.subject.name(ctx.locale))
    sep = ctx.t("info-list-sep")
    return "\n".join(
        ctx.t("info-fee-line", subjects=sep.join(names), yuan=inputs.yuan(fen))
        for fen, names in sorted(by_fee.items())
    )


async def _values(ctx: Ctx) -> dict[str, str]:
    session = await ctx.session()
    values = dict(values_for_faq(ctx, session))
    offered = await ctx.uow.sessions.offered(session.id) if session else {}
    values["exam_date"] = _exam_date(ctx, offered, session)
    values["fees"] = _fees(ctx, offered)
    return values


async def _help_phone(ctx: Ctx) -> str:
    session = await ctx.session()
    return session.help_phone if session else ctx.t("chat-help-phone-unknown")


@screen("info")
async def info_screen(ctx: Ctx) -> Screen:
    pages = [ctx.button(ctx.t(f"info-btn-{page}"), "page", page) for page in PAGES]
    pages.append(ctx.button(ctx.t("info-btn-news"), "news"))
    faq = ctx.t("info-btn-faq")
    topics = [
        ctx.button(f"{faq} {ctx.t(f'chat-topic-{topic}')}", "topic", topic) for topic in TOPICS
    ]
    return Screen(
        ctx.t("chat-prompt-info", phone=await _help_phone(ctx)),
        [*rows(pages, 2), *rows(topics, 2), ctx.nav()],
    )


@on_button("info", "page")
async def open_page(ctx: Ctx, cb: Callback) -> None:
    if cb.arg(0) in PAGES:
        ctx.goto("info.page", page=cb.arg(0), part=1)


@on_button("info.page", "part")
async def turn_page(ctx: Ctx, cb: Callback) -> None:
    page = ctx.data.get("page", "intro")
    part = cb.int_arg(0) or 1
    ctx.goto("info.page", part=min(max(part, 1), PAGES.get(page, 1)))


@screen("info.page")
async def page_screen(ctx: Ctx) -> Screen:
    page = ctx.data.get("page", "intro")
    page = page if page in PAGES else "intro"
    parts = PAGES[page]
    part = min(max(int(ctx.data.get("part", 1)), 1), parts)
    session = await ctx.session()
    if page == "timetable":
        text = await _timetable(ctx, session)
    elif page == "phone":
        text = ctx.t("info-page-phone", phone=await _help_phone(ctx))
    elif page == "intro":
        name = (session.name_zh if ctx.locale == "zh" else session.name_en) if session else ""
        text = ctx.t("info-page-intro", name=name)
    else:
        text = ctx.t(f"info-page-{page}-{part}" if parts > 1 else f"info-page-{page}")
    turn = []
    if part > 1:
        turn.append(ctx.button(ctx.t("info-btn-previous"), "part", part - 1))
    if part < parts:
        turn.append(ctx.button(ctx.t("info-btn-next"), "part", part + 1))
    return Screen(text, [turn, ctx.nav()] if turn else [ctx.nav()])


async def _timetable(ctx: Ctx, session: ExamSessionDTO | None) -> str:
    """Registration window, print times and the exam times, subjects grouped by time slot."""
    if session is None:
        return ctx.t("info-timetable-none")
    offered = await ctx.uow.sessions.offered(session.id)
    slots: dict[tuple[datetime, datetime], list[str]] = {}
    for item in sorted(offered.values(), key=lambda o: (o.exam_start, o.subject.code)):
        slots.setdefault((item.exam_start, item.exam_end), []).append(item.subject.name(ctx.locale))
    separator = ctx.t("info-subject-separator")
    lines = []
    for (start, end), names in slots.items():
        day = _local(ctx, start, session)
        lines.append(
            ctx.t(
                "info-timetable-row",
                subjects=separator.join(names),
                date=ctx.t("info-date", **day),
                start=day["time"],
                end=_local(ctx, end, session)["time"],
            )
        )
    return ctx.t(
        "info-page-timetable",
        name=session.name_zh if ctx.locale == "zh" else session.name_en,
        opens=ctx.when(session.opens_at),
        closes=ctx.when(session.closes_at),
        print_oral=ctx.when(session.print_oral_at),
        print_written=ctx.when(session.print_written_at),
        exams="\n".join(lines) if lines else ctx.t("info-timetable-none"),
    )


# --- latest news (added by the authority: `cetbot admin news add`) ----------------------


async def _news(ctx: Ctx) -> list[NewsDTO]:
    session = await ctx.session()
    return await administration.latest_news(
        ctx.uow, ctx.clock, session_id=session.id if session else None
    )


def _news_title(ctx: Ctx, item: NewsDTO) -> str:
    return item.title_zh if ctx.locale == "zh" else item.title_en


@on_button("info", "news")
async def open_news(ctx: Ctx, cb: Callback) -> None:
    ctx.goto("info.news")


@screen("info.news")
async def news_screen(ctx: Ctx) -> Screen:
    items = await _news(ctx)
    if not items:
        return Screen(ctx.t("info-news-title") + "\n\n" + ctx.t("info-news-none"), [ctx.nav()])
    session = await ctx.session()
    lines = [
        ctx.t(
            "info-news-row",
            title=_news_title(ctx, item),
            date=ctx.t("info-date", **_local(ctx, item.published_at, session)),
        )
        for item in items
    ]
    text = "\n\n".join([ctx.t("info-news-title"), "\n".join(lines), ctx.t("info-news-pick")])
    buttons = [[ctx.button(_news_title(ctx, item), "item", item.id)] for item in items]
    return Screen(text, [*buttons, ctx.nav()])


@on_button("info.news", "item")
async def open_news_item(ctx: Ctx, cb: Callback) -> None:
    news_id = cb.int_arg(0)
    if news_id is not None:
        ctx.goto("info.news_item", news=news_id)


@screen("info.news_item")
async def news_item_screen(ctx: Ctx) -> Screen:
    wanted = ctx.data.get("news")
    item = next((n for n in await _news(ctx) if n.id == wanted), None)
    if item is None:
        return Screen(ctx.t("info-news-gone"), [ctx.nav()])
    session = await ctx.session()
    text = ctx.t(
        "info-news-item",
        title=_news_title(ctx, item),
        date=ctx.t("info-date", **_local(ctx, item.published_at, session)),
        body=item.body_zh if ctx.locale == "zh" else item.body_en,
    )
    return Screen(text, [ctx.nav()])


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


@on_button(("info.topic", "info.answer", "info.ask"), "faq")
async def open_answer(ctx: Ctx, cb: Callback) -> None:
    index = FaqIndex.load(ctx.locale)
    entry = index.entries.get(cb.arg(0))
    if entry is None:
        return
    ctx.goto(
        "info.answer", faq=entry.id, topic=entry.topic, origin="info.topic", related=[], verdict=""
    )


@screen("info.answer")
async def answer_screen(ctx: Ctx) -> Screen:
    index = FaqIndex.load(ctx.locale)
    entry_id = ctx.data.get("faq")
    if entry_id not in index.entries:
        return Screen(index.no_answer(await _values(ctx)), [ctx.nav(back=False)])
    # The verdict on a sample password the question showed (a code, never the password).
    text = index.answer(entry_id, await _values(ctx), str(ctx.data.get("verdict", "")))
    related = [r for r in ctx.data.get("related", []) if r in index.entries]
    keyboard = [[ctx.button(index.entries[r].phrasings[0], "faq", r)] for r in related]
    if related:
        text += "\n\n" + str(index.meta.get("related_title", ""))
    keyboard.append(ctx.nav())
    return Screen(text, keyboard)


async def answer_free_text(ctx: Ctx, text: str) -> None:
    """Text at a step that expects buttons: answer, ask back, decline, or say what we can do."""
    index = FaqIndex.load(ctx.locale)
    reply = index.decide(text[: inputs.MAX_FAQ_QUERY], await _values(ctx))
    if reply.kind == ANSWER:
        ctx.goto(
            "info.answer",
            faq=reply.entry_id,
            topic=reply.topic,
            origin="info.topic",
            related=[r.id for r in reply.choices],
            verdict=reply.verdict,
        )
    elif reply.kind == ASK:
        ctx.goto("info.ask", choices=[c.id for c in reply.choices])
    elif reply.kind == ACT:
        ctx.goto("info.act", act=reply.act)
    else:
        # Stay where the candidate was; say so and give the help-desk phone.
        ctx.notices.append(reply.text)


@screen("info.ask")
async def ask_screen(ctx: Ctx) -> Screen:
    """Did you mean: the close entries as buttons; pressing one answers that entry."""
    index = FaqIndex.load(ctx.locale)
    choices = [c for c in ctx.data.get("choices", []) if c in index.entries]
    title = index.ask_title(len(choices))
    keyboard = [[ctx.button(index.entries[c].phrasings[0], "faq", c)] for c in choices]
    return Screen(title, [*keyboard, ctx.nav()])


# What a request-to-act reply may offer (locales/faq_outcomes.toml `offers`): button code ->
# label key. "ov" opens my registration (an entry's Update button), "acct" the account menu.
ACT_OFFERS = {"ov": "chat-btn-my", "acct": "chat-btn-account"}


@screen("info.act")
async def act_screen(ctx: Ctx) -> Screen:
    index = FaqIndex.load(ctx.locale)
    act = str(ctx.data.get("act", ""))
    offers = next((a.offers for a in index.acts() if a.name == act), ())
    buttons = [ctx.button(ACT_OFFERS[o], o) for o in offers if o in ACT_OFFERS]
    return Screen(index.act_text(act, await _values(ctx)), [*rows(buttons, 2), ctx.nav()])


@on_button("info.act", "ov", savepoint=False)
async def act_open_overview(ctx: Ctx, cb: Callback) -> None:
    from bot.conversation.steps.entries import enter_overview

    await enter_overview(ctx)


@on_button("info.act", "acct", savepoint=False)
async def act_open_account(ctx: Ctx, cb: Callback) -> None:
    ctx.clear("after_account")
    ctx.goto("account")


async def answer_at_step(ctx: Ctx, text: str) -> None:
    """An obvious question at a typed step: answer it, then ask for the input again."""
    index = FaqIndex.load(ctx.locale)
    reply = index.decide(text[: inputs.MAX_FAQ_QUERY], await _values(ctx))
    ctx.notices.append(reply.text)
    ctx.notice("chat-question-then-input")
