"""Wires the bot in one place: `create_app(settings)` -> database, engine, mailer and adapter."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.handlers import Adapter, BotCommandText, bot_key, load_adapter
from bot.handlers.retry import RetryPolicy
from bot.handlers.runner import ConversationEngine
from foundation import heap, i18n
from foundation.clock import Clock
from foundation.i18n import LOCALES, t
from foundation.settings import Settings
from helpdesk import faq
from outgoing.mailer import Mailer, mailer_from_settings
from storage.db import Database

if TYPE_CHECKING:
    from bot.worker_runtime import BackgroundWorker

log = logging.getLogger(__name__)

COMMANDS = ("start", "help", "cancel", "language")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Polling mode's payment callback port (PAYMENT_CALLBACK_PORT), where `cetbot paysandbox`
# posts by default.
DEFAULT_CALLBACK_PORT = 8081
# How often a running bot looks for kept replies left unsent (their process died, or
# Telegram refused the chat for a while): see bot/conversation/replies.py.
REPLAY_EVERY = 30.0
# Update ids are stored as BIGINT (processed_updates): a larger one cannot be recorded, so
# the update could be neither applied once nor refused as a re-delivery.
MAX_UPDATE_ID = 2**63 - 1
# The path of the WeChat push URL when WECHAT_URL does not name one.
WECHAT_PATH = "/wechat"
PLATFORMS = ("telegram", "wechat")


class MissingToken(RuntimeError):
    """BOT_TOKEN is not set (the CLI turns this into a localized message and exit code 2)."""


class MissingWebhookSecret(RuntimeError):
    """Webhook mode without WEBHOOK_SECRET would accept forged updates from anyone."""


@dataclass
class BotApp:
    """Everything one bot process runs; built by `create_app`, nothing started yet."""

    settings: Settings
    clock: Clock
    database: Database
    mailer: Mailer
    engine: ConversationEngine
    adapter: Adapter
    # Webhook mode answers once the update's replies are out (so Telegram sends that chat's
    # next update only afterwards, which keeps order across processes), but never later.
    webhook_answer_within: float = 10.0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _starting: asyncio.Lock = field(default_factory=asyncio.Lock)
    _webhook_runner: web.AppRunner | None = None
    _started: bool = False
    # The background worker in this process (start_worker), and the payment callback
    # endpoint on its own port (serve_payment_callback); close() stops both first.
    worker: BackgroundWorker | None = None
    _callback_runner: web.AppRunner | None = None
    _replayer: asyncio.Task[None] | None = None
    # The chat platform: its worker sends that platform's outbox rows only.
    platform: str = "telegram"

    async def startup(self) -> None:
        """Check the token and publish the command menu in every locale (once)."""
        async with self._starting:
            if self._started:
                return
            await self.adapter.start()
            # The pool's connections open now, not while the first candidates wait.
            await self.database.warm_up()
            # Every locale's texts parsed and compiled now, not at the first reply or notice.
            i18n.warm()
            # Replies of updates committed by a process that died before sending them go
            # out before any new update is taken (issue 20: nothing lost).
            await self._replay_unsent()
            self._replayer = asyncio.create_task(self._replay_now_and_then(), name="replayer")
            for locale in LOCALES:
                commands = [
                    BotCommandText(name, t(locale, f"bot-command-{name}")) for name in COMMANDS
                ]
                await self.adapter.set_commands(commands, locale)
                if locale == LOCALES[0]:
                    # Clients in any other language see the default list: Chinese first.
                    await self.adapter.set_commands(commands, None)
            self._started = True

    async def _replay_unsent(self) -> None:
        try:
            await self.adapter.runner.replay_unsent()
        except Exception:
            log.exception("could not send kept replies again")

    async def _replay_now_and_then(self) -> None:
        while True:
            await asyncio.sleep(REPLAY_EVERY)
            await self._replay_unsent()

    def request_stop(self) -> None:
        self._stop.set()

    async def run_polling(self, *, poll_timeout: int = 25) -> None:
        """Long polling until `request_stop()` or cancellation (Ctrl-C)."""
        try:
            await self.startup()
            await self.adapter.start_polling(poll_timeout)
            await self._stop.wait()
        finally:
            await self.adapter.stop_polling()
            await self.close()

    async def start_webhook(self, host: str, port: int) -> int:
        """Serve the webhook on host:port (0 picks one), register it; returns the bound port."""
        url = self.settings.webhook_url
        if not url:
            raise ValueError("WEBHOOK_URL is not set")
        secret = self.settings.webhook_secret
        if secret is None or not secret.get_secret_value().strip():
            raise MissingWebhookSecret()
        await self.startup()
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post(urlsplit(url).path or "/", self._on_webhook)
        app.router.add_get("/healthz", _healthy)
        # Gateways post payment callbacks to the same public HTTPS address as Telegram.
        _mount(app, self._payment_callback_app())
        bound = await self._serve(app, host, port)
        # Several processes may call this with the same URL and secret: it is idempotent, and
        # none of them deletes the webhook on exit (the others still serve it).
        await self.adapter.set_webhook(url, secret.get_secret_value())
        log.info("webhook: listening on %s:%s for %s", host, bound, url)
        return bound

    async def start_wechat(self, host: str, port: int) -> int:
        """Serve the WeChat push URL (GET check, POST pushes) on host:port (0 picks one),
        beside /healthz and the payment callback; returns the bound port. The path is
        WECHAT_URL's (default /wechat): the URL entered in the account's settings."""
        routes = getattr(self.adapter, "routes", None)
        if routes is None:
            raise ValueError("the adapter takes no pushes")
        await self.startup()
        app = web.Application(client_max_size=64 * 1024)
        path = urlsplit(self.settings.wechat_url or "").path or WECHAT_PATH
        app.add_routes(routes(path))
        app.router.add_get("/healthz", _healthy)
        # Gateways post payment callbacks here; candidates open ticket links (PUBLIC_URL).
        _mount(app, self._payment_callback_app())
        _mount(app, self._ticket_link_app())
        bound = await self._serve(app, host, port)
        log.info("wechat: listening on %s:%s%s", host, bound, path)
        return bound

    async def _serve(self, app: web.Application, host: str, port: int) -> int:
        """Serves `app` on host:port (0 picks one); returns the bound port."""
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port, reuse_port=_can_reuse_port())
        await site.start()
        self._webhook_runner = runner
        sockets = getattr(site._server, "sockets", None) or []
        return int(sockets[0].getsockname()[1]) if sockets else port

    async def until_stopped(self) -> None:
        """Waits for `request_stop()` (or cancellation), then closes everything."""
        try:
            await self._stop.wait()
        finally:
            await self.close()

    async def run_wechat(self, host: str = "0.0.0.0", port: int = 8443) -> None:
        """WeChat push mode until `request_stop()` or cancellation."""
        await self._run_serving(self.start_wechat, host, port)

    async def run_webhook(self, host: str = "0.0.0.0", port: int = 8443) -> None:
        """Webhook mode until `request_stop()` or cancellation."""
        await self._run_serving(self.start_webhook, host, port)

    async def _run_serving(
        self, start: Callable[[str, int], Awaitable[int]], host: str, port: int
    ) -> None:
        try:
            await start(host, port)
            await self._stop.wait()
        finally:
            await self.close()

    async def _on_webhook(self, request: web.Request) -> web.Response:
        secret = self.settings.webhook_secret
        given = request.headers.get(SECRET_HEADER, "")
        # An empty secret would match a request without the header: never accept that.
        if (
            secret is None
            or not given
            or not hmac.compare_digest(given.encode(), secret.get_secret_value().encode())
        ):
            return web.Response(status=401, text="wrong secret token")
        try:
            payload: Any = await request.json()
        except ValueError:
            return web.Response(status=400, text="not JSON")
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            return web.Response(status=400, text="not an update")
        update_id = payload["update_id"]
        # Telegram retries any update not answered 200, forever: one the bot cannot use is
        # logged (ids and field names only, never contents) and acknowledged untouched.
        if isinstance(update_id, bool) or not 0 <= update_id <= MAX_UPDATE_ID:
            log.warning("unusable update (update_id out of range): acknowledged, ignored")
            return web.Response(status=200)
        try:
            await self.adapter.feed_webhook(payload)
        except Exception as exc:  # the adapter's library refused to parse it
            log.warning(
                "unusable update %s (%s; fields %s): acknowledged, ignored",
                update_id,
                type(exc).__name__,
                ",".join(sorted(str(k) for k in payload)[:10]),
            )
            return web.Response(status=200)
        done = self.adapter.runner.in_flight(update_id)
        if done is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(done), self.webhook_answer_within)
        return web.Response(status=200)

    def _ticket_link_app(self) -> web.Application:
        from admission.ticket_link_app import create_ticket_link_app
        from admission.ticket_links import link_key
        from admission.tickets import signing_key

        settings = self.settings
        return create_ticket_link_app(
            self.database, self.clock, lambda: link_key(signing_key(settings))
        )

    def _payment_callback_app(self) -> web.Application:
        from payment_web.callback_app import create_callback_app
        from registration.payments import gateway_from_settings

        return create_callback_app(self.database, self.clock, gateway_from_settings(self.settings))

    async def serve_payment_callback(self, host: str, port: int) -> int:
        """`POST /payments/callback` on host:port (0 picks one); returns the bound port.

        For long polling, which has no HTTP server of its own; webhook mode serves the
        route on the webhook server as well.
        """
        runner = web.AppRunner(self._payment_callback_app(), access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port, reuse_port=_can_reuse_port())
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._callback_runner = runner
        sockets = getattr(site._server, "sockets", None) or []
        bound = int(sockets[0].getsockname()[1]) if sockets else port
        log.info("payment callback: listening on %s:%s/payments/callback", host, bound)
        return bound

    def start_worker(self) -> bool:
        """Runs the background worker in this process, sending with the adapter's performer.

        False when another process already runs this SQLite database's worker: the bot
        goes on without one (that other worker does the work).
        """
        from bot.worker_runtime import BackgroundWorker, WorkerAlreadyRunning

        if self.worker is None:
            try:
                self.worker = BackgroundWorker.start(
                    self.settings,
                    self.database,
                    self.clock,
                    self.adapter.performer,
                    platform=self.platform,
                )
            except WorkerAlreadyRunning as busy:
                log.warning("no background worker in this process: %s", busy)
                return False
        return True

    async def close(self) -> None:
        """Stop serving, let queued updates finish, then release the session and the database."""
        if self._replayer is not None:
            self._replayer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replayer
            self._replayer = None
        if self.worker is not None:  # it sends with the adapter and writes the database
            await self.worker.stop()
            self.worker = None
        if self._callback_runner is not None:
            await self._callback_runner.cleanup()
            self._callback_runner = None
        if self._webhook_runner is not None:
            await self._webhook_runner.cleanup()
            self._webhook_runner = None
        await self.adapter.runner.drain()
        # The engine's queued writes (kept replies confirmed out) before the pool goes.
        close_engine = getattr(self.engine, "close", None)
        if close_engine is not None:
            await close_engine()
        await self.adapter.close()
        await self.database.dispose()


def _mount(app: web.Application, sub: web.Application) -> None:
    """Adds `sub`'s routes to `app` (a HEAD route comes again with its GET)."""
    for route in sub.router.routes():
        if route.method != "HEAD":
            app.router.add_route(route.method, route.resource.canonical, route.handler)  # type: ignore[union-attr]


