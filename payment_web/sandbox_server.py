"""The sandbox payment server: a payment page (Pay / Fail / Pay but lose the callback),
signed callbacks to the bot, and signed answers to queries."""

from __future__ import annotations

import asyncio
import html
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import aiohttp
from aiohttp import web

from foundation.clock import Clock, SystemClock
from foundation.i18n import LOCALES, pick_locale, t
from registration.gateways.base import PaymentState
from registration.gateways.sandbox import sign_link, signed_headers, state_to_json

log = logging.getLogger(__name__)

Status = Literal["pending", "paid", "failed"]


@dataclass
class SandboxPayment:
    payment_id: str
    amount_fen: int
    description: str
    return_url: str
    status: Status = "pending"
    paid_at: datetime | None = None
    gateway_ref: str | None = None
    callbacks_sent: int = 0

    def state(self) -> PaymentState:
        return PaymentState(
            self.payment_id, self.status, self.amount_fen, self.gateway_ref, self.paid_at
        )


@dataclass
class SandboxState:
    """The sandbox's memory of payments (in-process: a restart forgets them, like a
    test bank would; the bot's own records are the ones that matter)."""

    secret: bytes
    callback_url: str | None
    clock: Clock
    payments: dict[str, SandboxPayment] = field(default_factory=dict)
    callback_attempts: int = 3


STATE_KEY = web.AppKey("sandbox_state", SandboxState)


def _locale(request: web.Request) -> str:
    asked = request.query.get("lang")
    if asked in LOCALES:
        return asked
    header = request.headers.get("Accept-Language", "")
    return pick_locale(header.split(",")[0].strip() or None)


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _page(locale: str, title: str, body: str) -> web.Response:
    other = "en" if locale == "zh" else "zh"
    page = f"""<!doctype html>
<html lang="{locale}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
body{{font-family:sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#222}}
.box{{border:1px solid #ccc;border-radius:8px;padding:1rem 1.25rem}}
.note{{color:#a60;font-size:.9rem}}
button{{font-size:1rem;margin:.3rem 0;padding:.5rem 1rem;width:100%}}
.pay{{background:#1677ff;color:#fff;border:0}} .amount{{font-size:1.6rem;font-weight:bold}}
</style></head><body>
<p style="text-align:right"><a href="?lang={other}">{t(other, "pay-page-language")}</a></p>
<h1>{html.escape(title)}</h1>
<p class="note">{html.escape(t(locale, "pay-page-sandbox-note"))}</p>
<div class="box">{body}</div>
</body></html>"""
    return web.Response(text=page, content_type="text/html")


def _summary(locale: str, p: SandboxPayment) -> str:
    return (
        f"<p>{html.escape(t(locale, 'pay-page-item'))}: {html.escape(p.description)}</p>"
        f"<p>{html.escape(t(locale, 'pay-page-payment-id'))}: <code>{p.payment_id}</code></p>"
        f"<p class='amount'>¥ {_yuan(p.amount_fen)}</p>"
    )


def _result(locale: str, p: SandboxPayment, delivered: bool | None) -> str:
    key = "pay-page-paid" if p.status == "paid" else "pay-page-failed"
    parts = [_summary(locale, p), f"<p><b>{html.escape(t(locale, key))}</b></p>"]
    if delivered is False:
        parts.append(f"<p class='note'>{html.escape(t(locale, 'pay-page-callback-lost'))}</p>")
    if p.return_url:
        back = html.escape(p.return_url, quote=True)
        parts.append(f"<p><a href='{back}'>{html.escape(t(locale, 'pay-page-back'))}</a></p>")
    return "".join(parts)


