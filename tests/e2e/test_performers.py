"""Each adapter's Performer on its own: documents, photos, deletes, giving up, the retry policy."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from bot.app import BotApp
from bot.conversation.types import (
    Action,
    AnswerButton,
    DeleteMessage,
    Event,
    SendDocument,
    SendPhoto,
    SendText,
)
from bot.handlers import load_adapter
from bot.handlers.retry import CallFailed, Outcome, RetryPolicy, Verdict, call_with_retries
from bot.handlers.runner import ConversationEngine
from emulator.client import EmulatorClient
from emulator.server import RunningEmulator
from foundation.settings import Settings
from tests.e2e.conftest import FAST_RETRY, TOKEN, BotHarness, Chat

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

USER = 6001
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 16 + b"\n%%EOF\n"


@pytest.fixture
async def chat(echo_bot: BotApp, chat_factory: Callable[[BotApp, int], Chat]) -> Chat:
    candidate = chat_factory(echo_bot, USER)
    await candidate.start()
    await candidate.say("hello")  # the user has written first, as Telegram requires
    return candidate


async def test_documents_photos_and_deletes(
    chat: Chat, em: EmulatorClient, echo_bot: BotApp
) -> None:
    performer = echo_bot.adapter.performer
    first = await performer.perform(
        SendDocument(USER, "ticket.pdf", data=PDF, caption="准考证", cache_key="ticket:1:zh")
    )
    assert first.ok and first.file_id
    again = await performer.perform(SendDocument(USER, "ticket.pdf", file_id=first.file_id))
    assert again.ok and again.file_id == first.file_id
    assert await em.download(first.file_id) == PDF
    photo = await performer.perform(SendPhoto(USER, _png(), caption="照片"))
    assert photo.ok and photo.message_id
    gone = await performer.perform(DeleteMessage(USER, photo.message_id))
    assert gone.ok
    # Deleting it again (or any message that is no longer there) is not an error.
    assert (await performer.perform(DeleteMessage(USER, photo.message_id))).ok
    docs = [m for m in await chat.messages() if m["document"]]
    assert [d["document"]["file_name"] for d in docs] == ["ticket.pdf", "ticket.pdf"]
    assert docs[0]["caption"] == "准考证"


def _png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (20, 120, 200)).save(buf, format="PNG")
    return buf.getvalue()


async def test_a_lasting_outage_is_given_up_after_five_tries(
    chat: Chat, em: EmulatorClient, echo_bot: BotApp
) -> None:
    before = (await em.stats())["requests"]["sendMessage"]
    await em.inject("sendMessage", "502", count=None)
    await chat.say("lost?")
    stats = await em.stats()
    assert stats["requests"]["sendMessage"] - before == 5
    assert echo_bot.adapter.runner.stats.failed_actions == 1
    await em.clear_faults()
    await chat.say("back")
    assert await chat.last_text() == "echo: back"


class ForgetsToAnswer:
    """An engine with a bug: it never answers button presses."""

    def __init__(self, engine: ConversationEngine) -> None:
        self.engine = engine

    async def handle(self, event: Event) -> list[Action]:
        actions = await self.engine.handle(event)
        return [a for a in actions if not isinstance(a, AnswerButton)]

    async def remember_menu(self, event: Event, message_id: int) -> None:
        await self.engine.remember_menu(event, message_id)


async def test_every_button_press_is_answered_even_if_the_engine_forgets(
    harness: BotHarness,
    sqlite_url: str,
    em: EmulatorClient,
    chat_factory: Callable[[BotApp, int], Chat],
) -> None:
    app = await harness.polling(harness.build(sqlite_url, wrap=ForgetsToAnswer))
    candidate = chat_factory(app, USER)
    await candidate.start()
    await candidate.command("start")
    query_id = await candidate.press("帮助")
    answer = await em.wait_answer(query_id, timeout=1)
    assert answer["answer"] is not None
    assert (await em.stats())["unanswered_callbacks"] == 0


async def test_a_failed_send_text_reports_failure(chat: Chat, echo_bot: BotApp) -> None:
    performer = echo_bot.adapter.performer
    too_long = await performer.perform(SendText(USER, "长" * 5000))
    assert not too_long.ok and too_long.error == "failed"


async def test_a_standalone_performer_sends_without_polling(
    chat: Chat, em: EmulatorClient, emulator: RunningEmulator, framework: str
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TOKEN,
        telegram_api_url=emulator.url,
    )
    performer = load_adapter(framework).performer_from_settings(settings, FAST_RETRY)
    try:
        await em.inject("sendMessage", "429", retry_after=1)
        sent = await performer.perform(SendText(USER, "候补转正通知"))
    finally:
        await performer.close()  # type: ignore[attr-defined]
    assert sent.ok and await chat.last_text() == "候补转正通知"


# --- the policy itself, without a network ----------------------------------------------------


class Flaky(Exception):
    pass


def _policy(slept: list[float]) -> RetryPolicy:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return RetryPolicy(backoff=(0.5, 1.0, 2.0, 4.0), max_retry_after=30, sleep=sleep)


async def test_policy_backs_off_exponentially_then_gives_up() -> None:
    slept: list[float] = []
    calls = 0

    async def call() -> None:
        nonlocal calls
        calls += 1
        raise Flaky()

    with pytest.raises(CallFailed) as failed:
        await call_with_retries(
            call, lambda e: Verdict(Outcome.TRANSIENT), _policy(slept), what="test"
        )
    assert failed.value.verdict.outcome is Outcome.TRANSIENT
    assert calls == 5 and slept == [0.5, 1.0, 2.0, 4.0]


async def test_policy_waits_retry_after_and_refuses_absurd_waits() -> None:
    slept: list[float] = []
    answers = iter([Verdict(Outcome.RETRY_AFTER, 3), Verdict(Outcome.RETRY_AFTER, 7)])

    async def call() -> str:
        verdict = next(answers, None)
        if verdict is not None:
            raise Flaky(verdict)
        return "sent"

    def classify(exc: BaseException) -> Verdict:
        return exc.args[0]  # type: ignore[no-any-return]

    assert await call_with_retries(call, classify, _policy(slept), what="t") == "sent"
    assert slept == [3, 7]

    async def flood() -> None:
        raise Flaky()

    # Telegram asking for an hour's pause: better an error in the log than a reply that late.
    with pytest.raises(CallFailed):
        await call_with_retries(
            flood, lambda e: Verdict(Outcome.RETRY_AFTER, 3600), _policy(slept), what="t"
        )
    assert slept == [3, 7]


@pytest.mark.parametrize("outcome", [Outcome.BLOCKED, Outcome.FAILED, Outcome.NOT_FOUND])
async def test_policy_does_not_retry_final_answers(outcome: Outcome) -> None:
    slept: list[float] = []
    calls = 0

    async def call() -> None:
        nonlocal calls
        calls += 1
        raise Flaky()

    with pytest.raises(CallFailed):
        await call_with_retries(call, lambda e: Verdict(outcome), _policy(slept), what="t")
    assert calls == 1 and slept == []


async def test_policy_lets_cancellation_through() -> None:
    async def call() -> None:
        raise asyncio.CancelledError()

    with pytest.raises(asyncio.CancelledError):
        await call_with_retries(call, lambda e: Verdict(Outcome.TRANSIENT), _policy([]), what="t")
