"""Issue 20, secrets: the attacks an outsider tried (blank webhook secret, the public payment
secret, an open callback port) fail, and `cetbot run` / `worker` refuse weak settings."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from typer.testing import CliRunner

from bot.app import MissingWebhookSecret, serve
from cetbot.cli import app as cli
from cetbot.demo import demo_settings
from emulator.server import RunningEmulator
from foundation.i18n import t
from foundation.settings import Settings
from registration.gateways.base import CallbackRefused
from registration.gateways.sandbox import signed_headers
from registration.payments import gateway_from_settings
from tests.conftest import ROOT, TEST_PAYMENT_SECRET, TEST_WEBHOOK_SECRET
from tests.e2e.conftest import TOKEN, BotHarness

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

ENV_EXAMPLE = ROOT / ".env.example"
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
# What an outsider tries first: the old code's default and the value .env.example shipped.
PUBLIC_SECRETS = ("sandbox-secret", "change-me")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def operator_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An operator's folder with .env copied from .env.example and nothing from the shell."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(ENV_EXAMPLE, tmp_path / ".env")
    for name in (
        "BOT_TOKEN",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
        "PAYMENT_SECRET",
        "PAYMENT_CALLBACK_HOST",
        "TICKET_SIGNING_KEY",
        "TELEGRAM_API_URL",
        "DATABASE_URL",
        "CETBOT_LANG",
    ):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_blank_secrets_as_env_example_ships_them_count_as_unset(operator_dir: Path) -> None:
    settings = Settings()
    assert settings.webhook_secret is None
    assert settings.payment_secret is None
    assert settings.ticket_signing_key is None  # "use the generated key"
    assert settings.bot_token is None
    assert Settings(_env_file=None, webhook_secret="   ").webhook_secret is None  # type: ignore[call-arg]


async def test_blank_webhook_secret_lets_no_forged_update_in(
    harness: BotHarness, sqlite_url: str
) -> None:
    """The attack: WEBHOOK_SECRET= (blank), then a POST without the secret-token header."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    app = harness.build(sqlite_url, webhook_url=url, webhook_secret="")
    try:
        await harness.webhook(app, port)
    except MissingWebhookSecret:
        await app.close()
        return  # refused to start: nothing listens, nothing to forge
    forged = {
        "update_id": 7,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 42, "type": "private"},
            "from": {"id": 42, "is_bot": False, "first_name": "Mallory"},
            "text": "/start",
        },
    }
    async with aiohttp.ClientSession() as http, http.post(url, json=forged) as resp:
        status = resp.status
    raise AssertionError(f"a webhook with a blank secret started and answered {status}")


@pytest.mark.parametrize("public", PUBLIC_SECRETS)
def test_callback_signed_with_a_public_secret_is_refused(
    operator_dir: Path, monkeypatch: pytest.MonkeyPatch, public: str
) -> None:
    """The attack: sign a 'paid' callback with the old default or the .env.example value."""
    body = json.dumps(
        {"payment_id": "P1", "status": "paid", "amount_fen": 3000, "paid_at": NOW.isoformat()}
    ).encode()
    headers = signed_headers(public.encode(), body, NOW, "n" * 16)
    # Settings as a library user (or an old .env) leaves them: no PAYMENT_SECRET set.
    gateway = gateway_from_settings(Settings())
    with pytest.raises(CallbackRefused) as refused:
        gateway.verify_callback(body, headers, NOW)
    assert refused.value.params["reason"] == "signature"


@pytest.mark.parametrize(
    ("payment_secret", "why"),
    [
        ("", "blank"),
        ("change-me", "placeholder"),
        ("sandbox-secret", "placeholder"),
        ("secret", "placeholder"),
        ("x" * 40, "placeholder"),
        ("change-me-" + "k" * 30, "placeholder"),
        ("Sh0rt-but-random-9", "short"),
    ],
)
@pytest.mark.parametrize("lang", ["zh_CN.UTF-8", "en_US.UTF-8"])
@pytest.mark.parametrize("command", [["run"], ["worker", "--once"]])
def test_run_and_worker_refuse_a_weak_payment_secret(
    operator_dir: Path, payment_secret: str, why: str, lang: str, command: list[str]
) -> None:
    env = {
        "BOT_TOKEN": TOKEN,
        "PAYMENT_SECRET": payment_secret,
        # Never reach Telegram should the command start after all.
        "TELEGRAM_API_URL": f"http://127.0.0.1:{_free_port()}",
        "DATABASE_URL": f"sqlite+aiosqlite:///{operator_dir / 'x.db'}",
        "LANG": lang,
        "CETBOT_LANG": "",
    }
    result = CliRunner().invoke(cli, command, env=env)
    said = "".join(result.output.split())  # rich wraps lines, also between Chinese characters
    assert result.exit_code == 2, result.output
    from cetbot.checklist import MAKE_SECRET

    loc = "zh" if lang.startswith("zh") else "en"
    expected = t(
        loc,
        f"preflight-secret-{why}",
        {"name": "PAYMENT_SECRET", "min": 32, "make": MAKE_SECRET},
    )
    # Names the variable, says why in the operator's language, and how to make a good one.
    assert "".join(expected.split()) in said