async def _healthy(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def _can_reuse_port() -> bool:
    # Several webhook processes may share one port (issue 9); Linux supports SO_REUSEPORT.
    import socket

    return hasattr(socket, "SO_REUSEPORT")


def _default_engine(
    database: Database, clock: Clock, settings: Settings, mailer: Mailer
) -> ConversationEngine:
    from bot.conversation.engine import Conversations

    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    return Conversations(
        database, clock, settings, mailer, platform="telegram", bot_key=bot_key(token)
    )


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    mailer: Mailer | None = None,
    database: Database | None = None,
    engine: ConversationEngine | None = None,
    retry: RetryPolicy | None = None,
) -> BotApp:
    """Build (not start) one bot process; tests and the demo pass their own clock and mailer."""
    if settings.bot_token is None or not settings.bot_token.get_secret_value():
        raise MissingToken()
    clock = clock or settings.clock()
    mailer = mailer or mailer_from_settings(settings)
    database = database or Database(settings.database_url)
    if engine is None:
        # Issue 18: the FAQ index (about 1-2 s of CPU) is built here, once per process, so the
        # first question after start is answered as fast as the hundredth.
        faq.warm()
    engine = engine or _default_engine(database, clock, settings, mailer)
    adapter = load_adapter(settings.bot_framework).create_adapter(
        token=settings.bot_token.get_secret_value(),
        api_url=settings.telegram_api_url,
        engine=engine,
        retry=retry or RetryPolicy(),
    )
    return BotApp(
        settings=settings,
        clock=clock,
        database=database,
        mailer=mailer,
        engine=engine,
        adapter=adapter,
    )


