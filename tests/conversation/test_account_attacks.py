"""Attacks on the pass account through the chat, as an outsider would make them (issue 20):
password guessing, common passwords, a silent second sign-in, the recovery oracle,
and using up a victim's reset codes. Each fails on the code before the defence."""

from __future__ import annotations

from datetime import date, timedelta

from bot.worker_runtime import NoticeRenderer
from registration.identity import make_id_card_number
from tests.conversation.conftest import Chat, Harness
from tests.conversation.flows_helpers import PASSWORD, ZHANG, ZHOU, save_information, sign_up

LOCKED = "密码错误次数过多"
WRONG = "邮箱或密码不正确"
TOO_MANY = "请求过于频繁"


async def to_sign_in_password(chat: Chat, email: str) -> None:
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("登录")
    await chat.send(email)


async def reset_by_mail(h: Harness, chat: Chat, email: str, new_password: str) -> None:
    """At the sign-in password step: Forgot password -> e-mail -> code -> new password."""
    await chat.press("忘记密码")
    await chat.send(email)
    await chat.send(h.code_for(email))
    await chat.send(new_password)
    assert "密码已重置" in chat.text, chat.text


async def test_r8_forty_wrong_passwords_then_the_right_one_is_refused(harness: Harness) -> None:
    h = harness
    await sign_up(h, h.chat(), "victim@example.com")
    attacker = h.chat()
    await to_sign_in_password(attacker, "victim@example.com")
    answers = []
    for n in range(40):
        await attacker.send(f"Guess_{n:02d}!")
        answers.append(
            LOCKED if LOCKED in attacker.text else WRONG if WRONG in attacker.text else ""
        )
    assert answers == [WRONG] * 5 + [LOCKED] * 35
    assert "1 分钟后再试" in attacker.text and "忘记密码" in attacker.text  # kind, with the wait
    await attacker.send(PASSWORD)
    assert LOCKED in attacker.text and "已登录" not in attacker.text

    # The account is locked for every chat, the owner's new phone too ...
    owner = h.chat()
    await to_sign_in_password(owner, "victim@example.com")
    await owner.send(PASSWORD)
    assert LOCKED in owner.text
    # ... but the owner can reset by e-mail, which lifts the account's lock.
    await reset_by_mail(h, owner, "victim@example.com", "Hai_yang_9")
    third = h.chat()
    await to_sign_in_password(third, "victim@example.com")
    await third.send("Hai_yang_9")
    assert "已登录：victim@example.com" in third.text


async def test_r8_guesses_from_forty_chats_lock_the_account(harness: Harness) -> None:
    h = harness
    await sign_up(h, h.chat(), "many@example.com")
    wrong = 0
    for n in range(40):  # one guess each from 40 chats (10 guesses/s in the attack)
        chat = h.chat()
        await to_sign_in_password(chat, "many@example.com")
        await chat.send(f"Guess_{n:02d}!")
        wrong += WRONG in chat.text
        assert WRONG in chat.text or LOCKED in chat.text
    assert wrong == 5  # only five were even checked
    late = h.chat()
    await to_sign_in_password(late, "many@example.com")
    await late.send(PASSWORD)
    assert LOCKED in late.text
    h.clock.advance(timedelta(minutes=1, seconds=1))  # the first wait is over
    await late.send(PASSWORD)
    assert "已登录：many@example.com" in late.text


async def test_r8_common_password_is_refused_and_says_why(harness: Harness) -> None:
    chat = harness.chat()
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("注册通行证")
    await chat.send("common@example.com")
    await chat.send("Passw0rd!")
    assert "这个密码太常见了" in chat.text
    assert (await harness.conversation(chat))[0] == "signup.password"
    chat.language_code = "en"
    await chat.command("language")
    await chat.press("English")
    await chat.press("Account")
    await chat.press("Sign up")
    await chat.send("common@example.com")
    await chat.send("Password1!")
    assert "too common" in chat.text
    await chat.send(PASSWORD)
    assert "common@example.com" in chat.text and "too common" not in chat.text


async def _outbox(h: Harness) -> list[tuple[int, str, tuple]]:
    """What the worker would send now: (chat, text, keyboard), rendered as it renders."""
    renderer = NoticeRenderer()
    async with h.db.uow() as uow:
        now = h.clock.now()
        rows = await uow.outbox.claim("test", now, now + timedelta(minutes=1), 100)
        out = []
        for m in rows:
            rendered = await renderer.render(uow, m)
            out.append((m.chat_id, rendered.text or "", rendered.keyboard))
        await uow.commit()
    return out


