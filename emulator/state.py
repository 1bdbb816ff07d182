"""In-memory world of the emulator: users, bots, chats, messages, files, updates, faults, stats."""

from __future__ import annotations

import asyncio
import hashlib
import math
import secrets
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from emulator.config import EmulatorConfig, RateLimitConfig

# Update kinds Telegram sends when allowed_updates is empty or unset.
DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)


@dataclass
class User:
    """A Telegram user; in a private chat the chat id equals the user id."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def as_user(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data

    def as_chat(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        for key in ("last_name", "username"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data


@dataclass
class StoredFile:
    """Bytes the bot or a user uploaded, addressable by file_id and by download path."""

    file_id: str
    file_unique_id: str
    data: bytes
    kind: str  # "document", "photo" or "sticker"
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None

    def as_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
        }
        if self.file_name:
            doc["file_name"] = self.file_name
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        return doc

    def as_photo(self) -> list[dict[str, Any]]:
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": len(self.data),
                "width": self.width or 0,
                "height": self.height or 0,
            }
        ]


@dataclass
class StoredMessage:
    """One message in a private chat, as it currently stands (edits applied in place)."""

    message_id: int
    chat_id: int
    from_bot: bool
    date: int
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    document: StoredFile | None = None
    photo: StoredFile | None = None
    sticker: dict[str, Any] | None = None
    contact: dict[str, Any] | None = None  # a shared contact (phone_number, first_name, user_id)
    reply_to_message_id: int | None = None
    edit_date: int | None = None
    deleted: bool = False

    def to_api(self, bot: BotState, user: User, *, with_reply: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "from": bot.as_user() if self.from_bot else user.as_user(),
            "chat": user.as_chat(),
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.document is not None:
            data["document"] = self.document.as_document()
        if self.photo is not None:
            data["photo"] = self.photo.as_photo()
        if self.sticker is not None:
            data["sticker"] = self.sticker
        if self.contact is not None:
            data["contact"] = self.contact
        if self.caption is not None:
            data["caption"] = self.caption
            if self.caption_entities:
                data["caption_entities"] = self.caption_entities
        if self.reply_markup is not None and "inline_keyboard" in self.reply_markup:
            data["reply_markup"] = self.reply_markup
        if with_reply and self.reply_to_message_id is not None:
            chat = bot.chats.get(self.chat_id)
            target = chat.messages.get(self.reply_to_message_id) if chat else None
            if target is not None and not target.deleted:
                data["reply_to_message"] = target.to_api(bot, user, with_reply=False)
        return data

    def snapshot(self) -> dict[str, Any]:
        """The transcript view used by tests and the chat page."""
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "sender": "bot" if self.from_bot else "user",
            "date": self.date,
            "text": self.text,
            "entities": self.entities,
            "caption": self.caption,
            "keyboard": (self.reply_markup or {}).get("inline_keyboard"),
            "edited": self.edit_date is not None,
            "edit_date": self.edit_date,
            "deleted": self.deleted,
            "reply_to_message_id": self.reply_to_message_id,
            "document": None,
            "photo": None,
            "sticker": self.sticker,
            "contact": self.contact,
        }
        if self.document is not None:
            data["document"] = {**self.document.as_document(), "file_path": self.document.file_path}
        if self.photo is not None:
            data["photo"] = {**self.photo.as_photo()[0], "file_path": self.photo.file_path}
        return data


@dataclass
class BotEvent:
    """Something the bot did in a chat, which control-API waiters count."""

    seq: int
    kind: str  # "sent", "edited" or "deleted"
    message_id: int


@dataclass
class ChatState:
    """One bot's view of its private chat with a user."""

    user: User
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    started: bool = False
    blocked: bool = False
    reply_keyboard: dict[str, Any] | None = None
    events: list[BotEvent] = field(default_factory=list)
    wait_cursor: int = 0
    last_action: str | None = None
    last_action_at: float = 0.0

    def new_message_id(self) -> int:
        mid = self.next_message_id
        self.next_message_id += 1
        return mid


@dataclass
class CallbackRecord:
    """A callback query a user caused, and the bot's answer once given."""

    id: str
    user_id: int
    message_id: int
    data: str
    created_at: float
    update_id: int
    answer: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "callback_query_id": self.id,
            "user_id": self.user_id,
            "message_id": self.message_id,
            "data": self.data,
            "update_id": self.update_id,
            "answered": self.answer is not None,
            "answer": self.answer,
        }


FAULT_KINDS = ("429", "500", "502", "drop", "drop_after", "403", "delay")


@dataclass
class Fault:
    """Injected failure for the next `remaining` calls of a method (None: until cleared)."""

    method: str  # lower-case method name or "*"
    kind: str
    remaining: int | None = 1
    chat_id: int | None = None
    retry_after: int = 1
    description: str | None = None
    # kind "delay": the call is answered normally, `delay` seconds late (a slow Telegram).
    delay: float = 0.0

    def matches(self, method: str, chat_id: int | None) -> bool:
        if self.method not in ("*", method.lower()):
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "kind": self.kind,
            "remaining": self.remaining,
            "chat_id": self.chat_id,
            "retry_after": self.retry_after,
            "description": self.description,
            "delay": self.delay,
        }


