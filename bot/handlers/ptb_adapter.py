"""The python-telegram-bot 22 adapter: updates -> Events for the engine, Actions -> API calls."""

from __future__ import annotations

import datetime as dtm
import logging
import ssl
import warnings
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
import certifi
import httpx
from telegram import Bot, BotCommand, Message, Update
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters
from telegram.request import BaseRequest, RequestData
from telegram.warnings import PTBDeprecationWarning

from bot.conversation.types import (
    AnswerButton,
    Keyboard,
    SendDocument,
    SendPhoto,
)
from bot.handlers import BotCommandText, TokenRejected, bot_key
from bot.handlers.events import (
    ALLOWED_UPDATES,
    button_event,
    message_event,
    plain_update_event,
)
from bot.handlers.performing import BasePerformer
from bot.handlers.retry import Outcome, RetryPolicy, Verdict
from bot.handlers.runner import ConversationEngine, EventRunner
from foundation.settings import Settings

log = logging.getLogger(__name__)

# How long a call waits for Telegram's answer (aiogram's default, which did not duplicate).
SEND_READ_TIMEOUT = 60.0
# Connections the calls may hold at once (PTB's own default for an Application's calls); the
# long poll has a connection of its own.
CONNECTION_POOL_SIZE = 256


# RetryAfter's own constructor reads retry_after and warns that it will become a timedelta;
# we read both shapes (_retry_after_seconds), so the warning is only noise in the log.
warnings.filterwarnings(
    "ignore", message=r".*`retry_after`.*", category=PTBDeprecationWarning, module="telegram"
)

_GONE = (
    "message to edit not found",
    "message can't be edited",
    "message to delete not found",
    "message can't be deleted",
    "query is too old",
    "query id is invalid",
)


def _retry_after_seconds(exc: RetryAfter) -> float:
    value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def classify(exc: BaseException) -> Verdict:
    """PTB's exceptions -> what the retry policy should do."""
    if isinstance(exc, RetryAfter):
        return Verdict(Outcome.RETRY_AFTER, _retry_after_seconds(exc), exc.message)
    if isinstance(exc, Forbidden):
        return Verdict(Outcome.BLOCKED, detail=exc.message)
    # BadRequest is a subclass of NetworkError in PTB: test it first.
    if isinstance(exc, BadRequest):
        text = exc.message.lower()
        if "message is not modified" in text:
            return Verdict(Outcome.NOT_MODIFIED, detail=exc.message)
        if any(s in text for s in _GONE):
            return Verdict(Outcome.NOT_FOUND, detail=exc.message)
        return Verdict(Outcome.FAILED, detail=exc.message)
    if isinstance(exc, NetworkError):
        cause = exc.__cause__
        if isinstance(
            cause,
            httpx.ConnectError
            | httpx.ConnectTimeout
            | httpx.PoolTimeout
            | aiohttp.ClientConnectorError
            | aiohttp.ConnectionTimeoutError,
        ):
            # No connection made, or none free (PTB: "not sent to Telegram"); aiohttp's
            # connection timeout covers both the wait for a free one and the connecting.
            return Verdict(Outcome.TRANSIENT, detail=exc.message)
        if isinstance(cause, httpx.HTTPError | aiohttp.ClientError | TimeoutError):
            # A read timeout or a dropped connection: the request may have been carried out.
            return Verdict(Outcome.UNCERTAIN, detail=exc.message)
        # Telegram answered with a 5xx (PTB reports 502 as "Bad Gateway"): not carried out.
        return Verdict(Outcome.TRANSIENT, detail=exc.message)
    if isinstance(exc, TimeoutError | OSError):
        return Verdict(Outcome.TRANSIENT, detail=type(exc).__name__)
    return Verdict(Outcome.FAILED, detail=repr(exc))


def _markup(keyboard: Keyboard) -> dict[str, Any] | None:
    """The Bot API's `InlineKeyboardMarkup` as its JSON object (None when it is empty).

    Keys in PTB's own order (its `to_dict` sorts them), so the form field is the same text.
    """
    if not keyboard:
        return None
    return {
        "inline_keyboard": [
            [
                {"text": b.label, "url": b.url}
                if b.url
                else {"callback_data": b.payload, "text": b.label}
                for b in row
            ]
            for row in keyboard
        ]
    }


