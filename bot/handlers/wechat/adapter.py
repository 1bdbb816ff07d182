"""The WeChat Official Account adapter: pushes -> Events for the engine, a step's Actions ->
one passive reply within WeChat's 5 seconds, or customer-service messages within the quota.

Intake (`routes`): GET answers the URL check (`echostr`); POST takes a push, plain or in
safe mode, refused unless signed with the Token and fresh. A push is keyed by its MsgId
(events: FromUserName + CreateTime) into a stable update id, so a push WeChat retries is
applied once: in this process the retry waits for the same answer, in another the
engine's processed update ids say it was applied.

Replies: the push waits for its step up to `reply_budget` seconds. A reply that is one
message a passive reply can carry goes back in the HTTP answer; anything else (a menu
message, several messages, a step slower than the budget) is answered `success` and sent
as customer-service messages, counted per user in the database so that no process
exceeds the quota of the user's last action; a refusal leaves the reply kept (see
bot/conversation/replies.py) for when the user writes again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import web

from bot.conversation.types import (
    Action,
    Event,
    EventKind,
    Notice,
    Performer,
    SendDocument,
    SendPhoto,
    SendResult,
    SendText,
)
from bot.handlers import BotCommandText, PlatformUnreachable, TokenRejected
from bot.handlers.events import split_command
from bot.handlers.runner import ConversationEngine, EventRunner
from bot.handlers.wechat import protocol
from bot.handlers.wechat.api import (
    NOT_FOLLOWING,
    OUT_OF_QUOTA,
    OUT_OF_WINDOW,
    WeChatApi,
    WeChatError,
    WeChatUnreachable,
)
from bot.handlers.wechat.folding import Choice, DocumentOut, ImageOut, Out, TextOut, fold
from bot.handlers.wechat.store import PLATFORM, WINDOW_EVENTS, DatabaseTokenStore, Users
from bot.handlers.wechat.templates import template_message
from foundation.i18n import t
from foundation.settings import Settings
from storage.db import Database

log = logging.getLogger(__name__)

# WeChat waits 5 seconds for the answer to a push; the reply must be on its way before.
REPLY_BUDGET = 4.0
# A push body is a few hundred bytes; nothing legitimate comes near this.
MAX_BODY = 64 * 1024
# Push ids answered by this process lately: a retry of one is answered at once.
MAX_RECENT = 20_000
# platform_users.external_id is VARCHAR(128).
MAX_OPENID = 128
# Custom menu keys: `cmd:<command>` is that command.
MENU_COMMANDS = ("start", "help", "language", "cancel")
# Images of one step's documents (tickets) at most: with the text of their links and the
# step's menu, what the 5 messages of one user message can carry.
MAX_IMAGES = 3
# Numbered options are answered with this many digits at most.
_DIGITS = re.compile(r"\s*(\d{1,2})\s*")
_CJK = re.compile(r"[\u4e00-\u9fff]")

DocumentHook = Callable[[SendDocument], Awaitable[list[Action]]]


class PushClock:
    """The protocol's time (push timestamps, quota windows, token expiry): the wall clock,
    moved on only where a test or the demo moves the emulator's clock with it."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, hours: float = 0.0, seconds: float = 0.0) -> None:
        self.offset += hours * 3600 + seconds


@dataclass(frozen=True, slots=True)
class Prepared:
    """One outgoing message: as a customer-service message, and as a passive reply when
    one can carry it (a menu message cannot)."""

    custom: dict[str, Any]
    passive: protocol.Passive | None
    # The choices it offers (payloads, offer number), remembered once it is out: the
    # reply to a step that could not be sent must not change what a digit means.
    offer: tuple[list[str], int] | None = None


