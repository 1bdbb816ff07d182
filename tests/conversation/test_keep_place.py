"""Issue 18, deliverable 5, in-process (Events in, Actions out): hostile input at a step
never loses the candidate's place; administrators' slash commands."""

from __future__ import annotations

from tests.conversation import place_scenarios as place
from tests.conversation.conftest import Harness


async def test_text_at_a_button_step_names_the_choices_and_old_buttons_still_work(
    harness: Harness,
) -> None:
    await place.text_at_the_campus_step_names_the_choices_and_keeps_the_step(harness)


async def test_typed_button_label_or_unambiguous_part_acts_as_the_press(harness: Harness) -> None:
    await place.typed_label_acts_as_the_press(harness)


async def test_full_width_upper_case_label_presses_the_button(harness: Harness) -> None:
    await place.full_width_and_case_press_the_language_button(harness)


async def test_help_at_the_code_step_shows_help_then_the_same_step(harness: Harness) -> None:
    await place.help_at_a_typed_step_keeps_the_step(harness)


async def test_own_shared_contact_is_the_phone_someone_elses_is_refused(harness: Harness) -> None:
    await place.own_contact_at_the_phone_step_is_the_phone(harness)


async def test_own_shared_contact_at_the_typed_phone_step(harness: Harness) -> None:
    await place.own_contact_at_the_typed_phone_step_is_the_phone(harness)


async def test_whitespace_and_zero_width_messages_are_empty_not_faq(harness: Harness) -> None:
    await place.blank_messages_are_empty_not_questions(harness)


async def test_question_at_a_button_step_is_answered_and_the_step_stays(harness: Harness) -> None:
    await place.question_at_the_campus_step_is_answered_and_the_step_stays(harness)
