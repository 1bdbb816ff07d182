"""The message-push protocol of a WeChat Official Account: signatures, safe-mode AES
crypto, the pushed XML and the passive reply XML.

wechatpy (1.8.18) supplies the SHA1 signer, the AES-CBC message crypto (on the
`cryptography` backend) and the XML parsing (xmltodict). Around it, this module compares
signatures in constant time, draws the 16 random bytes of an encrypted reply from
`secrets` (wechatpy uses `random`), and renders passive replies itself: wechatpy's CDATA
fields would let a "]]>" in the text end the element early.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
import time
from dataclasses import dataclass
from typing import Any

from wechatpy import parse_message
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.utils import WeChatSigner

# A push whose timestamp is further than this from our clock is refused (a replay of a
# recorded push, or a clock far off). WeChat retries within about 15 seconds.
MAX_SKEW_SECONDS = 300
AES_KEY_LENGTH = 43
_RANDOM_ALPHABET = string.ascii_letters + string.digits


class Refused(Exception):
    """A push that is not WeChat's (signature), stale, or unreadable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sign(*parts: str) -> str:
    """SHA1 over the parts sorted and joined: `signature` (token, timestamp, nonce) and,
    in safe mode, `msg_signature` (the same and the Encrypt text)."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def signature_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def fresh(timestamp: str | None, now: float | None = None) -> bool:
    """Whether a push's timestamp is a number within MAX_SKEW_SECONDS of now."""
    if not timestamp or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    now = time.time() if now is None else now
    return abs(now - int(timestamp)) <= MAX_SKEW_SECONDS


def aes_key_ok(key: str) -> bool:
    """An EncodingAESKey: 43 characters of base64 that decode to 32 bytes."""
    if len(key) != AES_KEY_LENGTH:
        return False
    try:
        return len(base64.b64decode(key + "=", validate=True)) == 32
    except ValueError:
        return False


class _SecretRandomPrp(PrpCrypto):
    def get_random_string(self) -> str:
        return "".join(secrets.choice(_RANDOM_ALPHABET) for _ in range(16))


class MessageCrypto:
    """Safe mode: the AES-256-CBC envelope of pushes and replies, keyed by the
    EncodingAESKey, with the AppID inside every message."""

    def __init__(self, token: str, aes_key: str, app_id: str) -> None:
        self.token = token
        self.app_id = app_id
        self._crypto = WeChatCrypto(token, aes_key, app_id)

    def decrypt(self, encrypted: str, msg_signature: str | None, timestamp: str, nonce: str) -> str:
        """The pushed XML inside `encrypted`; Refused unless signed and for this AppID."""
        expected = sign(self.token, timestamp, nonce, encrypted)
        if not signature_ok(expected, msg_signature):
            raise Refused("msg_signature")
        try:
            return str(_SecretRandomPrp(self._crypto.key).decrypt(encrypted, self.app_id))
        except Exception:
            # A wrong AppID, bad padding or base64: signed by the token, yet unreadable.
            raise Refused("undecryptable") from None

    def encrypt(self, xml: str, timestamp: str, nonce: str) -> str:
        """The encrypted passive reply envelope for `xml`."""
        encrypted = _SecretRandomPrp(self._crypto.key).encrypt(xml, self.app_id).decode()
        signature = sign(self.token, timestamp, nonce, encrypted)
        return (
            f"<xml><Encrypt>{cdata(encrypted)}</Encrypt>"
            f"<MsgSignature>{cdata(signature)}</MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>"
        )


def parse(xml: str) -> dict[str, str]:
    """The fields of a pushed message or event (text values; unknown types too)."""
    try:
        message: Any = parse_message(xml)
    except Exception:
        raise Refused("xml") from None
    data = getattr(message, "_data", None)
    if not isinstance(data, dict):
        raise Refused("xml")
    return {str(k): v for k, v in data.items() if isinstance(v, str)}


def encrypted_part(xml: str) -> str:
    """The Encrypt element of a safe-mode push body."""
    import xmltodict

    try:
        body = xmltodict.parse(xml)["xml"]
        value = body["Encrypt"]
    except Exception:
        raise Refused("xml") from None
    if not isinstance(value, str) or not value:
        raise Refused("xml")
    return value


def cdata(text: str) -> str:
    """`text` as CDATA; a "]]>" inside is split over two sections."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


@dataclass(frozen=True, slots=True)
class PassiveText:
    content: str


@dataclass(frozen=True, slots=True)
class PassiveImage:
    media_id: str


Passive = PassiveText | PassiveImage


def render_passive(reply: Passive, *, to_user: str, from_user: str, now: int) -> str:
    """The passive reply XML: to the user who pushed, from the account it was pushed to."""
    head = (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName><CreateTime>{now}</CreateTime>"
    )
    if isinstance(reply, PassiveText):
        body = f"<MsgType>{cdata('text')}</MsgType><Content>{cdata(reply.content)}</Content>"
    else:
        media = f"<MediaId>{cdata(reply.media_id)}</MediaId>"
        body = f"<MsgType>{cdata('image')}</MsgType><Image>{media}</Image>"
    return head + body + "</xml>"


def update_id(app_id: str, dedup_key: str) -> int:
    """A stable 60-bit update id for a push (the core keys processed updates by integers)."""
    digest = hashlib.sha256(f"{app_id}\n{dedup_key}".encode()).hexdigest()
    return int(digest[:15], 16)


def dedup_key(fields: dict[str, str]) -> str:
    """MsgId for messages; FromUserName + CreateTime for events (and anything without one),
    with the event and its key: a retry repeats them, while two taps in one second (a
    follow, then a menu click) are two events."""
    msg_id = fields.get("MsgId", "")
    if msg_id:
        return f"m:{msg_id}"
    parts = [fields.get(k, "") for k in ("FromUserName", "CreateTime", "Event", "EventKey")]
    return "e:" + "\n".join(parts)