@dataclass
class Slot:
    """The HTTP answer of one push: its handlers wait here for the passive reply."""

    answer: asyncio.Future[protocol.Passive | None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    waiting: int = 0
    claimed: bool = False

    @property
    def open(self) -> bool:
        return self.waiting > 0 and not self.answer.done()

    def give(self, passive: protocol.Passive | None) -> None:
        if not self.answer.done():
            self.answer.set_result(passive)


def guess_locale(text: str) -> str:
    """The language of a reply's text, for the few words the adapter adds to it."""
    return "zh" if _CJK.search(text) else "en"


async def no_document(action: SendDocument) -> list[Action]:
    # Until a hook is set (a ticket as image + link), the caption and a note go out.
    locale = guess_locale(action.caption)
    note = t(locale, "wechat-document-unavailable", {"name": action.filename})
    return [SendText(action.chat_id, "\n\n".join(p for p in (action.caption, note) if p))]


class WeChatPerformer:
    """Sends folded messages to one user: passive-ready, or customer-service messages
    within the quota. `perform` (one action, the worker's outbox) sends as custom."""

    def __init__(
        self,
        api: WeChatApi,
        users: Users,
        *,
        msgmenu: bool,
        document_hook: DocumentHook | None = None,
        templates: Any = None,
    ) -> None:
        self.api = api
        self.users = users
        self.msgmenu = msgmenu
        # Where the WECHAT_TEMPLATE_* ids are read (the Settings): notices outside the window.
        self.templates = templates
        # A PDF becomes what WeChat can show (the ticket helper sets it): Actions again.
        self.document_hook: DocumentHook = document_hook or no_document
        # Counters for tests and the bench.
        self.custom_sent = 0
        self.custom_refused = 0
        self.templates_sent = 0

    async def close(self) -> None:
        await self.api.close()

    async def perform(self, action: Action) -> SendResult:
        prepared = await self.prepare(_chat_of(action), fold([action]))
        if not prepared:
            return SendResult(ok=True)
        return await self.send_custom_all(_chat_of(action), prepared)

    async def perform_notice(self, action: SendText, notice: Notice) -> SendResult:
        """An outbox notice (the worker): a customer-service message while the user's
        window and quota have room for it, else a template message (模板消息) when the
        notice's kind has one configured; else it waits for the candidate's next message
        (`waiting`: looked at again now and then, see bot/worker_runtime.py).

        The quota is claimed before anything is prepared, so the choices of the step the
        candidate is on are not replaced by a notice that then goes out as a template."""
        user = action.chat_id
        outs = fold([action])
        if outs and await self.users.claim(user, len(outs)):
            prepared = await self.prepare(user, outs)
            result = await self._send_claimed(user, prepared)
            if result.ok or result.error != "retry-after":
                return result
        message = template_message(
            notice.kind, notice.args, notice.locale, self.templates, client_msg_id=notice.key
        )
        if message is None:
            log.info("wechat: no template for %r; the notice waits for the window", notice.kind)
            return SendResult(ok=False, error="waiting")
        openid = await self.users.openid(user)
        if openid is None:
            log.warning("wechat: no OpenID for user %s; notice dropped", user)
            return SendResult(ok=False, error="failed")
        try:
            await self.api.send_template(
                openid, message.template_id, message.data, client_msg_id=message.client_msg_id
            )
        except WeChatError as refused:
            if refused.errcode in NOT_FOLLOWING:
                return SendResult(ok=False, error="blocked")
            # 40037 (no such template) or 47003 (a field its template does not take): the
            # school's settings and template disagree; said loudly, retried, then given up.
            log.error("wechat: template message %r refused: %s", notice.kind, refused)
            return SendResult(ok=False, error="failed")
        except WeChatUnreachable as lost:
            # It may have arrived: the same client_msg_id keeps a retry from showing twice.
            log.warning("wechat: template message to user %s: %s", user, lost)
            return SendResult(ok=False, error="transient")
        self.templates_sent += 1
        return SendResult(ok=True)

    async def prepare(self, user: int, outs: Sequence[Out]) -> list[Prepared]:
        """The messages for `outs`: choices remembered, images uploaded, documents hooked."""
        prepared: list[Prepared] = []
        documents: list[DocumentOut] = []
        for index, out in enumerate(outs):
            if isinstance(out, TextOut):
                if out.choices and self.msgmenu and "<a href=" in out.text:
                    # A menu message shows its text as it is, links as raw markup: the
                    # text and its links (a pay link) go first as a text message, the
                    # choices after it.
                    prepared.append(_plain(out.text))
                    out = TextOut(t(guess_locale(out.text), "wechat-choose-head"), out.choices)
                prepared.append(await self._text(user, out))
            elif isinstance(out, ImageOut):
                media_id = await self.api.upload_image(out.data, out.filename)
                prepared.append(
                    Prepared(
                        {"msgtype": "image", "image": {"media_id": media_id}},
                        protocol.PassiveImage(media_id),
                    )
                )
            elif isinstance(out, DocumentOut):
                documents.append(out)
                if index + 1 < len(outs) and isinstance(outs[index + 1], DocumentOut):
                    continue  # the documents of one step are hooked together
                prepared += await self._documents(user, documents)
                documents = []
        return prepared

    async def _documents(self, user: int, documents: Sequence[DocumentOut]) -> list[Prepared]:
        """A step's documents as their hooks make them, in as few messages as the quota of
        one user message holds: the images first (at most `MAX_IMAGES`), then one text
        with every document's text and links (four tickets: 3 images and 1 text)."""
        made: list[Action] = []
        for document in documents:
            made += await self.document_hook(document.action)
        images = [a for a in made if isinstance(a, SendPhoto)][:MAX_IMAGES]
        others = [a for a in made if not isinstance(a, SendPhoto)]
        return await self.prepare(user, fold([*images, *others]))

    async def _text(self, user: int, out: TextOut) -> Prepared:
        if not out.choices:
            return _plain(out.text)
        offer = ([c.payload for c in out.choices], await self.users.next_offer(user))
        if self.msgmenu:
            options = [
                {"id": menu_id(offer[1], i), "content": c.label}
                for i, c in enumerate(out.choices, 1)
            ]
            tail = t(guess_locale(out.text), "wechat-choose-menu")
            body = {"head_content": out.text, "list": options, "tail_content": tail}
            return Prepared({"msgtype": "msgmenu", "msgmenu": body}, None, offer)
        return replace(_plain(numbered(out.text, out.choices)), offer=offer)

    async def delivered(self, user: int, message: Prepared) -> None:
        """`message` reached the user: its choices are the ones a digit or tap means now."""
        if message.offer is not None:
            await self.users.offered(user, *message.offer)

    async def send_custom_all(self, user: int, prepared: Sequence[Prepared]) -> SendResult:
        """All of `prepared` as customer-service messages, or none when the quota of the
        user's last action has not room for them all."""
        openid = await self.users.openid(user)
        if openid is None:
            log.warning("wechat: no OpenID for user %s; reply dropped", user)
            return SendResult(ok=False, error="failed")
        if not await self.users.claim(user, len(prepared)):
            self.custom_refused += 1
            log.info(
                "wechat: %d message(s) for user %s kept: no quota left since their last action",
                len(prepared),
                user,
            )
            return SendResult(ok=False, error="retry-after")
        return await self._send_claimed(user, prepared, openid)

    async def _send_claimed(
        self, user: int, prepared: Sequence[Prepared], openid: str | None = None
    ) -> SendResult:
        """Sends `prepared`, whose quota was claimed; gives back what was not sent."""
        if openid is None:
            openid = await self.users.openid(user)
            if openid is None:
                await self.users.give_back(user, len(prepared))
                log.warning("wechat: no OpenID for user %s; message dropped", user)
                return SendResult(ok=False, error="failed")
        for i, message in enumerate(prepared):
            try:
                await self.api.send_custom(openid, message.custom)
            except WeChatError as refused:
                unsent = len(prepared) - i
                if refused.errcode in (OUT_OF_WINDOW, OUT_OF_QUOTA):
                    self.custom_refused += 1
                    log.warning(
                        "wechat: custom message to user %s refused (%s %s); reply kept",
                        user,
                        refused.errcode,
                        refused.errmsg,
                    )
                    await self.users.spent(user)
                    return SendResult(ok=False, error="retry-after")
                await self.users.give_back(user, unsent)
                if refused.errcode in NOT_FOLLOWING:
                    return SendResult(ok=False, error="blocked")
                log.warning("wechat: custom message to user %s failed: %s", user, refused)
                return SendResult(ok=False, error="failed")
            except WeChatUnreachable as lost:
                # The message in flight may have gone; the ones after it surely did not.
                await self.users.give_back(user, len(prepared) - i - 1)
                log.warning("wechat: custom message to user %s: %s", user, lost)
                return SendResult(ok=False, error="transient")
            self.custom_sent += 1
            await self.delivered(user, message)
        return SendResult(ok=True)


def _chat_of(action: Action) -> int:
    chat = getattr(action, "chat_id", None)
    if not isinstance(chat, int):
        raise TypeError(f"{type(action).__name__} names no chat")
    return chat


def _plain(text: str) -> Prepared:
    return Prepared({"msgtype": "text", "text": {"content": text}}, protocol.PassiveText(text))


def numbered(text: str, choices: Iterable[Choice]) -> str:
    """The text with its choices as numbered options and how to answer them."""
    options = [f"{i}. {c.label}" for i, c in enumerate(choices, 1)]
    hint = t(guess_locale(text), "wechat-choose-number", {"count": len(options)})
    return "\n".join([text, "", *options, "", hint]).strip()


def menu_id(seq: int, index: int) -> str:
    """A menu message option's id: the offer's number, then the option's two digits."""
    return f"{seq}{index:02d}"


def choice_of_menu_id(menu: str, offers: list[str], seq: int) -> str | None:
    """The payload a menu message option stands for; None for an older offer's."""
    if not menu.isdigit() or len(menu) < 3 or int(menu[:-2]) != seq:
        return None
    index = int(menu[-2:])
    return offers[index - 1] if 1 <= index <= len(offers) else None


class WeChatRunner(EventRunner):
    """The shared runner, with a step's actions folded and sent as WeChat allows."""

    def __init__(self, engine: ConversationEngine, performer: WeChatPerformer) -> None:
        super().__init__(engine, performer)
        self.wechat = performer
        self.slots: dict[int, Slot] = {}
        # Counters for tests: replies answered passively, and sent as custom messages.
        self.passive_replies = 0
        self.custom_replies = 0

    async def perform_all(self, event: Event, actions: Iterable[Action]) -> None:
        actions = list(actions)
        self.stats.actions += len(actions)
        slot = self.slots.get(event.update_id)
        delivered = True
        try:
            prepared = await self.wechat.prepare(event.chat_id, fold(actions))
            passive = False
            if prepared and slot is not None and slot.open and _one_passive(prepared):
                await self.wechat.delivered(event.chat_id, prepared[0])
                # Still waited for after that write: the reply goes in the HTTP answer.
                passive = slot.open
            if passive:
                assert slot is not None and prepared[0].passive is not None
                slot.give(prepared[0].passive)
                self.passive_replies += 1
            elif prepared:
                if slot is not None:
                    slot.give(None)  # answered `success`: the messages follow
                result = await self.wechat.send_custom_all(event.chat_id, prepared)
                delivered = result.ok
                if result.ok:
                    self.custom_replies += 1
                else:
                    self.stats.failed_actions += 1
                if result.error == "blocked":
                    self.stats.blocked_users.add(event.user_id)
        except (WeChatError, WeChatUnreachable) as failed:
            # An upload failed: the reply stays kept and goes out later.
            log.warning("update %s: reply not sent: %s", event.update_id, failed)
            self.stats.failed_actions += 1
            delivered = False
        finally:
            if slot is not None:
                slot.give(None)
        replies_sent = getattr(self.engine, "replies_sent", None)
        if replies_sent is not None:
            await replies_sent(event, menu_message_id=None, delivered=delivered)


def _one_passive(prepared: Sequence[Prepared]) -> bool:
    return len(prepared) == 1 and prepared[0].passive is not None


class WeChatAdapter:
    """One official account: intake routes, the runner, the performer, the API."""

    def __init__(
        self,
        *,
        settings: Settings,
        engine: ConversationEngine,
        database: Database,
        reply_budget: float = REPLY_BUDGET,
        api: WeChatApi | None = None,
        clock: PushClock | None = None,
    ) -> None:
        app_id, secret, token, aes_key = _credentials(settings)
        self.clock = clock or PushClock()
        self.app_id = app_id
        self.token = token
        self.crypto = protocol.MessageCrypto(token, aes_key, app_id) if aes_key else None
        self.api = api or WeChatApi(
            api_url=settings.wechat_api_url,
            app_id=app_id,
            app_secret=secret,
            store=DatabaseTokenStore(database, app_id, self.clock),
            now=self.clock,
        )
        self.users = Users(database, self.clock)
        self.wechat = WeChatPerformer(
            self.api, self.users, msgmenu=settings.wechat_msgmenu, templates=settings
        )
        self.wechat_runner = WeChatRunner(engine, self.wechat)
        # The Adapter protocol's names (bot/app.py and the worker see only these types).
        self.performer: Performer = self.wechat
        self.runner: EventRunner = self.wechat_runner
        self.reply_budget = reply_budget
        self._recent: OrderedDict[int, None] = OrderedDict()
        # Counters for tests: pushes refused, and by why.
        self.refused: dict[str, int] = {}

    # -- the Adapter protocol of bot/handlers ----------------------------------------------

    async def start(self) -> None:
        """Fetches the access token (AppID and AppSecret checked) and sets the custom menu."""
        try:
            await self.api.access_token()
            await self.api.create_menu(main_menu())
        except WeChatError as refused:
            raise TokenRejected(f"WeChat refused the AppID/AppSecret ({refused})") from None
        except WeChatUnreachable as lost:
            raise PlatformUnreachable(f"{self.api.api_url}: {lost}") from None
        log.info("wechat adapter: account %s, custom menu set", self.app_id)

    async def set_commands(
        self, commands: Sequence[BotCommandText], language_code: str | None
    ) -> None:
        return None  # the custom menu (set in start) carries the commands

    async def start_polling(self, poll_timeout: int) -> None:
        raise RuntimeError("WeChat pushes; there is nothing to poll")

    async def stop_polling(self) -> None:
        return None

    async def set_webhook(self, url: str, secret: str | None) -> None:
        return None  # the URL is entered in the account's settings, not by an API call

    async def feed_webhook(self, payload: dict[str, Any]) -> None:
        raise RuntimeError("WeChat pushes come through routes()")

    async def close(self) -> None:
        await self.api.close()

    # -- intake ----------------------------------------------------------------------------

    def routes(self, path: str) -> list[web.RouteDef]:
        return [web.get(path, self.on_check), web.post(path, self.on_push)]

    def _refuse(self, reason: str) -> web.Response:
        self.refused[reason] = self.refused.get(reason, 0) + 1
        log.warning("wechat: push refused (%s)", reason)
        return web.Response(status=403, text="forbidden")

    def _signed(self, query: Any) -> str | None:
        """Why the query's signature or timestamp is refused; None when it is fine."""
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        if not timestamp or not nonce:
            return "unsigned"
        expected = protocol.sign(self.token, timestamp, nonce)
        if not protocol.signature_ok(expected, query.get("signature")):
            return "signature"
        if not protocol.fresh(timestamp, self.clock()):
            return "stale"
        return None

    async def on_check(self, request: web.Request) -> web.Response:
        """The URL check: `echostr` back when the signature is the Token's."""
        why = self._signed(request.query)
        if why is not None:
            return self._refuse(why)
        return web.Response(text=request.query.get("echostr", ""), content_type="text/plain")

    async def on_push(self, request: web.Request) -> web.Response:
        started = asyncio.get_running_loop().time()
        why = self._signed(request.query)
        if why is not None:
            return self._refuse(why)
        if (request.content_length or 0) > MAX_BODY:
            return self._refuse("size")
        body = (await request.read())[:MAX_BODY].decode("utf-8", "replace")
        safe = request.query.get("encrypt_type", "raw").lower() == "aes"
        try:
            if safe:
                if self.crypto is None:
                    return self._refuse("no-aes-key")
                xml = self.crypto.decrypt(
                    protocol.encrypted_part(body),
                    request.query.get("msg_signature"),
                    request.query["timestamp"],
                    request.query["nonce"],
                )
            else:
                xml = body
            fields = protocol.parse(xml)
        except protocol.Refused as refused:
            return self._refuse(refused.reason)
        passive = await self._answer(fields, started)
        if passive is None:
            return web.Response(text="success", content_type="text/plain")
        reply = protocol.render_passive(
            passive,
            to_user=fields.get("FromUserName", ""),
            from_user=fields.get("ToUserName", ""),
            now=int(self.clock()),
        )
        if safe and self.crypto is not None:
            reply = self.crypto.encrypt(reply, str(int(self.clock())), secrets.token_hex(8))
        return web.Response(text=reply, content_type="application/xml")

    async def _answer(self, fields: dict[str, str], started: float) -> protocol.Passive | None:
        """The passive reply for a push (None: answer `success`)."""
        openid = fields.get("FromUserName", "")
        if not openid or len(openid) > MAX_OPENID:
            return None  # an OpenID is 28 characters; nothing to answer
        update_id = protocol.update_id(self.app_id, protocol.dedup_key(fields))
        if update_id in self._recent:
            return None  # a retry of a push this process has answered
        slot = self.slots.get(update_id)
        if slot is None:
            event = await self.event_of(fields, update_id)
            if event is None:
                self._remember(update_id)
                return None
            slot = self.slots.get(update_id)  # a retry may have come meanwhile
            if slot is None:
                slot = self.slots[update_id] = Slot()
                done = self.runner.submit(event)
                done.add_done_callback(lambda _f: self._finished(update_id))
                if done.done():  # dropped (too many pending): nothing will come
                    slot.give(None)
        slot.waiting += 1
        try:
            left = self.reply_budget - (asyncio.get_running_loop().time() - started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(slot.answer), max(left, 0.0))
            # Given in time, even when the timeout woke this handler in the same instant
            # (the runner then counted the reply as delivered: it must go out here).
            passive = slot.answer.result() if slot.answer.done() else None
            if passive is not None and not slot.claimed:
                slot.claimed = True
                return passive
            return None
        finally:
            slot.waiting -= 1

    @property
    def slots(self) -> dict[int, Slot]:
        return self.wechat_runner.slots

    def _finished(self, update_id: int) -> None:
        self.slots.pop(update_id, None)
        self._remember(update_id)

    def _remember(self, update_id: int) -> None:
        self._recent[update_id] = None
        while len(self._recent) > MAX_RECENT:
            self._recent.popitem(last=False)

    async def event_of(self, fields: dict[str, str], update_id: int) -> Event | None:
        """The Event of a push (None for pushes nobody answers: unfollow, link clicks)."""
        msg_type = fields.get("MsgType", "").lower()
        kind = fields.get("Event", "").lower() if msg_type == "event" else ""
        created = fields.get("CreateTime", "")
        at = float(created) if created.isdigit() else self.clock()
        if msg_type == "event":
            action = "event" if kind in WINDOW_EVENTS else None
        else:
            action = "message"
        got = await self.users.intake(fields["FromUserName"], action, at, update_id)
        common: dict[str, Any] = {
            "platform": PLATFORM,
            "update_id": update_id,
            "user_id": got.user_id,
            "chat_id": got.user_id,
            "deletes_user_messages": False,  # an official account cannot delete them
        }
        if msg_type == "text":
            text = fields.get("Content", "")
            payload = self._chosen(fields, text, got.offers, got.offers_seq)
            if payload is not None:
                return Event(kind=EventKind.BUTTON, payload=payload, **common)
            command = split_command(text.strip(), True)
            if command is not None:
                return Event(kind=EventKind.COMMAND, command=command[0], text=command[1], **common)
            return Event(kind=EventKind.TEXT, text=text, **common)
        if msg_type == "event":
            if kind == "subscribe":
                return Event(kind=EventKind.COMMAND, command="start", **common)
            if kind == "click":
                key = fields.get("EventKey", "")
                name = key.removeprefix("cmd:")
                if key.startswith("cmd:") and name in MENU_COMMANDS:
                    return Event(kind=EventKind.COMMAND, command=name, **common)
            return None  # unsubscribe, link clicks, template receipts, unknown keys
        # Images, voice, video, locations, links: "please type ..." from the engine.
        return Event(kind=EventKind.OTHER, **common)

    @staticmethod
    def _chosen(fields: dict[str, str], text: str, offers: list[str], seq: int) -> str | None:
        """The payload of the option a text message picks: a menu message's option, or
        the digit of a numbered option. None: ordinary text (an old menu's option comes
        as its label, which the engine matches against the step's buttons)."""
        menu = fields.get("bizmsgmenuid", "")
        if menu:
            return choice_of_menu_id(menu, offers, seq)
        digits = _DIGITS.fullmatch(text)
        if digits is not None:
            index = int(digits.group(1))
            if 1 <= index <= len(offers):
                return offers[index - 1]
        return None


def _credentials(settings: Settings) -> tuple[str, str, str, str | None]:
    def secret(value: Any) -> str:
        return value.get_secret_value() if value is not None else ""

    app_id = (settings.wechat_app_id or "").strip()
    app_secret = secret(settings.wechat_app_secret)
    token = secret(settings.wechat_token)
    if not app_id or not app_secret or not token:
        raise TokenRejected("WECHAT_APP_ID, WECHAT_APP_SECRET and WECHAT_TOKEN are required")
    aes_key = secret(settings.wechat_aes_key) or None
    if aes_key is not None and not protocol.aes_key_ok(aes_key):
        raise TokenRejected("WECHAT_AES_KEY must be 43 characters of base64")
    return app_id, app_secret, token, aes_key


def main_menu() -> list[dict[str, Any]]:
    """The account's custom menu: the main menu and help; language and cancel under more."""

    def click(command: str) -> dict[str, Any]:
        return {"type": "click", "name": t("zh", f"wechat-menu-{command}"), "key": f"cmd:{command}"}

    return [
        click("start"),
        click("help"),
        {
            "name": t("zh", "wechat-menu-more"),
            "sub_button": [click("language"), click("cancel")],
        },
    ]
