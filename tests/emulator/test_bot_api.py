"""Wire-level checks of the emulated Bot API: formats, limits, errors, updates, files."""

from __future__ import annotations

import asyncio
import io
import time

import aiohttp
import pytest

from emulator.client import EmulatorClient, EmulatorError
from emulator.server import RunningEmulator
from tests.emulator.conftest import TOKEN, RawApi

USER = 5001


async def _started_user(em: EmulatorClient, api: RawApi, user_id: int = USER) -> None:
    await api.ok("getMe")
    await em.create_user(user_id, "Li Lei", language_code="zh-hans")
    await em.user_says(user_id, "hi")


async def test_get_me_takes_the_bot_id_from_the_token(api: RawApi) -> None:
    me = await api.ok("getMe")
    assert me["id"] == 123456
    assert me["is_bot"] is True
    assert me["username"].endswith("bot")


async def test_unknown_method_is_404_not_found(api: RawApi) -> None:
    assert await api.fails("sendTelepathy", chat_id=1) == (404, "Not Found")


async def test_get_query_and_form_and_json_inputs_all_work(
    emulator: RunningEmulator, em: EmulatorClient, api: RawApi
) -> None:
    await _started_user(em, api)
    async with aiohttp.ClientSession() as session:
        base = f"{emulator.url}/bot{TOKEN}/sendMessage"
        async with session.get(base, params={"chat_id": str(USER), "text": "via get"}) as resp:
            assert (await resp.json())["result"]["text"] == "via get"
        markup = '{"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}'
        form = {"chat_id": str(USER), "text": "via form", "reply_markup": markup}
        async with session.post(base, data=form) as resp:
            body = await resp.json()
            assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "go"
        multipart = aiohttp.FormData()
        multipart.add_field("chat_id", str(USER))
        multipart.add_field("text", "via multipart")
        multipart.add_field("document", b"%PDF-1.4 tiny", filename="a.pdf")
        async with session.post(base, data=multipart) as resp:
            assert (await resp.json())["result"]["text"] == "via multipart"
    texts = [m["text"] for m in await em.transcript(USER)]
    assert texts == ["hi", "via get", "via form", "via multipart"]


async def test_text_limits_count_after_entity_parsing(em: EmulatorClient, api: RawApi) -> None:
    await _started_user(em, api)
    assert await api.fails("sendMessage", chat_id=USER, text="x" * 4097) == (
        400,
        "Bad Request: message is too long",
    )
    ok = await api.ok("sendMessage", chat_id=USER, text="x" * 4096)
    assert len(ok["text"]) == 4096
    # 4096 visible characters wrapped in tags are fine: tags do not count.
    ok = await api.ok(
        "sendMessage", chat_id=USER, text="<b>" + "y" * 4096 + "</b>", parse_mode="HTML"
    )
    assert ok["entities"] == [{"type": "bold", "offset": 0, "length": 4096}]
    # An emoji outside the BMP is two UTF-16 units, as Telegram counts.
    assert (await api.fails("sendMessage", chat_id=USER, text="😀" * 2049))[0] == 400
    assert await api.fails("sendMessage", chat_id=USER, text="  ") == (
        400,
        "Bad Request: message text is empty",
    )


async def test_html_and_markdown_v2_are_validated(em: EmulatorClient, api: RawApi) -> None:
    await _started_user(em, api)
    msg = await api.ok(
        "sendMessage",
        chat_id=USER,
        text='<b>考试</b> &lt;CET&gt; <a href="https://example.org">link</a>',
        parse_mode="HTML",
    )
    assert msg["text"] == "考试 <CET> link"
    assert msg["entities"] == [
        {"type": "bold", "offset": 0, "length": 2},
        {"type": "text_link", "offset": 9, "length": 4, "url": "https://example.org"},
    ]
    status, desc = await api.fails("sendMessage", chat_id=USER, text="<b>open", parse_mode="HTML")
    assert desc.startswith("Bad Request: can't parse entities: Can't find end tag")
    status, desc = await api.fails("sendMessage", chat_id=USER, text="<x>y</x>", parse_mode="HTML")
    assert 'Unsupported start tag "x"' in desc
    msg = await api.ok("sendMessage", chat_id=USER, text="*bold* ok\\.", parse_mode="MarkdownV2")
    assert msg["text"] == "bold ok."
    assert msg["entities"] == [{"type": "bold", "offset": 0, "length": 4}]
    status, desc = await api.fails(
        "sendMessage", chat_id=USER, text="fee: 30.", parse_mode="MarkdownV2"
    )
    assert status == 400 and "Character '.' is reserved" in desc


