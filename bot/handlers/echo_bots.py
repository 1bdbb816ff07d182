"""Bare echo bots of aiogram and python-telegram-bot: the ceiling `bench/chat.py` compares with.

Nothing of ours runs in them (no engine, no runner, no database): a message is answered with
a one-button menu, a button press with an answer and an edit of that menu, which is the
reply pattern of every conversation step. Each library runs concurrently across updates,
so this is the fastest either can go against the same emulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
from collections.abc import Awaitable, Callable
from typing import Any

from bot.handlers.events import ALLOWED_UPDATES

# Returns a coroutine that stops the bot.
Stop = Callable[[], Awaitable[None]]


def _next_step(data: str | None) -> int:
    # "echo:<n>" -> n + 1, so every edit changes the text ("message is not modified").
    tail = (data or "").rpartition(":")[2]
    return int(tail) + 1 if tail.isdigit() else 1


async def start_aiogram_echo(token: str, api_url: str, poll_timeout: int = 10) -> Stop:
    """Starts polling in the background; returns how to stop it."""
    from aiogram import Bot, Dispatcher, Router
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

    def menu(step: int) -> InlineKeyboardMarkup:
        button = InlineKeyboardButton(text=f"next {step}", callback_data=f"echo:{step}")
        return InlineKeyboardMarkup(inline_keyboard=[[button]])

    router = Router(name="echo")

    @router.message()
    async def on_message(message: Message) -> None:
        await message.answer(f"echo: {message.text}", reply_markup=menu(1))

    @router.callback_query()
    async def on_button(query: CallbackQuery) -> None:
        step = _next_step(query.data)
        await query.answer()
        if query.message is not None:
            await query.bot.edit_message_text(  # type: ignore[union-attr]
                f"step {step}",
                chat_id=query.message.chat.id,
                message_id=query.message.message_id,
                reply_markup=menu(step),
            )

    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_url)))
    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    polling = asyncio.create_task(
        dispatcher.start_polling(
            bot,
            polling_timeout=poll_timeout,
            allowed_updates=ALLOWED_UPDATES,
            handle_signals=False,
            close_bot_session=True,
        )
    )

    async def stop() -> None:
        with contextlib.suppress(RuntimeError):
            await dispatcher.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(polling, 15)

    return stop


async def start_ptb_echo(
    token: str,
    api_url: str,
    poll_timeout: int = 10,
    requests: Callable[[], tuple[Any, Any]] | None = None,
) -> Stop:
    """Starts polling in the background; returns how to stop it.

    `requests` gives PTB request objects for its calls and its long poll instead of PTB's
    own httpx ones (bench/chat.py --ptb-echo-transport: the echo on the product's transport).
    """
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.ext import (
        Application,
        CallbackQueryHandler,
        ContextTypes,
        MessageHandler,
        filters,
    )

    def menu(step: int) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(f"next {step}", callback_data=f"echo:{step}")]]
        )

    async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.message is not None:
            await update.message.reply_text(f"echo: {update.message.text}", reply_markup=menu(1))

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        step = _next_step(query.data)
        await query.answer()
        await query.edit_message_text(f"step {step}", reply_markup=menu(step))

    root = api_url.rstrip("/")
    builder = (
        Application.builder()
        .token(token)
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .concurrent_updates(True)
    )
    if requests is not None:
        calls, poll = requests()
        builder = builder.request(calls).get_updates_request(poll)
    application = builder.build()
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE, on_message))
    application.add_handler(CallbackQueryHandler(on_button))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(
        poll_interval=0.0,
        timeout=dtm.timedelta(seconds=poll_timeout),
        allowed_updates=ALLOWED_UPDATES,
    )

    async def stop() -> None:
        assert application.updater is not None
        await application.updater.stop()
        await application.stop()
        await application.shutdown()

    return stop