@pytest.mark.parametrize(
    "webhook_secret", ["", "hunter2", "change-me", "long enough but with spaces and ünïcode!!"]
)
def test_run_refuses_a_weak_webhook_secret_in_webhook_mode(
    operator_dir: Path, webhook_secret: str
) -> None:
    env = {
        "BOT_TOKEN": TOKEN,
        "PAYMENT_SECRET": TEST_PAYMENT_SECRET,
        "WEBHOOK_URL": "https://bot.example.edu/tg",
        "WEBHOOK_SECRET": webhook_secret,
        "TELEGRAM_API_URL": f"http://127.0.0.1:{_free_port()}",
        "CETBOT_LANG": "en",
    }
    result = CliRunner().invoke(cli, ["run"], env=env)
    said = " ".join(result.output.split())
    assert result.exit_code == 2, said
    assert "WEBHOOK_SECRET" in said and "secrets.token_urlsafe(32)" in said


def test_run_with_the_shipped_env_example_refuses_and_says_why(operator_dir: Path) -> None:
    # Only the token filled in, as an operator would do first.
    env = {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": f"http://127.0.0.1:{_free_port()}",
        "CETBOT_LANG": "en",
    }
    result = CliRunner().invoke(cli, ["run"], env=env)
    said = " ".join(result.output.split())
    assert result.exit_code == 2, said
    assert "PAYMENT_SECRET is not set" in said


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("http://bot.example.edu/tg", True),
        ("ftp://bot.example.edu/tg", True),
        ("https://bot.example.edu/tg", False),
        ("http://127.0.0.1:8443/tg", False),
        ("http://localhost:8443/tg", False),
        ("http://[::1]:8443/tg", False),
    ],
)
def test_checklist_wants_an_https_webhook_unless_loopback(url: str, refused: bool) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TOKEN,
        webhook_url=url,
        webhook_secret=TEST_WEBHOOK_SECRET,
        payment_secret=TEST_PAYMENT_SECRET,
    )
    from cetbot.checklist import preflight

    keys = [p.key for p in preflight(settings, "run")]
    assert keys == (["preflight-webhook-not-https"] if refused else [])


def test_a_strong_generated_secret_passes_and_the_checklist_is_documented() -> None:
    from cetbot.checklist import CHECKS, MIN_SECRET_LENGTH, secret_problem

    assert secret_problem(TEST_PAYMENT_SECRET) is None
    assert len(TEST_PAYMENT_SECRET) >= MIN_SECRET_LENGTH
    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    assert "## Before going live" in doc
    for check in CHECKS:
        assert f"`{check.name}`" in doc, check.name


def test_demo_makes_random_secrets_per_database_and_reuses_them(
    operator_dir: Path,
) -> None:
    from cetbot.checklist import secret_problem
    from cetbot.demo import demo_secrets_path

    def settings_for(name: str) -> Settings:
        return Settings(database_url=f"sqlite+aiosqlite:///{operator_dir / name}")

    first = demo_settings(settings_for("a.db"), "http://127.0.0.1:1")
    again = demo_settings(settings_for("a.db"), "http://127.0.0.1:1")
    other = demo_settings(settings_for("b.db"), "http://127.0.0.1:1")
    assert first.payment_secret is not None and other.payment_secret is not None
    secret = first.payment_secret.get_secret_value()
    assert secret_problem(secret) is None and secret not in PUBLIC_SECRETS
    assert again.payment_secret == first.payment_secret  # reused with the same database
    assert other.payment_secret.get_secret_value() != secret  # never a constant
    stored = demo_secrets_path(settings_for("a.db"))
    assert stored is not None and stored.parent == operator_dir and stored.exists()
    assert stored.stat().st_mode & 0o077 == 0  # readable by the operator only
    # On PostgreSQL the secrets live in the data folder, one file per database.
    pg = Settings(database_url="postgresql+asyncpg://u:pw@db/one", data_dir=operator_dir / "d")
    pg_path = demo_secrets_path(pg)
    assert pg_path is not None and pg_path.parent == operator_dir / "d"
    assert pg_path != demo_secrets_path(
        pg.model_copy(update={"database_url": "postgresql://db/two"})
    )


async def test_polling_payment_callback_listens_on_loopback_by_default(
    emulator: RunningEmulator, sqlite_url: str, tmp_path: Path
) -> None:
    """`cetbot run` in polling mode used to open the callback on 0.0.0.0 (--listen's default)."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TOKEN,
        telegram_api_url=emulator.url,
        database_url=sqlite_url,
        payment_secret=TEST_PAYMENT_SECRET,
        data_dir=tmp_path / "data",
    )
    said: list[tuple[str, dict[str, object]]] = []
    port = _free_port()
    running = asyncio.create_task(
        serve(
            settings,
            listen="0.0.0.0",
            port=8443,
            worker=False,
            callback_port=port,
            notice=lambda key, args: said.append((key, args)),
        )
    )
    try:
        for _ in range(400):
            if any(key == "run-payment-callback" for key, _ in said) or running.done():
                break
            await asyncio.sleep(0.05)
        if running.done():
            running.result()
        [listen] = [args["listen"] for key, args in said if key == "run-payment-callback"]
        assert listen == f"127.0.0.1:{port}"
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


@pytest.mark.parametrize("public", ["", *PUBLIC_SECRETS])
def test_paysandbox_refuses_to_sign_with_a_public_secret(operator_dir: Path, public: str) -> None:
    """The sandbox signs callbacks the bot trusts: with a public secret anyone could."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PAYMENT_SECRET": public,
        "CETBOT_LANG": "en",
    }
    # A subprocess, so the old behaviour (serving forever) fails the test instead of hanging it.
    try:
        done = subprocess.run(
            [
                sys.executable,
                *("-c", "from cetbot.cli import main; main()"),
                *("paysandbox", "--port", str(_free_port())),
            ],
            cwd=operator_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        raise AssertionError("cetbot paysandbox started with a public secret") from None
    said = " ".join(done.stdout.split())
    assert done.returncode == 2, said
    assert "PAYMENT_SECRET" in said