async def test_chat_errors_like_telegram(em: EmulatorClient, api: RawApi) -> None:
    await api.ok("getMe")
    assert await api.fails("sendMessage", chat_id=999, text="x") == (
        400,
        "Bad Request: chat not found",
    )
    await em.create_user(USER, "Han Meimei")
    # The user exists but never wrote to the bot.
    assert await api.fails("sendMessage", chat_id=USER, text="x") == (
        403,
        "Forbidden: bot can't initiate conversation with a user",
    )
    await em.user_says(USER, "/start")
    await em.block(USER)
    assert await api.fails("sendMessage", chat_id=USER, text="x") == (
        403,
        "Forbidden: bot was blocked by the user",
    )


async def test_keyboard_validation(em: EmulatorClient, api: RawApi) -> None:
    await _started_user(em, api)

    def kb(button: dict) -> dict:
        return {"inline_keyboard": [[button]]}

    too_long = "x" * 65
    assert await api.fails(
        "sendMessage",
        chat_id=USER,
        text="t",
        reply_markup=kb({"text": "a", "callback_data": too_long}),
    ) == (400, "Bad Request: BUTTON_DATA_INVALID")
    # 64 bytes of UTF-8 is the limit, not 64 characters: 22 Chinese characters are 66 bytes.
    assert (
        await api.fails(
            "sendMessage",
            chat_id=USER,
            text="t",
            reply_markup=kb({"text": "a", "callback_data": "报" * 22}),
        )
    )[1] == "Bad Request: BUTTON_DATA_INVALID"
    await api.ok(
        "sendMessage",
        chat_id=USER,
        text="t",
        reply_markup=kb({"text": "a", "callback_data": "x" * 64}),
    )
    status, desc = await api.fails(
        "sendMessage", chat_id=USER, text="t", reply_markup=kb({"text": "a"})
    )
    assert status == 400 and "text buttons are unallowed" in desc
    status, desc = await api.fails(
        "sendMessage",
        chat_id=USER,
        text="t",
        reply_markup=kb({"text": "a", "callback_data": "x", "url": "https://a.b"}),
    )
    assert status == 400 and "exactly one" in desc
    await api.ok(
        "sendMessage",
        chat_id=USER,
        text="menu",
        reply_markup={"keyboard": [["报名", {"text": "帮助"}]], "resize_keyboard": True},
    )
    chat = await em.chat(USER)
    assert chat["reply_keyboard"]["keyboard"] == [[{"text": "报名"}, {"text": "帮助"}]]
    await api.ok("sendMessage", chat_id=USER, text="bye", reply_markup={"remove_keyboard": True})
    assert (await em.chat(USER))["reply_keyboard"] is None


async def test_edit_delete_and_not_modified(em: EmulatorClient, api: RawApi) -> None:
    await _started_user(em, api)
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    sent = await api.ok("sendMessage", chat_id=USER, text="one", reply_markup=markup)
    mid = sent["message_id"]
    _status, desc = await api.fails(
        "editMessageText", chat_id=USER, message_id=mid, text="one", reply_markup=markup
    )
    assert desc.startswith("Bad Request: message is not modified")
    # Editing the text without reply_markup removes the keyboard, so that is a change.
    edited = await api.ok("editMessageText", chat_id=USER, message_id=mid, text="one")
    assert "reply_markup" not in edited and edited["edit_date"] >= sent["date"]
    _status, desc = await api.fails("editMessageReplyMarkup", chat_id=USER, message_id=mid)
    assert desc.startswith("Bad Request: message is not modified")
    await api.ok("editMessageReplyMarkup", chat_id=USER, message_id=mid, reply_markup=markup)
    assert await api.fails("editMessageText", chat_id=USER, message_id=777, text="x") == (
        400,
        "Bad Request: message to edit not found",
    )
    assert await api.fails("editMessageText", chat_id=USER, message_id=1, text="x") == (
        400,
        "Bad Request: message can't be edited",
    )
    assert await api.ok("deleteMessage", chat_id=USER, message_id=mid) is True
    assert await api.fails("deleteMessage", chat_id=USER, message_id=mid) == (
        400,
        "Bad Request: message to delete not found",
    )
    messages = await em.transcript(USER)
    assert [(m["sender"], m["edited"], m["deleted"]) for m in messages] == [
        ("user", False, False),
        ("bot", True, True),
    ]
    assert messages[1]["keyboard"] == markup["inline_keyboard"]


