"""The WeChat server API at the root path, as on api.weixin.qq.com: /cgi-bin/...

Every failure is HTTP 200 with JSON ``{"errcode": N, "errmsg": "..."}`` (全局返回码说明), the
errmsg ending in " rid: ..." like the real server's. Sources per endpoint (WeChat developer
documentation):

- GET /cgi-bin/token (获取 Access token, getAccessToken): grant_type=client_credential, appid,
  secret → ``{"access_token", "expires_in": 7200}``; 40002 bad grant_type, 41002/41004 missing
  appid/secret, 40013 invalid appid, 40001 wrong AppSecret, 45009 daily quota reached.
- POST /cgi-bin/stable_token (getStableAccessToken): the same checks, JSON body; see state.py.
- POST /cgi-bin/message/custom/send (客服消息, sendCustomMessage): text, image (media_id), news,
  msgmenu (菜单消息: head_content, list of {id, content}, tail_content; 40200 "invalid account
  type" for an account without it); 41001 no token, 40001 invalid token, 42001 expired,
  44002 empty body, 47001 bad JSON, 40003 unknown openid, 40008 unknown msgtype, 44004 empty
  text, 41006/40007 missing/invalid media_id, 45015/45047 the 48-hour window and the quota.
- POST /cgi-bin/media/upload?type= (新增临时素材, uploadTempMedia): multipart field ``media``;
  image ≤2 MB (png/jpeg/jpg/gif; the page says "图片2MB" under 注意事项 and "10M" under 其他补充:
  the emulator keeps the stricter), voice ≤2 MB (amr/mp3), video ≤10 MB (mp4), thumb ≤64 KB
  (jpg) →
  ``{"type", "media_id", "created_at"}``; 40004 bad type, 41005 no media, 40005 bad file type,
  40009/40010/40011/40012 size out of limit. media_id lives 3 days.
- GET /cgi-bin/media/get?media_id= (获取临时素材): the bytes; 41006 missing, 40007 invalid or
  older than 3 days.
- POST /cgi-bin/message/template/send (模板消息): touser, template_id, url, data → ``{"errcode":
  0, "errmsg": "ok", "msgid": N}``; 40037 invalid template_id, 43004 require subscribe.
- POST /cgi-bin/menu/create, GET /cgi-bin/menu/get, GET /cgi-bin/menu/delete (自定义菜单):
  1-3 buttons, 1-5 sub buttons each; names ≤16 bytes (sub ≤60); key ≤128 bytes; url ≤1024
  bytes; 40016-40027 for each violation; 46003 "menu no exist" on get without a menu.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from aiohttp import BodyPartReader, web

from emulator.wechat.state import WeChatState, WeChatUser

WECHAT_KEY: web.AppKey[WeChatState] = web.AppKey("wechat", WeChatState)

ERRMSG = {
    -1: "system error",
    0: "ok",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40004: "invalid media type",
    40005: "invalid file type",
    40007: "invalid media_id",
    40008: "invalid message type",
    40009: "invalid image size",
    40010: "invalid voice size",
    40011: "invalid video size",
    40012: "invalid thumb size",
    40013: "invalid appid",
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40020: "invalid button url size",
    40023: "invalid sub button size",
    40024: "invalid sub button type",
    40025: "invalid sub button name size",
    40026: "invalid sub button key size",
    40027: "invalid sub button url size",
    40037: "invalid template_id",
    40200: "invalid account type",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41005: "media data missing",
    41006: "media_id missing",
    42001: "access_token expired",
    43004: "require subscribe",
    44002: "empty post data",
    44004: "empty content",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    46003: "menu no exist",
    47001: "data format error",
    47003: "argument invalid!",
}

MEDIA_RULES: dict[str, tuple[int, tuple[str, ...], int]] = {
    # type -> (max bytes, extensions, errcode when too large)
    "image": (2 * 1024 * 1024, ("png", "jpeg", "jpg", "gif"), 40009),
    "voice": (2 * 1024 * 1024, ("amr", "mp3"), 40010),
    "video": (10 * 1024 * 1024, ("mp4",), 40011),
    "thumb": (64 * 1024, ("jpg",), 40012),
}

MENU_TYPES = {
    "click": "key",
    "scancode_push": "key",
    "scancode_waitmsg": "key",
    "pic_sysphoto": "key",
    "pic_photo_or_album": "key",
    "pic_weixin": "key",
    "location_select": "key",
    "view": "url",
    "miniprogram": "url",
    "media_id": "media_id",
    "article_id": "article_id",
    "article_view_limited": "article_id",
}

routes = web.RouteTableDef()


class WxError(Exception):
    def __init__(self, errcode: int, detail: str = "") -> None:
        super().__init__(errcode)
        self.errcode = errcode
        self.detail = detail


def wx_error(errcode: int, detail: str = "") -> web.Response:
    msg = ERRMSG.get(errcode, "error")
    if detail:
        msg = f"{msg} {detail}"
    rid = f"{secrets.token_hex(4)}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"
    return web.json_response({"errcode": errcode, "errmsg": f"{msg} rid: {rid}"})


def _state(request: web.Request) -> WeChatState:
    return request.app[WECHAT_KEY]


def _log(state: WeChatState, api: str, request: web.Request, result: dict[str, Any]) -> None:
    state.api_calls.append({"api": api, "time": int(state.now()), **result})


def _fault(state: WeChatState, api: str, request: web.Request) -> web.Response | None:
    """The injected failure due for this call, if any (logged like a call)."""
    fault = state.take_fault(api)
    if fault is None:
        return None
    if fault.kind == "busy":
        _log(state, api, request, {"errcode": -1})
        return wx_error(-1)
    _log(state, api, request, {"errcode": None, "fault": fault.status})
    return web.Response(
        status=fault.status,
        text=f"<html><body><h1>{fault.status} Server Error</h1></body></html>",
        content_type="text/html",
    )


async def _guarded(request: web.Request, api: str, handler: Any) -> web.StreamResponse:
    """Faults, then the token check, then the handler; WxError becomes the JSON error."""
    state = _state(request)
    injected = _fault(state, api, request)
    if injected is not None:
        return injected
    try:
        if state.account is None:
            raise WxError(40013)
        code = state.check_token(request.query.get("access_token"))
        if code:
            raise WxError(code)
        result = await handler(request, state)
    except WxError as exc:
        _log(state, api, request, {"errcode": exc.errcode})
        return wx_error(exc.errcode, exc.detail)
    _log(state, api, request, {"errcode": 0})
    if isinstance(result, web.StreamResponse):
        return result
    return web.json_response(result)


async def _json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        raise WxError(44002)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise WxError(47001) from None
    if not isinstance(body, dict):
        raise WxError(47001)
    return body


def _user(state: WeChatState, body: dict[str, Any]) -> WeChatUser:
    user = state.users.get(str(body.get("touser") or ""))
    if user is None:
        raise WxError(40003)
    return user


# --- access token ---------------------------------------------------------------------------


@routes.get("/cgi-bin/token")
async def get_token(request: web.Request) -> web.Response:
    state = _state(request)
    injected = _fault(state, "token", request)
    if injected is not None:
        return injected
    q = request.query
    account = state.account
    if q.get("grant_type") != "client_credential":
        code = 40002
    elif not q.get("appid"):
        code = 41002
    elif not q.get("secret"):
        code = 41004
    elif account is None or q["appid"] != account.appid:
        code = 40013
    elif not secrets.compare_digest(q["secret"], account.secret):
        code = 40001
    elif state.token_calls.get(state.today(), 0) >= account.token_daily_limit:
        code = 45009
    else:
        code = 0
    if code:
        _log(state, "token", request, {"errcode": code})
        return wx_error(code)
    day = state.today()
    state.token_calls[day] = state.token_calls.get(day, 0) + 1
    tok = state.issue_token()
    _log(state, "token", request, {"errcode": 0})
    return web.json_response({"access_token": tok.value, "expires_in": 7200})


@routes.post("/cgi-bin/stable_token")
async def get_stable_token(request: web.Request) -> web.Response:
    """getStableAccessToken: POST JSON {grant_type, appid, secret, force_refresh}."""
    state = _state(request)
    injected = _fault(state, "stable_token", request)
    if injected is not None:
        return injected
    try:
        body = await _json_body(request)
    except WxError as exc:
        return wx_error(exc.errcode)
    account = state.account
    secret = str(body.get("secret") or "")
    if body.get("grant_type") != "client_credential":
        code = 40002
    elif not body.get("appid"):
        code = 41002
    elif not secret:
        code = 41004
    elif account is None or body["appid"] != account.appid:
        code = 40013
    elif not secrets.compare_digest(secret, account.secret):
        code = 40001
    else:
        code = 0
    tok = state.stable_token(bool(body.get("force_refresh"))) if code == 0 else None
    if code == 0 and tok is None:
        code = 45009  # the 20 forced refreshes of the day are used (the page names no code)
    _log(state, "stable_token", request, {"errcode": code})
    if tok is None:
        return wx_error(code)
    return web.json_response(
        {"access_token": tok.value, "expires_in": round(tok.expires_at - state.now())}
    )


# --- customer service messages ----------------------------------------------------------------


def _custom_content(state: WeChatState, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    mtype = body.get("msgtype")
    part = body.get(mtype) if isinstance(mtype, str) else None
    if mtype == "text":
        content = part.get("content") if isinstance(part, dict) else None
        if not isinstance(content, str) or not content:
            raise WxError(44004)
        return "text", {"text": content}
    if mtype == "image":
        media_id = part.get("media_id") if isinstance(part, dict) else None
        if not media_id:
            raise WxError(41006)
        if state.live_media(str(media_id)) is None:
            raise WxError(40007)
        return "image", {"media_id": media_id}
    if mtype == "msgmenu":
        assert state.account is not None
        if not state.account.msgmenu:
            raise WxError(40200)
        if not isinstance(part, dict):
            raise WxError(47001)
        items = part.get("list")
        if not isinstance(items, list) or not items:
            raise WxError(47001)
        options = []
        for item in items:
            if not isinstance(item, dict) or not item.get("id") or not item.get("content"):
                raise WxError(47001)
            options.append({"id": str(item["id"]), "content": str(item["content"])})
        return "msgmenu", {
            "head_content": str(part.get("head_content") or ""),
            "options": options,
            "tail_content": str(part.get("tail_content") or ""),
        }
    if mtype == "news":
        articles = part.get("articles") if isinstance(part, dict) else None
        if not isinstance(articles, list) or not articles:
            raise WxError(47001)
        return "news", {"articles": articles[:1]}
    raise WxError(40008)


async def _custom_send(request: web.Request, state: WeChatState) -> dict[str, Any]:
    body = await _json_body(request)
    user = _user(state, body)
    kind, data = _custom_content(state, body)
    code = state.consume(user)
    if code:
        raise WxError(code)
    state.add_entry(user, "bot", kind, "custom", **data)
    return {"errcode": 0, "errmsg": "ok"}


@routes.post("/cgi-bin/message/custom/send")
async def custom_send(request: web.Request) -> web.StreamResponse:
    return await _guarded(request, "message/custom/send", _custom_send)


# --- template messages ----------------------------------------------------------------------


async def _template_send(request: web.Request, state: WeChatState) -> dict[str, Any]:
    body = await _json_body(request)
    user = _user(state, body)
    assert state.account is not None
    tpl = state.account.templates.get(str(body.get("template_id") or ""))
    if tpl is None:
        raise WxError(40037)
    data = body.get("data")
    if not isinstance(data, dict):
        raise WxError(47001)
    values: dict[str, str] = {}
    for key, item in data.items():
        value = item.get("value") if isinstance(item, dict) else None
        if not isinstance(value, str):
            raise WxError(47003, f"data.{key}.value invalid")
        values[key] = value
    for key in tpl.keys():
        if not values.get(key):
            raise WxError(47003, f"data.{key}.value empty")
    if not user.subscribed:
        raise WxError(43004)
    msgid = state.next_msg_id()
    rendered = tpl.content
    if rendered is not None:
        for key, value in values.items():
            rendered = rendered.replace("{{" + key + ".DATA}}", value)
    state.add_entry(
        user,
        "bot",
        "template",
        "template",
        template_id=tpl.template_id,
        title=tpl.title,
        data=values,
        rendered=rendered,
        url=body.get("url"),
        msgid=msgid,
    )
    return {"errcode": 0, "errmsg": "ok", "msgid": msgid}


@routes.post("/cgi-bin/message/template/send")
async def template_send(request: web.Request) -> web.StreamResponse:
    return await _guarded(request, "message/template/send", _template_send)


# --- temporary media ------------------------------------------------------------------------


async def _media_upload(request: web.Request, state: WeChatState) -> dict[str, Any]:
    mtype = request.query.get("type", "")
    rule = MEDIA_RULES.get(mtype)
    if rule is None:
        raise WxError(40004)
    max_bytes, extensions, too_large = rule
    data = b""
    filename = ""
    content_type = "application/octet-stream"
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader) and part.name == "media":
                filename = part.filename or ""
                content_type = part.headers.get("Content-Type", content_type)
                data = await part.read()
                break
    if not data:
        raise WxError(41005)
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in extensions:
        raise WxError(40005)
    if len(data) > max_bytes:
        raise WxError(too_large)
    media = state.store_media(mtype, bytes(data), content_type, filename)
    return {"type": mtype, "media_id": media.media_id, "created_at": media.created_at}


@routes.post("/cgi-bin/media/upload")
async def media_upload(request: web.Request) -> web.StreamResponse:
    return await _guarded(request, "media/upload", _media_upload)


async def _media_get(request: web.Request, state: WeChatState) -> web.Response:
    media_id = request.query.get("media_id")
    if not media_id:
        raise WxError(41006)
    media = state.live_media(media_id)
    if media is None:
        raise WxError(40007)
    return web.Response(
        body=media.data,
        content_type=media.content_type.split(";")[0],
        headers={"Content-Disposition": f'attachment; filename="{media.filename}"'},
    )


@routes.get("/cgi-bin/media/get")
async def media_get(request: web.Request) -> web.StreamResponse:
    """获取临时素材: the file itself (a user's photo, or one the bot uploaded) for 3 days."""
    return await _guarded(request, "media/get", _media_get)


# --- custom menu ----------------------------------------------------------------------------


def _bytes(value: Any) -> int:
    return len(str(value).encode())


def validate_menu(buttons: Any) -> int:
    """0 for a menu WeChat accepts, else the errcode of the first violation."""
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        return 40016
    for button in buttons:
        if not isinstance(button, dict):
            return 40017
        name = button.get("name")
        if not isinstance(name, str) or not name or _bytes(name) > 16:
            return 40018
        subs = button.get("sub_button")
        if isinstance(subs, dict):  # menu/get's own shape {"list": [...]} is accepted too
            subs = subs.get("list")
        if subs:
            if not isinstance(subs, list) or len(subs) > 5:
                return 40023
            for sub in subs:
                code = _check_leaf(sub, sub=True)
                if code:
                    return code
        else:
            code = _check_leaf(button, sub=False)
            if code:
                return code
    return 0


def _check_leaf(button: Any, *, sub: bool) -> int:
    type_err, name_err, key_err, url_err = (
        (40024, 40025, 40026, 40027) if sub else (40017, 40018, 40019, 40020)
    )
    if not isinstance(button, dict):
        return type_err
    name = button.get("name")
    if not isinstance(name, str) or not name or _bytes(name) > (60 if sub else 16):
        return name_err
    needed = MENU_TYPES.get(str(button.get("type")))
    if needed is None:
        return type_err
    value = button.get(needed)
    if needed == "key" and (not value or _bytes(value) > 128):
        return key_err
    if needed == "url" and (not value or _bytes(value) > 1024):
        return url_err
    if needed in ("media_id", "article_id") and not value:
        return 47001
    return 0


def _normal_button(button: dict[str, Any]) -> dict[str, Any]:
    subs = button.get("sub_button") or []
    if isinstance(subs, dict):
        subs = subs.get("list") or []
    out = {k: v for k, v in button.items() if k != "sub_button"}
    out["sub_button"] = [{**s, "sub_button": []} for s in subs]
    return out


async def _menu_create(request: web.Request, state: WeChatState) -> dict[str, Any]:
    body = await _json_body(request)
    code = validate_menu(body.get("button"))
    if code:
        raise WxError(code)
    state.menu = [_normal_button(b) for b in body["button"]]
    state.notify()
    return {"errcode": 0, "errmsg": "ok"}


async def _menu_get(request: web.Request, state: WeChatState) -> dict[str, Any]:
    if state.menu is None:
        raise WxError(46003)
    return {"menu": {"button": state.menu}}


async def _menu_delete(request: web.Request, state: WeChatState) -> dict[str, Any]:
    state.menu = None
    state.notify()
    return {"errcode": 0, "errmsg": "ok"}


@routes.post("/cgi-bin/menu/create")
async def menu_create(request: web.Request) -> web.StreamResponse:
    return await _guarded(request, "menu/create", _menu_create)


@routes.get("/cgi-bin/menu/get")
async def menu_get(request: web.Request) -> web.StreamResponse:
    return await _guarded(request, "menu/get", _menu_get)


@routes.get("/cgi-bin/menu/delete")
async def menu_delete(request: web.Request) -> web.StreamResponse:
    return await _guarded(request, "menu/delete", _menu_delete)
