"""The control flow shared by the adapters' Performers.

`BasePerformer.perform` dispatches on the Action, runs every Bot API call through the
shared retry policy, and turns the outcomes into `SendResult`s: an edit that changes
nothing succeeds, an edit of a message that is gone sends anew, a refused file id
uploads the bytes again, an answer or delete of something too old is not an error.
A subclass supplies only the library calls (and its keyboard markup).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bot.conversation.types import (
    Action,
    AnswerButton,
    DeleteMessage,
    Keyboard,
    SendDocument,
    SendPhoto,
    SendResult,
    SendText,
)
from bot.handlers.retry import CallFailed, Outcome, RetryPolicy, Verdict, call_with_retries

T = TypeVar("T")


class BasePerformer:
    """Carries out Actions through the primitives a library adapter implements."""

    # The adapter's logger, so its messages keep their origin.
    _log: logging.Logger = logging.getLogger(__name__)

    def __init__(self, retry: RetryPolicy, classify: Callable[[BaseException], Verdict]) -> None:
        self.retry = retry
        self._classify = classify

    async def _call(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        # A new message or upload twice is a duplicate the user sees; an edit, an answer
        # or a deletion done twice changes nothing more.
        idempotent = not what.startswith("send")
        return await call_with_retries(
            call, self._classify, self.retry, what=what, idempotent=idempotent
        )

    # -- the library primitives ------------------------------------------------------------

    def _markup(self, keyboard: Keyboard) -> Any:
        """The library's reply markup for `keyboard` (None when it is empty)."""
        raise NotImplementedError

    async def _send_message(self, chat_id: int, text: str, markup: Any) -> int:
        """Sends a text message; returns its message id."""
        raise NotImplementedError

    async def _edit_message(self, chat_id: int, message_id: int, text: str, markup: Any) -> None:
        raise NotImplementedError

    async def _send_document_file(
        self, action: SendDocument, file_id: str | None
    ) -> tuple[int, str | None]:
        """Sends `file_id`, or uploads `action.data` when it is None; returns the message id
        and the document's file id."""
        raise NotImplementedError

    async def _send_photo(self, action: SendPhoto) -> int:
        """Uploads the photo; returns the message id."""
        raise NotImplementedError

    async def _answer_query(self, action: AnswerButton) -> None:
        raise NotImplementedError

    async def _delete_message(self, chat_id: int, message_id: int) -> None:
        raise NotImplementedError

    # -- the shared flow -------------------------------------------------------------------

    async def perform(self, action: Action) -> SendResult:
        try:
            if isinstance(action, SendText):
                return await self._send_text(action)
            if isinstance(action, SendDocument):
                return await self._send_document(action)
            if isinstance(action, SendPhoto):
                message_id = await self._call("sendPhoto", lambda: self._send_photo(action))
                return SendResult(ok=True, message_id=message_id)
            if isinstance(action, AnswerButton):
                return await self._answer(action)
            if isinstance(action, DeleteMessage):
                return await self._delete(action)
        except CallFailed as failed:
            return SendResult(ok=False, error=str(failed.verdict.outcome))
        raise TypeError(f"unknown action {action!r}")

    async def _send_text(self, action: SendText) -> SendResult:
        markup = self._markup(action.keyboard)
        if action.edit_message_id is not None:
            message_id = action.edit_message_id
            try:
                await self._call(
                    "editMessageText",
                    lambda: self._edit_message(action.chat_id, message_id, action.text, markup),
                )
                return SendResult(ok=True, message_id=message_id)
            except CallFailed as failed:
                if failed.verdict.outcome is Outcome.NOT_MODIFIED:
                    return SendResult(ok=True, message_id=message_id)
                if failed.verdict.outcome is not Outcome.NOT_FOUND:
                    raise
                # The message is gone or too old to edit: show the step as a new message.
                self._log.info(
                    "edit of %s failed (%s); sending anew", message_id, failed.verdict.detail
                )
        sent_id = await self._call(
            "sendMessage", lambda: self._send_message(action.chat_id, action.text, markup)
        )
        return SendResult(ok=True, message_id=sent_id)

    async def _send_document(self, action: SendDocument) -> SendResult:
        if action.file_id:
            try:
                return await self._send_document_as(action, action.file_id)
            except CallFailed as failed:
                # A file id is only valid for the bot that uploaded it (a new token, or an
                # emulator restarted): upload the bytes again when we have them.
                if failed.verdict.outcome is not Outcome.FAILED or not action.data:
                    raise
                self._log.info("file id of %s refused (%s); uploading", action.filename, failed)
        return await self._send_document_as(action, None)

    async def _send_document_as(self, action: SendDocument, file_id: str | None) -> SendResult:
        message_id, sent_file_id = await self._call(
            "sendDocument", lambda: self._send_document_file(action, file_id)
        )
        return SendResult(ok=True, message_id=message_id, file_id=sent_file_id)

    async def _answer(self, action: AnswerButton) -> SendResult:
        try:
            await self._call("answerCallbackQuery", lambda: self._answer_query(action))
        except CallFailed as failed:
            if failed.verdict.outcome is Outcome.NOT_FOUND:
                return SendResult(ok=False, error="not-found")  # too old: nothing to stop
            raise
        return SendResult(ok=True)

    async def _delete(self, action: DeleteMessage) -> SendResult:
        try:
            await self._call(
                "deleteMessage", lambda: self._delete_message(action.chat_id, action.message_id)
            )
        except CallFailed as failed:
            if failed.verdict.outcome is Outcome.NOT_FOUND:
                return SendResult(ok=True, error="not-found")  # already gone or too old
            raise
        return SendResult(ok=True)
