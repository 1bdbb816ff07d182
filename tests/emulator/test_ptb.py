"""A real python-telegram-bot 22 application, polling the emulator over HTTP."""

from __future__ import annotations

import datetime as dtm
from collections.abc import AsyncIterator

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from emulator.client import EmulatorClient
from emulator.server import RunningEmulator
from tests.emulator.conftest import TOKEN

# PTB warns that RetryAfter.retry_after will become a timedelta; the test accepts both.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

USER = 8080
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 64 + b"\n%%EOF\n"


def _keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("北京", callback_data="campus:bj")],
            [InlineKeyboardButton("上海", callback_data="campus:sh")],
        ]
    )


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("选择考点", reply_markup=_keyboard())


async def _pdf(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_document(PDF, filename="ticket.pdf", caption="ticket")


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}")


async def _chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("已选择")
    await query.edit_message_text(f"chosen {query.data}")


def _application(url: str) -> Application:
    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(f"{url}/bot")
        .base_file_url(f"{url}/file/bot")
        .build()
    )
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(MessageHandler(filters.Regex("^pdf$"), _pdf))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    app.add_handler(CallbackQueryHandler(_chosen, pattern="^campus:"))
    return app


@pytest.fixture
async def app(emulator: RunningEmulator) -> AsyncIterator[Application]:
    application = _application(emulator.url)
    async with application:
        yield application


@pytest.fixture
async def polling(app: Application) -> AsyncIterator[Application]:
    assert app.updater is not None
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=1))
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()


def _seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def test_echo_keyboard_callback_and_edit(em: EmulatorClient, polling: Application) -> None:
    await em.create_user(USER, "Wang Fang", language_code="en")
    await em.user_says(USER, "hello")
    [reply] = await em.wait_for_bot(USER)
    assert reply["text"] == "echo: hello"

    await em.command(USER, "start")
    [menu] = await em.wait_for_bot(USER)
    assert menu["text"] == "选择考点"
    pressed = await em.press(USER, menu["message_id"], button_text="上海")
    [edit] = await em.wait_for_bot(USER)
    assert edit["event"] == "edited" and edit["text"] == "chosen campus:sh"
    assert (await em.wait_answer(pressed["callback_query_id"]))["answer"]["text"] == "已选择"


async def test_document_round_trip(em: EmulatorClient, polling: Application) -> None:
    await em.create_user(USER, "Wang Fang")
    await em.user_says(USER, "pdf")
    [sent] = await em.wait_for_bot(USER)
    assert sent["document"]["file_size"] == len(PDF)
    assert sent["document"]["file_name"] == "ticket.pdf"
    tg_file = await polling.bot.get_file(sent["document"]["file_id"])
    assert tg_file.file_path is not None and tg_file.file_path.startswith(em.base_url + "/file/bot")
    assert bytes(await tg_file.download_as_bytearray()) == PDF
    again = await polling.bot.send_document(USER, sent["document"]["file_id"])
    assert again.document is not None
    assert again.document.file_unique_id == sent["document"]["file_unique_id"]


async def test_errors_surface_as_ptb_exceptions(em: EmulatorClient, app: Application) -> None:
    bot = app.bot
    await em.create_user(USER, "Wang Fang")
    await em.user_says(USER, "hi")
    with pytest.raises(BadRequest, match=r"[Mm]essage is too long"):
        await bot.send_message(USER, "x" * 4097)
    bad = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 33)]])
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(USER, "t", reply_markup=bad)
    sent = await bot.send_message(USER, "same")
    with pytest.raises(BadRequest, match=r"[Mm]essage is not modified"):
        await bot.edit_message_text("same", chat_id=USER, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"[Mm]essage to edit not found"):
        await bot.edit_message_text("new", chat_id=USER, message_id=999)

    await em.inject("sendMessage", "429", retry_after=4)
    with pytest.raises(RetryAfter) as retry:
        await bot.send_message(USER, "x")
    assert _seconds(retry.value.retry_after) == 4

    await em.inject("sendMessage", "403", chat_id=USER)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "x")

    await em.inject("sendMessage", "502")
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "x")
    assert (await bot.send_message(USER, "after faults")).text == "after faults"
