"""Issue 20, robust intake: one user's in-memory queue of updates is capped; the excess is
dropped with one polite note per burst (logged), and other users are served as usual."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from bot.app import BotApp
from bot.conversation.types import Action, Event, EventKind
from bot.handlers.runner import MAX_PENDING_PER_USER, ConversationEngine
from foundation.i18n import t
from tests.e2e.conftest import BotHarness, Chat

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

FLOODER = 640_001
OTHER = 640_002
BURST = MAX_PENDING_PER_USER + 400


class Gate:
    """Holds the flooder's events while the gate is shut (a slow database, say)."""

    def __init__(self, engine: ConversationEngine) -> None:
        self.engine = engine
        self.open = asyncio.Event()
        self.open.set()

    async def handle(self, event: Event) -> list[Action]:
        if event.user_id == FLOODER:
            await self.open.wait()
        return await self.engine.handle(event)

    async def remember_menu(self, event: Event, message_id: int) -> None:
        await self.engine.remember_menu(event, message_id)


def _text(update_id: int, user_id: int, text: str) -> Event:
    return Event(
        platform="telegram",
        update_id=update_id,
        user_id=user_id,
        chat_id=user_id,
        kind=EventKind.TEXT,
        text=text,
        language_code="en",
    )


async def test_a_flood_of_one_users_updates_is_capped_with_one_note_per_burst(
    harness: BotHarness,
    sqlite_url: str,
    chat_factory: Callable[[BotApp, int], Chat],
    caplog: pytest.LogCaptureFixture,
) -> None:
    gates: list[Gate] = []

    def gated(engine: ConversationEngine) -> ConversationEngine:
        gates.append(Gate(engine))
        return gates[-1]

    app = await harness.polling(harness.build(sqlite_url, wrap=gated))
    flooder, other = chat_factory(app, FLOODER), chat_factory(app, OTHER)
    await flooder.start(language_code="en")
    await other.start(language_code="en")
    await flooder.say("hi")  # Telegram lets a bot write only to users who wrote first
    runner = app.adapter.runner
    note = t("en", "bot-too-many-pending")
    update_id = 10_000
    for burst in (1, 2):
        gates[0].open.clear()
        with caplog.at_level(logging.WARNING):
            futures = []
            for n in range(BURST):
                update_id += 1
                futures.append(runner.submit(_text(update_id, FLOODER, f"b{burst}-{n}")))
            # Dropped ones are done at once (a webhook answers them 200 straight away).
            assert sum(f.done() for f in futures) == BURST - MAX_PENDING_PER_USER
            # Another user is not held up by the flood.
            await other.say(f"hello {burst}")
            gates[0].open.set()
            await asyncio.gather(*futures)
        await runner.drain()
        texts = [m["text"] for m in await flooder.messages()]
        assert texts.count(note) == burst  # one note per burst, not one per dropped update
        echoed = [x for x in texts if x.startswith(f"echo: b{burst}-")]
        assert echoed == [f"echo: b{burst}-{n}" for n in range(MAX_PENDING_PER_USER)]
        assert f"echo: hello {burst}" in [m["text"] for m in await other.messages()]
    assert runner.stats.dropped_events == 2 * (BURST - MAX_PENDING_PER_USER)
    assert f"user {FLOODER}: {BURST - MAX_PENDING_PER_USER} updates dropped" in caplog.text