async def test_get_updates_offset_semantics(em: EmulatorClient, api: RawApi) -> None:
    await api.ok("getMe")
    await em.create_user(USER, "Li Lei")
    for text in ("a", "b", "c"):
        await em.user_says(USER, text)
    first = await api.ok("getUpdates")
    assert [u["message"]["text"] for u in first] == ["a", "b", "c"]
    ids = [u["update_id"] for u in first]
    # Not confirmed yet: the same updates come again.
    assert [u["update_id"] for u in await api.ok("getUpdates")] == ids
    assert [u["update_id"] for u in await api.ok("getUpdates", offset=ids[1])] == ids[1:]
    # ids[0] is now confirmed and gone for good.
    assert [u["update_id"] for u in await api.ok("getUpdates")] == ids[1:]
    assert [u["update_id"] for u in await api.ok("getUpdates", limit=1)] == [ids[1]]
    assert await api.ok("getUpdates", offset=ids[2] + 1) == []
    await em.user_says(USER, "d")
    await em.user_says(USER, "e")
    last = await api.ok("getUpdates", offset=-1)
    assert [u["message"]["text"] for u in last] == ["e"]
    assert [u["message"]["text"] for u in await api.ok("getUpdates")] == ["e"]


async def test_stats_count_the_updates_each_get_updates_answer_holds(
    em: EmulatorClient, api: RawApi
) -> None:
    # bench/chat.py divides these to print the updates per getUpdates answer of each side.
    await api.ok("getMe")
    await em.create_user(USER, "Li Lei")
    for text in ("a", "b", "c"):
        await em.user_says(USER, text)
    ids = [u["update_id"] for u in await api.ok("getUpdates", limit=2)]
    await api.ok("getUpdates", offset=ids[-1] + 1)
    assert await api.ok("getUpdates", offset=ids[-1] + 2) == []
    stats = await em.stats()
    assert stats["requests"]["getUpdates"] == 3
    assert stats["updates_delivered"] == 3
    assert stats["empty_polls"] == 1


async def test_long_poll_returns_when_an_update_arrives(em: EmulatorClient, api: RawApi) -> None:
    await api.ok("getMe")
    await em.create_user(USER, "Li Lei")
    started = time.monotonic()
    poll = asyncio.create_task(api.ok("getUpdates", timeout=5))
    await asyncio.sleep(0.2)
    await em.user_says(USER, "/start")
    updates = await poll
    assert time.monotonic() - started < 2
    message = updates[0]["message"]
    assert message["text"] == "/start"
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert message["from"]["language_code"] == "zh-hans"


async def test_a_second_poll_terminates_the_first(api: RawApi) -> None:
    first = asyncio.create_task(api("getUpdates", timeout=5))
    await asyncio.sleep(0.2)
    second = asyncio.create_task(api("getUpdates", timeout=0))
    status, body = await first
    assert status == 409 and "terminated by other getUpdates request" in body["description"]
    assert (await second)[0] == 200


async def test_allowed_updates_filters_kinds(em: EmulatorClient, api: RawApi) -> None:
    await _started_user(em, api)
    await api.ok("getUpdates", allowed_updates=["callback_query"], offset=-1)
    await api.ok("getUpdates", offset=10**6)  # confirm everything so far
    sent = await api.ok(
        "sendMessage",
        chat_id=USER,
        text="pick",
        reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
    )
    await em.user_says(USER, "ignored")
    await em.press(USER, sent["message_id"], "a")
    updates = await api.ok("getUpdates")
    assert [list(u)[1] for u in updates] == ["callback_query"]