def create_wechat_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    mailer: Mailer | None = None,
    database: Database | None = None,
    engine: ConversationEngine | None = None,
    reply_budget: float | None = None,
    push_clock: Any = None,
) -> BotApp:
    """Build (not start) one bot process for a WeChat Official Account: the same engine,
    on platform "wechat", its processed pushes keyed by the AppID. `push_clock`: the
    protocol's time (wall clock; tests and the demo move it with the emulator's)."""
    from admission.tickets import signing_key
    from bot.handlers.wechat.adapter import REPLY_BUDGET, WeChatAdapter, no_document
    from bot.handlers.wechat.store import PLATFORM, updates_key
    from bot.handlers.wechat.tickets import ticket_hook

    if not settings.wechat_app_id:
        raise MissingToken()
    clock = clock or settings.clock()
    mailer = mailer or mailer_from_settings(settings)
    database = database or Database(settings.database_url)
    if engine is None:
        from bot.conversation.engine import Conversations

        faq.warm()
        engine = Conversations(
            database,
            clock,
            settings,
            mailer,
            platform=PLATFORM,
            bot_key=updates_key(settings.wechat_app_id),
        )
    adapter = WeChatAdapter(
        settings=settings,
        engine=engine,
        database=database,
        reply_budget=REPLY_BUDGET if reply_budget is None else reply_budget,
        clock=push_clock,
    )
    # No file messages on an official account: a ticket goes as its page's image and a
    # signed link to the PDF, served by start_wechat's server (under PUBLIC_URL).
    adapter.wechat.document_hook = ticket_hook(
        lambda: signing_key(settings), settings.public_url, clock.now, no_document
    )
    return BotApp(
        settings=settings,
        clock=clock,
        database=database,
        mailer=mailer,
        engine=engine,
        adapter=adapter,
        platform=PLATFORM,
    )


