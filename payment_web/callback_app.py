"""The bot's HTTP endpoint for gateway callbacks (`POST /payments/callback`)."""

from __future__ import annotations

import logging

from aiohttp import web

from foundation.clock import Clock
from registration import errors
from registration.gateways.base import Gateway
from registration.payments import CallbackOutcome, apply_callback
from storage.db import Database, UnitOfWork

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


def create_callback_app(db: Database, clock: Clock, gateway: Gateway) -> web.Application:
    """An aiohttp app with the callback route; mount it or run it on its own port."""

    async def callback(request: web.Request) -> web.Response:
        body = await request.read()
        if len(body) > MAX_BODY:
            raise web.HTTPRequestEntityTooLarge(MAX_BODY, len(body))
        headers = dict(request.headers)

        async def work(uow: UnitOfWork) -> CallbackOutcome:
            uow.actor, uow.clock = f"gateway:{gateway.name}", clock  # the audit's "who"
            outcome = await apply_callback(uow, clock, gateway=gateway, body=body, headers=headers)
            await uow.commit()
            return outcome

        try:
            outcome = await db.run(work)
        except errors.DomainError as refused:
            # R28: refused callbacks change nothing; 400 tells the gateway not to retry.
            log.warning("payment callback refused: %s", refused.params)
            return web.json_response({"ok": False, "error": refused.params}, status=400)
        except (TypeError, ValueError, ArithmeticError) as bad:
            # A signed body that some gateway's parser let through but our rules cannot use
            # (a naive time, a strange number): a 500 would have the gateway retry it forever.
            # The unit of work was rolled back; nothing changed.
            log.warning("payment callback refused as malformed: %s", type(bad).__name__)
            return web.json_response({"ok": False, "error": {"reason": "malformed"}}, status=400)
        return web.json_response({"ok": True, "result": outcome.result})

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post("/payments/callback", callback)
    return app
