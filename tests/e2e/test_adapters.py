"""Both adapters against the emulator: menus, edits, faults, re-delivery, order, webhook."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from bot.app import SECRET_HEADER, BotApp
from bot.conversation.types import Event, EventKind, SendText
from emulator.client import EmulatorClient
from tests.conftest import TEST_WEBHOOK_SECRET
from tests.e2e.conftest import BotHarness, Chat, SlowFirst
from tests.e2e.echo_engine import MENU_TEXT

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

USER = 5001
OTHER = 5002


@pytest.fixture
async def chat(echo_bot: BotApp, chat_factory: Callable[[BotApp, int], Chat]) -> Chat:
    candidate = chat_factory(echo_bot, USER)
    await candidate.start()
    return candidate


async def test_start_shows_the_menu_and_commands_are_published(
    chat: Chat, em: EmulatorClient
) -> None:
    await chat.command("start")
    menu = await chat.last()
    assert menu["text"] == MENU_TEXT
    labels = [[b["text"] for b in row] for row in menu["keyboard"]]
    assert labels == [["报名", "帮助"], ["官网"]]
    assert menu["keyboard"][1][0]["url"] == "https://cet.neea.edu.cn/"
    published = {(c["scope"], c["language_code"]): c["commands"] for c in await em.commands()}
    names = [c["command"] for c in published[("type=default", "zh")]]
    assert names == ["start", "help", "cancel", "language"]
    assert published[("type=default", "en")][0]["description"] == "Start / main menu"
    assert published[("type=default", "")][0]["description"] == "开始 / 主菜单"


async def test_button_edits_in_place_and_is_answered(
    chat: Chat, em: EmulatorClient, echo_bot: BotApp
) -> None:
    await chat.command("start")
    menu = await chat.last()
    query_id = await chat.press("报名")
    edited = await chat.last()
    assert edited["message_id"] == menu["message_id"] and edited["edited"] is True
    assert edited["text"] == "pressed menu:register"
    answer = await em.wait_answer(query_id, timeout=2)
    assert answer["answer"]["text"] == "OK"
    # The new menu message was reported to the engine; the edit did not create another.
    assert echo_bot.engine.menus == {USER: menu["message_id"]}  # type: ignore[attr-defined]
    await chat.press("menu:back")
    assert len(await chat.messages()) == 1


async def test_edit_of_a_vanished_message_sends_a_new_one(
    chat: Chat, em: EmulatorClient, echo_bot: BotApp
) -> None:
    await chat.command("start")
    menu = await chat.last()
    pressed = Event(
        platform="telegram",
        update_id=10_000,
        user_id=USER,
        chat_id=USER,
        kind=EventKind.BUTTON,
        payload="menu:help",
        message_id=menu["message_id"],
    )
    # The message to edit is gone (deleted by the user, or too old): a new one shows the step.
    step = SendText(USER, "the next step", edit_message_id=menu["message_id"] + 100)
    await echo_bot.adapter.runner.perform_all(pressed, [step])
    fresh = await chat.last()
    assert fresh["message_id"] != menu["message_id"] and fresh["text"] == "the next step"
    assert echo_bot.engine.menus[USER] == fresh["message_id"]  # type: ignore[attr-defined]
    # Editing to the same text and keyboard is "not modified": fine, nothing new is sent.
    same = SendText(USER, "the next step", edit_message_id=fresh["message_id"])
    result = await echo_bot.adapter.performer.perform(same)
    assert result.ok and result.message_id == fresh["message_id"]
    assert len(await chat.messages()) == 2


async def test_429_is_retried_after_retry_after(chat: Chat, em: EmulatorClient) -> None:
    await em.inject("sendMessage", "429", retry_after=1)
    began = time.monotonic()
    await chat.say("hello")
    assert time.monotonic() - began >= 0.9
    assert await chat.last_text() == "echo: hello"
    stats = await em.stats()
    assert stats["injected_429"] == 1
    assert stats["requests"]["sendMessage"] == 2


@pytest.mark.parametrize("kind", ["502", "500"])
async def test_server_errors_are_retried(chat: Chat, em: EmulatorClient, kind: str) -> None:
    await em.inject("sendMessage", kind, count=2)
    await chat.say("again")
    assert [m["text"] for m in await chat.messages()] == ["echo: again"]
    stats = await em.stats()
    assert stats["requests"]["sendMessage"] == 3
    assert not await em.faults()


async def test_a_send_that_may_have_arrived_is_not_sent_again(
    chat: Chat, em: EmulatorClient
) -> None:
    """Issue 20: the connection drops after Telegram carried the send out; a blind retry
    showed the reply twice. Only what surely did not arrive is retried."""
    await em.inject("sendMessage", "drop_after")
    await chat.say("once")
    assert [m["text"] for m in await chat.messages()] == ["echo: once"]
    assert (await em.stats())["requests"]["sendMessage"] == 1


async def test_a_dropped_edit_is_retried(chat: Chat, em: EmulatorClient) -> None:
    # An edit done twice changes nothing more: retried whatever the failure.
    await chat.command("start")
    await em.inject("editMessageText", "drop", count=2)
    await chat.press("帮助")
    assert await chat.last_text() == "pressed menu:help"
    assert (await em.stats())["requests"]["editMessageText"] == 3


async def test_edits_and_answers_are_retried_too(chat: Chat, em: EmulatorClient) -> None:
    await chat.command("start")
    await em.inject("editMessageText", "502")
    await em.inject("answerCallbackQuery", "429", retry_after=1)
    query_id = await chat.press("帮助")
    assert await chat.last_text() == "pressed menu:help"
    assert (await em.wait_answer(query_id, timeout=1))["answer"]["text"] == "OK"


async def test_a_blocked_user_is_marked_and_the_bot_carries_on(
    chat: Chat, em: EmulatorClient, echo_bot: BotApp, chat_factory: Callable[[BotApp, int], Chat]
) -> None:
    await em.inject("*", "403", count=None, chat_id=USER)
    await chat.say("anyone there?")
    assert await chat.messages() == []
    runner = echo_bot.adapter.runner
    assert runner.stats.blocked_users == {USER}
    stats = await em.stats()
    assert stats["requests"]["sendMessage"] == 1  # 403 is final: no retry
    other = chat_factory(echo_bot, OTHER)
    await other.start()
    await other.say("hi")
    assert await other.last_text() == "echo: hi"
    await em.clear_faults()
    await chat.say("unblocked")
    assert await chat.last_text() == "echo: unblocked"


async def test_an_engine_failure_gives_a_localized_apology(
    chat: Chat, em: EmulatorClient, chat_factory: Callable[[BotApp, int], Chat], echo_bot: BotApp
) -> None:
    await chat.command("boom")
    assert (await chat.last_text()).startswith("抱歉")
    english = chat_factory(echo_bot, OTHER)
    await english.start(language_code="en")
    await english.command("boom")
    assert (await english.last_text()).startswith("Sorry")
    await chat.say("still here")
    assert await chat.last_text() == "echo: still here"


async def test_stickers_and_photos_become_other_events(chat: Chat, em: EmulatorClient) -> None:
    await chat.sticker()
    assert await chat.last_text() == "please type text"
    sent = await em.photo(USER)
    await chat.settle(sent["update_id"])
    assert await chat.last_text() == "please type text"


def _message_update(update_id: int, message_id: int, user_id: int, text: str) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "Student", "language_code": "zh-hans"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Student"},
            "from": user,
            "text": text,
        },
    }


async def test_a_redelivered_update_acts_once(
    chat: Chat, em: EmulatorClient, echo_bot: BotApp
) -> None:
    sent = await em.user_says(USER, "once")
    await chat.settle(sent["update_id"])
    # Telegram re-delivers an update when it never saw it confirmed (crash, lost answer).
    again = _message_update(sent["update_id"], sent["message_id"], USER, "once")
    await echo_bot.adapter.feed_webhook(again)
    await asyncio.sleep(0.2)
    assert [m["text"] for m in await chat.messages()] == ["echo: once"]


async def test_one_users_updates_stay_in_order_while_users_run_concurrently(
    harness: BotHarness,
    sqlite_url: str,
    em: EmulatorClient,
    chat_factory: Callable[[BotApp, int], Chat],
) -> None:
    app = await harness.polling(harness.build(sqlite_url, wrap=SlowFirst))
    first, second = chat_factory(app, USER), chat_factory(app, OTHER)
    await first.start()
    await second.start()
    # The second user's first message is slowed too: send theirs after a warm-up.
    warm = await em.user_says(OTHER, "warm-up")
    await second.settle(warm["update_id"])
    one = await em.user_says(USER, "one")  # slowed: 0.4 s in the engine
    two = await em.user_says(USER, "two")
    other = await em.user_says(OTHER, "other")
    await second.settle(other["update_id"])
    # A slow update of one user does not hold up another user ...
    assert [m["text"] for m in await first.messages()] == []
    await first.settle(one["update_id"])
    await first.settle(two["update_id"])
    # ... and one user's two quick messages are answered in the order sent.
    assert [m["text"] for m in await first.messages()] == ["echo: one", "echo: two"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_mode_checks_the_secret_and_serves_updates(
    harness: BotHarness,
    sqlite_url: str,
    em: EmulatorClient,
    chat_factory: Callable[[BotApp, int], Chat],
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    app = await harness.webhook(
        harness.build(sqlite_url, webhook_url=url, webhook_secret=TEST_WEBHOOK_SECRET), port
    )
    info = await em.info()
    assert info["bots"][0]["webhook"] == url
    candidate = chat_factory(app, USER)
    await candidate.start()
    await candidate.command("start")
    assert await candidate.last_text() == MENU_TEXT
    await candidate.press("报名")
    assert await candidate.last_text() == "pressed menu:register"

    update = _message_update(900_001, 77, USER, "forged")
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {SECRET_HEADER: "wrong"}):
            async with http.post(url, json=update, headers=headers) as resp:
                assert resp.status == 401
        async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
            assert resp.status == 200
        # The same update twice, with the right secret: acted on once.
        genuine = _message_update(900_002, 78, USER, "twice")
        for _ in range(2):
            async with http.post(
                url, json=genuine, headers={SECRET_HEADER: TEST_WEBHOOK_SECRET}
            ) as resp:
                assert resp.status == 200
    texts = [m["text"] for m in await candidate.messages()]
    assert "echo: forged" not in texts
    assert texts.count("echo: twice") == 1
