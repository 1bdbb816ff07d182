"""WeChat fixtures: the emulator's official account, a bot process serving its push URL over
real HTTP, and pushes signed by hand for the intake's own tests."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import BotApp, create_wechat_app
from bot.conversation.types import Action, Event
from bot.handlers.runner import ConversationEngine
from bot.handlers.wechat.adapter import PushClock, WeChatAdapter
from bot.handlers.wechat.store import updates_key
from cetbot.demo import seed_example_session
from emulator.server import RunningEmulator
from emulator.wechat_client import WeChatEmulatorClient, bot_settings
from foundation.clock import FrozenClock
from foundation.settings import Settings
from outgoing.mailer import MailboxMailer
from storage.db import Database
from tests.conftest import TEST_PAYMENT_SECRET, _pg_truncate
from tests.e2e.conftest import (  # noqa: F401 - fixtures
    DEMO_NOW,
    clock,
    emulator,
    mailbox,
    seeded_template,
    sqlite_url,
)
from tests.e2e.echo_engine import EchoConversations

PATH = "/wechat"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sign(*parts: str) -> str:
    """WeChat's signature, written here from the documentation (not the adapter's)."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


class Slow:
    """An engine that takes `delay` seconds per update before the wrapped one answers."""

    def __init__(self, inner: ConversationEngine, delay: float) -> None:
        self.inner = inner
        self.delay = delay

    async def handle(self, event: Event) -> list[Action]:
        await asyncio.sleep(self.delay)
        return await self.inner.handle(event)

    async def remember_menu(self, event: Event, message_id: int) -> None:
        await self.inner.remember_menu(event, message_id)

    def __getattr__(self, name: str) -> Any:
        # The engine's optional hooks (replies_sent, unsent_replies, remember_file).
        return getattr(self.inner, name)


@dataclass
class WeChatBot:
    """One bot process serving the emulator's account."""

    app: BotApp
    url: str
    account: dict[str, Any]
    push_clock: PushClock

    @property
    def adapter(self) -> WeChatAdapter:
        adapter = self.app.adapter
        assert isinstance(adapter, WeChatAdapter)
        return adapter

    @property
    def token(self) -> str:
        return str(self.account["token"])

    def signed_query(self, timestamp: int | None = None, nonce: str = "n0nce") -> dict[str, str]:
        ts = str(int(self.push_clock()) if timestamp is None else timestamp)
        return {"timestamp": ts, "nonce": nonce, "signature": sign(self.token, ts, nonce)}


class WeChatHarness:
    """Starts bot processes against the emulator's account; stops them at the end."""

    def __init__(
        self,
        running: RunningEmulator,
        client: WeChatEmulatorClient,
        frozen: FrozenClock,
        mailer: MailboxMailer,
    ) -> None:
        self.emulator = running
        self.wx = client
        self.clock = frozen
        self.mailbox = mailer
        self.push_clock = PushClock()
        self.apps: list[BotApp] = []
        self.account: dict[str, Any] | None = None

        def advance(hours: float) -> str:
            # The emulator's one clock moves; the bot's rules clock and protocol time too.
            self.clock.advance(timedelta(hours=hours))
            self.push_clock.advance(hours=hours)
            return "moved"

        running.register_clock(advance)

    async def start(
        self,
        database_url: str,
        *,
        engine: Callable[[Database, Settings], ConversationEngine] | None = None,
        wrap: Callable[[ConversationEngine], ConversationEngine] | None = None,
        mode: str = "plain",
        msgmenu: bool = True,
        reply_budget: float = 1.0,
        push_timeout: float = 2.0,
        port: int | None = None,
        **more: Any,
    ) -> WeChatBot:
        """A bot process on its own port; the first one configures the account."""
        port = port or free_port()
        url = f"http://127.0.0.1:{port}{PATH}"
        if self.account is None:
            self.account = await self.wx.configure(
                url=url,
                mode=mode,
                msgmenu=msgmenu,
                push_timeout=push_timeout,
                templates=["TPL_REMINDER", "TPL_WAITLIST", "TPL_REVIEW"],
            )
        account = self.account
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            **bot_settings(account, self.emulator.url, url),
            wechat_msgmenu=msgmenu,
            database_url=database_url,
            payment_secret=TEST_PAYMENT_SECRET,
            **more,
        )
        database = Database(database_url, pool_size=5)
        if engine is not None:
            built = engine(database, settings)
        else:
            built = real_engine(database, settings, self.clock, self.mailbox)
        if wrap is not None:
            built = wrap(built)
        app = create_wechat_app(
            settings,
            clock=self.clock,
            mailer=self.mailbox,
            database=database,
            engine=built,
            reply_budget=reply_budget,
            push_clock=self.push_clock,
        )
        await app.start_wechat("127.0.0.1", port)
        self.apps.append(app)
        return WeChatBot(app, url, account, self.push_clock)

    async def stop(self) -> None:
        for app in reversed(self.apps):
            await app.close()
        self.apps.clear()


def real_engine(
    db: Database, settings: Settings, rules_clock: FrozenClock, mailer: MailboxMailer
) -> ConversationEngine:
    """The conversations as `cetbot run --platform wechat` builds them."""
    from bot.conversation.engine import Conversations

    assert settings.wechat_app_id
    return Conversations(
        db,
        rules_clock,
        settings,
        mailer,
        platform="wechat",
        bot_key=updates_key(settings.wechat_app_id),
    )


def echo(_db: Database, _settings: Settings) -> ConversationEngine:
    return EchoConversations()


@pytest.fixture
async def wx(emulator: RunningEmulator) -> AsyncIterator[WeChatEmulatorClient]:  # noqa: F811
    async with WeChatEmulatorClient(emulator.url) as client:
        yield client


@pytest.fixture
async def wechat(
    emulator: RunningEmulator,  # noqa: F811
    wx: WeChatEmulatorClient,
    clock: FrozenClock,  # noqa: F811
    mailbox: MailboxMailer,  # noqa: F811
) -> AsyncIterator[WeChatHarness]:
    harness = WeChatHarness(emulator, wx, clock, mailbox)
    try:
        yield harness
    finally:
        await harness.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_db_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:  # noqa: F811
    """The seeded database several bot processes share: SQLite, and PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url
    url: str = request.getfixturevalue("pg_url")

    async def seed() -> None:
        await _pg_truncate(url)
        database = Database(url)
        try:
            await seed_example_session(database, DEMO_NOW.date())
        finally:
            await database.dispose()

    asyncio.run(seed())
    return url


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def count_rows(url: str, table: str) -> int:
    """Rows of `table` (processed_updates: pushes the engine applied; platform_users)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(text(f"SELECT count(*) FROM {table}"))
            return int(result.scalar_one())
    finally:
        await engine.dispose()


def text_push(
    openid: str, text: str, msg_id: int, *, to: str = "gh_test", at: int | None = None
) -> str:
    created = int(time.time()) if at is None else at
    return (
        f"<xml><ToUserName><![CDATA[{to}]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )
