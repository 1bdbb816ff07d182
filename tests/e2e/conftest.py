"""End-to-end fixtures: the emulator, a real bot (aiogram or PTB) polling it, a seeded database."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import BotApp, create_app
from bot.conversation.types import Action, Event
from bot.handlers.retry import RetryPolicy
from bot.handlers.runner import ConversationEngine
from cetbot.demo import seed_example_session
from emulator.client import EmulatorClient
from emulator.server import RunningEmulator, start_emulator
from foundation.clock import FrozenClock
from foundation.settings import Settings
from outgoing.mailer import MailboxMailer
from storage.db import Database
from tests.conftest import _create_schema
from tests.e2e.echo_engine import EchoConversations

TOKEN = "424242:e2e-token_for-the-emulator"
# Inside the example session's registration window (examples/README.md).
DEMO_NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
# Short pauses so fault tests stay fast; the shape (exponential) is the production one.
FAST_RETRY = RetryPolicy(backoff=(0.05, 0.1, 0.2, 0.4))


def real_engine_available() -> bool:
    try:
        from bot.conversation.engine import Conversations  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(params=["aiogram", "ptb"])
def framework(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file with the schema and the example session; each test gets a copy."""
    path = tmp_path_factory.mktemp("e2e") / "template.db"
    url = f"sqlite+aiosqlite:///{path}"

    async def build() -> None:
        await _create_schema(url)
        db = Database(url)
        try:
            await seed_example_session(db, DEMO_NOW.date())
        finally:
            await db.dispose()

    asyncio.run(build())
    return path


