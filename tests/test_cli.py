"""The `cetbot` operator commands, run as an operator would (R41, R42)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cetbot.cli import app
from tests.conftest import ROOT

EXAMPLES = ROOT / "examples"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("CETBOT_NOW", "2026-11-25T10:00:00+08:00")
    monkeypatch.setenv("CETBOT_LANG", "en")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, list(args), catch_exceptions=False)
        return result.exit_code, result.output

    assert run("db", "upgrade")[0] == 0
    return run


def _seed(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("admin", "load-session", str(EXAMPLES / "session-2026-12.toml"))[0] == 0
    code, out = cli("admin", "import-roster", str(EXAMPLES / "roster.csv"), "--session", "2026-12")
    assert code == 0, out
    assert "50 new" in out
    code, out = cli("admin", "import-scores", str(EXAMPLES / "scores.csv"))
    assert code == 0, out


def test_r41_session_roster_scores_load_and_stats_show_them(cli) -> None:  # type: ignore[no-untyped-def]
    _seed(cli)
    code, out = cli("admin", "stats", "--session", "2026-12")
    assert code == 0
    assert "50 records" in out and "BSU-CP" in out
    # Loading again updates, never duplicates.
    code, out = cli("admin", "import-roster", str(EXAMPLES / "roster.csv"), "--session", "2026-12")
    assert "0 new, 50 updated" in out


@pytest.mark.parametrize(
    ("bad_file", "reason"),
    [
        ("bad-check-digit.csv", "wrong ID check digit"),
        ("unknown-campus.csv", "unknown campus"),
        ("missing-column.csv", "missing column"),
        ("duplicate-id.csv", "duplicate ID number"),
    ],
)
def test_r41_bad_roster_imports_nothing_and_names_the_line(cli, bad_file: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    _seed(cli)
    path = EXAMPLES / "bad" / bad_file
    code, out = cli("admin", "import-roster", str(path), "--session", "2026-12")
    assert code == 1
    assert "line " in out and reason in out
    assert "nothing was imported" in out
    _, stats = cli("admin", "stats", "--session", "2026-12")
    assert "50 records" in stats


def test_r41_gbk_roster_is_read_with_a_warning(cli) -> None:  # type: ignore[no-untyped-def]
    _seed(cli)
    gbk = [p for p in (EXAMPLES / "bad").iterdir() if "gbk" in p.name.lower()]
    assert gbk, "examples/bad has no GBK roster"
    code, out = cli("admin", "import-roster", str(gbk[0]), "--session", "2026-12")
    assert code == 0, out
    assert "GBK" in out


def test_r42_admins_reviews_export_and_news(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _seed(cli)
    code, out = cli("admin", "add-admin", "4200000001", "--school", "北京示范大学")
    assert code == 0 and "4200000001" in out
    code, out = cli("admin", "reviews")
    assert code == 0
    target = tmp_path / "entries.csv"
    code, out = cli("admin", "export", "entries", "--session", "2026-12", "-o", str(target))
    assert code == 0
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["entry_id", "school", "student_no"]
    code, out = cli(
        "admin",
        "news",
        "add",
        "--title-zh",
        "报名提醒",
        "--title-en",
        "Reminder",
        "--body-zh",
        "请尽快缴费。",
        "--body-en",
        "Please pay soon.",
    )
    assert code == 0 and "published" in out
    code, out = cli("admin", "capacity", "set", "--", "BSU-CP", "CET4", "-1")
    assert code == 1
    code, out = cli("admin", "capacity", "set", "BSU-CP", "CET4", "5")
    assert code == 0 and "5" in out


def test_python_m_cetbot_cli_knows_the_admin_commands_of_admin_cli() -> None:
    # `python -m cetbot.cli` runs the module as __main__: the commands of admin_cli must be
    # on its groups before main() runs (they once landed on a second copy of cetbot.cli).
    result = subprocess.run(
        [sys.executable, "-m", "cetbot.cli", "admin", "add-admin", "--help"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
