"""Issue 20, nothing lost: both adapters when Telegram floods the poller or answers slowly.

Seen: aiogram polled again 1 s after a getUpdates 429 that said `retry_after` 4; PTB sent
a reply twice when Telegram took 12 s to answer (its 5 s read timeout fired, the call
was retried, and both went through).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from bot.app import BotApp
from emulator.client import EmulatorClient
from tests.e2e.conftest import Chat
from tests.e2e.echo_engine import MENU_TEXT

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

USER = 5301
FLOOD_WAIT = 3  # seconds Telegram asks the poller to wait


async def _call_times(em: EmulatorClient, method: str) -> list[float]:
    return list((await em.stats())["call_times"].get(method, []))


async def test_polling_honours_retry_after_of_a_getupdates_429(
    echo_bot: BotApp, em: EmulatorClient
) -> None:
    injected_at = time.time()
    await em.inject("getUpdates", "429", retry_after=FLOOD_WAIT)
    # The 429 is consumed by the next poll; wait for the poll after it.
    for _ in range(400):
        after = [t for t in await _call_times(em, "getUpdates") if t >= injected_at]
        if len(after) >= 2:
            break
        await asyncio.sleep(0.05)
    assert not await em.faults(), "the poller never met the 429"
    assert len(after) >= 2, "the poller did not poll again"
    refused, next_poll = after[0], after[1]
    # A lower bound, not a timing benchmark: the next poll came no earlier than asked.
    assert next_poll - refused >= FLOOD_WAIT - 0.01, (refused, next_poll)


# Longer than PTB's default 5 s read timeout, which fired and duplicated the reply.
SLOW_ANSWER = 6.0


async def test_a_slow_send_is_not_sent_twice(
    echo_bot: BotApp, em: EmulatorClient, chat_factory: Callable[[BotApp, int], Chat]
) -> None:
    chat = chat_factory(echo_bot, USER)
    await chat.start()
    await em.inject("sendMessage", "delay", chat_id=USER, delay=SLOW_ANSWER)
    sent = await em.command(USER, "start")
    await chat.settle(sent["update_id"], timeout=60)
    menus = [m for m in await chat.messages() if m["text"] == MENU_TEXT]
    assert len(menus) == 1, [m["text"] for m in await chat.messages()]
