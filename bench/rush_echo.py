"""The ceiling for bench/rush.py: a bare aiogram webhook bot that only echoes.

It makes the same Bot API calls per update as the real bot (a message: sendMessage with
a keyboard; a button: answerCallbackQuery, then editMessageText with a keyboard) and no
database work at all, and answers the webhook once they are done, like `bot/app.py`.

Run (bench/rush.py does): python bench/rush_echo.py --port P --url URL --secret S
    --token T --api http://127.0.0.1:E [--processes 1]
Several processes share the port with SO_REUSEPORT; each stops on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web


def _keyboard(n: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="next", callback_data=f"c1:{n}:echo")]]
    )


def _router(bot: Bot) -> Router:
    router = Router()

    @router.message()
    async def on_message(message: Message) -> None:
        await bot.send_message(message.chat.id, f"echo {message.text}", reply_markup=_keyboard(0))

    @router.callback_query()
    async def on_button(query: CallbackQuery) -> None:
        await bot.answer_callback_query(query.id)
        n = int((query.data or "c1:0").split(":")[1]) + 1
        if query.message is not None:
            await bot.edit_message_text(
                f"echo {n}",
                chat_id=query.message.chat.id,
                message_id=query.message.message_id,
                reply_markup=_keyboard(n),
            )

    return router


async def serve(args: argparse.Namespace) -> None:
    bot = Bot(args.token, session=AiohttpSession(api=TelegramAPIServer.from_base(args.api)))
    dispatcher = Dispatcher()
    dispatcher.include_router(_router(bot))
    app = web.Application()
    # handle_in_background=False: the webhook is answered after the handler's calls are done.
    SimpleRequestHandler(
        dispatcher, bot, secret_token=args.secret, handle_in_background=False
    ).register(app, path="/tg")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port, reuse_port=True).start()
    await bot.set_webhook(args.url, secret_token=args.secret)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await bot.session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--api", required=True)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    children = []
    for _ in range(args.processes - 1):
        pid = os.fork()
        if pid == 0:
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(serve(args))
            os._exit(0)
        children.append(pid)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(args))
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
