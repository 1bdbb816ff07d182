"""The aiogram 3 adapter: updates -> Events for the engine, Actions -> Bot API calls."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from typing import Any

from aiogram import Bot, Dispatcher, Router, methods
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    Message,
    Update,
)
from aiogram.utils.token import TokenValidationError
from aiohttp import ClientConnectorError, ClientError, ConnectionTimeoutError

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


def classify(exc: BaseException) -> Verdict:
    """aiogram's exceptions -> what the retry policy should do."""
    if isinstance(exc, TelegramRetryAfter):
        return Verdict(Outcome.RETRY_AFTER, float(exc.retry_after), exc.message)
    if isinstance(exc, TelegramForbiddenError):
        return Verdict(Outcome.BLOCKED, detail=exc.message)
    if isinstance(exc, TelegramEntityTooLarge):
        # A subclass of TelegramNetworkError, but sending the same file again cannot help.
        return Verdict(Outcome.FAILED, detail=exc.message)
    if isinstance(exc, TelegramServerError):
        return Verdict(Outcome.TRANSIENT, detail=exc.message)
    if isinstance(exc, TelegramNetworkError):
        # Only a connection never made surely did not reach Telegram; a timeout or a
        # dropped connection came after the request went out.
        if isinstance(exc.__cause__, ClientConnectorError | ConnectionTimeoutError):
            return Verdict(Outcome.TRANSIENT, detail=exc.message)
        return Verdict(Outcome.UNCERTAIN, detail=exc.message)
    if isinstance(exc, ClientDecodeError):
        # Telegram's front end answers 502/504 with an HTML page that is not JSON.
        return Verdict(Outcome.TRANSIENT, detail="undecodable answer (HTML error page)")
    if isinstance(exc, TelegramBadRequest | TelegramNotFound):
        text = exc.message.lower()
        if "message is not modified" in text:
            return Verdict(Outcome.NOT_MODIFIED, detail=exc.message)
        if any(
            s in text
            for s in (
                "message to edit not found",
                "message can't be edited",
                "message to delete not found",
                "message can't be deleted",
                "query is too old",
                "query id is invalid",
            )
        ):
            return Verdict(Outcome.NOT_FOUND, detail=exc.message)
        return Verdict(Outcome.FAILED, detail=exc.message)
    if isinstance(exc, TimeoutError | OSError):
        return Verdict(Outcome.TRANSIENT, detail=type(exc).__name__)
    return Verdict(Outcome.FAILED, detail=repr(exc))


def _markup(keyboard: Keyboard) -> dict[str, Any] | None:
    """The Bot API's `InlineKeyboardMarkup` as its JSON object (None when it is empty)."""
    if not keyboard:
        return None
    return {
        "inline_keyboard": [
            [
                {"text": b.label, "url": b.url}
                if b.url
                else {"text": b.label, "callback_data": b.payload}
                for b in row
            ]
            for row in keyboard
        ]
    }


def _has_message_id(result: Any) -> bool:
    return isinstance(result, dict) and type(result.get("message_id")) is int


def _with_markup(body: dict[str, Any], markup: dict[str, Any] | None) -> dict[str, Any]:
    if markup is not None:
        body["reply_markup"] = markup
    return body


class AiogramPerformer(BasePerformer):
    """Carries out Actions with an aiogram Bot, with the shared retry policy.

    The text sends, edits, answers and deletions post the Bot API's JSON bodies built here
    and read the answers unvalidated (`JsonSession.call_json`); documents and photos go
    through aiogram's own calls.
    """

    _log = log

    def __init__(self, bot: Bot, retry: RetryPolicy) -> None:
        super().__init__(retry, classify)
        if not isinstance(bot.session, JsonSession):
            raise TypeError("AiogramPerformer needs a bot made with a JsonSession (_bot)")
        if any(v is not None for v in dataclasses.asdict(bot.default).values()):
            # aiogram would add the defaults (parse mode, link previews...) to every call;
            # the bodies built here do not.
            raise TypeError("AiogramPerformer needs a bot without default properties")
        self.bot = bot
        self._session: JsonSession = bot.session

    async def close(self) -> None:
        """Closes the HTTP session (a standalone performer, e.g. the worker's, owns it)."""
        await self.bot.session.close()

    def _markup(self, keyboard: Keyboard) -> dict[str, Any] | None:
        return _markup(keyboard)

    async def _send_message(self, chat_id: int, text: str, markup: dict[str, Any] | None) -> int:
        body = _with_markup({"chat_id": chat_id, "text": text}, markup)
        sent = await self._session.call_json(self.bot, methods.SendMessage, body, _has_message_id)
        return int(sent["message_id"])

    async def _edit_message(
        self, chat_id: int, message_id: int, text: str, markup: dict[str, Any] | None
    ) -> None:
        body = {"chat_id": chat_id, "message_id": message_id, "text": text}
        await self._session.call_json(self.bot, methods.EditMessageText, _with_markup(body, markup))

    async def _send_document_file(
        self, action: SendDocument, file_id: str | None
    ) -> tuple[int, str | None]:
        document = file_id or BufferedInputFile(action.data, filename=action.filename)
        sent = await self.bot.send_document(
            action.chat_id, document, caption=action.caption or None
        )
        return sent.message_id, sent.document.file_id if sent.document else None

    async def _send_photo(self, action: SendPhoto) -> int:
        sent = await self.bot.send_photo(
            action.chat_id,
            BufferedInputFile(action.data, "photo.jpg"),
            caption=action.caption or None,
        )
        return sent.message_id

    async def _answer_query(self, action: AnswerButton) -> None:
        body: dict[str, Any] = {"callback_query_id": action.callback_id}
        if action.text:
            body["text"] = action.text
        body["show_alert"] = action.alert
        await self._session.call_json(self.bot, methods.AnswerCallbackQuery, body)

    async def _delete_message(self, chat_id: int, message_id: int) -> None:
        body = {"chat_id": chat_id, "message_id": message_id}
        await self._session.call_json(self.bot, methods.DeleteMessage, body)