async def _show(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    locale = _locale(request)
    pid = request.match_info["payment_id"]
    payment = state.payments.get(pid)
    if payment is None:
        q = request.query
        try:
            amount = int(q.get("amount", ""))
        except ValueError:
            amount = -1
        desc, ret = q.get("desc", ""), q.get("return", "")
        expected = sign_link(state.secret, pid, amount, desc, ret)
        if amount < 0 or not secrets.compare_digest(expected, q.get("sig", "")):
            return _page(locale, t(locale, "pay-page-title"), t(locale, "pay-page-bad-link"))
        payment = state.payments[pid] = SandboxPayment(pid, amount, desc, ret)
    title = t(locale, "pay-page-title")
    if payment.status != "pending":
        return _page(locale, title, _result(locale, payment, None))
    buttons = "".join(
        f"<form method='post' action='/pay/{pid}/{action}?lang={locale}'>"
        f"<button class='{css}' name='action' value='{action}'>"
        f"{html.escape(t(locale, 'pay-page-' + action))}</button></form>"
        for action, css in (("pay", "pay"), ("fail", ""), ("pay-lose", ""))
    )
    hint = f"<p class='note'>{html.escape(t(locale, 'pay-page-pay-lose-hint'))}</p>"
    return _page(locale, title, _summary(locale, payment) + buttons + hint)


async def _act(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    locale = _locale(request)
    pid, action = request.match_info["payment_id"], request.match_info["action"]
    payment = state.payments.get(pid)
    if payment is None or action not in ("pay", "fail", "pay-lose"):
        raise web.HTTPNotFound()
    delivered: bool | None = None
    if payment.status == "pending":
        payment.status = "failed" if action == "fail" else "paid"
        payment.gateway_ref = "SBX" + secrets.token_hex(8)
        if payment.status == "paid":
            payment.paid_at = state.clock.now()
        # "Pay but lose the callback": the bank charged, the bot never hears (R29 Update).
        if action != "pay-lose":
            delivered = await send_callback(state, payment)
    return _page(locale, t(locale, "pay-page-title"), _result(locale, payment, delivered))


async def send_callback(state: SandboxState, payment: SandboxPayment) -> bool:
    """Posts the signed callback to the bot; retried a few times like real gateways do."""
    if not state.callback_url:
        return False
    body = json.dumps(state_to_json(payment.state())).encode()
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for attempt in range(state.callback_attempts):
            # A fresh nonce per delivery: a retry is a new message, not a replay.
            headers = signed_headers(state.secret, body, state.clock.now(), secrets.token_hex(16))
            try:
                async with session.post(state.callback_url, data=body, headers=headers) as resp:
                    payment.callbacks_sent += 1
                    if resp.status == 200:
                        return True
                    if 400 <= resp.status < 500:
                        log.warning("callback for %s refused: %s", payment.payment_id, resp.status)
                        return False
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("callback for %s failed: %r", payment.payment_id, exc)
            await asyncio.sleep(0.2 * (attempt + 1))
    return False


async def _query(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    pid = request.match_info["payment_id"]
    payment = state.payments.get(pid)
    # A payment whose page was never opened is simply not paid yet.
    answer = payment.state() if payment else PaymentState(pid, "pending", 0)
    body = json.dumps(state_to_json(answer)).encode()
    headers = signed_headers(state.secret, body, state.clock.now(), secrets.token_hex(16))
    return web.Response(body=body, headers=headers)


def create_sandbox_app(
    *, secret: str, callback_url: str | None, clock: Clock | None = None
) -> web.Application:
    """The sandbox payment server as an aiohttp application (no work at import time)."""
    app = web.Application()
    app[STATE_KEY] = SandboxState(secret.encode(), callback_url, clock or SystemClock())
    app.router.add_get("/pay/{payment_id}", _show)
    app.router.add_post("/pay/{payment_id}/{action}", _act)
    app.router.add_get("/api/payments/{payment_id}", _query)
    return app


@dataclass
class RunningSandbox:
    url: str
    app: web.Application
    runner: web.AppRunner

    @property
    def state(self) -> SandboxState:
        return self.app[STATE_KEY]

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_sandbox(
    host: str = "127.0.0.1",
    port: int = 8090,
    *,
    secret: str,
    callback_url: str | None,
    clock: Clock | None = None,
) -> RunningSandbox:
    """Starts the sandbox on host:port (0 picks a free port); the demo embeds it this way."""
    app = create_sandbox_app(secret=secret, callback_url=callback_url, clock=clock)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = getattr(site._server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    return RunningSandbox(f"http://{host}:{bound}", app, runner)