class AiohttpRequest(BaseRequest):
    """PTB's HTTP transport on aiohttp instead of httpx, through PTB's own extension point.

    PTB still builds every request and maps every answer (`BaseRequest.post`: status codes to
    `BadRequest`, `Forbidden`, `RetryAfter` ...); this only carries the bytes. httpx and
    httpcore are pure Python and cost about 1 ms of CPU per call against aiohttp's C parser's
    0.1 (docs/performance.md, issue 17's seventh round). A transport failure is raised as
    PTB's `NetworkError` (`TimedOut` for a timeout) caused by aiohttp's exception, which
    `classify` reads: no connection made or none free in time is not sent; a dropped
    connection or a read timeout may have been carried out.
    """

    def __init__(
        self,
        *,
        connection_pool_size: int = 1,
        read_timeout: float = 5.0,
        write_timeout: float = 5.0,
        connect_timeout: float = 5.0,
        pool_timeout: float = 1.0,
        media_write_timeout: float = 20.0,
    ) -> None:
        # PTB's HTTPXRequest's defaults.
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    def _open(self) -> aiohttp.ClientSession:
        # Made in the running loop, on first use when nobody initialized it (the worker's
        # performer posts without `Bot.initialize`, as it could with PTB's own request).
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._pool_size,
                ssl=ssl.create_default_context(cafile=certifi.where()),
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    def _proxy(self, url: str) -> str | None:
        """The proxy the environment names for `url` (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY;
        none for a host in NO_PROXY), as httpx obeys them under PTB's own request: a host
        that reaches Telegram only through one keeps reaching it. Looked up once per host:
        aiohttp's own `trust_env` would look in a thread, and read ~/.netrc, on every call."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            found = None
            if parts.hostname and not proxy_bypass(parts.hostname):
                named = getproxies()
                found = named.get(parts.scheme) or named.get("all")
            self._proxies[key] = found
        return self._proxies[key]

    async def initialize(self) -> None:
        self._open()

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        files = request_data.multipart_data if request_data else None
        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        write = _given(write_timeout, self._media_write_timeout if files else self._write_timeout)
        timeout = aiohttp.ClientTimeout(
            # Waiting for a free connection and connecting; then each read of the answer; the
            # whole call (the write has no timeout of its own in aiohttp) within their sum.
            total=_sum_or_none(pool, connect, write, read),
            connect=_sum_or_none(pool, connect),
            sock_connect=connect,
            sock_read=read,
        )
        body: Any = None
        headers: dict[str, str] = {}
        if request_data is not None:
            fields = request_data.json_parameters
            if files:
                # File names as UTF-8, as httpx sends them (aiohttp would percent-encode
                # them, and Telegram would show the user "%E5%87%86..." for 准考证.pdf).
                form = aiohttp.FormData(quote_fields=False)
                for name, value in fields.items():
                    form.add_field(name, value)
                for name, (filename, content, mimetype) in files.items():
                    form.add_field(name, content, filename=filename, content_type=mimetype)
                body = form
            elif fields:
                body = urlencode(fields).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            async with self._open().request(
                method, url, data=body, headers=headers, timeout=timeout, proxy=self._proxy(url)
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:
            raise TimedOut(f"aiohttp.{type(err).__name__}: {err}") from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err


# PTB's "not given" marker of a timeout argument (its DefaultValue type is private).
_NOT_GIVEN = type(BaseRequest.DEFAULT_NONE)


def _given(value: Any, default: float | None) -> float | None:
    """A timeout argument as PTB passes it: its value, or `default` when it was not given."""
    return default if isinstance(value, _NOT_GIVEN) else value


def _sum_or_none(*parts: float | None) -> float | None:
    """None (no limit) when any part is None, else their sum."""
    total = 0.0
    for part in parts:
        if part is None:
            return None
        total += part
    return total


def _request(pool_size: int) -> AiohttpRequest:
    """The request object of the product's PTB calls: a Telegram that answers slowly (12 s
    once) must not make a retry of a call that went through, so reads and writes wait 60 s."""
    return AiohttpRequest(
        connection_pool_size=pool_size,
        read_timeout=SEND_READ_TIMEOUT,
        write_timeout=SEND_READ_TIMEOUT,
    )


class PtbPerformer(BasePerformer):
    """Carries out Actions with a PTB Bot, with the shared retry policy."""

    _log = log

    def __init__(self, bot: Bot, retry: RetryPolicy) -> None:
        super().__init__(retry, classify)
        self.bot = bot

    async def close(self) -> None:
        """Closes the HTTP client (a standalone performer, e.g. the worker's, owns it)."""
        await self.bot.shutdown()
        # PTB's shutdown skips a bot nobody initialized, and the worker's performer posts
        # without initializing: its request opened its session on first use.
        await self.bot.request.shutdown()

    def _markup(self, keyboard: Keyboard) -> dict[str, Any] | None:
        return _markup(keyboard)

    async def _post(self, endpoint: str, data: dict[str, Any]) -> Any:
        """Posts `data` through PTB's own call path (`Bot._post`: the same form body, request
        object, timeouts and error mapping as `send_message` and the rest), and returns the
        answer's raw result without building PTB's models (docs/performance.md)."""
        return await self.bot._post(endpoint, data)

    async def _send_message(self, chat_id: int, text: str, markup: dict[str, Any] | None) -> int:
        data = {"chat_id": chat_id, "text": text, "reply_markup": markup}
        sent = await self._post("sendMessage", data)
        if isinstance(sent, dict) and type(sent.get("message_id")) is int:
            return sent["message_id"]
        # Anything else is read by PTB's own model, which fails as it did before.
        return Message.de_json(sent, self.bot).message_id

    async def _edit_message(
        self, chat_id: int, message_id: int, text: str, markup: dict[str, Any] | None
    ) -> None:
        data = {"chat_id": chat_id, "message_id": message_id, "text": text, "reply_markup": markup}
        await self._post("editMessageText", data)

    async def _send_document_file(
        self, action: SendDocument, file_id: str | None
    ) -> tuple[int, str | None]:
        sent = await self.bot.send_document(
            action.chat_id,
            document=file_id or action.data,
            filename=action.filename if file_id is None else None,
            caption=action.caption or None,
        )
        return sent.message_id, sent.document.file_id if sent.document else None

    async def _send_photo(self, action: SendPhoto) -> int:
        sent = await self.bot.send_photo(
            action.chat_id, photo=action.data, caption=action.caption or None
        )
        return sent.message_id

    async def _answer_query(self, action: AnswerButton) -> None:
        data = {
            "callback_query_id": action.callback_id,
            "text": action.text or None,
            "show_alert": action.alert,
        }
        await self._post("answerCallbackQuery", data)

    async def _delete_message(self, chat_id: int, message_id: int) -> None:
        await self._post("deleteMessage", {"chat_id": chat_id, "message_id": message_id})


def performer_from_settings(settings: Settings, retry: RetryPolicy | None = None) -> PtbPerformer:
    """A Performer on its own, for code that sends without polling (the worker's outbox)."""
    if settings.bot_token is None:
        raise TokenRejected("BOT_TOKEN is not set")
    options: dict[str, Any] = {}
    if settings.telegram_api_url:
        root = settings.telegram_api_url.rstrip("/")
        options = {"base_url": f"{root}/bot", "base_file_url": f"{root}/file/bot"}
    bot = Bot(
        settings.bot_token.get_secret_value(), request=_request(CONNECTION_POOL_SIZE), **options
    )
    return PtbPerformer(bot, retry or RetryPolicy())


class PtbAdapter:
    def __init__(
        self, *, token: str, api_url: str | None, engine: ConversationEngine, retry: RetryPolicy
    ) -> None:
        builder = Application.builder().token(token)
        if api_url:
            root = api_url.rstrip("/")
            builder = builder.base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
        # Sequential dispatch keeps update order; the handlers only queue per user (EventRunner),
        # so different users still run concurrently.
        # PTB waits 5 s for an answer by default, and a slow Telegram answered a send after
        # 12 s: the timeout made a retry of a call that had gone through (a duplicate).
        # Both PTB request objects carry their bytes over aiohttp (AiohttpRequest); the long
        # poll keeps PTB's own timeouts (its read timeout plus the poll's) on one connection.
        builder = builder.request(_request(CONNECTION_POOL_SIZE))
        builder = builder.get_updates_request(AiohttpRequest(connection_pool_size=1))
        self.application = builder.concurrent_updates(False).build()
        self.performer = PtbPerformer(self.application.bot, retry)
        self.runner = EventRunner(engine, self.performer)
        # One handler group for every flow: each handler only translates and queues.
        self.application.add_handler(
            MessageHandler(filters.UpdateType.MESSAGE, self._on_message), group=0
        )
        self.application.add_handler(CallbackQueryHandler(self._on_button), group=0)
        self._polling = False

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.message is None:
            return
        event = message_event(update.message, update.update_id)
        if event is not None:
            self.runner.submit(event)

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            self.runner.submit(button_event(update.callback_query, update.update_id))

    async def start(self) -> None:
        try:
            await self.application.initialize()
        except InvalidToken as refused:
            raise TokenRejected(refused.message) from None
        me = self.application.bot.bot
        log.info("ptb adapter: bot @%s (%s)", me.username, me.id)
        if bot_key(self.application.bot.token) not in (None, f"tg:{me.id}"):
            # The engine keys processed update ids by the token's id: they must agree.
            log.warning("getMe says bot %s, the token names another id", me.id)

    async def set_commands(
        self, commands: Sequence[BotCommandText], language_code: str | None
    ) -> None:
        await self.application.bot.set_my_commands(
            [BotCommand(c.command, c.description) for c in commands],
            language_code=language_code,
        )

    async def start_polling(self, poll_timeout: int) -> None:
        updater = self.application.updater
        assert updater is not None
        await self.application.start()
        await updater.start_polling(
            poll_interval=0,
            timeout=dtm.timedelta(seconds=poll_timeout),
            allowed_updates=ALLOWED_UPDATES,
            drop_pending_updates=False,
        )
        self._polling = True

    async def stop_polling(self) -> None:
        if not self._polling:
            return
        self._polling = False
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()

    async def set_webhook(self, url: str, secret: str | None) -> None:
        await self.application.bot.set_webhook(
            url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
        )

    async def feed_webhook(self, payload: dict[str, Any]) -> None:
        # A plain text message or button press is read from the JSON (bot/handlers/events.py),
        # as the aiogram adapter does: the same Event, without PTB's objects and dispatch.
        event = plain_update_event(payload)
        if event is not None:
            self.runner.submit(event)
            return
        update = Update.de_json(payload, self.application.bot)
        await self.application.process_update(update)

    async def close(self) -> None:
        await self.application.shutdown()


def create_adapter(
    *, token: str, api_url: str | None, engine: ConversationEngine, retry: RetryPolicy
) -> PtbAdapter:
    return PtbAdapter(token=token, api_url=api_url, engine=engine, retry=retry)
