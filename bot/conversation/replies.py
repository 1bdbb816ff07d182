"""Actions as JSON, so the reply of a committed update can be kept until it is out.

The reply is written with the update's unit of work (on the conversation row) and
cleared once the adapter has carried it out; a process killed in between leaves it
for the next process to send. Button answers are not kept (a callback query is only
answerable for seconds), nor uploads of bytes (a ticket is asked for again).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.conversation.types import Action, Button, DeleteMessage, SendDocument, SendText


def dump_actions(actions: Iterable[Action]) -> list[dict[str, Any]]:
    """The actions worth sending again, as JSON-able dicts."""
    out: list[dict[str, Any]] = []
    for a in actions:
        if isinstance(a, SendText):
            out.append(
                {
                    "t": "text",
                    "chat": a.chat_id,
                    "text": a.text,
                    "kb": [[[b.label, b.payload, b.url] for b in row] for row in a.keyboard],
                    "edit": a.edit_message_id,
                    "menu": a.remember_as_menu,
                }
            )
        elif isinstance(a, DeleteMessage):
            out.append({"t": "delete", "chat": a.chat_id, "message": a.message_id})
        elif isinstance(a, SendDocument) and a.file_id:
            out.append(
                {
                    "t": "doc",
                    "chat": a.chat_id,
                    "name": a.filename,
                    "file": a.file_id,
                    "caption": a.caption,
                }
            )
    return out


def load_actions(stored: Iterable[dict[str, Any]]) -> list[Action]:
    """The actions `dump_actions` wrote (unknown kinds, from a newer version, are skipped)."""
    out: list[Action] = []
    for d in stored:
        kind = d.get("t")
        if kind == "text":
            keyboard = tuple(
                tuple(Button(label, payload, url) for label, payload, url in row)
                for row in d.get("kb", [])
            )
            out.append(
                SendText(
                    int(d["chat"]),
                    str(d["text"]),
                    keyboard=keyboard,
                    edit_message_id=d.get("edit"),
                    remember_as_menu=bool(d.get("menu", True)),
                )
            )
        elif kind == "delete":
            out.append(DeleteMessage(int(d["chat"]), int(d["message"])))
        elif kind == "doc":
            out.append(
                SendDocument(
                    int(d["chat"]),
                    str(d["name"]),
                    file_id=str(d["file"]),
                    caption=str(d.get("caption", "")),
                )
            )
    return out
