"""Builds and runs the emulator's aiohttp application: the Telegram Bot API, the WeChat API
(emulator/wechat/), their control APIs and chat pages."""

from __future__ import annotations

import dataclasses
import inspect
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from emulator import botapi, control
from emulator.botapi import STATE_KEY
from emulator.client import EmulatorClient
from emulator.config import ClockHook, EmulatorConfig, RateLimitConfig
from emulator.state import EmulatorState
from emulator.wechat.control import add_wechat
from emulator.wechat.state import WeChatState
from emulator.wechat_client import WeChatEmulatorClient

STATIC_DIR = Path(__file__).parent / "static"


async def _index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


async def _on_shutdown(app: web.Application) -> None:
    # Release long polls and control waits at once instead of letting them run out.
    state = app[STATE_KEY]
    for bot in state.bots.values():
        bot.closing = True
        if bot.webhook_worker is not None:
            bot.webhook_worker.stop()
        bot.notify()


def create_app(config: EmulatorConfig | None = None) -> web.Application:
    """A fresh emulator application with its own state (reachable as app[STATE_KEY])."""
    state = EmulatorState(config or EmulatorConfig())
    app = web.Application(middlewares=[control.control_errors], client_max_size=64 * 1024 * 1024)
    app[STATE_KEY] = state
    botapi.add_routes(app)
    app.router.add_routes(control.routes)
    app.router.add_get("/", _index)
    app.router.add_static("/static/", STATIC_DIR)
    app.on_shutdown.append(_on_shutdown)
    wechat = WeChatState(lambda: time.time() + state.clock_offset)
    add_wechat(app, wechat, _clock(state), STATIC_DIR)
    return app


def _clock(state: EmulatorState) -> Any:
    """Advance the emulator's one clock (Telegram dates, WeChat windows and expiries) by hours,
    calling the embedding program's hook when one is registered; returns the hook's answer."""

    async def advance(hours: float) -> Any:
        result = None
        if state.on_clock is not None:
            result = state.on_clock(hours)
            if inspect.isawaitable(result):
                result = await result
        state.clock_offset += hours * 3600
        try:
            json.dumps(result)
        except (TypeError, ValueError):
            result = str(result)
        return result

    return advance


@dataclass
class RunningEmulator:
    """A started emulator: its base URL, its state, and how to stop it."""

    url: str
    state: EmulatorState
    app: web.Application
    runner: web.AppRunner

    def client(self) -> EmulatorClient:
        """A control-API client for this emulator (close it, or use `async with`)."""
        return EmulatorClient(self.url)

    def wechat_client(self) -> WeChatEmulatorClient:
        """The WeChat control-API client (close it, or use `async with`)."""
        return WeChatEmulatorClient(self.url)

    def register_clock(self, hook: ClockHook) -> None:
        """Let the chat page and POST /control/clock move the embedding program's clock."""
        self.state.register_clock(hook)

    async def stop(self) -> None:
        await self.runner.cleanup()

    async def __aenter__(self) -> RunningEmulator:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def _build_config(config: EmulatorConfig | None, overrides: dict[str, Any]) -> EmulatorConfig:
    cfg = config or EmulatorConfig()
    if overrides:
        rate = overrides.pop("rate_limit", None)
        if isinstance(rate, dict):
            overrides["rate_limit"] = RateLimitConfig(**rate)
        elif rate is not None:
            overrides["rate_limit"] = rate
        if isinstance(overrides.get("tokens"), (list, set, tuple)):
            overrides["tokens"] = frozenset(overrides["tokens"])
        cfg = dataclasses.replace(cfg, **overrides)
    return cfg


async def start_emulator(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    config: EmulatorConfig | None = None,
    **overrides: Any,
) -> RunningEmulator:
    """Start the emulator on host:port (0 picks a free port); keyword overrides set config fields.

    Example: ``em = await start_emulator(default_token="123:abc", rate_limit={"enabled": True})``.
    """
    cfg = _build_config(config, dict(overrides))
    app = create_app(cfg)
    # Short shutdown: open long polls are released by _on_shutdown anyway.
    runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound_port = sockets[0].getsockname()[1] if sockets else port
    url_host = f"[{host}]" if ":" in host else host
    return RunningEmulator(f"http://{url_host}:{bound_port}", app[STATE_KEY], app, runner)
