"""Pushes a user's message or event to the bot's server the way the WeChat server does.

Sources (WeChat developer documentation, 被动回复用户消息 and 消息加解密说明):

- The push is a POST of the XML packet to the configured URL with ``signature``, ``timestamp``,
  ``nonce`` and ``openid`` in the query; in safe mode also ``encrypt_type=aes`` and
  ``msg_signature``, and the body holds only ToUserName and Encrypt.
- "微信服务器在五秒内收不到响应会断掉连接，并且重新发起请求，总共重试三次": no answer within the
  deadline (5 s; `Account.push_timeout`) drops the connection and the same push is sent again,
  three tries in all (`Account.push_tries`). A refused connection counts as no answer too.
- An answer of ``success`` or an empty body (length 0) means no passive reply and no retry.
- "一旦遇到以下情况，微信都会在公众号会话中，向用户下发系统提示'该公众号暂时无法提供服务，请稍后
  再试'：1、开发者在5秒内未回复任何内容 2、开发者回复了异常数据": after the last try without an
  answer, or on an answer that is not a valid passive reply, the user sees that notice. The
  emulator also counts an HTTP status other than 200 as 异常数据 (the documentation is silent).
- A passive reply swaps ToUserName (the user's OpenID) and FromUserName (the account's 原始ID);
  in safe mode it must be encrypted (Encrypt, MsgSignature, TimeStamp, Nonce) for this AppID.
- 兼容模式 (mode "compat"): the push carries the plaintext fields and Encrypt; the reply may be
  plain or encrypted.
- The query's ``timestamp`` and the packet's CreateTime follow the emulator clock (wall time
  plus what `advance_clock` added): time passes for the bot's freshness check as it does for
  the 48-hour window, as long as the bot's clock is moved with the emulator's (the clock
  hook); without `advance_clock` both are wall time.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import aiohttp

from emulator.wechat import crypto, xmlmsg
from emulator.wechat.state import SYSTEM_ERROR_TEXT, Account, WeChatState, WeChatUser

REPLY_TYPES = ("text", "image", "voice", "video", "music", "news")


def sign_query(
    account: Account, body_fields: dict[str, Any], openid: str, now: float | None = None
) -> tuple[dict, str]:
    """The query string and body of one push of these fields (`now`: the emulator clock)."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = str(secrets.randbelow(10**10))
    query = {
        "signature": crypto.sha1_signature(account.token, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": openid,
    }
    plain = xmlmsg.build(body_fields)
    if account.mode == "plain":
        return query, plain
    assert account.encoding_aes_key is not None
    encrypted = crypto.encrypt(plain, account.encoding_aes_key, account.appid)
    query["encrypt_type"] = "aes"
    query["msg_signature"] = crypto.sha1_signature(account.token, timestamp, nonce, encrypted)
    if account.mode == "compat":  # 兼容模式: the plaintext fields and the ciphertext together
        return query, xmlmsg.build({**body_fields, "Encrypt": encrypted})
    body = xmlmsg.build({"ToUserName": body_fields["ToUserName"], "Encrypt": encrypted})
    return query, body


def read_reply(
    state: WeChatState, account: Account, user: WeChatUser, text: str
) -> tuple[dict[str, Any] | None, str | None]:
    """(reply, None) for a valid passive reply, (None, None) for none, (None, why) if broken."""
    if text == "" or text == "success":
        return None, None
    try:
        packet = xmlmsg.parse(text)
    except xmlmsg.XmlError as exc:
        return None, str(exc)
    # 安全模式 requires the encrypted form; 兼容模式 takes either ("公众号回复明文或密文均可").
    if account.mode == "safe" or (account.mode == "compat" and "Encrypt" in packet):
        needed = ("Encrypt", "MsgSignature", "TimeStamp", "Nonce")
        missing = [k for k in needed if not isinstance(packet.get(k), str) or not packet[k]]
        if missing:
            return None, "safe mode reply lacks " + ", ".join(missing)
        expected = crypto.sha1_signature(
            account.token, packet["TimeStamp"], packet["Nonce"], packet["Encrypt"]
        )
        if expected != packet["MsgSignature"]:
            return None, "MsgSignature does not match"
        assert account.encoding_aes_key is not None
        try:
            inner, appid = crypto.decrypt(packet["Encrypt"], account.encoding_aes_key)
        except crypto.CryptoError as exc:
            return None, f"cannot decrypt: {exc}"
        if appid != account.appid:
            return None, f"encrypted for appid {appid!r}, not {account.appid!r}"
        try:
            packet = xmlmsg.parse(inner)
        except xmlmsg.XmlError as exc:
            return None, f"decrypted reply: {exc}"
    return _check_message(state, account, user, packet)


def _check_message(
    state: WeChatState, account: Account, user: WeChatUser, packet: dict[str, Any]
) -> tuple[dict[str, Any] | None, str | None]:
    if packet.get("ToUserName") != user.openid:
        return None, f"ToUserName {packet.get('ToUserName')!r} is not the user's OpenID"
    if packet.get("FromUserName") != account.original_id:
        return None, f"FromUserName {packet.get('FromUserName')!r} is not the account"
    if not str(packet.get("CreateTime", "")).strip().isdigit():
        return None, "CreateTime is not an integer"
    mtype = packet.get("MsgType")
    if mtype not in REPLY_TYPES:
        return None, f"MsgType {mtype!r} cannot be a passive reply"
    if mtype == "text":
        content = packet.get("Content")
        if not isinstance(content, str) or not content:
            return None, "text reply without Content"
        return {"kind": "text", "text": content}, None
    if mtype == "image":
        image = packet.get("Image")
        media_id = image.get("MediaId") if isinstance(image, dict) else None
        if state.live_media(media_id) is None:
            return None, f"Image/MediaId {media_id!r} is not a valid media_id"
        return {"kind": "image", "media_id": media_id}, None
    return {"kind": mtype, "raw": packet}, None


async def push(
    state: WeChatState,
    user: WeChatUser,
    fields: dict[str, Any],
    session: aiohttp.ClientSession,
    *,
    visible: bool = True,
) -> dict[str, Any]:
    """Deliver one packet with the retries; record the outcome in the transcript; report it.

    visible=False (an unsubscribe event): the user has left, so neither a passive reply nor
    the error notice reaches the chat; the report still says what the bot answered.
    """
    account = state.account
    assert account is not None
    started = time.monotonic()
    attempts: list[dict[str, Any]] = []
    report: dict[str, Any] = {"attempts": 0, "reply": None, "error": None}
    if not account.url:
        report["error"] = "the account has no server URL"
        return _finish(state, user, report, attempts, started, fields, visible)
    query, body = sign_query(account, fields, user.openid, state.now())
    for attempt in range(1, account.push_tries + 1):
        t0 = time.monotonic()
        record: dict[str, Any] = {"try": attempt}
        attempts.append(record)
        try:
            timeout = aiohttp.ClientTimeout(total=account.push_timeout)
            async with session.post(
                account.url,
                params=query,
                data=body.encode(),
                headers={"Content-Type": "text/xml"},
                timeout=timeout,
            ) as resp:
                # Not UTF-8 is 异常数据 too: decoded with replacements, it fails the XML checks.
                text = (await resp.read()).decode("utf-8", errors="replace")
                record.update(status=resp.status, elapsed=round(time.monotonic() - t0, 3))
        except TimeoutError:
            record.update(outcome="timeout", elapsed=round(time.monotonic() - t0, 3))
            continue
        except aiohttp.ClientError as exc:
            record.update(outcome="connection error", detail=str(exc))
            record["elapsed"] = round(time.monotonic() - t0, 3)
            continue
        if resp.status != 200:
            record["outcome"] = "http error"
            report["error"] = f"HTTP {resp.status}"
            break
        reply, why = read_reply(state, account, user, text)
        if why is not None:
            record["outcome"] = "bad reply"
            report["error"] = why
            report["body"] = text[:2000]
        elif reply is None:
            record["outcome"] = "no reply"
        else:
            record["outcome"] = "reply"
            report["reply"] = reply
        break
    else:
        report["error"] = f"no answer within {account.push_timeout:g} s in {len(attempts)} tries"
    return _finish(state, user, report, attempts, started, fields, visible)


def _finish(
    state: WeChatState,
    user: WeChatUser,
    report: dict[str, Any],
    attempts: list[dict[str, Any]],
    started: float,
    fields: dict[str, Any],
    visible: bool,
) -> dict[str, Any]:
    report["attempts"] = len(attempts)
    report["tries"] = attempts
    report["elapsed"] = round(time.monotonic() - started, 3)
    reply = report["reply"]
    if not visible:
        pass
    elif reply is not None:
        data = {k: v for k, v in reply.items() if k != "kind"}
        state.add_entry(user, "bot", reply["kind"], "passive", **data)
    elif report["error"] is not None:
        state.add_entry(user, "system", "error", "system", text=SYSTEM_ERROR_TEXT)
    report["outcome"] = (
        "reply" if reply is not None else ("error" if report["error"] else "no_reply")
    )
    state.pushes.append(
        {"openid": user.openid, "packet": fields, **{k: v for k, v in report.items()}}
    )
    return report
