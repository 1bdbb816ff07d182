"""The XML packets WeChat pushes (普通消息, 事件推送) and the parsing of a passive reply.

Sources: 接收普通消息 (text: ToUserName, FromUserName, CreateTime, MsgType, Content, MsgId),
接收事件推送 (subscribe: Event; menu 点击菜单拉取消息: Event CLICK, EventKey), 被动回复用户消息
(the reply swaps ToUserName/FromUserName; text Content, image Image/MediaId, ...), 消息加解密
(the encrypted push carries ToUserName and Encrypt; the encrypted reply carries Encrypt,
MsgSignature, TimeStamp, Nonce). A msgmenu choice arrives as a text message with
``bizmsgmenuid`` (客服消息 / 发送菜单消息).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any


class XmlError(ValueError):
    """A reply that is not the XML WeChat expects."""


def _cdata(value: str) -> str:
    # "]]>" cannot occur inside one CDATA section: split it across two.
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build(fields: dict[str, Any]) -> str:
    """<xml> with one element per field: strings as CDATA, ints bare, dicts nested."""
    return "<xml>" + _inner(fields) + "</xml>"


def _inner(fields: dict[str, Any]) -> str:
    parts = []
    for name, value in fields.items():
        if value is None:
            continue
        if isinstance(value, dict):
            body = _inner(value)
        elif isinstance(value, bool):
            body = str(int(value))
        elif isinstance(value, int):
            body = str(value)
        else:
            body = _cdata(str(value))
        parts.append(f"<{name}>{body}</{name}>")
    return "".join(parts)


def parse(text: str) -> dict[str, Any]:
    """A flat-ish dict of an <xml> packet (child elements become dicts of their children)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise XmlError(f"not XML: {exc}") from None
    if root.tag != "xml":
        raise XmlError(f"root element is <{root.tag}>, not <xml>")
    return _to_dict(root)


def _to_dict(node: ET.Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in node:
        if len(child):
            value: Any = _to_dict(child)
        else:
            value = child.text or ""
        if child.tag in out:
            raise XmlError(f"element <{child.tag}> occurs twice")
        out[child.tag] = value
    return out
