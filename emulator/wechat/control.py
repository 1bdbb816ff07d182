"""Control API under /wechat/control/: configure the account, act as WeChat users, inspect.

Every answer is ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}`` with a 4xx
status, like the Telegram control API (emulator/control.py). The user actions wait until the
push to the bot has finished (all tries) and return what happened.
"""

from __future__ import annotations

import base64
import html
import re
import time
import urllib.parse
from typing import Any

import aiohttp
from aiohttp import web

from emulator.wechat import crypto, push
from emulator.wechat.api import WECHAT_KEY
from emulator.wechat.state import (
    GRANTS,
    Account,
    ApiFault,
    Entry,
    WeChatState,
    WeChatUser,
)

routes = web.RouteTableDef()
SESSION_KEY: web.AppKey[dict[str, aiohttp.ClientSession]] = web.AppKey("wechat_session", dict)
CLOCK_HOOK_KEY: web.AppKey[Any] = web.AppKey("wechat_clock_hook", object)


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _ok(result: Any = None) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _state(request: web.Request) -> WeChatState:
    return request.app[WECHAT_KEY]


async def _body(request: web.Request) -> dict[str, Any]:
    data: dict[str, Any] = dict(request.query)
    if request.method in ("POST", "PUT", "DELETE") and request.can_read_body:
        try:
            body = await request.json()
        except ValueError:
            raise Refused(400, "request body must be JSON") from None
        if isinstance(body, dict):
            data.update(body)
    return data


def _account(state: WeChatState) -> Account:
    if state.account is None:
        raise Refused(409, "no WeChat account is configured; POST /wechat/control/account")
    return state.account


def _existing_user(state: WeChatState, data: dict[str, Any]) -> WeChatUser:
    openid = data.get("openid")
    user = state.users.get(str(openid or ""))
    if user is None:
        raise Refused(404, f"no user with openid {openid!r}")
    return user


def _session(request: web.Request) -> aiohttp.ClientSession:
    holder = request.app[SESSION_KEY]
    if "s" not in holder or holder["s"].closed:
        holder["s"] = aiohttp.ClientSession()
    return holder["s"]


