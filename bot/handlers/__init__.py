"""The platform adapters, the only code that imports a platform library: one module per
adapter (`aiogram_adapter`, `ptb_adapter`; a WeChat adapter lands beside them as one more)
over what they share here (the Adapter protocol and its loader, `performing`, `events`,
`runner`, `retry`)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.conversation.types import Performer
from bot.handlers.retry import RetryPolicy
from bot.handlers.runner import ConversationEngine, EventRunner
from foundation.settings import Settings

FRAMEWORKS = ("aiogram", "ptb")


@dataclass(frozen=True, slots=True)
class BotCommandText:
    command: str
    description: str


class Adapter(Protocol):
    """What `bot/app.py` needs from an adapter; both implement it the same way."""

    runner: EventRunner
    performer: Performer

    async def start(self) -> None:
        """Open the HTTP session and check the token (getMe)."""
        ...

    async def set_commands(
        self, commands: Sequence[BotCommandText], language_code: str | None
    ) -> None: ...

    async def start_polling(self, poll_timeout: int) -> None:
        """Begin long polling in the background."""
        ...

    async def stop_polling(self) -> None: ...

    async def set_webhook(self, url: str, secret: str | None) -> None: ...

    async def feed_webhook(self, payload: dict[str, Any]) -> None:
        """Hand one update to the dispatcher; returns once it is queued for its user."""
        ...

    async def close(self) -> None: ...


class AdapterModule(Protocol):
    def create_adapter(
        self,
        *,
        token: str,
        api_url: str | None,
        engine: ConversationEngine,
        retry: RetryPolicy,
    ) -> Adapter: ...

    def performer_from_settings(
        self, settings: Settings, retry: RetryPolicy | None = None
    ) -> Performer:
        """A Performer without polling (the worker's outbox); it has `async close()`."""
        ...


class UnknownFramework(ValueError):
    pass


def bot_key(token: str) -> str | None:
    """`tg:<bot id>` for keying processed update ids per bot (update ids are per bot).

    A Telegram token is `<bot id>:<secret>`, and the id is the one getMe reports (the
    adapters check that at start), so the key is known before the first call. None for a
    token of another shape: the engine then keys by platform alone, as before.
    """
    head = token.split(":", 1)[0]
    return f"tg:{head}" if head.isdigit() and len(head) <= 13 else None


class PlatformUnreachable(RuntimeError):
    """The platform's API did not answer at start (address, network, allow-list)."""


class TokenRejected(RuntimeError):
    """The Bot API refused the token (or it is malformed): nothing will work, stop at once."""


def load_adapter(framework: str) -> AdapterModule:
    """The adapter module for BOT_FRAMEWORK; imported only now, so only one library loads."""
    name = framework.strip().lower()
    if name not in FRAMEWORKS:
        raise UnknownFramework(name)
    module: Any = importlib.import_module(f"bot.handlers.{name}_adapter")
    return module
