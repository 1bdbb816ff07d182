"""Turns Bot API formatted text (HTML, MarkdownV2, Markdown) into plain text and entities."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


class EntityParseError(ValueError):
    """The text could not be parsed; the message is Telegram's wording after "can't parse"."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for limits and entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    # Telegram reports parse errors as UTF-8 byte offsets into the original text.
    return len(text[:index].encode("utf-8"))


@dataclass
class _Builder:
    """Accumulates output text while tracking its UTF-16 length for entity offsets."""

    parts: list[str] = field(default_factory=list)
    length: int = 0
    entities: list[dict[str, Any]] = field(default_factory=list)

    def add(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.length += utf16_len(chunk)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        if self.length > start:
            self.entities.append(
                {"type": kind, "offset": start, "length": self.length - start, **extra}
            )

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        ents = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), ents


_HTML_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ATTR_RE = re.compile(r"\s*([a-zA-Z-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?")


def _html_unescape(raw: str) -> str:
    def repl(m: re.Match[str]) -> str:
        body = m.group(1)
        if body.startswith("#x") or body.startswith("#X"):
            return chr(int(body[2:], 16))
        if body.startswith("#"):
            return chr(int(body[1:]))
        # Telegram knows only four named entities; anything else stays as written.
        return _HTML_NAMED.get(body, m.group(0))

    return re.sub(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]+);", repl, raw)


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram's HTML subset; raise EntityParseError like the real server does."""
    out = _Builder()
    stack: list[tuple[str, int, dict[str, Any], int]] = []
    i = 0
    n = len(text)
    while i < n:
        lt = text.find("<", i)
        if lt < 0:
            out.add(_html_unescape(text[i:]))
            break
        if lt > i:
            out.add(_html_unescape(text[i:lt]))
        gt = text.find(">", lt)
        closing = lt + 1 < n and text[lt + 1] == "/"
        name_start = lt + 2 if closing else lt + 1
        m = re.match(r"[a-zA-Z][a-zA-Z0-9-]*", text[name_start:])
        if m is None or gt < 0:
            raise EntityParseError(
                f"Unexpected end of name token at byte offset {_byte_offset(text, name_start)}"
            )
        name = m.group(0).lower()
        if closing:
            if not stack:
                raise EntityParseError(
                    f"Unexpected end tag at byte offset {_byte_offset(text, lt)}"
                )
            open_name, start, open_extra, _ = stack.pop()
            if open_name != name:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, lt)}, "
                    f'expected "</{open_name}>", found "</{name}>"'
                )
            _close_html(out, stack, open_name, start, open_extra)
        else:
            attrs = {
                a.group(1).lower(): (a.group(2) or "").strip("\"'")
                for a in _ATTR_RE.finditer(text[name_start + len(name) : gt].rstrip("/"))
                if a.group(1)
            }
            extra: dict[str, Any] = {}
            if name == "a":
                extra["url"] = _html_unescape(attrs.get("href", ""))
            elif name == "span":
                if attrs.get("class") != "tg-spoiler":
                    raise EntityParseError(
                        f'Tag "span" must have class "tg-spoiler" at byte offset '
                        f"{_byte_offset(text, lt)}"
                    )
            elif name == "tg-emoji":
                extra["custom_emoji_id"] = attrs.get("emoji-id", "")
            elif name == "code" and attrs.get("class", "").startswith("language-"):
                extra["language"] = attrs["class"][len("language-") :]
            elif name == "blockquote" and "expandable" in attrs:
                extra["expandable"] = True
            elif name not in _HTML_SIMPLE:
                raise EntityParseError(
                    f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, lt)}'
                )
            stack.append((name, out.length, extra, lt))
        i = gt + 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


def _close_html(
    out: _Builder,
    stack: list[tuple[str, int, dict[str, Any], int]],
    name: str,
    start: int,
    extra: dict[str, Any],
) -> None:
    if name == "a":
        url = extra.get("url", "")
        if url:
            out.entity("text_link", start, url=url)
    elif name == "span":
        out.entity("spoiler", start)
    elif name == "tg-emoji":
        out.entity("custom_emoji", start, custom_emoji_id=extra.get("custom_emoji_id", ""))
    elif name == "code" and "language" in extra and stack and stack[-1][0] == "pre":
        # <pre><code class="language-x"> is one pre entity with a language.
        stack[-1][2]["language"] = extra["language"]
    elif name == "pre":
        if "language" in extra:
            out.entity("pre", start, language=extra["language"])
        else:
            out.entity("pre", start)
    elif name == "blockquote" and extra.get("expandable"):
        out.entity("expandable_blockquote", start)
    else:
        out.entity(_HTML_SIMPLE[name], start)


_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "blockquote": "BlockQuote",
}


def parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse MarkdownV2, insisting on escaped reserved characters as Telegram does."""
    out = _Builder()
    stack: list[tuple[str, int, int]] = []  # (entity type, output start, source index)
    i = 0
    n = len(text)
    quote_start: int | None = None
    quote_src = 0
    line_start = True
    while i < n:
        c = text[i]
        if line_start:
            line_start = False
            if c == ">":
                if quote_start is None:
                    quote_start, quote_src = out.length, i
                i += 1
                continue
            if quote_start is not None:
                out.entity("blockquote", quote_start)
                quote_start = None
        if c == "\\":
            if i + 1 < n and 0 < ord(text[i + 1]) < 127:
                out.add(text[i + 1])
                i += 2
                continue
            raise EntityParseError(
                "Character '\\' is reserved and must be escaped with the preceding '\\'"
            )
        if c == "\n":
            out.add(c)
            if quote_start is not None:
                # A quote ends at the first line that does not start with '>'.
                line_start = True
            i += 1
            continue
        if c == "`":
            i = _mdv2_code(text, i, out)
            continue
        marker: str | None = None
        step = 1
        if c == "*":
            marker = "bold"
        elif c == "_":
            if text.startswith("__", i):
                marker, step = "underline", 2
            else:
                marker = "italic"
        elif c == "~":
            marker = "strikethrough"
        elif c == "|" and text.startswith("||", i):
            marker, step = "spoiler", 2
        elif c == "[":
            stack.append(("text_link", out.length, i))
            i += 1
            continue
        elif c == "]" and any(s[0] == "text_link" for s in stack):
            if stack[-1][0] != "text_link":
                raise EntityParseError(
                    f"Can't find end of {_MDV2_NAMES[stack[-1][0]]} entity at byte offset "
                    f"{_byte_offset(text, stack[-1][2])}"
                )
            _, start, _src = stack.pop()
            url = ""
            i += 1
            if i < n and text[i] == "(":
                j = i + 1
                buf: list[str] = []
                while j < n and text[j] != ")":
                    if text[j] == "\\" and j + 1 < n:
                        j += 1
                    buf.append(text[j])
                    j += 1
                if j >= n:
                    raise EntityParseError(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, i)}"
                    )
                url = "".join(buf)
                i = j + 1
            if url:
                out.entity("text_link", start, url=url)
            continue
        if marker is not None:
            open_idx = next(
                (k for k in range(len(stack) - 1, -1, -1) if stack[k][0] == marker), None
            )
            if open_idx is None:
                stack.append((marker, out.length, i))
            else:
                _kind, start, _src = stack.pop(open_idx)
                out.entity(marker, start)
            i += step
            continue
        if c in _MDV2_RESERVED:
            raise EntityParseError(
                f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
            )
        out.add(c)
        i += 1
    if stack:
        kind, _start, src = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {_byte_offset(text, src)}"
        )
    if quote_start is not None:
        out.entity("blockquote", quote_start)
    del quote_src
    return out.result()


def _mdv2_code(text: str, i: int, out: _Builder) -> int:
    """Parse `code` or ```pre``` starting at text[i]; returns the index after it."""
    n = len(text)
    fence = "```" if text.startswith("```", i) else "`"
    j = i + len(fence)
    language = ""
    if fence == "```":
        nl = text.find("\n", j)
        first = text[j:nl] if nl >= 0 else ""
        if nl >= 0 and re.fullmatch(r"[A-Za-z0-9_+#.-]*", first):
            language, j = first, nl + 1
    start = out.length
    buf: list[str] = []
    while True:
        if j >= n:
            name = "Pre" if fence == "```" else "Code"
            raise EntityParseError(
                f"Can't find end of {name} entity at byte offset {_byte_offset(text, i)}"
            )
        if text[j] == "\\" and j + 1 < n:
            buf.append(text[j + 1])
            j += 2
            continue
        if text.startswith(fence, j):
            break
        buf.append(text[j])
        j += 1
    out.add("".join(buf))
    if fence == "```":
        if language:
            out.entity("pre", start, language=language)
        else:
            out.entity("pre", start)
    else:
        out.entity("code", start)
    return j + len(fence)


def parse_markdown(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url)."""
    out = _Builder()
    i = 0
    n = len(text)
    kinds = {"*": "bold", "_": "italic"}
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in "*_`[":
            out.add(text[i + 1])
            i += 2
        elif c in kinds:
            end = text.find(c, i + 1)
            if end < 0:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            start = out.length
            out.add(text[i + 1 : end])
            out.entity(kinds[c], start)
            i = end + 1
        elif c == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = text.find(fence, i + len(fence))
            if end < 0:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            start = out.length
            out.add(text[i + len(fence) : end])
            out.entity("pre" if fence == "```" else "code", start)
            i = end + len(fence)
        elif c == "[":
            m = re.match(r"\[([^\]]*)\]\(([^)]*)\)", text[i:])
            if m is None:
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            start = out.length
            out.add(m.group(1))
            out.entity("text_link", start, url=m.group(2))
            i += m.end()
        else:
            out.add(c)
            i += 1
    return out.result()


def parse_text(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Apply parse_mode (case-insensitive like Telegram) and return (plain text, entities)."""
    if not parse_mode:
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise ValueError(f"unsupported parse mode {parse_mode}")


_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![^\s])")


def command_entities(text: str) -> list[dict[str, Any]]:
    """bot_command entities Telegram attaches to a user's text such as "/start abc"."""
    ents = []
    for m in _COMMAND_RE.finditer(text):
        ents.append(
            {
                "type": "bot_command",
                "offset": utf16_len(text[: m.start()]),
                "length": utf16_len(m.group(0)),
            }
        )
    return ents
