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


Platform = Literal["telegram", "wechat"]
BOTH: frozenset[Platform] = frozenset({"telegram", "wechat"})
TELEGRAM: frozenset[Platform] = frozenset({"telegram"})
WECHAT: frozenset[Platform] = frozenset({"wechat"})


@dataclass(frozen=True, slots=True)
class Check:
    """One item of the checklist: which commands (and platforms) it applies to and what
    it looks at."""

    name: str
    commands: frozenset[Command]
    look: Callable[[Settings], Problem | None]
    platforms: frozenset[Platform] = BOTH


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


def _placeholder(text: str) -> bool:
    lowered = text.strip().lower()
    squashed = lowered.replace("-", "").replace("_", "")
    return lowered in PLACEHOLDERS or "changeme" in squashed or len(set(lowered)) < 4


def _wechat_value(variable: str, value: SecretStr | str | None) -> Problem | None:
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    text = (raw or "").strip()
    if not text:
        return Problem("preflight-wechat-missing", {"name": variable})
    if _placeholder(text):
        return Problem("preflight-wechat-placeholder", {"name": variable})
    return None


def _wechat_app(settings: Settings) -> Problem | None:
    return _wechat_value("WECHAT_APP_ID", settings.wechat_app_id) or _wechat_value(
        "WECHAT_APP_SECRET", settings.wechat_app_secret
    )


# The account's Token: 3-32 letters and digits (the server configuration refuses others).
_WECHAT_TOKEN = re.compile(r"[A-Za-z0-9]{3,32}")


def _wechat_token(settings: Settings) -> Problem | None:
    problem = _wechat_value("WECHAT_TOKEN", settings.wechat_token)
    if problem is not None:
        return problem
    assert settings.wechat_token is not None
    if not _WECHAT_TOKEN.fullmatch(settings.wechat_token.get_secret_value().strip()):
        return Problem("preflight-wechat-token-charset", {})
    return None


# The EncodingAESKey: 43 characters of base64 (a 32-byte AES key without its "=").
_WECHAT_AES_KEY = re.compile(r"[A-Za-z0-9+/]{43}")


def _wechat_aes_key(settings: Settings) -> Problem | None:
    problem = _wechat_value("WECHAT_AES_KEY", settings.wechat_aes_key)
    if problem is not None:
        return problem
    assert settings.wechat_aes_key is not None
    key = settings.wechat_aes_key.get_secret_value().strip()
    if not _WECHAT_AES_KEY.fullmatch(key):
        return Problem("preflight-wechat-aes-key", {"length": len(key)})
    return None


def _wechat_templates(settings: Settings) -> Problem | None:
    for variable, value in (
        ("WECHAT_TEMPLATE_REMINDER", settings.wechat_template_reminder),
        ("WECHAT_TEMPLATE_WAITLIST", settings.wechat_template_waitlist),
        ("WECHAT_TEMPLATE_REVIEW", settings.wechat_template_review),
    ):
        problem = _wechat_value(variable, value)
        if problem is not None:
            return problem
    from bot.handlers.wechat.templates import template_problems

    for bad in template_problems(settings):
        return Problem(
            "preflight-wechat-template-bad", {"name": bad.setting.upper(), "reason": bad.reason}
        )
    return None


def _public_url(settings: Settings) -> Problem | None:
    # Ticket links (WeChat sends no files) point here: a candidate's phone must reach it,
    # and a ticket must not travel in clear text.
    url = (settings.public_url or "").strip()
    if not url:
        return Problem("preflight-public-url-missing", {})
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and _is_loopback(parts.hostname or ""):
        return None  # the demo and tests on this machine
    return Problem("preflight-public-url-not-https", {"url": url})


# The checklist, in the order the operator reads it (docs/security.md, "Before going live").
CHECKS: tuple[Check, ...] = (
    Check("bot-token", frozenset({"run", "worker"}), _bot_token, TELEGRAM),
    Check("bot-framework", frozenset({"run", "worker"}), _framework, TELEGRAM),
    Check("webhook-secret", frozenset({"run"}), _webhook_secret, TELEGRAM),
    Check("webhook-https", frozenset({"run"}), _webhook_https, TELEGRAM),
    Check("wechat-app", frozenset({"run"}), _wechat_app, WECHAT),
    Check("wechat-token", frozenset({"run"}), _wechat_token, WECHAT),
    Check("wechat-aes-key", frozenset({"run"}), _wechat_aes_key, WECHAT),
    Check("wechat-templates", frozenset({"run"}), _wechat_templates, WECHAT),
    Check("public-url", frozenset({"run"}), _public_url, WECHAT),
    Check("payment-secret", frozenset({"run", "worker", "paysandbox"}), _payment_secret),
)


def preflight(
    settings: Settings, command: Command, platform: Platform = "telegram"
) -> list[Problem]:
    """Every problem that stops `command` from starting with these settings (empty: go)."""
    found = []
    for check in CHECKS:
        if command in check.commands and platform in check.platforms:
            problem = check.look(settings)
            if problem is not None:
                found.append(problem)
    return found
