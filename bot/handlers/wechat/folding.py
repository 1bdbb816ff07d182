"""A step's Actions folded into as few WeChat messages as they can be.

An official account has no inline keyboards, no edits, no deletions and no files, and
each customer-service message counts against a small quota per user action, so:
texts are joined into one message; a keyboard's callback buttons become the choices of
that message (a menu message, or numbered options answered with a digit); link buttons
become links in the text; an edit is a new message; a button answer with text is text;
a deletion does nothing; a photo is an image message, its caption the start of the text
after it; a document goes to the adapter's document hook (a ticket PDF becomes an image
and a link).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

from bot.conversation.types import (
    Action,
    AnswerButton,
    DeleteMessage,
    SendDocument,
    SendPhoto,
    SendText,
)

# Longer texts are split (the documentation gives 2048 bytes for a text's Content).
MAX_TEXT_BYTES = 2048
PARAGRAPH = "\n\n"


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class TextOut:
    text: str
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True, slots=True)
class ImageOut:
    data: bytes
    filename: str = "image.png"


@dataclass(frozen=True, slots=True)
class DocumentOut:
    action: SendDocument


Out = TextOut | ImageOut | DocumentOut


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def image_name(data: bytes) -> str:
    """The upload's file name, its extension telling the format (a ticket page is a PNG)."""
    return "photo.png" if data.startswith(PNG_SIGNATURE) else "photo.jpg"


def link(label: str, url: str) -> str:
    """A link in a text message (WeChat shows <a href> in text as a link)."""
    return f'<a href="{html.escape(url, quote=True)}">{html.escape(label, quote=False)}</a>'


def fold(actions: Iterable[Action]) -> list[Out]:
    """The messages that carry `actions`, in order, as few as they can be."""
    out: list[Out] = []
    texts: list[str] = []
    choices: tuple[Choice, ...] = ()

    def flush() -> None:
        nonlocal texts, choices
        if texts or choices:
            out.extend(_split(PARAGRAPH.join(t for t in texts if t), choices))
        texts, choices = [], ()

    for action in actions:
        if isinstance(action, SendText):
            links = [link(b.label, b.url) for row in action.keyboard for b in row if b.url]
            offered = tuple(
                Choice(b.label, b.payload)
                for row in action.keyboard
                for b in row
                if b.payload and not b.url
            )
            texts.append("\n".join([action.text, *links]).strip())
            if offered:
                # The step's newest keyboard is the one that works: earlier ones are stale.
                choices = offered
        elif isinstance(action, AnswerButton):
            if action.text:
                texts.append(action.text)
        elif isinstance(action, SendPhoto):
            flush()
            out.append(ImageOut(action.data, image_name(action.data)))
            if action.caption:
                texts.append(action.caption)  # under the image, with what follows
        elif isinstance(action, SendDocument):
            flush()
            out.append(DocumentOut(action))
        elif isinstance(action, DeleteMessage):
            continue  # an official account cannot take back what it sent
    flush()
    return out


def _split(text: str, choices: tuple[Choice, ...]) -> list[TextOut]:
    """One TextOut, or several when the text is over MAX_TEXT_BYTES (the choices go with
    the last part), cut at paragraph or line ends where it can be."""
    budget = MAX_TEXT_BYTES - 256 * bool(choices)  # room for the options or menu
    if len(text.encode()) <= budget:
        return [TextOut(text, choices)]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode()) <= budget:
            current = candidate
            continue
        if current:
            parts.append(current)
        while len(line.encode()) > budget:
            cut = _cut(line, budget)
            parts.append(line[:cut])
            line = line[cut:]
        current = line
    if current:
        parts.append(current)
    return [TextOut(p, choices if i == len(parts) - 1 else ()) for i, p in enumerate(parts)]


def _cut(line: str, budget: int) -> int:
    """The most characters of `line` whose UTF-8 fits `budget` bytes."""
    size = 0
    for i, ch in enumerate(line):
        size += len(ch.encode())
        if size > budget:
            return max(i, 1)
    return len(line)
