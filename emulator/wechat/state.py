"""What the WeChat side of the emulator remembers: the account, its users and their chats.

One Official Account (服务号) per emulator, configured through the control API. Times are the
emulator's clock (wall time plus the offset `advance_clock` adds), in seconds.

Rules kept here and where they come from (WeChat developer documentation):

- getStableAccessToken (POST /cgi-bin/stable_token): isolated from the other token; the normal
  mode returns the same token until its last 5 minutes; force_refresh invalidates the previous
  one, at most 20 a day and 30 s apart.
- 获取 Access token: a token lives 7200 s (``expires_in``); getting a new one invalidates the
  previous one, which the platform keeps usable for 5 more minutes ("在刷新过程中...保证在5分钟内，
  新老access_token都可用"); a daily call limit answers 45009 (the account's default 2000 a day).
- 客服消息 (sendCustomMessage) 各场景的客服消息下发规则: a user's message grants 5 messages for
  48 hours; a menu click (click event), a subscription or a QR scan grant 3 for 1 minute.
  Nothing live → 45015 (response out of time limit or subscription is canceled); live grants all
  used → 45047 (out of response count limit). A new action of a kind restarts that kind's grant.
- 新增临时素材: media_id valid for 3 days.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulator.wechat import crypto

TOKEN_TTL = 7200
TOKEN_OVERLAP = 300  # old and new token both valid for 5 minutes after a refresh
MEDIA_TTL = 3 * 24 * 3600
SYSTEM_ERROR_TEXT = "该公众号暂时无法提供服务，请稍后再试"

# kind -> (messages allowed, seconds valid): the table of 各场景的客服消息下发规则.
GRANTS: dict[str, tuple[int, int]] = {
    "message": (5, 48 * 3600),
    "click": (3, 60),
    "subscribe": (3, 60),
    "scan": (3, 60),
}


@dataclass
class Template:
    """A template registered for the account (模板库 in the admin console)."""

    template_id: str
    title: str = "模板消息"
    # The template's content with {{key.DATA}} placeholders; None accepts any data keys.
    content: str | None = None

    def keys(self) -> list[str]:
        if self.content is None:
            return []
        return re.findall(r"\{\{(\w+)\.DATA\}\}", self.content)

    def as_dict(self) -> dict[str, Any]:
        return {"template_id": self.template_id, "title": self.title, "content": self.content}


@dataclass
class Account:
    """The Official Account's settings (基本配置 and 服务器配置 in the admin console)."""

    appid: str
    secret: str
    token: str
    encoding_aes_key: str | None = None
    mode: str = "plain"  # "plain" (明文模式), "compat" (兼容模式) or "safe" (安全模式)
    url: str | None = None  # the bot's server URL (服务器地址)
    original_id: str = "gh_0123456789ab"  # 原始ID: ToUserName of pushes
    name: str = "CET 报名助手"
    templates: dict[str, Template] = field(default_factory=dict)
    msgmenu: bool = True  # 菜单消息 needs a verified Service Account
    push_timeout: float = 5.0
    push_tries: int = 3
    token_daily_limit: int = 2000

    def public(self) -> dict[str, Any]:
        return {
            "appid": self.appid,
            "secret": self.secret,
            "token": self.token,
            "encoding_aes_key": self.encoding_aes_key,
            "mode": self.mode,
            "url": self.url,
            "original_id": self.original_id,
            "name": self.name,
            "templates": [t.as_dict() for t in self.templates.values()],
            "msgmenu": self.msgmenu,
            "push_timeout": self.push_timeout,
            "push_tries": self.push_tries,
            "token_daily_limit": self.token_daily_limit,
        }


@dataclass
class AccessToken:
    value: str
    issued_at: float
    expires_at: float
    # Set when a newer token was issued: usable until then (5-minute overlap), then 40001.
    superseded_until: float | None = None
    invalidated: bool = False  # a fault (or a forced stable refresh): answers 40001 at once
    kind: str = "token"  # "token" (getAccessToken) or "stable" (getStableAccessToken)


@dataclass
class Grant:
    kind: str
    granted_at: float
    expires_at: float
    limit: int
    used: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "granted_at": self.granted_at,
            "expires_at": self.expires_at,
            "limit": self.limit,
            "used": self.used,
        }


@dataclass
class Media:
    media_id: str
    type: str
    data: bytes
    content_type: str
    filename: str
    created_at: int


@dataclass
class Entry:
    """One line of a user's chat as the user sees it."""

    seq: int
    time: int
    direction: str  # "user", "bot" or "system"
    kind: str  # text, image, msgmenu, template, event, error
    via: str  # user, passive, custom, template, system
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "direction": self.direction,
            "kind": self.kind,
            "via": self.via,
            **self.data,
        }


