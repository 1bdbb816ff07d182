"""The long-running commands serve on uvloop unless CETBOT_EVENT_LOOP says asyncio
(foundation/event_loop.py, issue 17)."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import pytest
import uvloop
from typer.testing import CliRunner

from cetbot.cli import app
from foundation import event_loop
from tests.conftest import ROOT


async def _loop_kind() -> type[asyncio.AbstractEventLoop]:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop())


def test_commands_run_on_uvloop_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CETBOT_EVENT_LOOP", raising=False)
    assert issubclass(event_loop.run(_loop_kind()), uvloop.Loop)


def test_cetbot_event_loop_asyncio_keeps_the_stock_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CETBOT_EVENT_LOOP", "asyncio")
    kind = event_loop.run(_loop_kind())
    assert not issubclass(kind, uvloop.Loop)
    assert issubclass(kind, asyncio.BaseEventLoop)


def test_an_unknown_event_loop_refuses_to_start_naming_the_choices(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CETBOT_EVENT_LOOP", "trio")
    monkeypatch.setenv("CETBOT_LANG", "en")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'loop.db'}")
    result = CliRunner().invoke(app, ["db", "upgrade"], catch_exceptions=False)
    assert result.exit_code == 2
    assert 'uvloop (the default) or asyncio, not "trio"' in result.output
    assert not (tmp_path / "loop.db").exists()  # nothing ran


def test_every_command_of_the_cli_runs_through_the_chosen_loop() -> None:
    """`asyncio.run` in cetbot/cli.py would start a command on the stock loop."""
    tree = ast.parse((ROOT / "cetbot" / "cli.py").read_text(encoding="utf-8"))
    bare = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "run"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "asyncio"
    ]
    assert bare == [], f"asyncio.run at lines {bare} of cetbot/cli.py: use _serve_loop"


def test_a_dot_env_file_chooses_the_loop_as_the_environment_does(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CETBOT_EVENT_LOOP", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("CETBOT_EVENT_LOOP=trio\n", encoding="utf-8")
    monkeypatch.setenv("CETBOT_LANG", "en")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'loop.db'}")
    result = CliRunner().invoke(app, ["db", "upgrade"], catch_exceptions=False)
    assert result.exit_code == 2
    assert 'not "trio"' in result.output
