"""Issue 18, deliverable 5, end-to-end: a shared contact and blank / zero-width messages
through the aiogram and the PTB adapter against the emulator (the adapters translate them
into Events), and text at a button step keeping the place, on the same scenarios as the
in-process tests (`tests/conversation/place_scenarios.py`)."""

from __future__ import annotations

import pytest

from tests.conversation import place_scenarios as place
from tests.e2e.conftest import real_engine_available
from tests.e2e.flows_driver import EmulatorHarness
from tests.e2e.test_flows import flows  # noqa: F401 - the fixture

pytestmark = [
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
    pytest.mark.skipif(not real_engine_available(), reason="bot/conversation/engine.py not there"),
]


async def test_shared_contact_own_is_the_phone_someone_elses_refused(
    flows: EmulatorHarness,  # noqa: F811
) -> None:
    await place.own_contact_at_the_phone_step_is_the_phone(flows)


async def test_whitespace_and_zero_width_messages_are_empty(
    flows: EmulatorHarness,  # noqa: F811
) -> None:
    await place.blank_messages_are_empty_not_questions(flows)


async def test_text_at_the_campus_step_keeps_the_step_and_its_buttons(
    flows: EmulatorHarness,  # noqa: F811
) -> None:
    await place.text_at_the_campus_step_names_the_choices_and_keeps_the_step(flows)


async def test_help_at_the_code_step_keeps_the_step(flows: EmulatorHarness) -> None:  # noqa: F811
    await place.help_at_a_typed_step_keeps_the_step(flows)