async def serve(
    settings: Settings,
    *,
    listen: str,
    port: int,
    worker: bool = True,
    callback_port: int | None = None,
    notice: Callable[[str, dict[str, Any]], None] | None = None,
    platform: str = "telegram",
) -> None:
    """`cetbot run`: polling, or webhook when WEBHOOK_URL is set; SIGTERM stops it cleanly.
    `platform` "wechat": the WeChat push URL on listen:port instead.

    `worker`: run the background worker here too. `callback_port`: serve the payment
    callback on its own port (0: not at all; None: 8081 in polling mode, none in webhook
    mode, where the webhook server has the route). `notice(key, args)` tells the operator.
    """
    import signal

    tell = notice or (lambda key, args: None)
    wechat = platform == "wechat"
    app = create_wechat_app(settings) if wechat else create_app(settings)
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on some platforms
        loop.add_signal_handler(signal.SIGTERM, app.request_stop)
    if callback_port is None:
        callback_port = 0 if settings.webhook_url or wechat else DEFAULT_CALLBACK_PORT
    try:
        await app.startup()
        if callback_port:
            # Its own address (PAYMENT_CALLBACK_HOST, loopback by default), not --listen: the
            # gateway's notices reach it through a proxy unless the operator opens it.
            host = settings.payment_callback_host
            bound = await app.serve_payment_callback(host, callback_port)
            tell("run-payment-callback", {"listen": f"{host}:{bound}"})
        if worker:
            tell("run-worker-started" if app.start_worker() else "run-worker-elsewhere", {})
        else:
            tell("run-worker-off", {})
        # Started: what is alive now lives as long as the process (foundation/heap.py).
        heap.settle()
    except BaseException:
        await app.close()
        raise
    if wechat:
        await app.run_wechat(listen, port)
    elif settings.webhook_url:
        await app.run_webhook(listen, port)
    else:
        await app.run_polling()
