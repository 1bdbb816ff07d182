"""Pass accounts (R7-R10) on SQLite and PostgreSQL, with codes mailed through a real SMTP server."""

from __future__ import annotations

import asyncio
import io
import re
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Literal, TypeVar

import pytest
from aiosmtpd.controller import Controller
from argon2 import PasswordHasher

from foundation.clock import FrozenClock
from foundation.i18n import t
from foundation.settings import Settings
from outgoing.mailer import ConsoleMailer, MailboxMailer, SmtpMailer, mailer_from_settings
from registration import accounts
from registration.accounts import CODE_ATTEMPT_ERRORS
from registration.errors import (
    AccountExists,
    AccountNotFound,
    BadCredentials,
    CodeExpired,
    CodeInvalid,
    EmailNotVerified,
    InvalidEmail,
    InvalidIdNumber,
    TooManyAttempts,
    TooManyCodes,
    WeakPassword,
)
from registration.identity import make_id_card_number
from storage.db import Database, UnitOfWork

T = TypeVar("T")
PASSWORD = "Lan_tian_2026"
TG = "telegram"
TESTER = "telegram:42"  # the chat user asking (sign-in limits, reset codes)


# --- a real SMTP server on 127.0.0.1 -----------------------------------------------


class Inbox:
    """aiosmtpd handler: keeps every mail it is given, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def inbox(smtp_server: tuple[Inbox, int]) -> Inbox:
    smtp_server[0].messages.clear()
    return smtp_server[0]


@pytest.fixture
def mailer(smtp_server: tuple[Inbox, int]) -> SmtpMailer:
    return SmtpMailer(f"smtp://127.0.0.1:{smtp_server[1]}?from=noreply@cetbot.test")


def code_in(msg: EmailMessage) -> str:
    body = msg.get_content()
    found = re.search(r"^\s*([0-9]{6})\s*$", body, re.MULTILINE)
    assert found, body
    return found.group(1)


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


# --- the caller's side: one unit of work, committed in one place --------------------


async def run(db: Database, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """Like a chat handler: commit on success, and after a counted code attempt (R9)."""
    async with db.uow() as uow:
        try:
            result = await work(uow)
        except CODE_ATTEMPT_ERRORS:
            await uow.commit()
            raise
        await uow.commit()
        return result


async def sign_up(
    db: Database, clock: FrozenClock, mailer: Any, email: str, locale: str = "zh"
) -> Any:
    return await run(db, lambda uow: accounts.sign_up(uow, clock, mailer, email, PASSWORD, locale))


async def verify(db: Database, clock: FrozenClock, email: str, code: str) -> Any:
    return await run(db, lambda uow: accounts.verify_email(uow, clock, email, code))


async def resend(db: Database, clock: FrozenClock, mailer: Any, email: str) -> None:
    await run(db, lambda uow: accounts.send_verification_code(uow, clock, mailer, email, "zh"))


# --- R7 -------------------------------------------------------------------------------


async def test_r7_sign_up_mails_a_code_that_verifies_the_email(
    db: Database, clock: FrozenClock, mailer: SmtpMailer, inbox: Inbox
) -> None:
    account = await sign_up(db, clock, mailer, "  Zhang.Wei＠Example.COM ")
    assert account.email == "zhang.wei@example.com"
    assert account.email_verified_at is None
    # R8: only a slow salted hash is stored.
    assert account.password_hash.startswith("$argon2id$v=19$m=19456,t=3,p=1$")
    assert PASSWORD not in account.password_hash

    [mail] = inbox.to("zhang.wei@example.com")
    assert mail["Subject"] == t("zh", "account-verify-mail-subject")
    assert mail["From"] == "noreply@cetbot.test"
    code = code_in(mail)
    async with db.uow(readonly=True) as uow:
        stored = await uow.accounts.live_code("zhang.wei@example.com", accounts.PURPOSE_VERIFY)
    assert stored is not None and code not in stored.code_hash
    assert stored.expires_at == clock.now() + timedelta(minutes=15)

    verified = await verify(db, clock, "zhang.wei@example.com", code)
    assert verified.email_verified_at == clock.now()
    accounts.require_verified(verified)


async def test_r7_email_must_be_an_address(db: Database, clock: FrozenClock) -> None:
    mailbox = MailboxMailer()
    for bad in ["", "zhang", "zhang@", "@example.com", "a@b", "a b@example.com", "a@@b.com",
                "a..b@example.com", ".a@example.com", "a@-example.com", "张@example.com",
                "a@example.c0m", "a@example.123"]:  # fmt: skip
        with pytest.raises(InvalidEmail):
            await sign_up(db, clock, mailbox, bad)
    for good in ["a@b.cn", "li.na+cet@mail.pku.edu.cn", "x_y-z@xn--fiqs8s.xn--fiqz9s"]:
        await sign_up(db, clock, mailbox, good)
    assert [m.to for m in mailbox.messages] == [
        "a@b.cn",
        "li.na+cet@mail.pku.edu.cn",
        "x_y-z@xn--fiqs8s.xn--fiqz9s",
    ]


async def test_r7_an_email_has_one_account(db: Database, clock: FrozenClock) -> None:
    mailbox = MailboxMailer()
    await sign_up(db, clock, mailbox, "wang@example.com")
    with pytest.raises(AccountExists):
        await sign_up(db, clock, mailbox, " WANG@example.com")
    assert len(mailbox.messages) == 1


async def test_r7_sign_in_gives_the_same_error_for_unknown_email_and_wrong_password(
    db: Database, clock: FrozenClock
) -> None:
    await sign_up(db, clock, MailboxMailer(), "li@example.com")
    signed = await run(
        db, lambda uow: accounts.sign_in(uow, clock, " LI@example.com", PASSWORD, TESTER)
    )
    assert signed.email == "li@example.com"

    errors = []
    for email, password in [("li@example.com", "Wrong_2026"), ("nobody@example.com", PASSWORD)]:
        with pytest.raises(BadCredentials) as caught:
            await run(
                db, lambda uow, e=email, p=password: accounts.sign_in(uow, clock, e, p, TESTER)
            )
        errors.append((type(caught.value), caught.value.params))
    assert errors[0] == errors[1]


async def test_r7_a_chat_user_has_one_account_and_an_account_many_chat_users(
    db: Database, clock: FrozenClock
) -> None:
    mailbox = MailboxMailer()
    a = await sign_up(db, clock, mailbox, "a@example.com")
    b = await sign_up(db, clock, mailbox, "b@example.com")
    old_phone, new_phone = 2**40 + 7, 2**33 + 1  # Telegram ids beyond 32 bits
    await run(db, lambda uow: accounts.bind_chat(uow, clock, TG, old_phone, a.id))
    await run(db, lambda uow: accounts.bind_chat(uow, clock, TG, new_phone, a.id))
    async with db.uow(readonly=True) as uow:
        assert (await accounts.bound_account(uow, TG, old_phone)).id == a.id  # type: ignore[union-attr]
        assert (await accounts.bound_account(uow, TG, new_phone)).id == a.id  # type: ignore[union-attr]
        assert sorted(await uow.accounts.bindings(a.id)) == [(TG, new_phone), (TG, old_phone)]

    # Signing in to another account moves the chat user; it is never bound twice.
    await run(db, lambda uow: accounts.bind_chat(uow, clock, TG, old_phone, b.id))
    async with db.uow(readonly=True) as uow:
        assert (await accounts.bound_account(uow, TG, old_phone)).id == b.id  # type: ignore[union-attr]
        assert await uow.accounts.bindings(a.id) == [(TG, new_phone)]

    await run(db, lambda uow: accounts.sign_out(uow, TG, old_phone))
    async with db.uow(readonly=True) as uow:
        assert await accounts.bound_account(uow, TG, old_phone) is None
        assert await uow.accounts.get(b.id) is not None
        assert await uow.accounts.bindings(a.id) == [(TG, new_phone)]

    with pytest.raises(AccountNotFound):
        await run(db, lambda uow: accounts.bind_chat(uow, clock, TG, 5, 999_999))


# --- R8 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("Lan_tian_2026", []),
        ("aB3!aB3!", []),
        ("a1!", ["too-short"]),
        ("12345678!", ["no-letter"]),
        ("Password!", ["no-digit"]),
        ("Password1", ["no-special"]),
        ("Pass word1!", ["bad-character"]),
        ("Passwort1!+", ["bad-character"]),
        ("Ｐassword1!", ["bad-character"]),
        ("密码密码12!!", ["no-letter", "bad-character"]),
        ("", ["too-short", "no-letter", "no-digit", "no-special"]),
    ],
)
async def test_r8_password_needs_letters_digits_and_specials(
    db: Database, clock: FrozenClock, password: str, problems: list[str]
) -> None:
    mailbox = MailboxMailer()
    if not problems:
        accounts.check_password(password)
        return
    with pytest.raises(WeakPassword) as caught:
        accounts.check_password(password)
    assert caught.value.params["problems"] == problems
    with pytest.raises(WeakPassword):
        await run(
            db,
            lambda uow: accounts.sign_up(uow, clock, mailbox, "p@example.com", password, "zh"),
        )
    async with db.uow(readonly=True) as uow:
        assert await uow.accounts.by_email("p@example.com") is None
    assert mailbox.messages == []


async def test_r8_hashing_runs_off_the_event_loop(
    db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_thread = threading.get_ident()
    threads: list[tuple[str, int]] = []

    class Recording(PasswordHasher):
        def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
            threads.append(("hash", threading.get_ident()))
            return super().hash(password, salt=salt)

        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            threads.append(("verify", threading.get_ident()))
            return super().verify(hash, password)

    monkeypatch.setattr(accounts, "_HASHER", Recording(time_cost=3, memory_cost=19 * 1024))
    monkeypatch.setattr(accounts, "_dummy_hash", None)
    await sign_up(db, clock, MailboxMailer(), "slow@example.com")
    await run(db, lambda uow: accounts.sign_in(uow, clock, "slow@example.com", PASSWORD, TESTER))
    with pytest.raises(BadCredentials):
        await run(
            db, lambda uow: accounts.sign_in(uow, clock, "none@example.com", PASSWORD, TESTER)
        )
    assert [kind for kind, _ in threads] == ["hash", "verify", "hash", "verify"]
    assert all(ident != loop_thread for _, ident in threads)

    # And the loop goes on meanwhile: a hash is still running after the loop's next turn.
    task = asyncio.create_task(accounts.hash_password(PASSWORD))
    await asyncio.sleep(0)
    assert not task.done()
    await task


async def test_r8_sign_in_upgrades_an_old_hash(db: Database, clock: FrozenClock) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    async with db.uow() as uow:
        await uow.accounts.create("old@example.com", weak.hash(PASSWORD), clock.now())
        await uow.commit()
    signed = await run(
        db, lambda uow: accounts.sign_in(uow, clock, "old@example.com", PASSWORD, TESTER)
    )
    assert signed.password_hash.startswith("$argon2id$v=19$m=19456,t=3,p=1$")
    async with db.uow(readonly=True) as uow:
        stored = await uow.accounts.by_email("old@example.com")
    assert stored is not None and stored.password_hash == signed.password_hash
    await run(db, lambda uow: accounts.sign_in(uow, clock, "old@example.com", PASSWORD, TESTER))


# --- R9 -------------------------------------------------------------------------------


async def test_r9_code_expires_after_15_minutes(
    db: Database, clock: FrozenClock, mailer: SmtpMailer, inbox: Inbox
) -> None:
    await sign_up(db, clock, mailer, "exp@example.com")
    clock.advance(timedelta(minutes=15))
    with pytest.raises(CodeExpired):
        await verify(db, clock, "exp@example.com", code_in(inbox.messages[-1]))

    await resend(db, clock, mailer, "exp@example.com")
    clock.advance(timedelta(minutes=14, seconds=59))
    account = await verify(db, clock, "exp@example.com", code_in(inbox.messages[-1]))
    assert account.email_verified_at == clock.now()


async def test_r9_five_wrong_attempts_kill_the_code(
    db: Database, clock: FrozenClock, mailer: SmtpMailer, inbox: Inbox
) -> None:
    await sign_up(db, clock, mailer, "guess@example.com")
    code = code_in(inbox.messages[-1])
    left = []
    for _ in range(4):
        with pytest.raises(CodeInvalid) as caught:
            await verify(db, clock, "guess@example.com", other_code(code))
        left.append(caught.value.params["attempts_left"])
    assert left == [4, 3, 2, 1]
    with pytest.raises(TooManyAttempts):
        await verify(db, clock, "guess@example.com", other_code(code))
    # Dead: even the right code is refused now.
    with pytest.raises(TooManyAttempts):
        await verify(db, clock, "guess@example.com", code)
    async with db.uow(readonly=True) as uow:
        account = await uow.accounts.by_email("guess@example.com")
    assert account is not None
    with pytest.raises(EmailNotVerified):
        accounts.require_verified(account)

    # A new code starts afresh.
    await resend(db, clock, mailer, "guess@example.com")
    await verify(db, clock, "guess@example.com", code_in(inbox.messages[-1]))


async def test_r9_a_right_code_on_the_fifth_try_still_works(
    db: Database, clock: FrozenClock, mailer: SmtpMailer, inbox: Inbox
) -> None:
    await sign_up(db, clock, mailer, "late@example.com")
    code = code_in(inbox.messages[-1])
    for _ in range(4):
        with pytest.raises(CodeInvalid):
            await verify(db, clock, "late@example.com", other_code(code))
    account = await verify(db, clock, "late@example.com", code)
    accounts.require_verified(account)
    # Used once: a second use finds no live code.
    async with db.uow(readonly=True) as uow:
        assert await uow.accounts.live_code("late@example.com", accounts.PURPOSE_VERIFY) is None


async def test_r9_a_new_code_replaces_the_old_one(
    db: Database, clock: FrozenClock, mailer: SmtpMailer, inbox: Inbox
) -> None:
    await sign_up(db, clock, mailer, "re@example.com")
    first = code_in(inbox.messages[-1])
    clock.advance(timedelta(minutes=1))
    await resend(db, clock, mailer, "re@example.com")
    second = code_in(inbox.messages[-1])
    assert len(inbox.to("re@example.com")) == 2
    if first != second:  # one chance in a million that they are equal
        with pytest.raises(CodeInvalid):
            await verify(db, clock, "re@example.com", first)
    await verify(db, clock, "re@example.com", second)


async def test_r9_codes_per_email_and_hour_are_limited(
    db: Database, clock: FrozenClock, mailer: SmtpMailer, inbox: Inbox
) -> None:
    await sign_up(db, clock, mailer, "rate@example.com")
    for _ in range(accounts.CODES_PER_HOUR - 1):
        clock.advance(timedelta(minutes=1))
        await resend(db, clock, mailer, "rate@example.com")
    with pytest.raises(TooManyCodes):
        await resend(db, clock, mailer, "rate@example.com")
    assert len(inbox.to("rate@example.com")) == accounts.CODES_PER_HOUR
    # Reset codes are limited per asking chat instead (a per-address cap let a stranger
    # use up the owner's codes): the verification cap does not block one.
    await run(
        db,
        lambda uow: accounts.start_password_reset(
            uow, clock, mailer, "rate@example.com", "zh", requester=TESTER
        ),
    )
    assert len(inbox.to("rate@example.com")) == accounts.CODES_PER_HOUR + 1

    clock.advance(timedelta(minutes=57))  # the first code is now more than an hour old
    await resend(db, clock, mailer, "rate@example.com")
    await verify(db, clock, "rate@example.com", code_in(inbox.messages[-1]))


async def test_r9_codes_typed_with_full_width_digits_and_spaces(
    db: Database, clock: FrozenClock, mailer: SmtpMailer, inbox: Inbox
) -> None:
    await sign_up(db, clock, mailer, "ime@example.com", locale="en")
    mail = inbox.messages[-1]
    assert mail["Subject"] == t("en", "account-verify-mail-subject")
    code = code_in(mail)
    typed = " " + "".join(chr(ord(c) + 0xFEE0) for c in code[:3]) + "\u3000" + code[3:] + " "
    account = await verify(db, clock, "IME@example.com", typed)
    accounts.require_verified(account)


async def test_r9_malformed_codes_are_not_counted(
    db: Database, clock: FrozenClock, mailer: SmtpMailer, inbox: Inbox
) -> None:
    await sign_up(db, clock, mailer, "typo@example.com")
    for typed in ["12345", "abcdef", "1234567"]:
        with pytest.raises(CodeInvalid) as caught:
            await verify(db, clock, "typo@example.com", typed)
        assert caught.value.params["attempts_left"] == accounts.CODE_ATTEMPTS


async def test_r9_a_rolled_back_change_sends_no_mail(
    db: Database, clock: FrozenClock, mailer: SmtpMailer, inbox: Inbox
) -> None:
    with pytest.raises(RuntimeError):
        async with db.uow() as uow:
            await accounts.sign_up(uow, clock, mailer, "gone@example.com", PASSWORD, "zh")
            assert len(uow.after_commit) == 1  # queued, not sent
            raise RuntimeError("the handler failed before commit")
    async with db.uow() as uow:
        await accounts.sign_up(uow, clock, mailer, "gone@example.com", PASSWORD, "zh")
        # leaving without commit
    async with db.uow(readonly=True) as uow:
        assert await uow.accounts.by_email("gone@example.com") is None
    assert inbox.messages == []


async def test_r9_a_failing_mail_server_does_not_undo_the_commit(
    db: Database, clock: FrozenClock
) -> None:
    dead = SmtpMailer(f"smtp://127.0.0.1:{_free_port()}", timeout=2)
    account = await sign_up(db, clock, dead, "down@example.com")
    async with db.uow(readonly=True) as uow:
        assert await uow.accounts.get(account.id) is not None


async def test_r9_registration_needs_a_verified_email(db: Database, clock: FrozenClock) -> None:
    mailbox = MailboxMailer()
    account = await sign_up(db, clock, mailbox, "nv@example.com")
    with pytest.raises(EmailNotVerified):
        accounts.require_verified(account)
    code = code_in_text(mailbox.messages[-1].body)
    accounts.require_verified(await verify(db, clock, "nv@example.com", code))
    # Verified already: no more mail.
    await resend(db, clock, mailbox, "nv@example.com")
    assert len(mailbox.messages) == 1


def code_in_text(body: str) -> str:
    found = re.search(r"^\s*([0-9]{6})\s*$", body, re.MULTILINE)
    assert found, body
    return found.group(1)


# --- R10 ------------------------------------------------------------------------------


async def _registered_record(db: Database, clock: FrozenClock, email: str) -> int:
    """A session, a record of 张伟 and a registration of it by a new account."""
    now = clock.now()
    async with db.uow() as uow:
        session_id = await uow.sessions.upsert(
            {
                "code": "2026-12",
                "name_zh": "2026年12月",
                "name_en": "December 2026",
                "timezone": "Asia/Shanghai",
                "published_at": now - timedelta(days=10),
                "opens_at": now - timedelta(days=1),
                "closes_at": now + timedelta(days=5),
                "print_written_at": now + timedelta(days=20),
                "print_oral_at": now + timedelta(days=15),
            }
        )
        rows = [
            {
                "name": name,
                "gender": "M",
                "id_type": "id_card",
                "id_number": number,
                "school": "北京示范大学",
                "campus_code": "BSU-HD",
                "student_no": f"S{number[-4:]}",
                "phone": "13800000000",
                "has_photo": False,
            }
            for name, number in [("张伟", "110108200503011237"), ("李娜", "110108200503014569")]
        ]
        await uow.records.bulk_upsert(session_id, rows, {}, {})
        record = await uow.records.find(session_id, "id_card", "110108200503011237")
        assert record is not None
        account = await uow.accounts.create(email, "x", now)
        await uow.registrations.create(session_id, record.id, account.id, "13912345678", now)
        await uow.commit()
    return session_id


async def test_r10_recover_account_mails_the_address_and_answers_the_same(
    db: Database, clock: FrozenClock
) -> None:
    session_id = await _registered_record(db, clock, "zhangwei2005@example.com")
    mailbox = MailboxMailer()

    async def recover(name: str, id_type: str, number: str, chat: str) -> None:
        async with db.uow() as uow:
            await accounts.recover_account(
                uow, clock, mailbox, session_id, name, id_type, number, requester=chat, locale="zh"
            )
            await uow.commit()

    await recover(" 张伟 ", "id_card", "110108 200503011237", "telegram:1")
    [mail] = mailbox.messages
    assert mail.to == "zhangwei2005@example.com" and "zhangwei2005@example.com" in mail.body
    for i, (name, id_type, number) in enumerate(
        [
            ("张玮", "id_card", "110108200503011237"),  # wrong name
            ("张伟", "passport", "E12345678"),  # another type
            ("张伟", "id_card", make_id_card_number("110108", date(2005, 3, 1), 777)),  # none
            ("李娜", "id_card", "110108200503014569"),  # a record nobody registered
        ]
    ):
        # No error and no mail: the caller answers every case alike.
        await recover(name, id_type, number, f"telegram:{10 + i}")
    assert len(mailbox.messages) == 1
    # A malformed number is refused before any look-up (R12), like everywhere else.
    with pytest.raises(InvalidIdNumber):
        await recover("张伟", "id_card", "110108200503011231", "telegram:20")


async def test_r10_password_reset_end_to_end(
    db: Database, clock: FrozenClock, mailer: SmtpMailer, inbox: Inbox
) -> None:
    account = await sign_up(db, clock, mailer, "forgot@example.com")
    for chat in (2**40, 2**41):
        await run(db, lambda uow, c=chat: accounts.bind_chat(uow, clock, TG, c, account.id))
    inbox.messages.clear()

    await run(
        db,
        lambda uow: accounts.start_password_reset(
            uow, clock, mailer, "Forgot@example.com", "en", requester=TESTER
        ),
    )
    [mail] = inbox.to("forgot@example.com")
    assert mail["Subject"] == t("en", "account-reset-mail-subject")
    code = code_in(mail)

    # The verification code of the other purpose does not reset a password.
    with pytest.raises(CodeInvalid):
        await run(
            db,
            lambda uow: accounts.reset_password(
                uow, clock, "forgot@example.com", other_code(code), "Hai_yang_9", requester=TESTER
            ),
        )
    # A weak new password is refused before the code is looked at.
    with pytest.raises(WeakPassword):
        await run(
            db,
            lambda uow: accounts.reset_password(
                uow, clock, "forgot@example.com", code, "short", requester=TESTER
            ),
        )
    reset = await run(
        db,
        lambda uow: accounts.reset_password(
            uow, clock, "forgot@example.com", code, "Hai_yang_9", requester=TESTER
        ),
    )
    # The mailed code proved the address; every chat must sign in again.
    accounts.require_verified(reset)
    async with db.uow(readonly=True) as uow:
        assert await uow.accounts.bindings(account.id) == []

    with pytest.raises(BadCredentials):
        await run(
            db, lambda uow: accounts.sign_in(uow, clock, "forgot@example.com", PASSWORD, TESTER)
        )
    signed = await run(
        db, lambda uow: accounts.sign_in(uow, clock, "forgot@example.com", "Hai_yang_9", TESTER)
    )
    assert signed.id == account.id
    # The code worked once.
    with pytest.raises(CodeInvalid):
        await run(
            db,
            lambda uow: accounts.reset_password(
                uow, clock, "forgot@example.com", code, "Other_2!", requester=TESTER
            ),
        )


async def test_r10_reset_for_an_unknown_email_shows_nothing(
    db: Database, clock: FrozenClock, mailer: SmtpMailer, inbox: Inbox
) -> None:
    await run(
        db,
        lambda uow: accounts.start_password_reset(
            uow, clock, mailer, "ghost@example.com", "zh", requester=TESTER
        ),
    )
    assert inbox.messages == []
    async with db.uow(readonly=True) as uow:
        assert await uow.accounts.live_code("ghost@example.com", accounts.PURPOSE_RESET) is None
    with pytest.raises(CodeInvalid):
        await run(
            db,
            lambda uow: accounts.reset_password(
                uow, clock, "ghost@example.com", "123456", "Hai_yang_9", requester=TESTER
            ),
        )


# --- the mailers ----------------------------------------------------------------------


def test_mailer_from_settings_and_smtp_urls() -> None:
    assert isinstance(mailer_from_settings(Settings(smtp_url=None)), ConsoleMailer)
    assert isinstance(mailer_from_settings(Settings(smtp_url="mailbox:")), MailboxMailer)
    tls = mailer_from_settings(Settings(smtp_url="smtps://bot%40x.cn:p%40ss@mail.x.cn"))
    assert isinstance(tls, SmtpMailer)
    assert (tls.use_tls, tls.hostname, tls.port) == (True, "mail.x.cn", 465)
    assert (tls.username, tls.password, tls.sender) == ("bot@x.cn", "p@ss", "bot@x.cn")
    assert "p@ss" not in repr(tls)
    plain = SmtpMailer("smtp://localhost:2525")
    assert (plain.use_tls, plain.port, plain.username, plain.sender) == (
        False,
        2525,
        None,
        "cetbot@localhost",
    )
    with pytest.raises(ValueError):
        SmtpMailer("http://example.com")


async def test_console_mailer_prints_the_mail() -> None:
    out = io.StringIO()
    await ConsoleMailer(out).send("a@example.com", "S", "B 123456")
    assert "a@example.com" in out.getvalue() and "B 123456" in out.getvalue()


async def test_smtp_mailer_sends_chinese_text(
    smtp_server: tuple[Inbox, int], inbox: Inbox, mailer: SmtpMailer
) -> None:
    await mailer.send("c@example.com", "验证码", "您好：123456")
    [mail] = inbox.messages
    assert mail["Subject"] == "验证码" and "您好：123456" in mail.get_content()