@dataclass
class WeChatUser:
    openid: str
    nickname: str
    subscribed: bool = True
    grants: dict[str, Grant] = field(default_factory=dict)
    entries: list[Entry] = field(default_factory=list)
    cursor: int = 0  # entries[:cursor] were already returned by a wait

    def public(self) -> dict[str, Any]:
        return {"openid": self.openid, "nickname": self.nickname, "subscribed": self.subscribed}


@dataclass
class ApiFault:
    """An injected failure of the next `count` calls of `api` ("*" = any)."""

    kind: str  # "5xx" (HTTP status, HTML body) or "busy" (errcode -1)
    api: str = "*"
    count: int = 1
    status: int = 503


def _openid() -> str:
    # Real OpenIDs are 28 characters starting with "o".
    return "o" + secrets.token_urlsafe(20)[:27]


class WeChatState:
    """All WeChat data of one running emulator; `clock` gives the emulator's time."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.account: Account | None = None
        self.tokens: dict[str, AccessToken] = {}
        self.token_calls: dict[str, int] = {}  # day (YYYY-MM-DD of the emulator clock) -> calls
        self.stable_forced: dict[str, int] = {}  # day -> forced stable-token refreshes
        self.stable_forced_at = float("-inf")
        self.users: dict[str, WeChatUser] = {}
        self.media: dict[str, Media] = {}
        self.menu: list[dict[str, Any]] | None = None
        self.faults: list[ApiFault] = []
        self.api_calls: list[dict[str, Any]] = []
        self.pushes: list[dict[str, Any]] = []
        self._seq = 0
        self._msg_id = 24_000_000_000_000_000 + secrets.randbelow(10**15)
        self._changed = asyncio.Event()

    # --- clock --------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock()

    def today(self) -> str:
        return time.strftime("%Y-%m-%d", time.gmtime(self.now() + 8 * 3600))  # Beijing day

    # --- account and users ------------------------------------------------------------------
    def configure(self, data: dict[str, Any]) -> Account:
        templates: dict[str, Template] = {}
        raw = data.get("templates") or []
        if isinstance(raw, dict):
            raw = [{"template_id": k, **(v or {})} for k, v in raw.items()]
        for item in raw:
            if isinstance(item, str):
                item = {"template_id": item}
            tpl = Template(
                template_id=str(item["template_id"]),
                title=str(item.get("title") or "模板消息"),
                content=item.get("content"),
            )
            templates[tpl.template_id] = tpl
        mode = str(data.get("mode") or "plain")
        if mode not in ("plain", "compat", "safe"):
            raise ValueError("mode must be 'plain', 'compat' or 'safe'")
        aes = data.get("encoding_aes_key") or (
            crypto.new_encoding_aes_key() if mode != "plain" else None
        )
        if aes is not None:
            crypto.aes_key(aes)  # refuse a key that cannot work
        account = Account(
            appid=str(data.get("appid") or "wx" + secrets.token_hex(8)),
            # No public default secret: an unnamed secret or token is random.
            secret=str(data.get("secret") or secrets.token_hex(16)),
            token=str(data.get("token") or secrets.token_urlsafe(16)),
            encoding_aes_key=aes,
            mode=mode,
            url=data.get("url"),
            original_id=str(data.get("original_id") or "gh_0123456789ab"),
            name=str(data.get("name") or "CET 报名助手"),
            templates=templates,
            msgmenu=bool(data.get("msgmenu", True)),
            push_timeout=float(data.get("push_timeout", 5.0)),
            push_tries=int(data.get("push_tries", 3)),
            token_daily_limit=int(data.get("token_daily_limit", 2000)),
        )
        if account.push_timeout <= 0 or account.push_tries < 1:
            raise ValueError("push_timeout must be > 0 and push_tries >= 1")
        self.account = account
        self.tokens.clear()
        self.token_calls.clear()
        self.notify()
        return account

    def update_account(self, data: dict[str, Any]) -> Account:
        """Change some settings of the configured account (url, mode, timeouts...)."""
        if self.account is None:
            raise LookupError("no account configured")
        merged = self.account.public()
        merged.update({k: v for k, v in data.items() if v is not None})
        tokens, calls = dict(self.tokens), dict(self.token_calls)
        account = self.configure(merged)
        self.tokens, self.token_calls = tokens, calls
        return account

    def user(self, openid: str | None, nickname: str | None = None) -> WeChatUser:
        """The user with this openid, created (and subscribed) on first use."""
        oid = openid or _openid()
        user = self.users.get(oid)
        if user is None:
            user = WeChatUser(openid=oid, nickname=nickname or f"同学{len(self.users) + 1}")
            self.users[oid] = user
        elif nickname:
            user.nickname = nickname
        return user

    def next_msg_id(self) -> int:
        self._msg_id += 1 + secrets.randbelow(1000)
        return self._msg_id

    # --- transcript ---------------------------------------------------------------------
    def add_entry(
        self, user: WeChatUser, direction: str, kind: str, via: str, **data: Any
    ) -> Entry:
        self._seq += 1
        entry = Entry(self._seq, int(self.now()), direction, kind, via, data)
        user.entries.append(entry)
        self.notify()
        return entry

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_change(self, seconds: float) -> None:
        """Return when something changed, or after `seconds`."""
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)

    # --- quotas -------------------------------------------------------------------------
    def grant(self, user: WeChatUser, kind: str) -> None:
        limit, ttl = GRANTS[kind]
        now = self.now()
        user.grants[kind] = Grant(kind, now, now + ttl, limit)

    def consume(self, user: WeChatUser) -> int:
        """Use one custom-message slot: 0, or the errcode (45015, 45047) that refuses it."""
        if not user.subscribed:
            return 45015
        now = self.now()
        live = [g for g in user.grants.values() if g.expires_at > now]
        if not live:
            return 45015
        open_ = [g for g in live if g.used < g.limit]
        if not open_:
            return 45047
        min(open_, key=lambda g: g.expires_at).used += 1
        return 0

    # --- tokens -------------------------------------------------------------------------
    def issue_token(self, kind: str = "token") -> AccessToken:
        """A new token of this kind; the previous ones of the same kind stay usable 5 minutes
        (the two kinds are "完全隔离，互不影响")."""
        now = self.now()
        for tok in self.tokens.values():
            if tok.kind == kind and tok.superseded_until is None:
                tok.superseded_until = now + TOKEN_OVERLAP
        tok = AccessToken(
            value=secrets.token_urlsafe(96)[:128],
            issued_at=now,
            expires_at=now + TOKEN_TTL,
            kind=kind,
        )
        self.tokens[tok.value] = tok
        return tok

    def stable_token(self, force_refresh: bool) -> AccessToken | None:
        """getStableAccessToken: the current stable token, renewed in its last 5 minutes;
        force_refresh invalidates it at once (at most 20 a day, 30 s apart: a forced call
        sooner returns the current token). None when today's 20 forced refreshes are used."""
        now = self.now()
        live = [
            t for t in self.tokens.values() if t.kind == "stable" and self.check_token(t.value) == 0
        ]
        current = max(live, key=lambda t: t.issued_at) if live else None
        if force_refresh:
            if current is not None and now - self.stable_forced_at < 30:
                return current
            day = self.today()
            if self.stable_forced.get(day, 0) >= 20:
                return None
            self.stable_forced[day] = self.stable_forced.get(day, 0) + 1
            self.stable_forced_at = now
            for tok in live:
                tok.invalidated = True
            return self.issue_token("stable")
        if current is not None and current.expires_at - now > TOKEN_OVERLAP:
            return current
        return self.issue_token("stable")

    def check_token(self, value: str | None) -> int:
        """0 when the token may call, else 41001 (missing), 40001 (invalid), 42001 (expired)."""
        if not value:
            return 41001
        tok = self.tokens.get(value)
        if tok is None or tok.invalidated:
            return 40001
        now = self.now()
        if tok.superseded_until is not None and now >= tok.superseded_until:
            return 40001
        if now >= tok.expires_at:
            return 42001
        return 0

    def invalidate_tokens(self) -> int:
        n = 0
        for tok in self.tokens.values():
            if not tok.invalidated:
                tok.invalidated = True
                n += 1
        return n

    # --- media --------------------------------------------------------------------------
    def store_media(self, mtype: str, data: bytes, content_type: str, filename: str) -> Media:
        media = Media(
            media_id=secrets.token_urlsafe(48)[:64],
            type=mtype,
            data=data,
            content_type=content_type,
            filename=filename,
            created_at=int(self.now()),
        )
        self.media[media.media_id] = media
        return media

    def live_media(self, media_id: str | None) -> Media | None:
        media = self.media.get(media_id or "")
        if media is None or self.now() >= media.created_at + MEDIA_TTL:
            return None
        return media

    # --- faults -------------------------------------------------------------------------
    def take_fault(self, api: str) -> ApiFault | None:
        for fault in self.faults:
            if fault.api in ("*", api) and fault.count != 0:
                if fault.count > 0:
                    fault.count -= 1
                if fault.count == 0:
                    self.faults.remove(fault)
                return fault
        return None

    def reset(self) -> None:
        self.account = None
        self.tokens.clear()
        self.token_calls.clear()
        self.stable_forced.clear()
        self.stable_forced_at = float("-inf")
        self.users.clear()
        self.media.clear()
        self.menu = None
        self.faults.clear()
        self.api_calls.clear()
        self.pushes.clear()
        self.notify()
