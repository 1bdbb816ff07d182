"""Settings of the local Bot API emulator: limits, rate limits, webhook retry policy, hooks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

# The embedding program's clock hook: receives the hours to advance, may be sync or async,
# and may return something JSON-serialisable (e.g. the new "now") for the page to show.
ClockHook = Callable[[float], Any | Awaitable[Any]]


@dataclass
class RateLimitConfig:
    """Telegram-like flood limits; off by default so tests are not slowed down."""

    enabled: bool = False
    global_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    # Telegram tolerates short bursts in one chat before answering 429.
    per_chat_burst: int = 3

    def as_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "global_per_second": self.global_per_second,
            "per_chat_per_second": self.per_chat_per_second,
            "per_chat_burst": self.per_chat_burst,
        }


@dataclass
class EmulatorConfig:
    """Everything the emulator can be told at start; all fields have working defaults."""

    # When set, only these tokens are accepted; others get 401 Unauthorized like Telegram.
    tokens: frozenset[str] | None = None
    # The bot the control API talks about when a call names no token.
    default_token: str | None = None
    bot_first_name: str = "CET Bot"
    bot_username: str | None = None
    rate_limit: RateLimitConfig = field(default_factory=RateLimitConfig)
    # Telegram refuses to message a user who never wrote to the bot (403).
    require_start: bool = True
    # Telegram only lets a callback query be answered for a short while; None disables the check.
    callback_query_ttl: float | None = None
    webhook_timeout: float = 10.0
    webhook_retry_initial: float = 0.2
    webhook_retry_max: float = 5.0
    max_upload_bytes: int = 50 * 1024 * 1024
    max_download_bytes: int = 20 * 1024 * 1024
    on_clock: ClockHook | None = None
    # The first update id of each bot. Telegram's ids only grow for a bot, while a fresh
    # emulator would start again at 1: a bot whose database kept the ids it processed (the
    # demo restarted) would take the new updates for re-deliveries. Start above them.
    first_update_id: int = 1
