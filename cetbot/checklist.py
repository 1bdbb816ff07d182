"""The start-up checklist: what an operator must set before `cetbot run` or `cetbot worker` go live.

One list of checks (`CHECKS`), one function (`preflight`) that runs the ones that apply to
a command; docs/security.md lists the same checks. Each problem is a locale key with its
arguments, so the CLI tells the operator in their language what is wrong and how to fix it.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import SecretStr

from foundation.settings import Settings

Command = Literal["run", "worker", "paysandbox"]

# Shorter than this, a secret can be guessed or was typed by hand; token_urlsafe(32) is 43.
MIN_SECRET_LENGTH = 32
# Values that appear in examples, docs and old defaults: public, whatever their length.
PLACEHOLDERS = frozenset(
    {
        "change-me",
        "changeme",
        "change_me",
        "sandbox-secret",
        "secret",
        "password",
        "test",
        "example",
        "xxx",
        "todo",
        "none",
        "null",
        "your-secret-here",
        "replace-me",
    }
)
# How to make a good one; printed with every refused secret.
MAKE_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


def make_secret() -> str:
    """A fresh random secret of the strength the checklist asks for (43 characters)."""
    return secrets.token_urlsafe(MIN_SECRET_LENGTH)


def secret_problem(value: SecretStr | str | None) -> str | None:
    """Why a secret is unfit ("blank", "short", "placeholder"), or None when it is fine."""
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    text = (raw or "").strip()
    if not text:
        return "blank"
    lowered = text.lower()
    if lowered in PLACEHOLDERS:
        return "placeholder"
    if len(text) < MIN_SECRET_LENGTH:
        return "short"
    squashed = lowered.replace("-", "").replace("_", "")
    # "change-me-...", "xxxxxxxx...": long enough, and still known to everyone.
    if "changeme" in squashed or len(set(text)) < 8:
        return "placeholder"
    return None


@dataclass(frozen=True, slots=True)
class Problem:
    """One failed check: a locale key (`preflight-...`) and its arguments."""

    key: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Check:
    """One item of the checklist: which commands it applies to and what it looks at."""

    name: str
    commands: frozenset[Command]
    look: Callable[[Settings], Problem | None]


def _secret(variable: str, value: SecretStr | None) -> Problem | None:
    why = secret_problem(value)
    if why is None:
        return None
    return Problem(
        f"preflight-secret-{why}",
        {"name": variable, "min": MIN_SECRET_LENGTH, "make": MAKE_SECRET},
    )


def _bot_token(settings: Settings) -> Problem | None:
    return Problem("run-no-token") if settings.bot_token is None else None


def _framework(settings: Settings) -> Problem | None:
    from bot.handlers import FRAMEWORKS

    name = settings.bot_framework.strip().lower()
    return None if name in FRAMEWORKS else Problem("run-unknown-framework", {"name": name})


# Telegram's secret_token: 1-256 characters of A-Z, a-z, 0-9, "_" and "-".
_TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _webhook_secret(settings: Settings) -> Problem | None:
    # Polling needs none: only webhook mode accepts updates from the network.
    if not settings.webhook_url:
        return None
    weak = _secret("WEBHOOK_SECRET", settings.webhook_secret)
    if weak is not None:
        return weak
    assert settings.webhook_secret is not None
    if not _TELEGRAM_SECRET.fullmatch(settings.webhook_secret.get_secret_value()):
        return Problem("preflight-webhook-secret-charset", {"make": MAKE_SECRET})
    return None


def _webhook_https(settings: Settings) -> Problem | None:
    url = settings.webhook_url
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and _is_loopback(parts.hostname or ""):
        return None  # a local Bot API server or emulator on this machine
    return Problem("preflight-webhook-not-https", {"url": url})


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _payment_secret(settings: Settings) -> Problem | None:
    return _secret("PAYMENT_SECRET", settings.payment_secret)


# The checklist, in the order the operator reads it (docs/security.md, "Before going live").
CHECKS: tuple[Check, ...] = (
    Check("bot-token", frozenset({"run", "worker"}), _bot_token),
    Check("bot-framework", frozenset({"run", "worker"}), _framework),
    Check("webhook-secret", frozenset({"run"}), _webhook_secret),
    Check("webhook-https", frozenset({"run"}), _webhook_https),
    Check("payment-secret", frozenset({"run", "worker", "paysandbox"}), _payment_secret),
)


def preflight(settings: Settings, command: Command) -> list[Problem]:
    """Every problem that stops `command` from starting with these settings (empty: go)."""
    found = []
    for check in CHECKS:
        if command in check.commands:
            problem = check.look(settings)
            if problem is not None:
                found.append(problem)
    return found
