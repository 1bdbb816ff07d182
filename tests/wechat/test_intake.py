"""Issue 19, the WeChat push intake over real HTTP, with pushes signed here by hand from the
documentation (SHA1 over the sorted Token, timestamp, nonce; AES-256-CBC in safe mode):
the URL check, unsigned / forged / stale / replayed pushes refused, safe mode both ways,
a retried push applied and answered once."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import struct
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.e2e.echo_engine import EchoConversations
from tests.wechat.conftest import (
    Slow,
    WeChatBot,
    WeChatHarness,
    count_rows,
    echo,
    sign,
    text_push,
)

OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"


def _engine(bot: WeChatBot) -> EchoConversations:
    engine = bot.app.engine
    while not isinstance(engine, EchoConversations):
        engine = engine.inner  # type: ignore[attr-defined]
    return engine


async def _post(
    http: aiohttp.ClientSession, bot: WeChatBot, body: str, query: dict[str, str]
) -> tuple[int, str]:
    async with http.post(bot.url, params=query, data=body.encode()) as resp:
        return resp.status, await resp.text()


# --- the URL check -------------------------------------------------------------------------


async def test_url_check_echoes_echostr_only_when_signed_with_the_token(
    wechat: WeChatHarness, sqlite_url: str, http: aiohttp.ClientSession
) -> None:
    bot = await wechat.start(sqlite_url, engine=echo)
    checked = await wechat.wx.verify_url()
    assert checked["ok"] and checked["body"] == checked["echostr"]
    forged = await wechat.wx.verify_url(signature="0" * 40)
    assert not forged["ok"] and forged["status"] == 403
    query = {**bot.signed_query(), "echostr": "4129871236"}
    async with http.get(bot.url, params=query) as resp:
        assert (resp.status, await resp.text()) == (200, "4129871236")
    # Signed with another token: refused, echostr not given back.
    ts = query["timestamp"]
    wrong = {**query, "signature": sign("not-the-token", ts, query["nonce"])}
    async with http.get(bot.url, params=wrong) as resp:
        assert resp.status == 403
        assert "4129871236" not in await resp.text()


# --- attacks on the push URL ------------------------------------------------------------


async def test_unsigned_forged_and_stale_pushes_are_refused_and_change_nothing(
    wechat: WeChatHarness, sqlite_url: str, http: aiohttp.ClientSession
) -> None:
    bot = await wechat.start(sqlite_url, engine=echo)
    body = text_push(OPENID, "报名", 9001, at=int(bot.push_clock()))
    # No signature at all.
    assert (await _post(http, bot, body, {}))[0] == 403
    # A signature made without the token (the attacker does not have it).
    ts = str(int(bot.push_clock()))
    forged = {"timestamp": ts, "nonce": "abc", "signature": sign(ts, "abc", "guess")}
    assert (await _post(http, bot, body, forged))[0] == 403
    # A signed push recorded and replayed ten minutes later (outside the window).
    old = bot.signed_query(timestamp=int(bot.push_clock()) - 600)
    assert (await _post(http, bot, body, old))[0] == 403
    # A timestamp that is no number.
    junk = {"timestamp": "soon", "nonce": "x", "signature": sign(bot.token, "soon", "x")}
    assert (await _post(http, bot, body, junk))[0] == 403
    assert _engine(bot).handled == []
    assert await count_rows(sqlite_url, "platform_users") == 0  # not even the user is made
    assert bot.adapter.refused == {"unsigned": 1, "signature": 1, "stale": 2}
    # The same body, signed now: taken.
    status, answer = await _post(http, bot, body, bot.signed_query())
    assert status == 200 and "echo: 报名" in answer
    assert [e.text for e in _engine(bot).handled] == ["报名"]


# --- safe mode ---------------------------------------------------------------------------


def _aes_key(account: dict[str, Any]) -> bytes:
    return base64.b64decode(account["encoding_aes_key"] + "=")


def _encrypt(account: dict[str, Any], xml: str) -> str:
    key = _aes_key(account)
    raw = os.urandom(16) + struct.pack(">I", len(xml.encode())) + xml.encode()
    raw += account["appid"].encode()
    pad = 32 - len(raw) % 32
    raw += bytes([pad]) * pad
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(raw) + enc.finalize()).decode()


def _decrypt(account: dict[str, Any], text: str) -> str:
    key = _aes_key(account)
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    raw = dec.update(base64.b64decode(text)) + dec.finalize()
    raw = raw[: -raw[-1]]
    (length,) = struct.unpack(">I", raw[16:20])
    assert raw[20 + length :].decode() == account["appid"]
    return raw[20 : 20 + length].decode()


def _field(xml: str, name: str) -> str:
    found = re.search(rf"<{name}>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</{name}>", xml, re.S)
    assert found is not None, f"no {name} in {xml}"
    return found.group(1)


async def test_safe_mode_push_is_decrypted_and_the_passive_reply_encrypted(
    wechat: WeChatHarness, sqlite_url: str, http: aiohttp.ClientSession
) -> None:
    bot = await wechat.start(sqlite_url, engine=echo, mode="safe")
    account = bot.account
    inner = text_push(OPENID, "你好", 9002, to="gh_school", at=int(bot.push_clock()))
    encrypted = _encrypt(account, inner)
    body = (
        "<xml><ToUserName><![CDATA[gh_school]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    )
    query = bot.signed_query()
    ts, nonce = query["timestamp"], query["nonce"]
    # The right signature but a msg_signature over something else: refused.
    bad = {**query, "encrypt_type": "aes", "msg_signature": sign(bot.token, ts, nonce, "x")}
    assert (await _post(http, bot, body, bad))[0] == 403
    assert _engine(bot).handled == []
    good = {**query, "encrypt_type": "aes", "msg_signature": sign(bot.token, ts, nonce, encrypted)}
    status, answer = await _post(http, bot, body, good)
    assert status == 200
    reply_encrypted = _field(answer, "Encrypt")
    reply_ts, reply_nonce = _field(answer, "TimeStamp"), _field(answer, "Nonce")
    assert _field(answer, "MsgSignature") == sign(bot.token, reply_ts, reply_nonce, reply_encrypted)
    reply = _decrypt(account, reply_encrypted)
    assert _field(reply, "Content") == "echo: 你好"
    assert _field(reply, "ToUserName") == OPENID and _field(reply, "FromUserName") == "gh_school"
    # Through the emulator, in safe mode end to end.
    report = await wechat.wx.send_text("o_safe_user", "ping")
    assert report["outcome"] == "reply" and report["reply"]["text"] == "echo: ping"


# --- a push WeChat retries -------------------------------------------------------------------


async def test_a_retried_push_is_applied_once_and_answered_once(
    wechat: WeChatHarness, sqlite_url: str, http: aiohttp.ClientSession
) -> None:
    bot = await wechat.start(
        sqlite_url, engine=lambda db, s: Slow(EchoConversations(), 0.3), reply_budget=2.0
    )
    body = text_push(OPENID, "一次", 9003, at=int(bot.push_clock()))
    # WeChat's retry comes while the first push is still running: both wait for one answer.
    answers = await asyncio.gather(
        *(_post(http, bot, body, bot.signed_query(nonce=f"n{i}")) for i in range(3))
    )
    assert all(status == 200 for status, _ in answers)
    replies = [text for _, text in answers if "echo: 一次" in text]
    assert len(replies) == 1, answers
    assert sorted(text for _, text in answers if text not in replies) == ["success", "success"]
    # And once it is done, a late retry is answered `success` without running again.
    assert await _post(http, bot, body, bot.signed_query(nonce="late")) == (200, "success")
    assert [e.text for e in _engine(bot).handled] == ["一次"]


async def test_a_retry_reaching_another_process_is_not_applied_again(
    wechat: WeChatHarness, shared_db_url: str, http: aiohttp.ClientSession
) -> None:
    # The real engine: processed pushes are recorded in the database both processes share.
    sqlite_url = shared_db_url
    first = await wechat.start(sqlite_url, msgmenu=False)
    second = await wechat.start(sqlite_url, msgmenu=False)
    body = text_push(OPENID, "/start", 9004, at=int(first.push_clock()))
    status, answer = await _post(http, first, body, first.signed_query())
    assert status == 200 and answer != "success"
    # The same push at the other process (WeChat's retry behind a load balancer).
    assert await _post(http, second, body, second.signed_query(nonce="retry")) == (200, "success")
    assert await count_rows(sqlite_url, "processed_updates") == 1


async def test_a_reply_carrying_cdata_end_stays_one_well_formed_text(
    wechat: WeChatHarness, sqlite_url: str, http: aiohttp.ClientSession
) -> None:
    """A candidate's text echoed back with "]]>" and markup in it cannot end the element
    early and inject fields into the passive reply."""
    import xml.etree.ElementTree as ET

    bot = await wechat.start(sqlite_url, engine=echo)
    hostile = "a]]></Content><MsgType>image</MsgType><Content><![CDATA[b"
    body = (
        "<xml><ToUserName>gh_x</ToUserName>"
        f"<FromUserName>{OPENID}</FromUserName><CreateTime>{int(bot.push_clock())}</CreateTime>"
        "<MsgType>text</MsgType><Content>"
        + hostile.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        + "</Content><MsgId>9005</MsgId></xml>"
    )
    status, answer = await _post(http, bot, body, bot.signed_query())
    assert status == 200
    root = ET.fromstring(answer)
    assert root.findtext("MsgType") == "text"
    assert root.findtext("Content") == f"echo: {hostile}"
    assert len(root.findall("Content")) == 1