async def test_files_upload_download_and_resend(
    emulator: RunningEmulator, em: EmulatorClient, api: RawApi
) -> None:
    await _started_user(em, api)
    payload = b"%PDF-1.4\n" + bytes(range(256)) * 40
    form = aiohttp.FormData()
    form.add_field("chat_id", str(USER))
    form.add_field("caption", "准考证")
    form.add_field("document", payload, filename="ticket.pdf", content_type="application/pdf")
    async with api.session.post(f"{emulator.url}/bot{TOKEN}/sendDocument", data=form) as resp:
        doc = (await resp.json())["result"]["document"]
    assert doc["file_name"] == "ticket.pdf" and doc["file_size"] == len(payload)
    info = await api.ok("getFile", file_id=doc["file_id"])
    async with api.session.get(f"{emulator.url}/file/bot{TOKEN}/{info['file_path']}") as resp:
        assert resp.status == 200 and await resp.read() == payload
    again = await api.ok("sendDocument", chat_id=USER, document=doc["file_id"])
    assert again["document"]["file_unique_id"] == doc["file_unique_id"]
    assert await api.fails("sendDocument", chat_id=USER, document="nope") == (
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    )
    _status, desc = await api.fails(
        "sendDocument", chat_id=USER, document=doc["file_id"], caption="c" * 1025
    )
    assert desc == "Bad Request: message caption is too long"
    messages = await em.transcript(USER)
    assert messages[1]["document"]["file_size"] == len(payload)
    assert messages[1]["caption"] == "准考证"
    assert await em.download(doc["file_id"]) == payload


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(buf, format="PNG")
    return buf.getvalue()


async def test_photos_and_stickers(
    emulator: RunningEmulator, em: EmulatorClient, api: RawApi
) -> None:
    await _started_user(em, api)
    form = aiohttp.FormData()
    form.add_field("chat_id", str(USER))
    form.add_field("photo", _png(33, 21), filename="p.png", content_type="image/png")
    async with api.session.post(f"{emulator.url}/bot{TOKEN}/sendPhoto", data=form) as resp:
        photo = (await resp.json())["result"]["photo"]
    assert (photo[-1]["width"], photo[-1]["height"]) == (33, 21)
    again = await api.ok("sendPhoto", chat_id=USER, photo=photo[-1]["file_id"], caption="again")
    assert again["photo"][-1]["file_unique_id"] == photo[-1]["file_unique_id"]
    form = aiohttp.FormData()
    form.add_field("chat_id", str(USER))
    form.add_field("photo", b"not an image", filename="p.png")
    async with api.session.post(f"{emulator.url}/bot{TOKEN}/sendPhoto", data=form) as resp:
        assert (await resp.json())["description"] == "Bad Request: IMAGE_PROCESS_FAILED"
    await api.ok("getUpdates", offset=-1)
    await api.ok("getUpdates", offset=10**6)
    await em.photo(USER, _png(5, 7), caption="my photo")
    await em.sticker(USER, "🎉")
    updates = await api.ok("getUpdates")
    user_photo = updates[0]["message"]["photo"][-1]
    assert (user_photo["width"], user_photo["height"], updates[0]["message"]["caption"]) == (
        5,
        7,
        "my photo",
    )
    info = await api.ok("getFile", file_id=user_photo["file_id"])
    async with api.session.get(f"{emulator.url}/file/bot{TOKEN}/{info['file_path']}") as resp:
        assert await resp.read() == _png(5, 7)
    assert updates[1]["message"]["sticker"]["emoji"] == "🎉"