async def test_r7_sign_in_from_a_second_chat_tells_the_first_with_a_not_me_button(
    harness: Harness,
) -> None:
    h = harness
    first = h.chat()
    await sign_up(h, first, "bound@example.com")
    assert await _outbox(h) == []  # signing up tells nobody
    intruder = h.chat()
    await to_sign_in_password(intruder, "bound@example.com")
    await intruder.send(PASSWORD)
    assert "已登录：bound@example.com" in intruder.text
    # Queued for the first chat only, in the sign-in's transaction; never a direct send.
    [(chat_id, text, keyboard)] = await _outbox(h)
    assert chat_id == first.user_id
    assert "在另一个对话中登录" in text and "2026-11-25 10:00" in text  # Beijing time
    [[button]] = keyboard
    assert "不是我" in button.label

    # The owner taps it, whatever step they are at: every chat signs out, a code is mailed.
    await first.command("start")
    # Pressed on the notice (a message the conversation never drew): answered with a new
    # message, the notice stays as it is (the driver refuses edits of unknown messages).
    await first.press_payload(button.payload, message_id=10**6)
    assert "已将 bound@example.com 在所有对话中退出登录" in first.text
    await intruder.command("start")
    await intruder.press("通行证账号")
    assert intruder.has_button("登录")  # the intruder is out
    await first.send(h.code_for("bound@example.com"))
    await first.send("Hai_yang_9")
    assert "密码已重置" in first.text
    # The reset itself tells nobody (every other chat was signed out).
    assert await _outbox(h) == []


async def _recover(chat: Chat, name: str, number: str) -> str:
    await chat.command("start")
    await chat.press("通行证账号")
    await chat.press("找回已报名账号")
    await chat.send(name)
    await chat.press("居民身份证")
    await chat.send(number)
    return chat.text


async def test_r10_recovery_answers_alike_and_is_rate_limited(harness: Harness) -> None:
    h = harness
    owner = h.chat()
    await sign_up(h, owner, "zhangwei@example.com")
    await save_information(owner, ZHANG)
    mails = len(h.mailer.messages)
    prober = h.chat()
    absent = make_id_card_number("110108", date(2005, 3, 14), 555)
    registered = await _recover(prober, *ZHANG[::2])
    not_registered = await _recover(prober, ZHOU[0], ZHOU[2])  # on the roster, no account
    no_record = await _recover(prober, "张伟", absent)
    assert registered == not_registered == no_record  # no ID-number oracle
    assert "zhangwei" not in registered and "z***" not in registered
    # Only the registered record's account got a mail, at its own address.
    [mail] = h.mailer.messages[mails:]
    assert mail.to == "zhangwei@example.com" and "zhangwei@example.com" in mail.body

    # 16 look-ups in a row: the sixth in the hour is refused (like quick print, R39).
    answers = [await _recover(prober, "张伟", absent) for _ in range(13)]
    assert [TOO_MANY in a for a in answers] == [False, False] + [True] * 11
    h.clock.advance(timedelta(hours=1, minutes=1))
    assert TOO_MANY not in await _recover(prober, "张伟", absent)


async def test_r10_stranger_cannot_use_up_the_owners_reset_codes(harness: Harness) -> None:
    h = harness
    await sign_up(h, h.chat(), "target@example.com")
    owner = h.chat()
    await to_sign_in_password(owner, "target@example.com")
    await owner.press("忘记密码")
    await owner.send("target@example.com")
    owner_code = h.code_for("target@example.com")

    stranger = h.chat()
    await stranger.command("start")
    await stranger.press("通行证账号")
    await stranger.press("忘记密码")
    await stranger.send("target@example.com")
    for _ in range(2):
        await stranger.press("重新发送验证码")
        assert TOO_MANY not in stranger.text
    await stranger.press("重新发送验证码")  # the fourth in the hour from this chat
    assert TOO_MANY in stranger.text
    # A stranger's codes neither replace the owner's nor can be guessed into it.
    await stranger.send(owner_code)
    await stranger.send("Stolen_77!")
    assert "验证码不正确" in stranger.text

    # The owner's code still works, and the owner can still get new ones.
    await owner.send(owner_code)
    await owner.send("Hai_yang_9")
    assert "密码已重置" in owner.text
    another = h.chat()
    await to_sign_in_password(another, "target@example.com")
    before = len(h.mailer.to("target@example.com"))
    await another.press("忘记密码")
    await another.send("target@example.com")
    assert len(h.mailer.to("target@example.com")) == before + 1
