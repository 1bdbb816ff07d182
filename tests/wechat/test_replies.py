"""Issue 19, replies through the WeChat emulator: a passive reply within the deadline or
`success` and customer-service messages; numbered options and menu messages mapped back to
the buttons offered; the custom menu; the per-user quota never exceeded; the access token
shared and refreshed once on 40001."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from bot.conversation.types import Action, Event, EventKind, SendPhoto, SendText
from bot.handlers.wechat import protocol
from bot.handlers.wechat.adapter import WeChatAdapter
from tests.e2e.echo_engine import EchoConversations
from tests.wechat.conftest import Slow, WeChatBot, WeChatHarness, echo

OPENID = "o_reply_user_0000000000000001"


def _engine(bot: WeChatBot) -> EchoConversations:
    engine = bot.app.engine
    while not isinstance(engine, EchoConversations):
        engine = engine.inner  # type: ignore[attr-defined]
    return engine


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, "PNG")
    return out.getvalue()


class Photos(EchoConversations):
    """Answers "photos N" with N photos (N customer-service messages: images cannot fold)."""

    async def handle(self, event: Event) -> list[Action]:
        if event.kind is EventKind.TEXT and event.text.startswith("photos "):
            self.handled.append(event)
            count = int(event.text.split()[1])
            return [SendPhoto(event.chat_id, _png()) for _ in range(count)]
        return await super().handle(event)


async def test_a_slow_step_is_answered_success_in_time_then_sent_as_custom_message(
    wechat: WeChatHarness, sqlite_url: str
) -> None:
    # The budget is 1 s of a 2 s deadline here (4 s of 5 s in production).
    await wechat.start(
        sqlite_url,
        engine=lambda db, s: Slow(EchoConversations(), 1.5),
        reply_budget=1.0,
        push_timeout=2.0,
    )
    report = await wechat.wx.send_text(OPENID, "慢")
    assert report["outcome"] == "no_reply"  # `success`, in time
    assert report["attempts"] == 1  # so WeChat did not retry
    [entry] = await wechat.wx.wait_for_bot(OPENID, 1, timeout=5)
    assert (entry["via"], entry["kind"], entry["text"]) == ("custom", "text", "echo: 慢")


async def test_numbered_options_answered_with_a_digit_press_the_button_offered(
    wechat: WeChatHarness, sqlite_url: str
) -> None:
    bot = await wechat.start(sqlite_url, engine=echo, msgmenu=False)
    report = await wechat.wx.send_text(OPENID, "/start")
    assert report["outcome"] == "reply"  # one message: passive
    text = report["reply"]["text"]
    assert "1. 报名" in text and "2. 帮助" in text
    # The link button is a link in the text, not an option.
    assert '<a href="https://cet.neea.edu.cn/">官网</a>' in text and "3." not in text
    report = await wechat.wx.send_text(OPENID, "2")
    assert "pressed menu:help" in report["reply"]["text"]
    assert "1. 返回" in report["reply"]["text"]
    report = await wechat.wx.send_text(OPENID, "1")
    assert "pressed menu:back" in report["reply"]["text"]
    # A number beyond the options is ordinary text.
    report = await wechat.wx.send_text(OPENID, "7")
    assert report["reply"]["text"] == "echo: 7"
    kinds = [(e.kind, e.payload or e.text) for e in _engine(bot).handled]
    assert kinds == [
        (EventKind.COMMAND, ""),
        (EventKind.BUTTON, "menu:help"),
        (EventKind.BUTTON, "menu:back"),
        (EventKind.TEXT, "7"),
    ]


async def test_menu_message_choices_press_the_button_offered_and_old_ones_do_not(
    wechat: WeChatHarness, sqlite_url: str
) -> None:
    bot = await wechat.start(sqlite_url, engine=echo, msgmenu=True)
    report = await wechat.wx.send_text(OPENID, "/start")
    assert report["outcome"] == "no_reply"  # a menu message cannot be passive
    # The menu has a link button: the text and the link first (a menu message would show
    # the link as raw markup), then the menu message with the choices.
    text, menu = await wechat.wx.wait_for_bot(OPENID, 2)
    assert (text["via"], text["kind"]) == ("custom", "text")
    assert (
        "主菜单" in text["text"] and '<a href="https://cet.neea.edu.cn/">官网</a>' in text["text"]
    )
    assert (menu["via"], menu["kind"]) == ("custom", "msgmenu")
    assert "<a href" not in menu["head_content"]
    options = {o["content"]: o["id"] for o in menu["options"]}
    assert set(options) == {"报名", "帮助"}
    await wechat.wx.choose(OPENID, options["帮助"])
    [pressed] = await wechat.wx.wait_for_bot(OPENID, 1)
    assert pressed["kind"] == "msgmenu" and "pressed menu:help" in pressed["head_content"]
    # An option of the first menu, chosen after a newer one was sent, is not a press of
    # the new menu's option at that place: it comes as its text ("报名").
    await wechat.wx.choose(OPENID, options["报名"], force=True, content="报名")
    await wechat.wx.wait_for_bot(OPENID, 1)
    handled = [(e.kind, e.payload or e.text) for e in _engine(bot).handled]
    assert handled == [
        (EventKind.COMMAND, ""),
        (EventKind.BUTTON, "menu:help"),
        (EventKind.TEXT, "报名"),
    ]


async def test_the_custom_menu_carries_the_main_menu_commands(
    wechat: WeChatHarness, sqlite_url: str
) -> None:
    bot = await wechat.start(sqlite_url, engine=echo, msgmenu=False)
    menu = await wechat.wx.menu()
    assert menu is not None
    keys = [b.get("key") for b in menu] + [
        s.get("key") for b in menu for s in b.get("sub_button", [])
    ]
    assert {"cmd:start", "cmd:help", "cmd:language", "cmd:cancel"} <= set(keys)
    await wechat.wx.subscribe(OPENID)  # following the account is /start
    report = await wechat.wx.click(OPENID, "cmd:help")
    assert report["outcome"] == "reply"
    events = [(e.kind, e.command) for e in _engine(bot).handled]
    assert events == [(EventKind.COMMAND, "start"), (EventKind.COMMAND, "help")]


async def test_customer_service_messages_never_exceed_the_quota_of_a_user_message(
    wechat: WeChatHarness, sqlite_url: str
) -> None:
    bot = await wechat.start(sqlite_url, engine=lambda db, s: Photos(), msgmenu=False)
    adapter = bot.adapter
    # Six images for one message: more than the 5 allowed, so none is sent (all or none).
    await wechat.wx.send_text(OPENID, "photos 6")
    assert adapter.wechat.custom_sent == 0 and adapter.wechat.custom_refused == 1
    # A new message opens a new quota of 5: three images now ...
    await wechat.wx.send_text(OPENID, "photos 3")
    await wechat.wx.wait_for_bot(OPENID, 3)
    # ... and messages without a new user action (the worker's notices): two more, then
    # no more until the user writes again, refused here without asking WeChat.
    user = (await adapter.users.intake(OPENID, None, 0)).user_id
    results = [await adapter.performer.perform(SendText(user, f"notice {i}")) for i in range(3)]
    assert [r.ok for r in results] == [True, True, False]
    calls = await wechat.wx.api_calls("message/custom/send")
    assert len(calls) == 5
    assert all(c["errcode"] in (0, None) for c in calls), calls
    # A new message opens a new quota.
    await wechat.wx.send_text(OPENID, "hello")
    assert (await adapter.performer.perform(SendText(user, "after"))).ok


async def test_a_refused_custom_message_is_logged_and_not_sent_again_until_the_user_acts(
    wechat: WeChatHarness, sqlite_url: str
) -> None:
    bot = await wechat.start(sqlite_url, engine=echo, msgmenu=True)
    await wechat.wx.send_text(OPENID, "hi")  # opens the quota; answered passively
    await wechat.wx.use_up_quota(OPENID)  # WeChat counts otherwise (another sender)
    user = (await bot.adapter.users.intake(OPENID, None, 0)).user_id
    first = await bot.adapter.performer.perform(SendText(user, "one"))
    assert not first.ok and first.error == "retry-after"  # kept for later, not lost
    second = await bot.adapter.performer.perform(SendText(user, "two"))
    assert not second.ok
    codes = [c["errcode"] for c in await wechat.wx.api_calls("message/custom/send")]
    assert codes == [45047]  # asked once; the second was refused here


async def test_one_access_token_is_shared_by_processes_and_fetched_anew_once_on_40001(
    wechat: WeChatHarness, shared_db_url: str
) -> None:
    sqlite_url = shared_db_url
    first = await wechat.start(sqlite_url, engine=echo, msgmenu=True)
    second = await wechat.start(sqlite_url, engine=echo, msgmenu=True)
    assert len(await wechat.wx.api_calls("token")) == 1  # the second process read the row
    await wechat.wx.send_text(OPENID, "hi")
    await wechat.wx.invalidate_token()
    user = (await first.adapter.users.intake(OPENID, None, 0)).user_id
    assert (await first.adapter.performer.perform(SendText(user, "after 40001"))).ok
    codes = [c["errcode"] for c in await wechat.wx.api_calls("message/custom/send")]
    assert codes == [40001, 0]
    assert len(await wechat.wx.api_calls("token")) == 2
    # The other process finds the new token in the database when its own copy is refused.
    assert (await second.adapter.performer.perform(SendText(user, "from two"))).ok
    assert len(await wechat.wx.api_calls("token")) == 2
    assert isinstance(second.adapter, WeChatAdapter)


async def test_a_5xx_page_or_busy_answer_is_tried_again_and_the_message_goes_once(
    wechat: WeChatHarness, sqlite_url: str
) -> None:
    bot = await wechat.start(sqlite_url, engine=echo, msgmenu=True)
    await wechat.wx.send_text(OPENID, "hi")
    user = (await bot.adapter.users.intake(OPENID, None, 0)).user_id
    await wechat.wx.fail_api("message/custom/send", status=503, count=1)
    assert (await bot.adapter.wechat.perform(SendText(user, "after a 503"))).ok
    await wechat.wx.system_busy("message/custom/send", count=1)
    assert (await bot.adapter.wechat.perform(SendText(user, "after -1"))).ok
    codes = [c["errcode"] for c in await wechat.wx.api_calls("message/custom/send")]
    assert codes == [None, 0, -1, 0]
    texts = [e["text"] for e in await wechat.wx.transcript(OPENID) if e["via"] == "custom"]
    assert texts == ["after a 503", "after -1"]


async def test_a_reply_that_did_not_go_out_does_not_change_what_a_digit_means(
    wechat: WeChatHarness, sqlite_url: str
) -> None:
    slow = Slow(EchoConversations(), 0.0)
    bot = await wechat.start(
        sqlite_url, engine=lambda db, s: slow, msgmenu=False, reply_budget=1.0, push_timeout=3.0
    )
    await wechat.wx.send_text(OPENID, "/start")  # 1. 报名  2. 帮助 (passive)
    slow.delay = 2.0  # past the budget: answered `success` at 1 s, the reply follows ...
    report = await wechat.wx.send_text(OPENID, "1")
    assert report["outcome"] == "no_reply"
    await wechat.wx.use_up_quota(OPENID)  # ... as a message WeChat refuses (45047)
    await bot.app.adapter.runner.wait_processed(_update_of(bot, report), 5.0)
    slow.delay = 0.0
    # The candidate never saw the "返回" option: "2" still means the menu's 帮助.
    report = await wechat.wx.send_text(OPENID, "2")
    assert "pressed menu:help" in report["reply"]["text"]
    handled = [(e.kind, e.payload) for e in _engine(bot).handled]
    assert handled == [
        (EventKind.COMMAND, ""),
        (EventKind.BUTTON, "menu:register"),
        (EventKind.BUTTON, "menu:help"),
    ]
    codes = [c["errcode"] for c in await wechat.wx.api_calls("message/custom/send")]
    assert codes == [45047]


def _update_of(bot: WeChatBot, report: dict[str, Any]) -> int:
    """The update id the adapter gave the push of a report."""
    fields = {k: str(v) for k, v in report["packet"].items()}
    return protocol.update_id(bot.account["appid"], protocol.dedup_key(fields))


async def test_the_access_token_is_fetched_anew_before_it_expires(
    wechat: WeChatHarness, sqlite_url: str
) -> None:
    bot = await wechat.start(sqlite_url, engine=echo, msgmenu=True)
    await wechat.wx.send_text(OPENID, "hi")
    user = (await bot.adapter.users.intake(OPENID, None, 0)).user_id
    # 7200 s of validity; at 1 h 57 min (within the last five minutes) a new one is fetched
    # before any call is refused.
    await wechat.wx.advance_clock(hours=1.95)
    await wechat.wx.send_text(OPENID, "again")  # a new message: a new 48-hour quota
    assert (await bot.adapter.wechat.perform(SendText(user, "on a fresh token"))).ok
    assert len(await wechat.wx.api_calls("token")) == 2
    codes = [c["errcode"] for c in await wechat.wx.api_calls("message/custom/send")]
    assert codes == [0]