async def test_commands_chat_action_and_menu(em: EmulatorClient, api: RawApi) -> None:
    await _started_user(em, api)
    cmds = [{"command": "start", "description": "开始"}, {"command": "help", "description": "帮助"}]
    assert await api.ok("setMyCommands", commands=cmds, language_code="zh") is True
    assert await api.ok("getMyCommands", language_code="zh") == cmds
    assert await api.ok("getMyCommands") == []
    assert (
        await api.fails("setMyCommands", commands=[{"command": "Bad-Name", "description": "x"}])
    )[1] == "Bad Request: BOT_COMMAND_INVALID"
    await api.ok("deleteMyCommands", language_code="zh")
    assert await api.ok("getMyCommands", language_code="zh") == []
    assert await api.ok("sendChatAction", chat_id=USER, action="typing") is True
    assert (await em.chat(USER))["chat_action"] == "typing"
    assert (await api.fails("sendChatAction", chat_id=USER, action="dancing"))[0] == 400
    await api.ok("setChatMenuButton", menu_button={"type": "commands"})
    assert await api.ok("getChatMenuButton") == {"type": "commands"}
    assert await api.ok("close") is True and await api.ok("logOut") is True


async def test_callback_answers_are_recorded(em: EmulatorClient, api: RawApi) -> None:
    await _started_user(em, api)
    sent = await api.ok(
        "sendMessage",
        chat_id=USER,
        text="pick",
        reply_markup={"inline_keyboard": [[{"text": "甲", "callback_data": "pick:a"}]]},
    )
    pressed = await em.press(USER, sent["message_id"], button_text="甲")
    updates = await api.ok("getUpdates")
    query = updates[-1]["callback_query"]
    assert query["data"] == "pick:a" and query["message"]["message_id"] == sent["message_id"]
    assert (await em.callback_answers(USER))[0]["answered"] is False
    assert await api.ok("answerCallbackQuery", callback_query_id=query["id"], text="好") is True
    assert (await api.fails("answerCallbackQuery", callback_query_id=query["id"]))[1].startswith(
        "Bad Request: query is too old"
    )
    record = await em.wait_answer(pressed["callback_query_id"], timeout=1)
    assert record["answer"]["text"] == "好"
    forged = await em.press(USER, sent["message_id"], "admin:approve", forge=True)
    assert forged["update_id"] > pressed["update_id"]
    stats = await em.stats()
    assert stats["unanswered_callbacks"] == 1


async def test_injected_faults(em: EmulatorClient, api: RawApi) -> None:
    await _started_user(em, api)
    await em.inject("sendMessage", "429", count=2, retry_after=7)
    status, body = await api("sendMessage", chat_id=USER, text="x")
    assert status == 429 and body["parameters"] == {"retry_after": 7}
    assert body["description"] == "Too Many Requests: retry after 7"
    assert (await api("sendMessage", chat_id=USER, text="x"))[0] == 429
    assert (await api("sendMessage", chat_id=USER, text="x"))[0] == 200
    await em.inject("sendMessage", "500")
    assert (await api("sendMessage", chat_id=USER, text="x"))[0] == 500
    await em.inject("sendMessage", "502")
    async with api.session.post(
        f"{api.base_url}/bot{TOKEN}/sendMessage", json={"chat_id": USER, "text": "x"}
    ) as resp:
        assert resp.status == 502 and "Bad Gateway" in await resp.text()
    await em.inject("*", "403", chat_id=USER)
    assert await api.fails("sendChatAction", chat_id=USER, action="typing") == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    await em.inject("sendMessage", "drop")
    before = len(await em.transcript(USER))
    try:
        await api("sendMessage", chat_id=USER, text="lost")
    except aiohttp.ClientError:
        pass
    else:
        raise AssertionError("the connection should have been dropped")
    assert len(await em.transcript(USER)) == before
    await em.inject("sendMessage", "drop_after")
    try:
        await api("sendMessage", chat_id=USER, text="sent but unanswered")
    except aiohttp.ClientError:
        pass
    else:
        raise AssertionError("the connection should have been dropped")
    assert (await em.transcript(USER))[-1]["text"] == "sent but unanswered"
    stats = await em.stats()
    assert stats["injected_429"] == 2 and stats["responses_429"] == 2
    assert await em.faults() == []


