"""The bot's HTTP route for signed ticket links (`GET /tickets/<token>.pdf`, see
`admission.ticket_links`): the stored PDF for an authentic, unexpired link; 403 for a
forged or altered one, 410 for an expired one or a ticket revoked since."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import quote

from aiohttp import web

from admission.ticket_links import ROUTE_PREFIX, LinkRefused, read_token, token_of_path
from foundation.clock import Clock
from foundation.i18n import LOCALES, t
from storage.db import Database, UnitOfWork
from storage.repos.tickets import TicketDTO, TicketFileDTO

log = logging.getLogger(__name__)

# Nothing about a ticket may stay in a shared cache, go to another site in a Referer,
# or be read as anything but a PDF.
_PRIVATE = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _refusal(status: int, key: str) -> web.Response:
    # The link's locale is unknown (or untrusted) here: every language, Chinese first.
    text = "\n".join(t(locale, key) for locale in LOCALES) + "\n"
    return web.Response(status=status, text=text, charset="utf-8", headers=_PRIVATE)


def _disposition(filename: str, ascii_name: str) -> str:
    # RFC 6266: an ASCII name for old clients, the real (Chinese) one as filename*.
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def create_ticket_link_app(
    db: Database, clock: Clock, key: bytes | Callable[[], bytes]
) -> web.Application:
    """An aiohttp app with the ticket link route; mount it on the bot's web server.

    `key` is the links' HMAC key (`ticket_links.link_key`), or a function returning it
    (read on the first request, so building the app does not touch the data folder).
    """
    cached: list[bytes] = []

    def link_key() -> bytes:
        if not cached:
            cached.append(key() if callable(key) else key)
        return cached[0]

    async def ticket(request: web.Request) -> web.Response:
        token = token_of_path(request.match_info["name"])
        try:
            link = read_token(link_key(), token, clock.now())
        except LinkRefused as refused:
            if refused.reason == "expired":
                return _refusal(410, "ticket-link-expired")
            log.warning("ticket link refused: %s", refused.reason)  # never the token
            return _refusal(403, "ticket-link-forged")

        async def look(uow: UnitOfWork) -> tuple[TicketDTO, TicketFileDTO] | None:
            entry = await uow.entries.get(link.entry_id)
            issued = (await uow.tickets.of_entries([link.entry_id])).get(link.entry_id)
            if entry is None or entry.status != "paid" or issued is None:
                return None
            if issued.revoked_at is not None:
                return None
            stored = (await uow.tickets.files([link.entry_id], link.locale)).get(link.entry_id)
            return (issued, stored) if stored is not None else None

        async with db.uow(readonly=True) as uow:
            found = await look(uow)
        if found is None:
            # Signed by us, so it named a ticket once: revoked (or refunded) since.
            return _refusal(410, "ticket-link-gone")
        issued, stored = found
        filename = t(
            link.locale,
            "ticket-filename",
            {"subject": issued.subject_code, "ticket": issued.ticket_no},
        )
        return web.Response(
            body=stored.pdf,
            content_type="application/pdf",
            headers={
                **_PRIVATE,
                "Content-Disposition": _disposition(filename, f"ticket-{issued.ticket_no}.pdf"),
            },
        )

    app = web.Application()
    app.router.add_get(ROUTE_PREFIX + "{name}", ticket)
    return app
