"""The WeChat Official Account HTTP API on aiohttp: the shared access_token, customer-service
messages, template messages, temporary media and the custom menu.

Every call carries the access_token, which one process at a time fetches with the AppID
and AppSecret and every process shares (`TokenStore`: a database row); a call refused
with 40001 / 40014 / 42001 (the token invalid or expired, e.g. fetched anew elsewhere)
drops that token and is made once more with a fresh one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

log = logging.getLogger(__name__)

# The token errors after which a fresh token is fetched and the call made once more.
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
# The errors of a customer-service message outside what the user allowed: 45015 the
# 48-hour window closed, 45047 the quota of messages since the user's action is used up.
OUT_OF_WINDOW = 45015
OUT_OF_QUOTA = 45047
# The user no longer follows the account (or the OpenID is not this account's).
NOT_FOLLOWING = frozenset({43004, 40003})
# A token is fetched anew this long before WeChat says it expires (7200 s).
REFRESH_BEFORE = 300.0
# How long one process may hold the fetch lease before another takes over.
LEASE_SECONDS = 10.0
SYSTEM_BUSY = -1
# Pauses before trying a call again that surely did not reach the API (5xx, no connection).
BACKOFF = (0.5, 1.0)


class WeChatError(Exception):
    """The API answered an errcode other than 0 (or something that is not its JSON)."""

    def __init__(self, errcode: int, errmsg: str = "") -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatUnreachable(Exception):
    """No answer from the API (connection refused, timeout, 5xx). `unsent`: surely not
    carried out (no connection, or the front end's 5xx page), so it may be tried again."""

    def __init__(self, detail: str, *, unsent: bool = False) -> None:
        super().__init__(detail)
        self.unsent = unsent


@dataclass(frozen=True, slots=True)
class StoredToken:
    token: str | None
    expires_at: float  # epoch seconds; 0 when unknown


class TokenStore(Protocol):
    """Where every process finds the account's token (a database row)."""

    async def load(self) -> StoredToken: ...

    async def take_lease(self, seconds: float) -> bool:
        """True when this process may fetch a new token now (no other one is)."""
        ...

    async def save(self, token: str, expires_at: float) -> None:
        """Stores the token and frees the lease."""
        ...

    async def release(self) -> None: ...

    async def expire(self, token: str) -> None:
        """WeChat refused `token`: it is not used again (a newer one stays)."""
        ...


class MemoryTokenStore:
    """A TokenStore for one process on its own (tests of the protocol pieces)."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self.now = now
        self._token = StoredToken(None, 0.0)
        self._lease_until = 0.0

    async def load(self) -> StoredToken:
        return self._token

    async def take_lease(self, seconds: float) -> bool:
        now = self.now()
        if self._lease_until > now:
            return False
        self._lease_until = now + seconds
        return True

    async def save(self, token: str, expires_at: float) -> None:
        self._token = StoredToken(token, expires_at)
        self._lease_until = 0.0

    async def release(self) -> None:
        self._lease_until = 0.0

    async def expire(self, token: str) -> None:
        if self._token.token == token:
            self._token = StoredToken(token, 0.0)


class WeChatApi:
    """The account's API calls. `session` is owned by the caller (closed with `close`)."""

    def __init__(
        self,
        *,
        api_url: str,
        app_id: str,
        app_secret: str,
        store: TokenStore,
        session: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.now = now
        self.api_url = api_url.rstrip("/")
        self.app_id = app_id
        self._secret = app_secret
        self.store = store
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._sleep = sleep
        self._token: StoredToken = StoredToken(None, 0.0)
        self._fetching = asyncio.Lock()
        # Counters for tests and the log: tokens fetched by this process, calls made.
        self.tokens_fetched = 0
        self.calls = 0

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    # -- access_token ----------------------------------------------------------------------

    async def access_token(self) -> str:
        """A valid token: this process's copy, the shared one, or a new one fetched."""
        if _usable(self._token, self.now()):
            assert self._token.token is not None
            return self._token.token
        async with self._fetching:  # one fetch per process at a time
            for _ in range(int(LEASE_SECONDS / 0.2) * 2):
                shared = await self.store.load()
                if _usable(shared, self.now()):
                    self._token = shared
                    assert shared.token is not None
                    return shared.token
                if await self.store.take_lease(LEASE_SECONDS):
                    try:
                        token, expires_at = await self._fetch_token()
                    except BaseException:
                        await self.store.release()
                        raise
                    await self.store.save(token, expires_at)
                    self._token = StoredToken(token, expires_at)
                    return token
                await self._sleep(0.2)  # another process is fetching: wait for its token
        raise WeChatUnreachable("no access_token: another process holds the fetch lease")

    async def _fetch_token(self) -> tuple[str, float]:
        params = {"grant_type": "client_credential", "appid": self.app_id, "secret": self._secret}
        answer = await self._request("GET", "/cgi-bin/token", params=params)
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeChatError(int(answer.get("errcode", -2)), str(answer.get("errmsg", "")))
        expires_in = float(answer.get("expires_in", 7200))
        self.tokens_fetched += 1
        log.info("wechat: new access_token (valid %d s)", expires_in)
        return token, self.now() + expires_in

    async def _drop_token(self, token: str) -> None:
        if self._token.token == token:
            self._token = StoredToken(None, 0.0)
        await self.store.expire(token)

    # -- calls ---------------------------------------------------------------------------

    async def call(
        self,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        form: aiohttp.FormData | Callable[[], aiohttp.FormData] | None = None,
        params: dict[str, str] | None = None,
        method: str = "POST",
    ) -> dict[str, Any]:
        """One API call with the token; raises WeChatError on an errcode other than 0."""
        attempt = 0
        while True:
            attempt += 1
            token = await self.access_token()
            query = {**(params or {}), "access_token": token}
            answer = await self._request(method, path, params=query, body=body, form=form)
            code = int(answer.get("errcode", 0) or 0)
            if code in TOKEN_ERRORS and attempt == 1:
                log.info("wechat: %s refused the access_token (%s); fetching a new one", path, code)
                await self._drop_token(token)
                continue
            if code == SYSTEM_BUSY and attempt == 1:
                await self._sleep(0.5)
                continue
            if code:
                raise WeChatError(code, str(answer.get("errmsg", "")))
            return answer

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str],
        body: dict[str, Any] | None = None,
        form: aiohttp.FormData | Callable[[], aiohttp.FormData] | None = None,
    ) -> dict[str, Any]:
        """The API's JSON answer; a call that surely did not reach it (no connection, a
        5xx page) is tried again after each pause of BACKOFF."""
        pauses = list(BACKOFF)
        while True:
            data = form if isinstance(form, aiohttp.FormData) or form is None else form()
            try:
                return await self._request_once(method, path, params=params, body=body, form=data)
            except WeChatUnreachable as lost:
                if not lost.unsent or not pauses:
                    raise
                log.info("wechat: %s; trying again", lost)
                await self._sleep(pauses.pop(0))

    async def _request_once(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str],
        body: dict[str, Any] | None = None,
        form: aiohttp.FormData | None = None,
    ) -> dict[str, Any]:
        self.calls += 1
        url = self.api_url + path
        data: Any = form
        headers = {}
        if body is not None:
            # UTF-8 as is: the API shows \\u escapes literally in some messages.
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json; charset=utf-8"
        try:
            async with self.session.request(
                method, url, params=params, data=data, headers=headers
            ) as resp:
                if resp.status >= 500:
                    raise WeChatUnreachable(f"{path}: HTTP {resp.status}", unsent=True)
                text = await resp.text()
        except aiohttp.ClientConnectorError as err:
            raise WeChatUnreachable(f"{path}: {type(err).__name__}", unsent=True) from err
        except (aiohttp.ClientError, TimeoutError) as err:
            # A timeout or a dropped connection: the call may have been carried out.
            raise WeChatUnreachable(f"{path}: {type(err).__name__}") from err
        try:
            answer = json.loads(text)
        except ValueError:
            raise WeChatError(-2, f"{path}: not JSON (HTTP {resp.status})") from None
        if not isinstance(answer, dict):
            raise WeChatError(-2, f"{path}: not a JSON object")
        return answer

    # -- what the bot sends ----------------------------------------------------------------

    async def send_custom(self, openid: str, message: dict[str, Any]) -> None:
        """A customer-service message: `message` is {"msgtype": ..., <msgtype>: {...}}."""
        await self.call("/cgi-bin/message/custom/send", body={"touser": openid, **message})

    async def send_template(
        self,
        openid: str,
        template_id: str,
        data: dict[str, Any],
        url: str | None = None,
        client_msg_id: str | None = None,
    ) -> int | None:
        """A template message; returns its msgid. `client_msg_id`: WeChat sends one
        message per user and id within 10 minutes (a retried send is not shown twice)."""
        body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": data}
        if url:
            body["url"] = url
        if client_msg_id:
            body["client_msg_id"] = client_msg_id
        answer = await self.call("/cgi-bin/message/template/send", body=body)
        msgid = answer.get("msgid")
        return int(msgid) if isinstance(msgid, int) else None

    async def upload_image(self, png: bytes, filename: str = "image.png") -> str:
        """Uploads a temporary image (kept three days by WeChat); returns its media_id."""

        def form() -> aiohttp.FormData:
            data = aiohttp.FormData()
            kind = "image/png" if filename.lower().endswith(".png") else "image/jpeg"
            data.add_field("media", png, filename=filename, content_type=kind)
            return data

        answer = await self.call("/cgi-bin/media/upload", form=form, params={"type": "image"})
        media_id = answer.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise WeChatError(-2, "media/upload: no media_id")
        return media_id

    async def create_menu(self, buttons: list[dict[str, Any]]) -> None:
        """Replaces the account's custom menu (自定义菜单)."""
        await self.call("/cgi-bin/menu/create", body={"button": buttons})


def _usable(token: StoredToken, now: float) -> bool:
    return bool(token.token) and token.expires_at - REFRESH_BEFORE > now