async def test_rate_limits_when_enabled(em: EmulatorClient, api: RawApi) -> None:
    await _started_user(em, api)
    assert [(await api("sendMessage", chat_id=USER, text="x"))[0] for _ in range(6)] == [200] * 6
    await em.set_rate_limit(enabled=True, per_chat_per_second=1, per_chat_burst=3)
    codes = [(await api("sendMessage", chat_id=USER, text="x"))[0] for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    _status, body = await api("sendMessage", chat_id=USER, text="x")
    assert body["parameters"]["retry_after"] >= 1
    # Overall limit across chats.
    await em.set_rate_limit(global_per_second=4, per_chat_burst=10)
    users = list(range(7001, 7007))
    for uid in users:
        await em.create_user(uid, f"u{uid}")
        await em.user_says(uid, "hi")
    codes = [(await api("sendMessage", chat_id=uid, text="x"))[0] for uid in users]
    assert codes.count(429) == 2 and codes[:4] == [200] * 4
    stats = await em.stats()
    assert stats["rate_limited_429"] == 5
    assert stats["requests"]["sendMessage"] == 6 + 5 + 1 + 6
    assert stats["max_sent_per_chat_per_second"] >= 3


async def test_token_restriction_and_separate_bots(emulator: RunningEmulator) -> None:
    emulator.state.config.tokens = frozenset({TOKEN, "42:other"})
    async with aiohttp.ClientSession() as session:
        other = RawApi(emulator.url, session, token="42:other")
        assert (await other.ok("getMe"))["id"] == 42
        stranger = RawApi(emulator.url, session, token="1:nope")
        assert await stranger.fails("getMe") == (401, "Unauthorized")
        async with EmulatorClient(emulator.url, token="42:other") as em42:
            await em42.create_user(USER, "Li Lei")
            await em42.user_says(USER, "to 42")
        assert [u["message"]["text"] for u in await other.ok("getUpdates")] == ["to 42"]
        main = RawApi(emulator.url, session)
        assert await main.ok("getUpdates") == []


async def test_clock_hook(emulator: RunningEmulator, em: EmulatorClient, api: RawApi) -> None:
    with pytest.raises(EmulatorError) as missing:
        await em.advance_clock(1)
    assert missing.value.status == 404
    moved: list[float] = []

    async def hook(hours: float) -> str:
        moved.append(hours)
        return "2025-06-01T10:00:00+08:00"

    emulator.register_clock(hook)
    await _started_user(em, api)
    old = await api.ok("sendMessage", chat_id=USER, text="old")
    result = await em.advance_clock(24)
    assert moved == [24.0] and result["hook_result"] == "2025-06-01T10:00:00+08:00"
    assert (await em.info())["clock"] is True
    # Message dates follow the moved clock, so the 48-hour deletion window applies.
    await em.advance_clock(25)
    newer = await api.ok("sendMessage", chat_id=USER, text="new")
    assert newer["date"] - old["date"] >= 49 * 3600
    assert await api.fails("deleteMessage", chat_id=USER, message_id=old["message_id"]) == (
        400,
        "Bad Request: message can't be deleted",
    )
    assert await api.ok("deleteMessage", chat_id=USER, message_id=newer["message_id"])


async def test_chat_page_is_served(emulator: RunningEmulator) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(emulator.url + "/") as resp:
            html = await resp.text()
            assert resp.status == 200 and "<script" in html
        for asset in ("app.js", "style.css"):
            async with session.get(f"{emulator.url}/static/{asset}") as resp:
                assert resp.status == 200 and len(await resp.read()) > 200


async def test_control_contact_is_a_message_with_a_contact_card(
    emulator: RunningEmulator, em: EmulatorClient, api: RawApi
) -> None:
    await _started_user(em, api)
    await api.ok("getUpdates", offset=10**6)
    await em.contact(USER, "+86 139 0000 1234")
    await em.contact(USER, "13900005678", contact_user_id=USER + 1, first_name="Li")
    await em.contact(USER, "13900009999", own=False)
    cards = [u["message"]["contact"] for u in await api.ok("getUpdates")]
    assert cards[0]["phone_number"] == "+86 139 0000 1234" and cards[0]["user_id"] == USER
    assert (cards[1]["user_id"], cards[1]["first_name"]) == (USER + 1, "Li")
    assert "user_id" not in cards[2]
    assert [m["contact"] for m in await em.transcript(USER)][-3:] == cards
    with pytest.raises(EmulatorError):
        await em.contact(USER, "  ")
