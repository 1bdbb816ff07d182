"""Common candidate journeys, typed and tapped through a `ChatDriver` (Chinese labels)."""

from __future__ import annotations

from tests.conversation.driver import ChatDriver, FlowHarness

PASSWORD = "Lan_tian_88"

ZHANG = ("张伟", "id_card", "110108200503140231")  # plain path, CET4 at BSU-HD
ZHOU = ("周子涵", "id_card", "42010220060214614x")  # ends in x (typed lower-case)
WANG_HR = ("王浩然", "id_card", "110108200404043217")  # CET-6 review passes at once (R15)

ID_TYPE_LABEL = {"id_card": "居民身份证", "passport": "护照"}


async def sign_up(h: FlowHarness, chat: ChatDriver, email: str) -> None:
    """Account -> Sign up -> e-mail -> password -> code: verified and bound (R7-R9)."""
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("注册通行证")
    await chat.send(email)
    await chat.send(PASSWORD)
    await chat.send(h.code_for(email))
    assert "邮箱验证成功" in chat.text


async def look_up(chat: ChatDriver, person: tuple[str, str, str]) -> None:
    """From the main menu: agreement -> ID type -> name -> ID number: the confirmation view."""
    name, id_type, number = person
    await chat.command("start")
    await chat.press("开始报名")
    assert "报名协议" in chat.text
    await chat.press("我已阅读并同意")
    await chat.press(ID_TYPE_LABEL[id_type])
    await chat.send(name)
    await chat.send(number)


async def save_information(chat: ChatDriver, person: tuple[str, str, str]) -> None:
    """Lookup, confirm record and eligibility, keep the roster's phone: saved (R13)."""
    await look_up(chat, person)
    await chat.press("信息无误")
    await chat.press("使用此号码")
    assert "报名信息已保存" in chat.text


async def to_the_paper_question(chat: ChatDriver) -> None:
    """From the main menu of a candidate whose information is saved: overview, add a
    subject, CET-4 at Haidian, up to the paper report question (nothing booked yet)."""
    await chat.command("start")
    await chat.press("我的报名")
    await chat.press("报考科目")
    await chat.press("英语四级")
    await chat.press("海淀校区")
    assert "纸质成绩报告单" in chat.text


async def register(chat: ChatDriver, subject: str, campus: str, paper: str = "不需要") -> None:
    """At the subject list: subject -> campus -> paper report (written): entry created."""
    await chat.press(subject)
    await chat.press(campus)
    if "纸质成绩报告单" in chat.text:
        await chat.press(paper)
