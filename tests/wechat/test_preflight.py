"""Issue 19: `cetbot run --platform wechat` refuses to start (exit 2, in the operator's
language) when an account setting is missing or a placeholder, the Token has characters
WeChat refuses, or the EncodingAESKey is not 43 characters; Telegram's run is unchanged."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cetbot.cli import app as cli
from foundation.i18n import t
from tests.conftest import ROOT, TEST_PAYMENT_SECRET

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
GOOD = {
    "WECHAT_APP_ID": "wx5f1e2d3c4b5a6978",
    "WECHAT_APP_SECRET": "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "WECHAT_TOKEN": "cetDesk2026",
    "WECHAT_AES_KEY": AES_KEY,
    "WECHAT_TEMPLATE_REMINDER": "tpl-reminder-id",
    "WECHAT_TEMPLATE_WAITLIST": "tpl-waitlist-id",
    "WECHAT_TEMPLATE_REVIEW": "tpl-review-id",
    "PUBLIC_URL": "https://bot.example.edu.cn",
}


def _refused_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def operator_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An operator's folder with .env copied from .env.example and nothing from the shell."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    for name in [
        *GOOD,
        "WECHAT_TEMPLATE_PAYMENT",
        "BOT_TOKEN",
        "PAYMENT_SECRET",
        "DATABASE_URL",
        "CETBOT_LANG",
    ]:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _run(
    operator_dir: Path, lang: str, env: dict[str, str], *, migrate: bool = False
) -> tuple[int, str]:
    full = {
        "PAYMENT_SECRET": TEST_PAYMENT_SECRET,
        "WECHAT_API_URL": _refused_port(),  # never WeChat, should it start after all
        "DATABASE_URL": f"sqlite+aiosqlite:///{operator_dir / 'x.db'}",
        "LANG": lang,
        "CETBOT_LANG": "",
        **env,
    }
    if migrate:
        assert CliRunner().invoke(cli, ["db", "upgrade"], env=full).exit_code == 0
    result = CliRunner().invoke(cli, ["run", "--platform", "wechat", "--port", "0"], env=full)
    return result.exit_code, "".join(result.output.split())


CASES = [
    ({}, "preflight-wechat-missing", {"name": "WECHAT_APP_ID"}),
    (
        {**GOOD, "WECHAT_APP_SECRET": "change-me"},
        "preflight-wechat-placeholder",
        {"name": "WECHAT_APP_SECRET"},
    ),
    ({**GOOD, "WECHAT_TOKEN": ""}, "preflight-wechat-missing", {"name": "WECHAT_TOKEN"}),
    ({**GOOD, "WECHAT_TOKEN": "cet-desk"}, "preflight-wechat-token-charset", {}),
    ({**GOOD, "WECHAT_AES_KEY": AES_KEY[:42]}, "preflight-wechat-aes-key", {"length": 42}),
    ({**GOOD, "WECHAT_AES_KEY": AES_KEY + "H"}, "preflight-wechat-aes-key", {"length": 44}),
    (
        {**GOOD, "WECHAT_AES_KEY": "x" * 43},
        "preflight-wechat-placeholder",
        {"name": "WECHAT_AES_KEY"},
    ),
    (
        {**GOOD, "WECHAT_TEMPLATE_WAITLIST": ""},
        "preflight-wechat-missing",
        {"name": "WECHAT_TEMPLATE_WAITLIST"},
    ),
    (
        {**GOOD, "WECHAT_TEMPLATE_PAYMENT": "tpl-payment:thing1,amount2"},
        "preflight-wechat-template-bad",
        {"name": "WECHAT_TEMPLATE_PAYMENT", "reason": "keyword-count"},
    ),
    ({**GOOD, "PUBLIC_URL": ""}, "preflight-public-url-missing", {}),
    (
        {**GOOD, "PUBLIC_URL": "http://bot.example.edu.cn"},
        "preflight-public-url-not-https",
        {"url": "http://bot.example.edu.cn"},
    ),
]


@pytest.mark.parametrize("lang", ["zh_CN.UTF-8", "en_US.UTF-8"])
@pytest.mark.parametrize(("env", "key", "args"), CASES)
def test_run_wechat_refuses_missing_placeholder_and_malformed_settings(
    operator_dir: Path, lang: str, env: dict[str, str], key: str, args: dict[str, object]
) -> None:
    code, said = _run(operator_dir, lang, env)
    assert code == 2, said
    expected = t("zh" if lang.startswith("zh") else "en", key, args)
    assert "".join(expected.split()) in said


def test_run_wechat_with_good_settings_passes_the_checklist_and_stops_at_the_api(
    operator_dir: Path,
) -> None:
    code, said = _run(operator_dir, "en_US.UTF-8", GOOD, migrate=True)
    # Past the checklist: it tried the account's API, which refuses here, and says so.
    assert code == 2, said
    assert "".join(t("en", "run-wechat-unreachable", {"detail": ""}).split()[:5]) in said


def test_telegram_run_still_asks_for_its_own_settings(operator_dir: Path) -> None:
    result = CliRunner().invoke(
        cli, ["run"], env={**GOOD, "PAYMENT_SECRET": TEST_PAYMENT_SECRET, "CETBOT_LANG": "en"}
    )
    assert result.exit_code == 2
    assert "BOT_TOKEN is not set" in " ".join(result.output.split())


def test_unknown_platform_is_refused(operator_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["run", "--platform", "line"], env={"CETBOT_LANG": "en"})
    assert result.exit_code == 2
    assert '"line"' in result.output
