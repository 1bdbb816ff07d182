"""Async Python client for the emulator's control API, used by tests and the demo."""

from __future__ import annotations

import base64
from typing import Any, Self

import aiohttp


class EmulatorError(RuntimeError):
    """The control API refused a request; `status` is the HTTP status."""

    def __init__(self, status: int, message: str, payload: Any = None) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.payload = payload


class EmulatorTimeout(EmulatorError, TimeoutError):
    """A wait ran out; `events` holds what did arrive."""

    def __init__(self, message: str, events: list[dict[str, Any]]) -> None:
        super().__init__(408, message, events)
        self.events = events


class ControlClient:
    """The HTTP session of a client of the emulator's control API (Telegram's or WeChat's)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session


class EmulatorClient(ControlClient):
    """Acts as Telegram users and inspects what the bot did.

    `token` selects the bot; without it the emulator uses its default or the last bot seen.
    """

    def __init__(self, base_url: str, token: str | None = None) -> None:
        super().__init__(base_url)
        self.token = token

    async def _request(self, verb: str, path: str, **body: Any) -> Any:
        payload = {k: v for k, v in body.items() if v is not None}
        if self.token is not None:
            payload.setdefault("token", self.token)
        url = f"{self.base_url}/control/{path}"
        if verb == "GET":
            params = {k: str(v) for k, v in payload.items()}
            ctx = self._http().get(url, params=params)
        else:
            ctx = self._http().request(verb, url, json=payload)
        async with ctx as resp:
            data = await resp.json()
        if resp.status == 408 and "events" in data:
            raise EmulatorTimeout(data.get("error", "timed out"), data["events"])
        if not data.get("ok"):
            raise EmulatorError(resp.status, data.get("error", "error"), data)
        return data["result"]

    # --- world --------------------------------------------------------------------------
    async def reset(self) -> None:
        await self._request("POST", "reset")

    async def info(self) -> dict[str, Any]:
        return await self._request("GET", "info")

    async def create_user(
        self,
        user_id: int | None = None,
        first_name: str = "Student",
        language_code: str | None = "zh-hans",
        last_name: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """Create (or update) a user; returns the Telegram User object."""
        return await self._request(
            "POST",
            "users",
            id=user_id,
            first_name=first_name,
            language_code=language_code,
            last_name=last_name,
            username=username,
        )

    async def users(self) -> list[dict[str, Any]]:
        return await self._request("GET", "users")

    # --- the user acts ------------------------------------------------------------------
    async def user_says(
        self, user_id: int, text: str, reply_to_message_id: int | None = None
    ) -> dict[str, Any]:
        """The user sends text; returns {"message_id", "update_id"}."""
        return await self._request(
            "POST", "say", user_id=user_id, text=text, reply_to_message_id=reply_to_message_id
        )

    async def command(self, user_id: int, command: str, args: str | None = None) -> dict[str, Any]:
        """The user sends "/command args" (with a bot_command entity)."""
        return await self._request("POST", "command", user_id=user_id, command=command, args=args)

    async def sticker(self, user_id: int, emoji: str = "👍") -> dict[str, Any]:
        return await self._request("POST", "sticker", user_id=user_id, emoji=emoji)

    async def contact(
        self,
        user_id: int,
        phone_number: str,
        *,
        contact_user_id: int | None = None,
        own: bool = True,
        first_name: str | None = None,
    ) -> dict[str, Any]:
        """The user shares a contact: by default their own (its user_id is theirs); with
        `contact_user_id` someone else's, with `own=False` a card without a Telegram user."""
        return await self._request(
            "POST",
            "contact",
            user_id=user_id,
            phone_number=phone_number,
            contact_user_id=contact_user_id,
            own=own,
            first_name=first_name,
        )

    async def photo(
        self, user_id: int, data: bytes | None = None, caption: str | None = None
    ) -> dict[str, Any]:
        """The user sends a photo (a tiny generated PNG when `data` is None)."""
        b64 = base64.b64encode(data).decode() if data is not None else None
        return await self._request("POST", "photo", user_id=user_id, data_b64=b64, caption=caption)

    async def document(
        self,
        user_id: int,
        data: bytes,
        file_name: str,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> dict[str, Any]:
        return await self._request(
            "POST",
            "document",
            user_id=user_id,
            data_b64=base64.b64encode(data).decode(),
            file_name=file_name,
            mime_type=mime_type,
            caption=caption,
        )

    async def press(
        self,
        user_id: int,
        message_id: int,
        callback_data: str | None = None,
        *,
        button_text: str | None = None,
        forge: bool = False,
    ) -> dict[str, Any]:
        """Press an inline button (by callback_data or text); forge=True sends any data.

        Returns {"callback_query_id", "update_id"}.
        """
        return await self._request(
            "POST",
            "press",
            user_id=user_id,
            message_id=message_id,
            callback_data=callback_data,
            button_text=button_text,
            forge=forge or None,
        )

    async def block(self, user_id: int, blocked: bool = True) -> None:
        """The user blocks (or unblocks) the bot: sends answer 403 until unblocked."""
        await self._request("POST", "block", user_id=user_id, blocked=blocked)

    # --- reading ------------------------------------------------------------------------
    async def transcript(self, user_id: int, include_deleted: bool = True) -> list[dict[str, Any]]:
        """All messages of the chat in order (current text, keyboard, edited/deleted flags)."""
        result = await self._request(
            "GET", "transcript", user_id=user_id, include_deleted=str(include_deleted).lower()
        )
        return result["messages"]

    async def chat(self, user_id: int) -> dict[str, Any]:
        """The transcript plus the chat's reply keyboard, blocked flag and chat action."""
        return await self._request("GET", "transcript", user_id=user_id)

    async def wait_for_bot(
        self,
        user_id: int,
        n: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - the server waits, this is its deadline
        *,
        kinds: tuple[str, ...] = ("sent", "edited"),
        after: int | None = None,
    ) -> list[dict[str, Any]]:
        """Wait for n bot messages/edits not yet returned by an earlier wait; returns them.

        Each item is the message's current snapshot plus "event" ("sent"/"edited"/"deleted")
        and "seq". Raises EmulatorTimeout (with the partial list) when time runs out.
        """
        result = await self._request(
            "POST",
            "wait",
            user_id=user_id,
            n=n,
            timeout=timeout,
            kinds=list(kinds),
            after=after,
        )
        return result["events"]

    async def mark(self, user_id: int) -> int:
        """Skip everything the bot did so far in this chat for later waits."""
        return (await self._request("POST", "mark", user_id=user_id))["cursor"]

    async def callback_answers(self, user_id: int | None = None) -> list[dict[str, Any]]:
        return await self._request("GET", "callback_answers", user_id=user_id)

    async def wait_answer(
        self,
        callback_query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109 - the server waits, this is its deadline
    ) -> dict[str, Any]:
        """Wait until the bot answered this callback query; returns the record."""
        return await self._request(
            "POST", "wait_answer", callback_query_id=callback_query_id, timeout=timeout
        )

    async def stats(self) -> dict[str, Any]:
        return await self._request("GET", "stats")

    async def pending_updates(self) -> list[dict[str, Any]]:
        return await self._request("GET", "updates")

    async def commands(self) -> list[dict[str, Any]]:
        return await self._request("GET", "commands")

    async def download(self, file_id: str) -> bytes:
        params = {"token": self.token} if self.token else {}
        async with self._http().get(
            f"{self.base_url}/control/file/{file_id}", params=params
        ) as resp:
            if resp.status != 200:
                raise EmulatorError(resp.status, await resp.text())
            return await resp.read()

    # --- faults and limits --------------------------------------------------------------
    async def inject(
        self,
        method: str,
        kind: str,
        count: int | None = 1,
        *,
        chat_id: int | None = None,
        retry_after: int = 1,
        description: str | None = None,
        delay: float = 0.0,
    ) -> dict[str, Any]:
        """The next `count` calls of `method` ("*" = any; count None = until cleared) fail.

        kind: "429" (with retry_after), "500", "502" (HTML body like Telegram's nginx),
        "drop" (connection closed, nothing done), "drop_after" (done, then connection closed),
        "403" ("Forbidden: bot was blocked by the user"), "delay" (answered normally,
        `delay` seconds late: a slow Telegram).
        """
        return await self._request(
            "POST",
            "faults",
            method=method,
            kind=kind,
            count=-1 if count is None else count,
            chat_id=chat_id,
            retry_after=retry_after,
            description=description,
            delay=delay,
        )

    async def faults(self) -> list[dict[str, Any]]:
        return await self._request("GET", "faults")

    async def clear_faults(self) -> None:
        await self._request("DELETE", "faults")

    async def set_rate_limit(
        self,
        enabled: bool | None = None,
        global_per_second: float | None = None,
        per_chat_per_second: float | None = None,
        per_chat_burst: int | None = None,
    ) -> dict[str, Any]:
        return await self._request(
            "POST",
            "rate_limit",
            enabled=enabled,
            global_per_second=global_per_second,
            per_chat_per_second=per_chat_per_second,
            per_chat_burst=per_chat_burst,
        )

    async def advance_clock(self, hours: float) -> dict[str, Any]:
        return await self._request("POST", "clock", advance_hours=hours)
