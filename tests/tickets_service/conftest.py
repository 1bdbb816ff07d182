"""Fixtures of the ticket service tests: the seeded session (R5, R38, R39) and settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from foundation.settings import Settings
from tests.rules.conftest import world  # noqa: F401 - the seeded-session fixture, shared


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # A fresh key per test in the test's own folder; nothing read from the environment.
    return Settings(_env_file=None, data_dir=tmp_path / "data", ticket_signing_key=None)
