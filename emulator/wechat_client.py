"""Async Python client for the WeChat control API (/wechat/control/), used by tests and the demo.

Typical test::

    async with WeChatEmulatorClient(emulator.url) as wx:
        account = await wx.configure(url=bot_url, mode="safe", templates=["TPL_PAID"])
        # give the bot account["appid"], ["secret"], ["token"], ["encoding_aes_key"] and
        # WECHAT_API_URL=emulator.url
        report = await wx.send_text("o_student_1", "报名")
        assert report["outcome"] in ("reply", "no_reply")
        messages = await wx.wait_for_bot("o_student_1", 1)

A *push report* (what every user action returns) is a dict:

- ``outcome``: ``"reply"`` (a valid passive reply was delivered), ``"no_reply"`` (the bot
  answered ``success`` or an empty body), ``"error"`` (no answer after the last try, or a
  malformed answer: the user saw "该公众号暂时无法提供服务，请稍后再试");
- ``attempts``: how many times the push was sent (1..push_tries); ``tries``: one dict per try
  (``outcome``: timeout / connection error / http error / bad reply / no reply / reply,
  ``status``, ``elapsed`` seconds);
- ``reply``: the passive reply (``{"kind": "text", "text": ...}`` or ``{"kind": "image",
  "media_id": ...}``) or None; ``error``: why the answer was refused, or None;
- ``elapsed``: seconds from the first send to the end; ``packet``: the XML fields pushed
  (``MsgId``, ``CreateTime``...); ``openid``.

A *transcript entry* is a dict with ``seq`` (grows across the emulator), ``time`` (emulator
clock, s), ``direction`` (``user``, ``bot``, ``system``), ``kind`` (``text``, ``image``,
``msgmenu``, ``news``, ``template``, ``event``, ``error``) and ``via`` (``user``, ``passive``,
``custom``, ``template``, ``system``), plus the content: ``text``; ``media_id``;
``head_content``/``options`` [{id, content}]/``tail_content``; ``template_id``/``title``/``data``
{key: value}/``rendered``/``url``/``msgid``; ``event``/``key`` (CLICK, subscribe); a user's
msgmenu choice carries ``bizmsgmenuid``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import aiohttp

from emulator.client import ControlClient, EmulatorError


def bot_settings(account: Mapping[str, Any], api_url: str, push_url: str) -> dict[str, Any]:
    """The bot's WeChat settings (foundation/settings.py names) for the account `configure`
    returned: its credentials, the emulator as WECHAT_API_URL, `push_url` as WECHAT_URL."""
    return {
        "wechat_app_id": account["appid"],
        "wechat_app_secret": account["secret"],
        "wechat_token": account["token"],
        "wechat_aes_key": account["encoding_aes_key"],
        "wechat_api_url": api_url,
        "wechat_url": push_url,
    }


class WeChatEmulatorError(EmulatorError):
    """The WeChat control API refused a request; `status` is the HTTP status."""


class WeChatEmulatorTimeout(WeChatEmulatorError, TimeoutError):
    """A wait ran out; `entries` holds what did arrive."""

    def __init__(self, message: str, entries: list[dict[str, Any]]) -> None:
        super().__init__(408, message, entries)
        self.entries = entries


class WeChatEmulatorClient(ControlClient):
    """Configures the emulated Official Account, acts as WeChat users, reads their chats."""

    async def _request(self, verb: str, path: str, **body: Any) -> Any:
        payload = {k: v for k, v in body.items() if v is not None}
        url = f"{self.base_url}/wechat/control/{path}"
        if verb == "GET":
            ctx = self._http().get(url, params={k: str(v) for k, v in payload.items()})
        else:
            # A push can take push_tries x push_timeout: no client-side deadline here.
            ctx = self._http().request(
                verb, url, json=payload, timeout=aiohttp.ClientTimeout(total=None)
            )
        async with ctx as resp:
            data = await resp.json()
        if resp.status == 408 and "entries" in data:
            raise WeChatEmulatorTimeout(data.get("error", "timed out"), data["entries"])
        if not data.get("ok"):
            raise WeChatEmulatorError(resp.status, data.get("error", "error"), data)
        return data["result"]

    # --- the account ----------------------------------------------------------------------
    async def configure(
        self,
        *,
        url: str | None = None,
        appid: str | None = None,
        secret: str | None = None,
        token: str | None = None,
        encoding_aes_key: str | None = None,
        mode: str = "plain",
        templates: list[str] | list[dict[str, Any]] | dict[str, Any] | None = None,
        msgmenu: bool = True,
        push_timeout: float = 5.0,
        push_tries: int = 3,
        token_daily_limit: int = 2000,
        original_id: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """(Re)configure the one Official Account; forgets its tokens. Returns its settings.

        `url`: the bot's server URL (服务器地址) pushes go to. `mode`: "plain" (明文模式),
        "safe" (安全模式, AES with `encoding_aes_key`, 43 characters; generated when omitted) or
        "compat" (兼容模式: plaintext and ciphertext in each push, either kind of reply).
        appid/secret/token default to random values (read them from the result).
        `templates`: registered template ids: ["TPL1", ...], or [{"template_id", "title",
        "content": "{{first.DATA}}\\n报名号：{{keyword1.DATA}}"}] (then every placeholder key
        must be in the data sent, else 47003). `msgmenu`: whether 菜单消息 is allowed (False:
        custom msgmenu answers 40200). `push_timeout`/`push_tries`: the 5-second deadline and
        the three tries (make the deadline short in tests). `token_daily_limit`: calls of
        /cgi-bin/token per day before 45009. `original_id`: 原始ID (gh_...), the ToUserName
        of pushes and the FromUserName a passive reply must carry.
        """
        return await self._request(
            "POST",
            "account",
            url=url,
            appid=appid,
            secret=secret,
            token=token,
            encoding_aes_key=encoding_aes_key,
            mode=mode,
            templates=templates,
            msgmenu=msgmenu,
            push_timeout=push_timeout,
            push_tries=push_tries,
            token_daily_limit=token_daily_limit,
            original_id=original_id,
            name=name,
        )

    async def update_account(self, **fields: Any) -> dict[str, Any]:
        """Change some settings (e.g. url=..., mode="safe", push_timeout=...) keeping tokens."""
        return await self._request("POST", "account", update=True, **fields)

    async def account(self) -> dict[str, Any] | None:
        """The account's settings, or None before `configure`."""
        return await self._request("GET", "account")

    async def reset(self) -> None:
        """Forget the account, users, tokens, media, menu and faults."""
        await self._request("POST", "reset")

    async def verify_url(
        self, url: str | None = None, *, signature: str | None = None
    ) -> dict[str, Any]:
        """The URL check of 服务器配置: GET url?signature&timestamp&nonce&echostr.

        Returns {"ok": the bot echoed echostr with 200, "status", "body", "echostr"};
        `signature` forces a (wrong) signature to see the bot refuse it.
        """
        return await self._request("POST", "verify_url", url=url, signature=signature)

    # --- users act (each returns the push report once the push has finished) --------------
    async def send_text(
        self, openid: str, text: str, *, nickname: str | None = None
    ) -> dict[str, Any]:
        """The user sends a text message (MsgType text, MsgId); a new user is subscribed
        first. Grants 5 custom messages for 48 hours."""
        return await self._request("POST", "text", openid=openid, text=text, nickname=nickname)

    async def send_image(
        self, openid: str, data: bytes | None = None, *, nickname: str | None = None
    ) -> dict[str, Any]:
        """The user sends a photo (MsgType image with PicUrl, MediaId, MsgId; a 1x1 PNG when
        `data` is None); the bot may fetch it with /cgi-bin/media/get. Grants like a text."""
        b64 = base64.b64encode(data).decode() if data is not None else None
        return await self._request("POST", "image", openid=openid, data_b64=b64, nickname=nickname)

    async def click(self, openid: str, key: str, *, force: bool = False) -> dict[str, Any]:
        """The user taps a click button of the custom menu (event CLICK, EventKey=key).
        The key must be in the menu the bot created unless force=True. Grants 3 messages
        for 1 minute."""
        return await self._request("POST", "click", openid=openid, key=key, force=force or None)

    async def choose(
        self, openid: str, option_id: str, *, force: bool = False, content: str | None = None
    ) -> dict[str, Any]:
        """The user taps an option of a msgmenu message the bot sent (or a
        <a href="weixin://bizmsgmenu?msgmenucontent=..&msgmenuid=..">..</a> link in a text
        message): a text message whose Content is the option's text, carrying
        <bizmsgmenuid>option_id</bizmsgmenuid>.
        force=True sends an id no message offered (with `content`)."""
        return await self._request(
            "POST", "choose", openid=openid, id=option_id, force=force or None, content=content
        )

    async def subscribe(
        self, openid: str | None = None, *, nickname: str | None = None, scene: str | None = None
    ) -> dict[str, Any]:
        """The user follows the account (event subscribe; scene → EventKey qrscene_<scene>).
        Without openid a random 28-character one is made (read report["openid"])."""
        return await self._request(
            "POST", "subscribe", openid=openid, nickname=nickname, scene=scene
        )

    async def unsubscribe(self, openid: str) -> dict[str, Any]:
        """The user unfollows (event unsubscribe); later custom sends answer 45015 and
        template sends 43004."""
        return await self._request("POST", "unsubscribe", openid=openid)

    # --- reading ----------------------------------------------------------------------------
    async def transcript(self, openid: str) -> list[dict[str, Any]]:
        """Every entry of the user's chat in order (user, bot and system lines)."""
        return (await self._request("GET", "transcript", openid=openid))["entries"]

    async def chat(self, openid: str) -> dict[str, Any]:
        """{"user", "entries", "grants"}: the transcript plus the custom-message grants."""
        return await self._request("GET", "transcript", openid=openid)

    async def wait_for_bot(
        self,
        openid: str,
        n: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - the server waits, this is its deadline
        *,
        after: int | None = None,
    ) -> list[dict[str, Any]]:
        """Wait for n bot or system entries not yet returned by an earlier wait (or with seq
        greater than `after`); raises WeChatEmulatorTimeout with what came."""
        result = await self._request(
            "POST", "wait", openid=openid, n=n, timeout=timeout, after=after
        )
        return result["entries"]

    async def mark(self, openid: str) -> int:
        """Skip everything so far for later waits; returns the last seq."""
        return (await self._request("POST", "mark", openid=openid))["seq"]

    async def page_state(self) -> dict[str, Any]:
        """{"account", "menu" (the custom menu's buttons or None), "users"}."""
        return await self._request("GET", "state")

    async def menu(self) -> list[dict[str, Any]] | None:
        """The custom menu the bot created (menu/create), or None."""
        return (await self.page_state())["menu"]

    async def api_calls(self, api: str | None = None) -> list[dict[str, Any]]:
        """The bot's API calls in order: {"api": "token" | "message/custom/send" | ...,
        "errcode", "time"} (errcode None and "fault" for an injected 5xx)."""
        return await self._request("GET", "api_calls", api=api)

    async def pushes(self) -> list[dict[str, Any]]:
        """Every push report so far."""
        return await self._request("GET", "pushes")

    async def tokens(self) -> dict[str, Any]:
        """{"calls_today", "tokens": [{"access_token", "expires_in", "valid"}]}."""
        return await self._request("GET", "tokens")

    async def download_media(self, media_id: str) -> bytes:
        """The bytes the bot uploaded with media/upload."""
        async with self._http().get(f"{self.base_url}/wechat/control/media/{media_id}") as resp:
            if resp.status != 200:
                raise WeChatEmulatorError(resp.status, await resp.text())
            return await resp.read()

    # --- time and faults ----------------------------------------------------------------------
    async def advance_clock(self, hours: float = 0.0, *, seconds: float = 0.0) -> dict[str, Any]:
        """Move the emulator's clock on (the 48 h window, 1-minute grants, token expiry after
        7200 s, media after 3 days). The Telegram side's clock hook, when registered, moves
        too. Returns {"now", "hook"}."""
        return await self._request("POST", "clock", hours=hours or None, seconds=seconds or None)

    async def invalidate_token(self) -> int:
        """Every token issued so far answers 40001 from the next call on."""
        return (await self._request("POST", "faults", kind="token_invalid"))["invalidated"]

    async def fail_api(self, api: str = "*", *, status: int = 503, count: int = 1) -> None:
        """The next `count` calls of `api` ("token", "message/custom/send", "media/upload",
        "message/template/send", "menu/create", "menu/get"; "*" any) answer HTTP `status`
        with an HTML body (count -1: until cleared)."""
        await self._request("POST", "faults", kind="5xx", api=api, status=status, count=count)

    async def system_busy(self, api: str = "*", *, count: int = 1) -> None:
        """The next `count` calls of `api` answer {"errcode": -1, "errmsg": "system error"}."""
        await self._request("POST", "faults", kind="busy", api=api, count=count)

    async def use_up_quota(self, openid: str) -> None:
        """The user's custom-message grants are used up: the next custom send is 45047."""
        await self._request("POST", "faults", kind="quota_used", openid=openid)

    async def close_window(self, openid: str) -> None:
        """The user's grants expire now: the next custom send is 45015."""
        await self._request("POST", "faults", kind="window_closed", openid=openid)

    async def use_up_token_quota(self) -> None:
        """Today's /cgi-bin/token calls are used up: the next one answers 45009."""
        await self._request("POST", "faults", kind="token_limit")

    async def clear_faults(self) -> None:
        await self._request("DELETE", "faults")
