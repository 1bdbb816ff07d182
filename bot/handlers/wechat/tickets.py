"""The admission ticket on WeChat, which sends no files: the PDF's page as an image
message, and a text with a short-lived signed link to the PDF itself (for printing),
served by the bot's own web server (`admission/ticket_link_app.py`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from admission.ticket_image import TicketImageError, ticket_png
from admission.ticket_links import LINK_LIFETIME, MissingPublicUrl, ticket_link
from bot.conversation.types import Action, Button, SendDocument, SendPhoto, SendText
from foundation.i18n import LOCALES, t

log = logging.getLogger(__name__)

DocumentHook = Callable[[SendDocument], Awaitable[list[Action]]]


def ticket_of(action: SendDocument) -> tuple[int, str] | None:
    """(entry id, locale) of a ticket document (its cache key `ticket:<entry>:<locale>`)."""
    kind, _, rest = (action.cache_key or "").partition(":")
    entry, _, locale = rest.partition(":")
    if kind != "ticket" or not entry.isdigit() or locale not in LOCALES:
        return None
    return int(entry), locale


def ticket_hook(
    signing_key: Callable[[], Ed25519PrivateKey],
    public_url: str | None,
    now: Callable[[], datetime],
    fallback: DocumentHook,
) -> DocumentHook:
    """The WeChat performer's document hook: a ticket PDF becomes its page as an image
    and a text with a link to the PDF (valid `LINK_LIFETIME`); any other document, or a
    ticket whose page cannot be drawn, goes to `fallback` (the caption and a note)."""

    async def hook(action: SendDocument) -> list[Action]:
        found = ticket_of(action)
        if found is None or not action.data:
            return await fallback(action)
        entry_id, locale = found
        try:
            png = await asyncio.to_thread(ticket_png, action.data)
        except TicketImageError as bad:
            log.error("ticket of entry %s: page not drawable (%s)", entry_id, bad)
            return await fallback(action)
        out: list[Action] = [SendPhoto(action.chat_id, png)]
        minutes = int(LINK_LIFETIME.total_seconds() // 60)
        try:
            url = ticket_link(signing_key(), public_url, now(), entry_id=entry_id, locale=locale)
        except MissingPublicUrl:
            # `run --platform wechat` refuses to start without PUBLIC_URL; tests may lack it.
            log.warning("PUBLIC_URL unset: the ticket of entry %s goes without its link", entry_id)
            out.append(SendText(action.chat_id, t(locale, "wechat-ticket-no-link")))
            return out
        label = t(locale, "wechat-ticket-link", {"minutes": minutes})
        text = t(locale, "wechat-ticket-caption", {"minutes": minutes})
        out.append(SendText(action.chat_id, text, keyboard=((Button(label, url=url),),)))
        return out

    return hook