@web.middleware
async def refusals(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except Refused as exc:
        return web.json_response({"ok": False, "error": exc.message}, status=exc.status)
    except (KeyError, TypeError, ValueError) as exc:
        if not request.path.startswith("/wechat/control"):
            raise
        return web.json_response({"ok": False, "error": f"bad request: {exc}"}, status=400)


# --- the account ----------------------------------------------------------------------------


@routes.post("/wechat/control/account")
async def configure(request: web.Request) -> web.Response:
    data = await _body(request)
    state = _state(request)
    try:
        if data.pop("update", False):
            account = state.update_account(data)
        else:
            account = state.configure(data)
    except (crypto.CryptoError, LookupError) as exc:
        raise Refused(400, str(exc)) from None
    return _ok(account.public())


@routes.get("/wechat/control/account")
async def account_info(request: web.Request) -> web.Response:
    state = _state(request)
    return _ok(state.account.public() if state.account else None)


@routes.post("/wechat/control/reset")
async def reset(request: web.Request) -> web.Response:
    _state(request).reset()
    return _ok(True)


@routes.get("/wechat/control/state")
async def page_state(request: web.Request) -> web.Response:
    """What the chat page needs: account name, menu, users."""
    state = _state(request)
    acc = state.account
    return _ok(
        {
            "account": None
            if acc is None
            else {"name": acc.name, "mode": acc.mode, "url": acc.url, "appid": acc.appid},
            "menu": state.menu,
            "users": [u.public() for u in state.users.values()],
        }
    )


@routes.post("/wechat/control/verify_url")
async def verify_url(request: web.Request) -> web.Response:
    """The URL check of 服务器配置: GET with signature, timestamp, nonce, echostr."""
    data = await _body(request)
    account = _account(_state(request))
    url = data.get("url") or account.url
    if not url:
        raise Refused(409, "the account has no server URL")
    timestamp = str(int(time.time()))
    nonce = str(int(time.time() * 1000) % 10**9)
    echostr = str(data.get("echostr") or crypto.new_encoding_aes_key()[:19])
    signature = data.get("signature") or crypto.sha1_signature(account.token, timestamp, nonce)
    params = {"signature": signature, "timestamp": timestamp, "nonce": nonce, "echostr": echostr}
    try:
        timeout = aiohttp.ClientTimeout(total=account.push_timeout)
        async with _session(request).get(url, params=params, timeout=timeout) as resp:
            body = await resp.text()
            status = resp.status
    except (TimeoutError, aiohttp.ClientError) as exc:
        return _ok({"ok": False, "status": None, "body": None, "error": repr(exc)})
    echoed = status == 200 and body == echostr
    return _ok({"ok": echoed, "status": status, "body": body, "echostr": echostr})


# --- users act ------------------------------------------------------------------------------


def _base_fields(state: WeChatState, user: WeChatUser) -> dict[str, Any]:
    account = _account(state)
    return {
        "ToUserName": account.original_id,
        "FromUserName": user.openid,
        "CreateTime": int(state.now()),
    }


async def _push(
    request: web.Request,
    state: WeChatState,
    user: WeChatUser,
    fields: dict[str, Any],
    *,
    visible: bool = True,
) -> web.Response:
    report = await push.push(state, user, fields, _session(request), visible=visible)
    return _ok({"openid": user.openid, "packet": fields, **report})


@routes.post("/wechat/control/text")
async def user_text(request: web.Request) -> web.Response:
    """The user sends a text message (subscribing first if they never did)."""
    data = await _body(request)
    state = _state(request)
    _account(state)
    text = data.get("text")
    if not isinstance(text, str) or not text:
        raise Refused(400, "'text' must be a non-empty string")
    user = state.user(data.get("openid"), data.get("nickname"))
    user.subscribed = True
    state.grant(user, "message")
    msg_id = state.next_msg_id()
    state.add_entry(user, "user", "text", "user", text=text, msg_id=msg_id)
    fields = {**_base_fields(state, user), "MsgType": "text", "Content": text, "MsgId": msg_id}
    return await _push(request, state, user, fields)


_BIZMSGMENU = re.compile(r"""<a\s+href=["']weixin://bizmsgmenu\?([^"']*)["']""")


def _offered_options(entry: Entry) -> list[dict[str, str]]:
    """The options an entry lets the user tap: a msgmenu's list, or the
    weixin://bizmsgmenu?msgmenucontent=..&msgmenuid=.. links of a text message."""
    if entry.kind == "msgmenu":
        return list(entry.data.get("options", []))
    if entry.kind != "text":
        return []
    found = []
    for query in _BIZMSGMENU.findall(str(entry.data.get("text", ""))):
        params = urllib.parse.parse_qs(html.unescape(query))
        if params.get("msgmenuid"):
            content = (params.get("msgmenucontent") or params["msgmenuid"])[0]
            found.append({"id": params["msgmenuid"][0], "content": content})
    return found


# A 1x1 PNG for a user's photo when the test gives none.
_TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGNg+M8AAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)


@routes.post("/wechat/control/image")
async def user_image(request: web.Request) -> web.Response:
    """The user sends a photo (接收普通消息, image: PicUrl, MediaId, MsgId); the bot can fetch
    it with /cgi-bin/media/get for 3 days."""
    data = await _body(request)
    state = _state(request)
    _account(state)
    raw = base64.b64decode(data["data_b64"]) if data.get("data_b64") else _TINY_PNG
    user = state.user(data.get("openid"), data.get("nickname"))
    user.subscribed = True
    state.grant(user, "message")
    media = state.store_media("image", raw, "image/png", "photo.png")
    msg_id = state.next_msg_id()
    state.add_entry(user, "user", "image", "user", media_id=media.media_id, msg_id=msg_id)
    pic_url = f"{request.url.origin()}/wechat/control/media/{media.media_id}"
    fields = {
        **_base_fields(state, user),
        "MsgType": "image",
        "PicUrl": pic_url,
        "MediaId": media.media_id,
        "MsgId": msg_id,
    }
    return await _push(request, state, user, fields)


@routes.post("/wechat/control/choose")
async def user_choose(request: web.Request) -> web.Response:
    """The user taps an option of a msgmenu message (or a weixin://bizmsgmenu link in a text):
    WeChat pushes a text message whose Content is the option and which carries bizmsgmenuid."""
    data = await _body(request)
    state = _state(request)
    _account(state)
    user = _existing_user(state, data)
    menu_id = str(data.get("id") or "")
    option = None
    for entry in reversed(user.entries):
        if entry.direction != "bot":
            continue
        for item in _offered_options(entry):
            if item["id"] == menu_id:
                option = item
                break
        if option is not None:
            break
    if option is None and not data.get("force"):
        raise Refused(404, f"no msgmenu option with id {menu_id!r} in this chat")
    content = option["content"] if option else str(data.get("content") or menu_id)
    state.grant(user, "message")
    msg_id = state.next_msg_id()
    state.add_entry(user, "user", "text", "user", text=content, msg_id=msg_id, bizmsgmenuid=menu_id)
    fields = {
        **_base_fields(state, user),
        "MsgType": "text",
        "Content": content,
        "MsgId": msg_id,
        "bizmsgmenuid": menu_id,
    }
    return await _push(request, state, user, fields)


