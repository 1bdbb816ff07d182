"""Entity parsing of the emulator: plain text, UTF-16 offsets and Telegram's error messages."""

from __future__ import annotations

import pytest

from emulator.textparse import (
    EntityParseError,
    command_entities,
    parse_html,
    parse_markdown_v2,
    utf16_len,
)


def test_utf16_length_counts_astral_characters_twice() -> None:
    assert utf16_len("报名") == 2
    assert utf16_len("😀a") == 3


def test_html_offsets_are_utf16() -> None:
    text, ents = parse_html("😀 <i>x</i> <code>a&amp;b</code>")
    assert text == "😀 x a&b"
    assert ents == [
        {"type": "italic", "offset": 3, "length": 1},
        {"type": "code", "offset": 5, "length": 3},
    ]


def test_html_pre_with_language_and_spoiler() -> None:
    text, ents = parse_html(
        '<pre><code class="language-python">x=1</code></pre><span class="tg-spoiler">s</span>'
    )
    assert text == "x=1s"
    assert ents == [
        {"type": "pre", "offset": 0, "length": 3, "language": "python"},
        {"type": "spoiler", "offset": 3, "length": 1},
    ]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("a < b", "Unexpected end of name token at byte offset 3"),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
    ],
)
def test_html_errors(source: str, message: str) -> None:
    with pytest.raises(EntityParseError) as err:
        parse_html(source)
    assert str(err.value) == message


def test_markdown_v2_entities_and_escapes() -> None:
    text, ents = parse_markdown_v2("*a* _b_ __c__ ~d~ ||e|| `f\\`` [g](https://x.y/\\)) 1\\.5")
    assert text == "a b c d e f` g 1.5"
    kinds = [e["type"] for e in ents]
    assert kinds == ["bold", "italic", "underline", "strikethrough", "spoiler", "code", "text_link"]
    assert ents[-1]["url"] == "https://x.y/)"


def test_markdown_v2_errors() -> None:
    with pytest.raises(EntityParseError, match="Character '!' is reserved"):
        parse_markdown_v2("hi!")
    with pytest.raises(EntityParseError, match="Can't find end of Bold entity at byte offset 0"):
        parse_markdown_v2("*open")


def test_command_entities() -> None:
    assert command_entities("/start abc") == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert command_entities("报名 /help@cet_bot") == [
        {"type": "bot_command", "offset": 3, "length": 13}
    ]
    assert command_entities("a/b") == []