def build_router(runner: EventRunner) -> Router:
    """One router for every flow: each handler only translates and queues."""
    router = Router(name="conversations")

    @router.message()
    async def on_message(message: Message, event_update: Update) -> None:
        event = message_event(message, event_update.update_id)
        if event is not None:
            runner.submit(event)

    @router.callback_query()
    async def on_button(query: CallbackQuery, event_update: Update) -> None:
        runner.submit(button_event(query, event_update.update_id))

    return router


# aiogram validates every answer as ``Response[method.__returning__]``. pydantic keeps
# parametrized generic models only weakly, so after a garbage collection the next call
# builds the model again, schema and all (milliseconds for ``Message``): about 8% of the
# bot's CPU in a py-spy profile of the registration rush. Holding one reference per
# method keeps them.
_RESPONSE_MODELS: list[type[Any]] = []
_METHODS_CALLED: tuple[type[TelegramMethod[Any]], ...] = (
    methods.AnswerCallbackQuery,
    methods.DeleteMessage,
    methods.DeleteWebhook,
    methods.EditMessageReplyMarkup,
    methods.EditMessageText,
    methods.GetMe,
    methods.GetUpdates,
    methods.SendChatAction,
    methods.SendDocument,
    methods.SendMessage,
    methods.SendPhoto,
    methods.SetMyCommands,
    methods.SetWebhook,
)


def _pin_response_models() -> None:
    if _RESPONSE_MODELS:
        return
    for method in _METHODS_CALLED:
        _RESPONSE_MODELS.append(Response[method.__returning__])


async def _polling_waits_as_told(
    make_request: Callable[[Bot, TelegramMethod[Any]], Awaitable[Any]],
    bot: Bot,
    method: TelegramMethod[Any],
) -> Any:
    """A getUpdates answered 429 is asked again only after the `retry_after` Telegram
    named: aiogram's polling loop would retry after its own backoff (1 s first), however
    long it was told to wait. Other calls go through the shared retry policy."""
    if not isinstance(method, methods.GetUpdates):
        return await make_request(bot, method)
    while True:
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as flood:
            log.info("getUpdates: 429, waiting %s s as Telegram asks", flood.retry_after)
            await asyncio.sleep(flood.retry_after)