def _menu_keys(menu: list[dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    keys: dict[str, dict[str, Any]] = {}
    for button in menu or []:
        for leaf in button.get("sub_button") or [button]:
            if leaf.get("key"):
                keys[leaf["key"]] = leaf
    return keys


@routes.post("/wechat/control/click")
async def user_click(request: web.Request) -> web.Response:
    """The user taps a click button of the custom menu: event CLICK with EventKey."""
    data = await _body(request)
    state = _state(request)
    _account(state)
    user = _existing_user(state, data)
    key = str(data.get("key") or "")
    leaf = _menu_keys(state.menu).get(key)
    if leaf is None and not data.get("force"):
        raise Refused(404, f"the custom menu has no button with key {key!r}")
    if leaf is not None and leaf.get("type") != "click" and not data.get("force"):
        raise Refused(400, f"button {key!r} is of type {leaf.get('type')}, not click")
    state.grant(user, "click")
    name = leaf.get("name") if leaf else key
    state.add_entry(user, "user", "event", "user", event="CLICK", key=key, name=name)
    fields = {**_base_fields(state, user), "MsgType": "event", "Event": "CLICK", "EventKey": key}
    return await _push(request, state, user, fields)


@routes.post("/wechat/control/subscribe")
async def user_subscribe(request: web.Request) -> web.Response:
    """The user follows the account (event subscribe; EventKey qrscene_... from a QR code)."""
    data = await _body(request)
    state = _state(request)
    _account(state)
    user = state.user(data.get("openid"), data.get("nickname"))
    user.subscribed = True
    state.grant(user, "subscribe")
    scene = data.get("scene")
    state.add_entry(user, "user", "event", "user", event="subscribe", key=scene or "")
    fields = {**_base_fields(state, user), "MsgType": "event", "Event": "subscribe"}
    if scene:
        fields["EventKey"] = f"qrscene_{scene}"
    return await _push(request, state, user, fields)


@routes.post("/wechat/control/unsubscribe")
async def user_unsubscribe(request: web.Request) -> web.Response:
    """The user unfollows: event unsubscribe; custom and template messages stop reaching them."""
    data = await _body(request)
    state = _state(request)
    _account(state)
    user = _existing_user(state, data)
    user.subscribed = False
    state.add_entry(user, "user", "event", "user", event="unsubscribe", key="")
    fields = {**_base_fields(state, user), "MsgType": "event", "Event": "unsubscribe"}
    return await _push(request, state, user, fields, visible=False)


# --- reading --------------------------------------------------------------------------------


@routes.get("/wechat/control/transcript")
async def transcript(request: web.Request) -> web.Response:
    data = await _body(request)
    state = _state(request)
    user = _existing_user(state, data)
    return _ok(
        {
            "user": user.public(),
            "entries": [e.as_dict() for e in user.entries],
            "grants": [g.as_dict() for g in user.grants.values()],
        }
    )


@routes.post("/wechat/control/wait")
async def wait(request: web.Request) -> web.Response:
    """Wait for n bot/system entries not returned by an earlier wait (or after seq `after`)."""
    data = await _body(request)
    state = _state(request)
    user = _existing_user(state, data)
    n = int(data.get("n", 1))
    timeout = float(data.get("timeout", 5.0))
    after = data.get("after")
    deadline = time.monotonic() + timeout

    def fresh() -> list[dict[str, Any]]:
        start = int(after) if after is not None else None
        out = []
        for i, entry in enumerate(user.entries):
            if entry.direction == "user":
                continue
            if start is not None and entry.seq <= start:
                continue
            if start is None and i < user.cursor:
                continue
            out.append(entry.as_dict())
        return out

    while True:
        found = fresh()
        if len(found) >= n:
            found = found[:n]
            last = found[-1]["seq"]
            user.cursor = max(
                user.cursor, next(i + 1 for i, e in enumerate(user.entries) if e.seq == last)
            )
            return _ok({"entries": found})
        left = deadline - time.monotonic()
        if left <= 0:
            return web.json_response(
                {"ok": False, "error": f"waited {timeout:g} s for {n}", "entries": found},
                status=408,
            )
        await state.wait_change(left)


@routes.post("/wechat/control/mark")
async def mark(request: web.Request) -> web.Response:
    data = await _body(request)
    user = _existing_user(_state(request), data)
    user.cursor = len(user.entries)
    return _ok({"seq": user.entries[-1].seq if user.entries else 0})


@routes.get("/wechat/control/api_calls")
async def api_calls(request: web.Request) -> web.Response:
    state = _state(request)
    api = request.query.get("api")
    return _ok([c for c in state.api_calls if api is None or c["api"] == api])


@routes.get("/wechat/control/pushes")
async def pushes(request: web.Request) -> web.Response:
    return _ok(_state(request).pushes)


@routes.get("/wechat/control/media/{media_id}")
async def media(request: web.Request) -> web.StreamResponse:
    state = _state(request)
    item = state.media.get(request.match_info["media_id"])
    if item is None:
        raise Refused(404, "no such media")
    return web.Response(body=item.data, content_type=item.content_type.split(";")[0])


@routes.get("/wechat/control/tokens")
async def tokens(request: web.Request) -> web.Response:
    state = _state(request)
    now = state.now()
    return _ok(
        {
            "calls_today": state.token_calls.get(state.today(), 0),
            "tokens": [
                {
                    "access_token": t.value,
                    "expires_in": round(t.expires_at - now),
                    "valid": state.check_token(t.value) == 0,
                }
                for t in state.tokens.values()
            ],
        }
    )


# --- clock and faults -----------------------------------------------------------------------


@routes.post("/wechat/control/clock")
async def clock(request: web.Request) -> web.Response:
    """Move the emulator's clock forward (shared with the Telegram side; calls its hook)."""
    data = await _body(request)
    seconds = float(data.get("seconds") or 0) + float(data.get("hours") or 0) * 3600
    if seconds <= 0:
        raise Refused(400, "give 'seconds' or 'hours' > 0")
    advance = request.app[CLOCK_HOOK_KEY]
    hook_result = await advance(seconds / 3600)
    return _ok({"now": _state(request).now(), "hook": hook_result})


@routes.post("/wechat/control/faults")
async def add_fault(request: web.Request) -> web.Response:
    """kinds: token_invalid, 5xx (status, api, count), busy (errcode -1), quota_used (openid),
    window_closed (openid), token_limit (today's token calls used up)."""
    data = await _body(request)
    state = _state(request)
    kind = data.get("kind")
    if kind == "token_invalid":
        return _ok({"invalidated": state.invalidate_tokens()})
    if kind in ("5xx", "busy"):
        fault = ApiFault(
            kind=kind,
            api=str(data.get("api") or "*"),
            count=int(data.get("count", 1)),
            status=int(data.get("status", 503)),
        )
        state.faults.append(fault)
        return _ok({"kind": fault.kind, "api": fault.api, "count": fault.count})
    if kind in ("quota_used", "window_closed"):
        user = _existing_user(state, data)
        now = state.now()
        for grant in user.grants.values():
            if kind == "quota_used":
                grant.used = grant.limit
            else:
                grant.expires_at = min(grant.expires_at, now)
        if kind == "quota_used" and not any(g.expires_at > now for g in user.grants.values()):
            limit, _ttl = GRANTS["message"]
            state.grant(user, "message")
            user.grants["message"].used = limit
        return _ok([g.as_dict() for g in user.grants.values()])
    if kind == "token_limit":
        account = _account(state)
        state.token_calls[state.today()] = account.token_daily_limit
        return _ok({"calls_today": account.token_daily_limit})
    raise Refused(400, f"unknown fault kind {kind!r}")


@routes.delete("/wechat/control/faults")
async def clear_faults(request: web.Request) -> web.Response:
    _state(request).faults.clear()
    return _ok(True)


# --- the chat page --------------------------------------------------------------------------


def add_wechat(app: web.Application, state: WeChatState, advance_clock: Any, static: Any) -> None:
    """Mount the WeChat API, this control API and the /wechat page on the emulator app."""
    from emulator.wechat import api

    app[WECHAT_KEY] = state
    app[SESSION_KEY] = {}
    app[CLOCK_HOOK_KEY] = advance_clock
    app.middlewares.append(refusals)
    app.router.add_routes(api.routes)
    app.router.add_routes(routes)

    async def page(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(static / "wechat.html")

    app.router.add_get("/wechat", page)

    async def close_session(app: web.Application) -> None:
        holder = app[SESSION_KEY]
        if "s" in holder:
            await holder["s"].close()

    app.on_cleanup.append(close_session)
