"""Issue 19: a step's Actions folded into as few WeChat messages as they can be (the pure
function the adapter sends from; the tests over HTTP show the messages arriving)."""

from __future__ import annotations

from bot.conversation.types import (
    AnswerButton,
    Button,
    DeleteMessage,
    SendDocument,
    SendPhoto,
    SendText,
)
from bot.handlers.wechat.adapter import choice_of_menu_id, menu_id, numbered
from bot.handlers.wechat.folding import (
    MAX_TEXT_BYTES,
    Choice,
    DocumentOut,
    ImageOut,
    TextOut,
    fold,
)

CHAT = 2**53 + 1
MENU = (
    (Button("报名", "c1:3:reg"), Button("帮助", "c1:3:help")),
    (Button("官网", url="https://cet.neea.edu.cn/?a=1&b=2"),),
)


def test_a_step_of_answer_deletion_notice_and_screen_is_one_message() -> None:
    actions = [
        AnswerButton("cb", text="已保存"),
        DeleteMessage(CHAT, 7),
        SendText(CHAT, "通知", remember_as_menu=False),
        SendText(CHAT, "主菜单", MENU, edit_message_id=5),
    ]
    [message] = fold(actions)
    assert isinstance(message, TextOut)
    assert message.text.startswith("已保存\n\n通知\n\n主菜单")
    # The link button is a link in the text (its URL escaped for the attribute).
    assert '<a href="https://cet.neea.edu.cn/?a=1&amp;b=2">官网</a>' in message.text
    assert message.choices == (Choice("报名", "c1:3:reg"), Choice("帮助", "c1:3:help"))


def test_the_newest_keyboard_is_the_one_offered() -> None:
    old = ((Button("旧", "c1:2:old"),),)
    new = ((Button("新", "c1:3:new"),),)
    [message] = fold([SendText(CHAT, "a", old), SendText(CHAT, "b", new)])
    assert isinstance(message, TextOut)
    assert message.choices == (Choice("新", "c1:3:new"),)


def test_a_photo_is_an_image_and_its_caption_leads_the_text_after_it() -> None:
    out = fold(
        [SendText(CHAT, "前"), SendPhoto(CHAT, b"png", caption="照片"), SendText(CHAT, "后")]
    )
    assert [type(m) for m in out] == [TextOut, ImageOut, TextOut]
    assert isinstance(out[2], TextOut) and out[2].text == "照片\n\n后"


def test_a_document_goes_to_the_hook_in_its_place() -> None:
    doc = SendDocument(CHAT, "ticket.pdf", data=b"%PDF")
    out = fold([SendText(CHAT, "准考证"), doc])
    assert [type(m) for m in out] == [TextOut, DocumentOut]


def test_a_long_text_is_cut_under_the_limit_and_the_choices_go_with_the_last_part() -> None:
    text = "\n".join(f"第{i}行：" + "报名" * 40 for i in range(40))
    out = fold([SendText(CHAT, text, MENU)])
    assert len(out) > 1
    assert all(isinstance(m, TextOut) for m in out)
    assert all(len(m.text.encode()) <= MAX_TEXT_BYTES for m in out if isinstance(m, TextOut))
    assert [bool(m.choices) for m in out if isinstance(m, TextOut)] == [False] * (len(out) - 1) + [
        True
    ]
    assert "".join(m.text for m in out if isinstance(m, TextOut)).count("第") == 40


def test_numbered_options_and_menu_ids() -> None:
    text = numbered("请选择", (Choice("报名", "a"), Choice("帮助", "b")))
    assert text.split("\n")[2:4] == ["1. 报名", "2. 帮助"]
    assert "1-2" in text.split("\n")[-1]
    assert numbered("Choose", (Choice("Help", "b"),)).endswith("(1-1).")
    assert menu_id(12, 3) == "1203"
    assert choice_of_menu_id("1203", ["a", "b", "c"], 12) == "c"
    assert choice_of_menu_id("1103", ["a", "b", "c"], 12) is None  # an older offer's
    assert choice_of_menu_id("1209", ["a", "b", "c"], 12) is None
    assert choice_of_menu_id("x", ["a"], 12) is None
