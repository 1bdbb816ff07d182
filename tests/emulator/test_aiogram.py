"""A real aiogram 3 bot, polling the emulator over HTTP, sees Telegram's behaviour."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from emulator.client import EmulatorClient
from emulator.server import RunningEmulator
from tests.emulator.conftest import TOKEN

USER = 4242
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n" + b"\x00\xff" * 3000


def _keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="CET-4", callback_data="subject:cet4")],
            [InlineKeyboardButton(text="CET-6", callback_data="subject:cet6")],
        ]
    )


def _dispatcher() -> Dispatcher:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("选择科目 / Choose a subject", reply_markup=_keyboard())

    @dp.message(F.text == "pdf")
    async def pdf(message: Message) -> None:
        await message.answer_document(BufferedInputFile(PDF, "ticket.pdf"), caption="准考证")

    @dp.message(F.sticker)
    async def sticker(message: Message) -> None:
        assert message.sticker is not None
        await message.answer(f"sticker {message.sticker.emoji}")

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    @dp.callback_query(F.data.startswith("subject:"))
    async def chosen(query: CallbackQuery) -> None:
        await query.answer("OK")
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"chosen {query.data}")

    return dp


@pytest.fixture
async def bot(emulator: RunningEmulator) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emulator.url))
    bot = Bot(TOKEN, session=session)
    try:
        yield bot
    finally:
        await bot.session.close()


@pytest.fixture
async def polling(bot: Bot) -> AsyncIterator[Dispatcher]:
    dp = _dispatcher()
    task = asyncio.create_task(dp.start_polling(bot, polling_timeout=1, handle_signals=False))
    try:
        yield dp
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(task, 5)


async def test_echo_keyboard_callback_and_edit(
    em: EmulatorClient, bot: Bot, polling: Dispatcher
) -> None:
    await em.create_user(USER, "Li Lei", language_code="zh-hans")
    await em.user_says(USER, "你好")
    [reply] = await em.wait_for_bot(USER, n=1, timeout=5)
    assert reply["text"] == "echo: 你好" and reply["event"] == "sent"
    await em.sticker(USER, "🎉")
    [reply] = await em.wait_for_bot(USER)
    assert reply["text"] == "sticker 🎉"

    await em.command(USER, "start")
    [menu] = await em.wait_for_bot(USER)
    assert [row[0]["callback_data"] for row in menu["keyboard"]] == [
        "subject:cet4",
        "subject:cet6",
    ]
    pressed = await em.press(USER, menu["message_id"], "subject:cet6")
    [edit] = await em.wait_for_bot(USER)
    assert edit["event"] == "edited" and edit["message_id"] == menu["message_id"]
    assert edit["text"] == "chosen subject:cet6" and edit["keyboard"] is None
    answer = await em.wait_answer(pressed["callback_query_id"])
    assert answer["answer"]["text"] == "OK"
    assert all(a["answered"] for a in await em.callback_answers(USER))
    transcript = await em.transcript(USER)
    assert [m["sender"] for m in transcript] == ["user", "bot"] * 3
    assert transcript[5]["edited"] is True


async def test_document_round_trip(em: EmulatorClient, bot: Bot, polling: Dispatcher) -> None:
    await em.create_user(USER, "Li Lei")
    await em.user_says(USER, "pdf")
    [sent] = await em.wait_for_bot(USER)
    doc = sent["document"]
    assert doc["file_name"] == "ticket.pdf" and doc["file_size"] == len(PDF)
    assert sent["caption"] == "准考证"
    buffer = await bot.download(doc["file_id"])
    assert isinstance(buffer, io.BytesIO) and buffer.getvalue() == PDF
    # Re-sending by file_id works and keeps the same file.
    again = await bot.send_document(USER, doc["file_id"])
    assert again.document is not None and again.document.file_unique_id == doc["file_unique_id"]


async def test_errors_surface_as_aiogram_exceptions(em: EmulatorClient, bot: Bot) -> None:
    await em.create_user(USER, "Li Lei")
    await em.user_says(USER, "hi")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER, "长" * 4097)
    bad = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "t", reply_markup=bad)
    sent = await bot.send_message(USER, "same", reply_markup=_keyboard())
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "same", chat_id=USER, message_id=sent.message_id, reply_markup=_keyboard()
        )
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(31337, "x")

    await em.inject("sendMessage", "429", retry_after=9)
    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.send_message(USER, "x")
    assert retry.value.retry_after == 9

    await em.block(USER)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "x")
    await em.block(USER, blocked=False)

    await em.inject("sendMessage", "drop")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(USER, "x")
    assert (await bot.send_message(USER, "after faults")).text == "after faults"
    stats = await em.stats()
    assert stats["injected_429"] == 1


async def test_commands_and_webhook_info(bot: Bot) -> None:
    from aiogram.types import BotCommand

    await bot.set_my_commands([BotCommand(command="start", description="开始报名")])
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert (await bot.get_me()).id == 123456
    info = await bot.get_webhook_info()
    assert info.url == "" and info.pending_update_count == 0