@pytest.fixture
def sqlite_url(seeded_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "e2e.db"
    shutil.copy(seeded_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def emulator() -> AsyncIterator[RunningEmulator]:
    running = await start_emulator(port=0, default_token=TOKEN)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def em(emulator: RunningEmulator) -> AsyncIterator[EmulatorClient]:
    async with EmulatorClient(emulator.url, token=TOKEN) as client:
        yield client


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(DEMO_NOW)


@pytest.fixture
def mailbox() -> MailboxMailer:
    return MailboxMailer()


EngineFactory = Callable[[Database, FrozenClock, Settings, MailboxMailer], ConversationEngine]


def echo_engine(*_args: Any) -> ConversationEngine:
    return EchoConversations()


def real_engine(
    db: Database, clock: FrozenClock, settings: Settings, mailer: MailboxMailer
) -> ConversationEngine:
    from bot.conversation.engine import Conversations
    from bot.handlers import bot_key

    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    return Conversations(db, clock, settings, mailer, platform="telegram", bot_key=bot_key(token))


class BotHarness:
    """Builds and runs one bot process against the emulator; stops it at the end of the test."""

    def __init__(
        self, emulator: RunningEmulator, framework: str, clock: FrozenClock, mailbox: MailboxMailer
    ) -> None:
        self.emulator = emulator
        self.framework = framework
        self.clock = clock
        self.mailbox = mailbox
        self.apps: list[tuple[BotApp, asyncio.Task[None] | None]] = []

    def build(
        self,
        database_url: str,
        engine: EngineFactory = echo_engine,
        wrap: Callable[[ConversationEngine], ConversationEngine] | None = None,
        token: str = TOKEN,
        retry: RetryPolicy = FAST_RETRY,
        **settings: Any,
    ) -> BotApp:
        config = Settings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=token,
            telegram_api_url=self.emulator.url,
            bot_framework=self.framework,
            database_url=database_url,
            **settings,
        )
        database = Database(database_url, pool_size=5)
        built = engine(database, self.clock, config, self.mailbox)
        return create_app(
            config,
            clock=self.clock,
            mailer=self.mailbox,
            database=database,
            engine=wrap(built) if wrap else built,
            retry=retry,
        )

    async def polling(self, app: BotApp) -> BotApp:
        task = asyncio.create_task(app.run_polling(poll_timeout=1))
        self.apps.append((app, task))
        await app.startup()  # commands set, token checked: the bot is up
        return app

    async def webhook(self, app: BotApp, port: int) -> BotApp:
        await app.start_webhook("127.0.0.1", port)
        self.apps.append((app, None))
        return app

    async def stop(self) -> None:
        for app, task in reversed(self.apps):
            if task is not None:
                app.request_stop()
                await asyncio.wait_for(task, 20)
            else:
                await app.close()
        self.apps.clear()


@pytest.fixture
async def harness(
    emulator: RunningEmulator, framework: str, clock: FrozenClock, mailbox: MailboxMailer
) -> AsyncIterator[BotHarness]:
    running = BotHarness(emulator, framework, clock, mailbox)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def echo_bot(harness: BotHarness, sqlite_url: str) -> BotApp:
    """A real adapter polling the emulator, with the stand-in engine."""
    return await harness.polling(harness.build(sqlite_url))


class Chat:
    """One simulated candidate: says things, presses buttons, reads the bot's messages."""

    def __init__(self, em: EmulatorClient, app: BotApp, user_id: int) -> None:
        self.em = em
        self.app = app
        self.user_id = user_id

    async def settle(self, update_id: int, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has carried out that update (all its replies are out)."""
        await self.app.adapter.runner.wait_processed(update_id, timeout)

    async def start(self, language_code: str = "zh-hans", first_name: str = "Student") -> None:
        await self.em.create_user(self.user_id, first_name, language_code=language_code)

    async def say(self, text: str) -> int:
        sent = await self.em.user_says(self.user_id, text)
        await self.settle(sent["update_id"])
        return int(sent["message_id"])

    async def command(self, name: str, args: str | None = None) -> None:
        sent = await self.em.command(self.user_id, name, args)
        await self.settle(sent["update_id"])

    async def sticker(self) -> None:
        sent = await self.em.sticker(self.user_id)
        await self.settle(sent["update_id"])

    async def messages(self) -> list[dict[str, Any]]:
        """The bot's messages still in the chat, oldest first."""
        return [
            m
            for m in await self.em.transcript(self.user_id, include_deleted=False)
            if m["sender"] == "bot"
        ]

    async def last(self) -> dict[str, Any]:
        found = await self.messages()
        assert found, "the bot has said nothing"
        return found[-1]

    async def last_text(self) -> str:
        return str((await self.last())["text"])

    async def actions(self) -> list[str]:
        """The action codes of the latest message's buttons."""
        return [
            (b.get("callback_data") or "").split(":")[2:3][0]
            for b in await self.buttons()
            if (b.get("callback_data") or "").count(":") >= 2
        ]

    async def buttons(self) -> list[dict[str, Any]]:
        last = await self.last()
        return [b for row in (last.get("keyboard") or []) for b in row]

    async def press(self, label_or_payload: str) -> str:
        """Press a button of the bot's latest message (by label, else by payload)."""

        def chosen(buttons: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [b for b in buttons if b.get("text") == label_or_payload] or [
                b for b in buttons if b.get("callback_data") == label_or_payload
            ]

        return await self._press(chosen, repr(label_or_payload))

    async def press_action(self, action: str, *args: str, label_has: str = "") -> str:
        """Press the button whose callback data (`c1:<version>:<action>:<args>`) names `action`.

        Labels are the conversation's wording and may change; the action codes are its contract.
        """

        def chosen(buttons: list[dict[str, Any]]) -> list[dict[str, Any]]:
            def fits(button: dict[str, Any]) -> bool:
                parts = (button.get("callback_data") or "").split(":")
                return (
                    parts[2:3] == [action]
                    and tuple(parts[3 : 3 + len(args)]) == args
                    and label_has in button.get("text", "")
                )

            return [b for b in buttons if fits(b)]

        return await self._press(chosen, f"action {action} {args}")

    async def _press(
        self, chosen: Callable[[list[dict[str, Any]]], list[dict[str, Any]]], wanted: str
    ) -> str:
        for message in reversed(await self.messages()):
            buttons = [b for row in (message.get("keyboard") or []) for b in row]
            if not buttons:
                continue
            match = [b for b in chosen(buttons) if b.get("callback_data")]
            offered = [(b.get("text"), b.get("callback_data")) for b in buttons]
            assert match, f"no button {wanted} on the latest menu {message['text']!r}: {offered}"
            pressed = await self.em.press(
                self.user_id, message["message_id"], match[0]["callback_data"]
            )
            await self.settle(pressed["update_id"])
            return str(pressed["callback_query_id"])
        raise AssertionError("the bot has shown no buttons")


@pytest.fixture
def chat_factory(em: EmulatorClient) -> Callable[[BotApp, int], Chat]:
    def make(app: BotApp, user_id: int) -> Chat:
        return Chat(em, app, user_id)

    return make


class SlowFirst:
    """Wraps an engine so the first event of each user takes a while (to expose reordering)."""

    def __init__(self, engine: ConversationEngine, delay: float = 0.4) -> None:
        self.engine = engine
        self.delay = delay
        self.slowed: set[int] = set()

    async def handle(self, event: Event) -> list[Action]:
        if event.user_id not in self.slowed:
            self.slowed.add(event.user_id)
            await asyncio.sleep(self.delay)
        return await self.engine.handle(event)

    async def remember_menu(self, event: Event, message_id: int) -> None:
        await self.engine.remember_menu(event, message_id)
