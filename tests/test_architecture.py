"""The layering of docs/architecture.md, checked with import-linter (pyproject.toml's
`[tool.importlinter]`): the rooms stack one way, siblings stay apart, platform libraries
only in bot/handlers/, SQLAlchemy only in storage/, and no two files import each other.

Each check runs `lint-imports` in its own process so that the import graph is built from
the files on disk (a temporary copy for the attacks), never from modules this test
process has already imported."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
PACKAGES = CONFIG["importlinter"]["root_packages"]
LINT_IMPORTS = "import sys; from importlinter.cli import lint_imports_command as c; sys.exit(c())"
CONTRACT_NAMES = {c["id"]: c["name"] for c in CONFIG["importlinter"]["contracts"]}


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` over the packages under `root` with the project's contracts."""
    return subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS, "--no-cache", "pyproject.toml"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root), "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def broken(result: subprocess.CompletedProcess[str]) -> set[str]:
    """The ids of the contracts a run reports broken."""
    return {cid for cid, name in CONTRACT_NAMES.items() if f"{name} BROKEN" in result.stdout}


@pytest.fixture
def house(tmp_path: Path) -> Path:
    """A copy of every package the contracts name, with the project's pyproject.toml."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "static"),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_line(path: Path, line: str) -> None:
    """Puts an import at the top of a module (after its docstring and future import)."""
    text = path.read_text(encoding="utf-8")
    anchor = "from __future__ import annotations\n"
    assert anchor in text, path
    path.write_text(text.replace(anchor, anchor + line + "\n", 1), encoding="utf-8")


def test_the_house_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    kept = re.findall(r"^(.*) KEPT$", result.stdout, flags=re.M)
    assert len(kept) == len(CONTRACT_NAMES), result.stdout


def test_every_package_is_installed_and_linted() -> None:
    # A new top-level package must be packaged and placed in the stack, or it escapes both.
    on_disk = {
        p.parent.name
        for p in ROOT.glob("*/__init__.py")
        if p.parent.name not in {"tests", "bench", "scripts", "examples", "deploy", "docs"}
    }
    assert on_disk == set(PACKAGES)
    include = CONFIG["setuptools"]["packages"]["find"]["include"]
    assert {p.rstrip("*") for p in include} == on_disk


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        # The foundation reaching up into the command (issue 16's first complaint).
        ("foundation/clock.py", "import cetbot.cli", "stack"),
        # A rule importing the chat above it.
        ("registration/payments.py", "from bot.conversation import types", "stack"),
        # Storage reaching up into the rules.
        ("storage/dto.py", "import registration.errors", "stack"),
        # One sibling room importing another.
        ("admission/tickets.py", "import backoffice.authority", "rooms"),
        # One platform adapter importing another.
        ("bot/handlers/ptb_adapter.py", "import bot.handlers.aiogram_adapter", "adapters"),
        # A platform library below bot/handlers/.
        ("bot/conversation/engine.py", "import aiogram", "platforms"),
        ("registration/accounts.py", "import wechatpy", "platforms"),
        # SQLAlchemy outside storage/.
        ("registration/review.py", "import sqlalchemy", "sqlalchemy"),
        # The product importing the emulator.
        ("bot/app.py", "import emulator.server", "emulator-apart"),
    ],
)
def test_an_upward_or_sideways_import_breaks_the_check(
    house: Path, module: str, line: str, contract: str
) -> None:
    assert lint_imports(house).returncode == 0  # the copy is as clean as the house
    add_line(house / module, line)
    result = lint_imports(house)
    assert result.returncode != 0
    assert contract in broken(result), result.stdout


@pytest.mark.parametrize(
    ("module", "line"),
    [
        # The circle issue 16 found between entries and waitlist, put back.
        ("registration/seats.py", "import registration.waitlist"),
        # A circle through a third file: seats -> entries -> seats.
        ("registration/seats.py", "import registration.entries"),
        # The circle between the command and its admin commands, put back.
        ("cetbot/shell.py", "import cetbot.admin_cli"),
    ],
)
def test_a_new_import_cycle_breaks_the_check(house: Path, module: str, line: str) -> None:
    add_line(house / module, line)
    result = lint_imports(house)
    assert result.returncode != 0
    assert "acyclic" in broken(result), result.stdout