class _Bucket:
    """Token bucket: `capacity` requests at once, refilled at `rate` per second."""

    def __init__(self, capacity: float, rate: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.stamp = time.monotonic()

    def wait_needed(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class RateLimiter:
    """Overall and per-chat flood limits for one bot."""

    def __init__(self) -> None:
        self._global: _Bucket | None = None
        self._chats: dict[int, _Bucket] = {}
        self._settings: tuple[float, float, int] | None = None

    def check(self, cfg: RateLimitConfig, chat_id: int | None) -> int | None:
        """Consume one send; return seconds to wait if the limit is exceeded, else None."""
        if not cfg.enabled:
            return None
        settings = (cfg.global_per_second, cfg.per_chat_per_second, cfg.per_chat_burst)
        if settings != self._settings or self._global is None:
            # New settings start from full buckets, like a fresh server would.
            self._settings = settings
            self._global = _Bucket(max(1.0, cfg.global_per_second), cfg.global_per_second)
            self._chats = {}
        now = time.monotonic()
        waits = [self._global.wait_needed(now)]
        chat_bucket = None
        if chat_id is not None:
            chat_bucket = self._chats.get(chat_id)
            if chat_bucket is None:
                chat_bucket = _Bucket(max(1, cfg.per_chat_burst), cfg.per_chat_per_second)
                self._chats[chat_id] = chat_bucket
            waits.append(chat_bucket.wait_needed(now))
        wait = max(waits)
        if wait > 0:
            return max(1, math.ceil(wait))
        self._global.tokens -= 1
        if chat_bucket is not None:
            chat_bucket.tokens -= 1
        return None


class Stats:
    """Counters a test or operator can read through /control/stats."""

    WINDOW = 120

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.errors: Counter[int] = Counter()
        self.rate_limited_429 = 0
        self.injected_429 = 0
        self.messages_sent = 0
        self.updates_dropped = 0
        # getUpdates answers: updates handed out, and answers that held none (a timeout, or
        # a poll woken by a change that brought no update).
        self.updates_delivered = 0
        self.empty_polls = 0
        self._sends: deque[tuple[int, int | None]] = deque()
        # When each method was last called (time.time(), the newest CALL_TIMES per method):
        # lets a test check a lower bound on the pause between two calls.
        self.call_times: dict[str, deque[float]] = {}

    CALL_TIMES = 50

    def record_call(self, method: str) -> None:
        times = self.call_times.setdefault(method, deque(maxlen=self.CALL_TIMES))
        times.append(time.time())

    def record_send(self, chat_id: int | None) -> None:
        self.messages_sent += 1
        now = int(time.time())
        self._sends.append((now, chat_id))
        while self._sends and self._sends[0][0] < now - self.WINDOW:
            self._sends.popleft()

    def as_dict(self) -> dict[str, Any]:
        per_second: Counter[int] = Counter()
        per_chat_second: Counter[tuple[int, int | None]] = Counter()
        for second, chat in self._sends:
            per_second[second] += 1
            per_chat_second[(second, chat)] += 1
        return {
            "requests": dict(self.requests),
            "errors": {str(k): v for k, v in self.errors.items()},
            "responses_429": self.rate_limited_429 + self.injected_429,
            "rate_limited_429": self.rate_limited_429,
            "injected_429": self.injected_429,
            "messages_sent": self.messages_sent,
            "updates_dropped": self.updates_dropped,
            "updates_delivered": self.updates_delivered,
            "empty_polls": self.empty_polls,
            "sent_per_second": [{"second": s, "count": c} for s, c in sorted(per_second.items())],
            "max_sent_per_second": max(per_second.values(), default=0),
            "max_sent_per_chat_per_second": max(per_chat_second.values(), default=0),
            "call_times": {m: list(t) for m, t in self.call_times.items()},
        }


@dataclass
class WebhookSettings:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


def _bot_id_from_token(token: str) -> int:
    head = token.split(":", 1)[0]
    if head.isdigit() and 0 < len(head) < 16:
        return int(head)
    # Tokens without Telegram's "<id>:<secret>" shape still need a stable bot id.
    return 7_000_000_000 + int(hashlib.sha256(token.encode()).hexdigest()[:8], 16) % 1_000_000


class BotState:
    """Everything one bot token owns: chats, pending updates, files, commands, faults, stats."""

    def __init__(self, token: str, config: EmulatorConfig) -> None:
        self.token = token
        self.id = _bot_id_from_token(token)
        self.first_name = config.bot_first_name
        self.username = config.bot_username or f"emulator_{self.id}_bot"
        self.chats: dict[int, ChatState] = {}
        self.updates: list[dict[str, Any]] = []
        self.next_update_id = config.first_update_id
        self.allowed_updates: list[str] | None = None
        self.webhook: WebhookSettings | None = None
        self.webhook_worker: Any = None
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.properties: dict[str, Any] = {}
        self.faults: list[Fault] = []
        self.stats = Stats()
        self.limiter = RateLimiter()
        self.poll_generation = 0
        self.closing = False
        self._event_seq = 0
        self._changed = asyncio.Event()

    def clear(self) -> None:
        """Drop chats, updates, files and counters; keep identity, update ids and webhook."""
        self.chats.clear()
        self.updates.clear()
        self.files.clear()
        self.files_by_path.clear()
        self.callbacks.clear()
        self.commands.clear()
        self.menu_buttons.clear()
        self.properties.clear()
        self.faults.clear()
        self.stats = Stats()
        self.limiter = RateLimiter()
        self.notify()

    # --- change notification -------------------------------------------------------------
    def notify(self) -> None:
        """Wake every waiter (long polls, control waits, webhook worker)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_change(self, seconds: float) -> None:
        if seconds <= 0:
            return
        event = self._changed
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            pass

    # --- identity ----------------------------------------------------------------------
    def as_user(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    # --- chats and events ----------------------------------------------------------------
    def chat(self, user: User) -> ChatState:
        chat = self.chats.get(user.id)
        if chat is None:
            chat = ChatState(user=user)
            self.chats[user.id] = chat
        return chat

    def add_event(self, chat: ChatState, kind: str, message_id: int) -> None:
        self._event_seq += 1
        chat.events.append(BotEvent(self._event_seq, kind, message_id))
        self.notify()

    # --- updates -------------------------------------------------------------------------
    def push_update(self, kind: str, payload: dict[str, Any]) -> int | None:
        """Queue an update unless the bot's allowed_updates excludes its kind."""
        allowed = self.webhook.allowed_updates if self.webhook else self.allowed_updates
        allowed_set = frozenset(allowed) if allowed else DEFAULT_ALLOWED_UPDATES
        if kind not in allowed_set:
            self.stats.updates_dropped += 1
            return None
        update_id = self.next_update_id
        self.next_update_id += 1
        self.updates.append({"update_id": update_id, kind: payload})
        self.notify()
        return update_id

    # --- files ---------------------------------------------------------------------------
    def store_file(
        self,
        data: bytes,
        kind: str,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> StoredFile:
        digest = hashlib.sha256(data).hexdigest()
        number = len(self.files) + 1
        folder = {"document": "documents", "photo": "photos", "sticker": "stickers"}[kind]
        suffix = ""
        if file_name and "." in file_name:
            suffix = "." + file_name.rsplit(".", 1)[1]
        elif kind == "photo":
            suffix = ".jpg"
        stored = StoredFile(
            file_id=f"{kind[:3].upper()}{self.id}_{secrets.token_urlsafe(18)}",
            file_unique_id=f"U{digest[:14]}",
            data=data,
            kind=kind,
            file_path=f"{folder}/file_{number}{suffix}",
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored


class EmulatorState:
    """The whole emulator: global users plus one BotState per token."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.users: dict[int, User] = {}
        self.bots: dict[str, BotState] = {}
        self.last_token: str | None = None
        # Seconds added to wall time by /control/clock, so message dates follow the demo clock.
        self.clock_offset = 0.0
        self.on_clock = config.on_clock
        self._next_user_id = 100_000_001

    def now(self) -> int:
        return int(time.time() + self.clock_offset)

    def register_clock(self, hook: Any) -> None:
        """Register the embedding program's clock hook used by POST /control/clock."""
        self.on_clock = hook

    def bot(self, token: str) -> BotState:
        bot = self.bots.get(token)
        if bot is None:
            bot = BotState(token, self.config)
            self.bots[token] = bot
        return bot

    def resolve_bot(self, token: str | None) -> BotState | None:
        """The bot a control call means: explicit token, configured default, or the last seen."""
        token = token or self.config.default_token or self.last_token
        if token is None:
            return None
        return self.bot(token)

    def add_user(
        self,
        user_id: int | None = None,
        first_name: str = "Student",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
    ) -> User:
        if user_id is None:
            while self._next_user_id in self.users:
                self._next_user_id += 1
            user_id = self._next_user_id
        user = User(user_id, first_name, last_name, username, language_code)
        existing = self.users.get(user_id)
        if existing is not None:
            # Updating in place keeps chats, which hold a reference to the same object.
            existing.first_name, existing.last_name = first_name, last_name
            existing.username, existing.language_code = username, language_code
            return existing
        self.users[user_id] = user
        return user

    def reset(self) -> None:
        """Forget users and everything that happened, but keep connected bots working."""
        for bot in self.bots.values():
            bot.clear()
        self.users.clear()
        self.clock_offset = 0.0