class JsonSession(AiohttpSession):
    """aiogram's aiohttp session, posting a call that carries no file as one JSON body.

    aiogram builds every call as a multipart form; in the chat bench's profile that form
    (`build_form_data` and its encoding) was about 12% of the bot's CPU per update
    (docs/performance.md). The Bot API takes JSON bodies too; a call with a file (a ticket
    PDF or photo) still goes as a form, through aiogram's own path.
    """

    def _body(self, bot: Bot, method: TelegramMethod[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        files: dict[str, Any] = {}
        body: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            # Nested objects stay objects: the whole body is serialised once.
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None:
                body[key] = prepared
        return body, files

    async def _post_json(
        self,
        bot: Bot,
        api_method: str,
        body: dict[str, Any],
        timeout: int | None,  # noqa: ASYNC109 - aiogram's signature
        method: Callable[[], TelegramMethod[Any]],
    ) -> tuple[int, str]:
        """Posts `body`; `method` makes the aiogram method that an error names."""
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=api_method)
        try:
            async with session.post(
                url,
                data=self.json_dumps(body),
                headers={"Content-Type": "application/json"},
                timeout=self.timeout if timeout is None else timeout,
            ) as resp:
                return resp.status, await resp.text()
        except TimeoutError as err:
            # The same errors as aiogram's own path, so classify() reads them alike.
            raise TelegramNetworkError(method=method(), message="Request timeout error") from err
        except ClientError as err:
            message = f"{type(err).__name__}: {err}"
            raise TelegramNetworkError(method=method(), message=message) from err

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> Any:
        body, files = self._body(bot, method)
        if files:
            return await super().make_request(bot, method, timeout)
        status, text = await self._post_json(
            bot, method.__api_method__, body, timeout, lambda: method
        )
        return self.check_response(bot=bot, method=method, status_code=status, content=text).result

    async def call_json(
        self,
        bot: Bot,
        method_type: type[TelegramMethod[Any]],
        body: dict[str, Any],
        accept: Callable[[Any], bool] = lambda result: True,
    ) -> Any:
        """Posts `body`, the Bot API's JSON for `method_type`, and returns the answer's
        result as JSON, not validated into aiogram's models.

        For the performer's hot sends, whose answer the core reads at most a message id
        from (docs/performance.md): aiogram would dump the method's model and walk it with
        `prepare_value` to build the body, and validate every answer into pydantic models
        (a whole `Message` for each edit). Only an answer that is a success (2xx, ``ok``
        true) with a result `accept` takes skips that; any other answer goes through
        aiogram's own `check_response`, with the aiogram method made from `body`, so errors
        raise exactly the exceptions they did. No middleware runs (the session's only one
        is for getUpdates), and the body carries no file.
        """

        def method() -> TelegramMethod[Any]:
            return method_type(**body)

        status, text = await self._post_json(bot, method_type.__api_method__, body, None, method)
        if HTTPStatus.OK <= status <= HTTPStatus.IM_USED:
            try:
                answer = self.json_loads(text)
            except Exception:  # check_response below raises its own error
                answer = None
            if isinstance(answer, dict) and answer.get("ok") is True:
                result = answer.get("result")
                if accept(result):
                    return result
        return self.check_response(
            bot=bot, method=method(), status_code=status, content=text
        ).result


def _session(api_url: str | None) -> AiohttpSession:
    session = JsonSession(api=TelegramAPIServer.from_base(api_url)) if api_url else JsonSession()
    session.middleware(_polling_waits_as_told)
    return session


def _bot(token: str, api_url: str | None) -> Bot:
    try:
        return Bot(token, session=_session(api_url))
    except TokenValidationError as bad:
        raise TokenRejected(str(bad)) from None


def performer_from_settings(
    settings: Settings, retry: RetryPolicy | None = None
) -> AiogramPerformer:
    """A Performer on its own, for code that sends without polling (the worker's outbox)."""
    if settings.bot_token is None:
        raise TokenRejected("BOT_TOKEN is not set")
    token = settings.bot_token.get_secret_value()
    return AiogramPerformer(_bot(token, settings.telegram_api_url), retry or RetryPolicy())


class AiogramAdapter:
    def __init__(
        self, *, token: str, api_url: str | None, engine: ConversationEngine, retry: RetryPolicy
    ) -> None:
        _pin_response_models()
        self.bot = _bot(token, api_url)
        self.performer = AiogramPerformer(self.bot, retry)
        self.runner = EventRunner(engine, self.performer)
        self.dispatcher = Dispatcher()
        self.dispatcher.include_router(build_router(self.runner))
        self._polling: asyncio.Task[None] | None = None

    async def start(self) -> None:
        try:
            me = await self.bot.get_me()
        except TelegramUnauthorizedError as refused:
            raise TokenRejected(refused.message) from None
        log.info("aiogram adapter: bot @%s (%s)", me.username, me.id)
        if bot_key(self.bot.token) not in (None, f"tg:{me.id}"):
            # The engine keys processed update ids by the token's id: they must agree.
            log.warning("getMe says bot %s, the token names another id", me.id)

    async def set_commands(
        self, commands: Sequence[BotCommandText], language_code: str | None
    ) -> None:
        await self.bot.set_my_commands(
            [BotCommand(command=c.command, description=c.description) for c in commands],
            language_code=language_code,
        )

    async def start_polling(self, poll_timeout: int) -> None:
        await self.bot.delete_webhook(drop_pending_updates=False)
        # handle_as_tasks=False: the dispatcher hands updates over one by one, in order; the
        # handlers only queue them per user (EventRunner), so users still run concurrently.
        self._polling = asyncio.create_task(
            self.dispatcher.start_polling(
                self.bot,
                polling_timeout=poll_timeout,
                handle_as_tasks=False,
                allowed_updates=ALLOWED_UPDATES,
                handle_signals=False,
                close_bot_session=False,
            ),
            name="aiogram-polling",
        )

    async def stop_polling(self) -> None:
        if self._polling is None:
            return
        with contextlib.suppress(RuntimeError):  # polling already ended (e.g. bad token)
            await self.dispatcher.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self._polling, 15)
        self._polling = None

    async def set_webhook(self, url: str, secret: str | None) -> None:
        await self.bot.set_webhook(
            url, secret_token=secret, allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False
        )

    async def feed_webhook(self, payload: dict[str, Any]) -> None:
        # A plain text message or button press is read from the JSON (bot/handlers/events.py):
        # the same Event as the router's, without aiogram's models and middlewares.
        event = plain_update_event(payload)
        if event is not None:
            self.runner.submit(event)
            return
        await self.dispatcher.feed_raw_update(self.bot, payload)

    async def close(self) -> None:
        await self.bot.session.close()


def create_adapter(
    *, token: str, api_url: str | None, engine: ConversationEngine, retry: RetryPolicy
) -> AiogramAdapter:
    return AiogramAdapter(token=token, api_url=api_url, engine=engine, retry=retry)
