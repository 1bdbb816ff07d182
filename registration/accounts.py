"""Pass accounts (R7-R10): sign-up, sign-in, chat bindings, mailed codes, recovery and reset.

Every function takes the caller's unit of work first and never commits. Mails are
queued on `uow.after_commit`, so a rolled-back change sends nothing.

One exception to "an error means nothing to keep": a wrong code counts an attempt
(R9), and that count must survive the error. A caller that catches one of
`CODE_ATTEMPT_ERRORS` commits the unit of work before answering::

    async with db.uow() as uow:
        try:
            await verify_email(uow, clock, email, code)
        except CODE_ATTEMPT_ERRORS:
            await uow.commit()  # R9: keep the counted attempt
            raise
        await uow.commit()

The same holds for a wrong password (`SIGN_IN_KEEP_ERRORS`): the failure is counted
per account and per chat (registration/ratelimit.py), and five of them make the
next sign-in wait, growing with every further failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import re
import secrets
import unicodedata
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from foundation.i18n import t
from registration import ratelimit
from registration.common_passwords import is_common
from registration.eligibility import clean_id_number
from registration.errors import (
    AccountExists,
    AccountNotFound,
    BadCredentials,
    CodeExpired,
    CodeInvalid,
    CommonPassword,
    EmailNotVerified,
    InvalidEmail,
    InvalidInput,
    SignInLocked,
    TooManyAttempts,
    TooManyCodes,
    TooManyRequests,
    WeakPassword,
)
from registration.identity import normalize_name
from storage.dto import AccountDTO
from storage.errors import Conflict

if TYPE_CHECKING:
    from foundation.clock import Clock
    from outgoing.mailer import Mailer
    from storage.db import UnitOfWork

__all__ = [
    "CODES_PER_HOUR",
    "CODE_ATTEMPTS",
    "CODE_ATTEMPT_ERRORS",
    "CODE_TTL",
    "PURPOSE_RESET",
    "PURPOSE_VERIFY",
    "SIGNED_IN_ELSEWHERE",
    "SIGN_IN_KEEP_ERRORS",
    "bind_chat",
    "bound_account",
    "check_password",
    "hash_password",
    "mask_email",
    "normalize_email",
    "recover_account",
    "require_verified",
    "reset_password",
    "send_verification_code",
    "sign_in",
    "sign_out",
    "sign_out_everywhere",
    "sign_up",
    "start_password_reset",
    "verify_email",
]

log = logging.getLogger(__name__)

# R9: codes.
CODE_TTL: Final = timedelta(minutes=15)
CODE_ATTEMPTS: Final = 5  # wrong tries a code survives; the fifth kills it
# Verification codes per e-mail and hour: caps mail sent to a stranger's address by a
# sign-up. Reset codes are limited per asking chat instead (ratelimit.RESET_CODES): a
# per-address cap there would let a stranger use up the owner's codes for an hour.
CODES_PER_HOUR: Final = 5
PURPOSE_VERIFY: Final = "verify"
PURPOSE_RESET: Final = "reset"

# Errors after which the caller must commit: they carry a counted attempt (see above).
CODE_ATTEMPT_ERRORS: Final = (CodeInvalid, TooManyAttempts)
SIGN_IN_KEEP_ERRORS: Final = (BadCredentials,)
# The outbox kind that tells an account's other chats about a new sign-in.
SIGNED_IN_ELSEWHERE: Final = "signed-in-elsewhere"

# R8: argon2id, 19 MiB, 3 passes, 1 lane. Measured on the 2-core build machine at
# 33-43 ms per hash and per verify (the OWASP floor is 19 MiB with 2 passes, ~23 ms
# here). More lanes did not help: the hash runs in one worker thread anyway.
_HASHER: Final = PasswordHasher(time_cost=3, memory_cost=19 * 1024, parallelism=1)
_dummy_hash: str | None = None

_SPECIALS: Final = frozenset("!@#$%^&*_-")
_LETTERS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS: Final = frozenset("0123456789")
_PASSWORD_CHARS: Final = _SPECIALS | _LETTERS | _DIGITS
PASSWORD_MIN_LENGTH: Final = 8

# R7: an ordinary ASCII address (no quoted local parts, no IP-literal domains): what a
# student's school or mail provider hands out, and what every SMTP server accepts.
_LOCAL_RE: Final = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL_RE: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TLD_RE: Final = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")
_CODE_RE: Final = re.compile(r"[0-9]{6}")


# --- R7: e-mail -------------------------------------------------------------------


def normalize_email(text: str) -> str:
    """The account id of a typed address: folded to half-width, trimmed, lower-case.

    Raises InvalidEmail when it is not of the usual `local@domain.tld` form.
    """
    # NFKC: a Chinese IME easily types a full-width `＠` or `．`.
    email = unicodedata.normalize("NFKC", text).strip().lower()
    if not _email_form_ok(email):
        raise InvalidEmail(email=text.strip())
    return email


def _email_form_ok(email: str) -> bool:
    if len(email) > 254 or not email.isascii() or email.count("@") != 1:
        return False
    local, domain = email.split("@")
    if not 0 < len(local) <= 64 or not _LOCAL_RE.fullmatch(local):
        return False
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL_RE.fullmatch(label) for label in labels):
        return False
    return _TLD_RE.fullmatch(labels[-1]) is not None


def mask_email(email: str) -> str:
    """R10: `zhang@example.com` -> `z***@example.com` (first character, three stars, domain)."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


# --- R8: passwords ----------------------------------------------------------------


def check_password(password: str) -> None:
    """Raises WeakPassword(problems=[...]) unless the password satisfies R8.

    Problem codes, in this order: `too-short`, `no-letter`, `no-digit`,
    `no-special`, `bad-character`. A password of the right form that is one of the
    common ones (registration/common_passwords.py) raises CommonPassword.
    """
    chars = set(password)
    problems: list[str] = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append("too-short")
    if not chars & _LETTERS:
        problems.append("no-letter")
    if not chars & _DIGITS:
        problems.append("no-digit")
    if not chars & _SPECIALS:
        problems.append("no-special")
    if chars - _PASSWORD_CHARS:
        problems.append("bad-character")
    if problems:
        raise WeakPassword(problems=problems, min_length=PASSWORD_MIN_LENGTH)
    if is_common(password):
        raise CommonPassword()


async def hash_password(password: str) -> str:
    """An argon2id hash, computed in a worker thread so the event loop keeps serving."""
    return await asyncio.to_thread(_HASHER.hash, password)


def _verify_sync(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def _verify_password(password_hash: str, password: str) -> bool:
    return await asyncio.to_thread(_verify_sync, password_hash, password)


async def _unknown_account_hash() -> str:
    # A real hash with the current parameters, so an unknown e-mail costs one verify
    # like a known one (no timing hint about which addresses have accounts).
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = await hash_password(secrets.token_urlsafe(16))
    return _dummy_hash


# --- R7: accounts and chat bindings -----------------------------------------------


async def sign_up(
    uow: UnitOfWork, clock: Clock, mailer: Mailer, email: str, password: str, locale: str
) -> AccountDTO:
    """Creates an unverified account and mails it a verification code (R7-R9)."""
    email = normalize_email(email)
    check_password(password)
    if await uow.accounts.by_email(email) is not None:
        raise AccountExists(email=email)
    try:
        account = await uow.accounts.create(email, await hash_password(password), clock.now())
    except Conflict:  # a racing sign-up with the same e-mail won
        raise AccountExists(email=email) from None
    await _issue_code(uow, clock, mailer, email, PURPOSE_VERIFY, locale)
    return account


def _sign_in_keys(email: str, requester: str) -> list[str]:
    # Keyed by the address, not the account id: an unknown address locks the same way,
    # so the lock tells nothing about which addresses have accounts.
    policy = ratelimit.SIGN_IN
    return [
        ratelimit.key(policy.prefix, "account", email),
        ratelimit.key(policy.prefix, "chat", requester),
    ]


async def sign_in(
    uow: UnitOfWork, clock: Clock, email: str, password: str, requester: str
) -> AccountDTO:
    """The account of the e-mail and password; BadCredentials for any mismatch.

    R8: wrong passwords are counted per address and per requester (the chat user,
    "platform:id"); past five, SignInLocked(minutes=n) until the growing wait is over,
    before the password is even looked at. The caller commits after
    SIGN_IN_KEEP_ERRORS so the count survives. A right password clears the address's
    count; a password reset (reset_password) does too.
    """
    email = normalize_email(email)
    now = clock.now()
    account = await uow.accounts.by_email(email)
    if account is not None:
        # Guesses at one account queue here (a row lock on PostgreSQL, the single
        # writer on SQLite), so 40 chats at once see each other's failures.
        await uow.accounts.lock(account.id)
    keys = _sign_in_keys(email, requester)
    wait = await ratelimit.check_backoff(uow, now, ratelimit.SIGN_IN, keys)
    if wait > timedelta(0):
        raise SignInLocked(minutes=max(1, math.ceil(wait.total_seconds() / 60)))
    if account is None:
        await _verify_password(await _unknown_account_hash(), password)
        await ratelimit.count_failure(uow, now, keys)
        raise BadCredentials()
    if not await _verify_password(account.password_hash, password):
        await ratelimit.count_failure(uow, now, keys)
        raise BadCredentials()
    await ratelimit.clear(uow, keys[0])
    if _HASHER.check_needs_rehash(account.password_hash):
        # The parameters were raised since this hash was made: upgrade it while we
        # hold the password.
        await uow.accounts.set_password(account.id, await hash_password(password))
        account = await _reload(uow, account.id)
    return account


async def bind_chat(
    uow: UnitOfWork, clock: Clock, platform: str, chat_user_id: int, account_id: int
) -> None:
    """R7: binds the chat user to the account; an earlier binding of that user is replaced.

    Every other chat already bound to the account is told, through the outbox in this
    transaction, with a button that signs all of them out (see sign_out_everywhere).
    """
    _check_chat_user(platform, chat_user_id)
    if await uow.accounts.get(account_id) is None:
        raise AccountNotFound(account_id=account_id)
    now = clock.now()
    for other_platform, other_chat in await uow.accounts.bindings(account_id):
        if (other_platform, other_chat) == (platform, chat_user_id):
            continue
        await uow.outbox.add(
            platform=other_platform,
            chat_id=other_chat,
            kind=SIGNED_IN_ELSEWHERE,
            payload={"at": now.isoformat()},
            now=now,
        )
    await uow.accounts.bind(platform, chat_user_id, account_id, now)


async def bound_account(uow: UnitOfWork, platform: str, chat_user_id: int) -> AccountDTO | None:
    """The account the chat user is signed in to, if any."""
    return await uow.accounts.bound_account(platform, chat_user_id)


async def sign_out(uow: UnitOfWork, platform: str, chat_user_id: int) -> None:
    """Unbinds the chat user; the account and its other chat users stay."""
    await uow.accounts.unbind(platform, chat_user_id)


async def sign_out_everywhere(
    uow: UnitOfWork, clock: Clock, mailer: Mailer, platform: str, chat_user_id: int, locale: str
) -> str | None:
    """ "Not you?": signs every chat of this chat user's account out and mails a reset code
    (asked for by this chat). Returns the account's address, None when not signed in."""
    account = await uow.accounts.bound_account(platform, chat_user_id)
    if account is None:
        return None
    for bound_platform, bound_chat in await uow.accounts.bindings(account.id):
        await uow.accounts.unbind(bound_platform, bound_chat)
    try:
        await start_password_reset(
            uow, clock, mailer, account.email, locale, requester=f"{platform}:{chat_user_id}"
        )
    except TooManyRequests:
        # Refused before writing anything: the sign-out stands; the chat can ask again.
        log.info("not-me reset for %s: this chat's code limit reached", mask_email(account.email))
    return account.email


def _check_chat_user(platform: str, chat_user_id: int) -> None:
    if not platform or len(platform) > 16:
        raise InvalidInput(field="platform")
    # Telegram ids exceed 2**31 but fit in a signed 64-bit column.
    if not -(2**63) <= chat_user_id < 2**63:
        raise InvalidInput(field="chat_user_id")


# --- R9: verification codes -------------------------------------------------------


async def send_verification_code(
    uow: UnitOfWork, clock: Clock, mailer: Mailer, email: str, locale: str
) -> None:
    """(Re)sends the e-mail verification code; a new code replaces the old one.

    Does nothing for an address already verified. Raises TooManyCodes past
    CODES_PER_HOUR codes to this address within an hour.
    """
    email = normalize_email(email)
    account = await uow.accounts.by_email(email)
    if account is None:
        raise AccountNotFound()
    if account.email_verified_at is not None:
        return
    await _issue_code(uow, clock, mailer, email, PURPOSE_VERIFY, locale)


async def verify_email(uow: UnitOfWork, clock: Clock, email: str, code: str) -> AccountDTO:
    """Marks the account verified when `code` is its live verification code.

    Raises CodeInvalid(attempts_left=n), CodeExpired, TooManyAttempts; commit after
    the first and the last (see CODE_ATTEMPT_ERRORS).
    """
    email = normalize_email(email)
    account = await uow.accounts.by_email(email)
    if account is None:
        raise AccountNotFound()
    if account.email_verified_at is not None:
        return account
    await _use_code(uow, clock, email, PURPOSE_VERIFY, code)
    await uow.accounts.mark_verified(account.id, clock.now())
    return await _reload(uow, account.id)


def require_verified(account: AccountDTO) -> None:
    """R9: registration information can be saved only from a verified account."""
    if account.email_verified_at is None:
        raise EmailNotVerified(email=account.email)


async def _issue_code(
    uow: UnitOfWork,
    clock: Clock,
    mailer: Mailer,
    email: str,
    purpose: str,
    locale: str,
    requester: str | None = None,
) -> None:
    now = clock.now()
    if purpose == PURPOSE_VERIFY:
        since = now - timedelta(hours=1)
        if await uow.accounts.codes_sent_since(email, purpose, since) >= CODES_PER_HOUR:
            raise TooManyCodes(limit=CODES_PER_HOUR)
    code = f"{secrets.randbelow(10**6):06d}"
    # add_code also retires the earlier live code of this purpose and requester.
    await uow.accounts.add_code(
        email, purpose, _hash_code(email, purpose, code), now, now + CODE_TTL, requester
    )
    args = {"code": code, "email": email, "minutes": int(CODE_TTL.total_seconds()) // 60}
    subject = t(locale, f"account-{purpose}-mail-subject", args)
    body = t(locale, f"account-{purpose}-mail-body", args)
    uow.after_commit.append(partial(_deliver, mailer, email, subject, body))


async def _deliver(mailer: Mailer, to: str, subject: str, body: str) -> None:
    # Runs after the commit: raising here would make a committed change look failed
    # to the caller and skip later hooks. The user can ask for the code again.
    try:
        await mailer.send(to, subject, body)
    except Exception:
        log.exception("mail to %s could not be sent", mask_email(to))


def _hash_code(email: str, purpose: str, code: str, salt: str | None = None) -> str:
    # Codes live 15 minutes, so a salted SHA-256 is enough (a slow hash would not
    # stop a 10**6 search anyway); binding e-mail and purpose keeps a copied row useless.
    salt = salt or secrets.token_hex(16)
    digest = hmac.new(salt.encode(), f"{purpose}:{email}:{code}".encode(), hashlib.sha256)
    return f"{salt}${digest.hexdigest()}"


def _code_matches(stored: str, email: str, purpose: str, code: str) -> bool:
    salt, _, _digest = stored.partition("$")
    return hmac.compare_digest(stored, _hash_code(email, purpose, code, salt))


def _normalize_code(text: str) -> str:
    # Full-width digits and spaces from a Chinese IME, or "123 456" as grouped in the mail.
    return "".join(unicodedata.normalize("NFKC", text).split())


async def _use_code(
    uow: UnitOfWork,
    clock: Clock,
    email: str,
    purpose: str,
    text: str,
    requester: str | None = None,
) -> None:
    """Consumes the live code of (email, purpose, requester) if `text` is it; else raises
    and counts."""
    live = await uow.accounts.live_code(email, purpose, requester)
    if live is None:
        raise CodeInvalid(attempts_left=0)
    if live.attempts >= CODE_ATTEMPTS:
        raise TooManyAttempts(limit=CODE_ATTEMPTS)
    if clock.now() >= live.expires_at:
        raise CodeExpired(minutes=int(CODE_TTL.total_seconds()) // 60)
    code = _normalize_code(text)
    if not _CODE_RE.fullmatch(code):
        # Not six digits: a typo, not a guess at the code; not counted.
        raise CodeInvalid(attempts_left=CODE_ATTEMPTS - live.attempts)
    # Count first, then re-read: the UPDATE locks the row, so concurrent guesses
    # queue up and each sees the others' counts (no more than CODE_ATTEMPTS tries).
    await uow.accounts.count_attempt(live.id)
    now_live = await uow.accounts.live_code(email, purpose, requester)
    if now_live is None or now_live.id != live.id:
        raise CodeInvalid(attempts_left=0)  # replaced or used meanwhile
    if now_live.attempts > CODE_ATTEMPTS:
        raise TooManyAttempts(limit=CODE_ATTEMPTS)
    if _code_matches(now_live.code_hash, email, purpose, code):
        await uow.accounts.consume_code(live.id, clock.now())
        return
    if now_live.attempts >= CODE_ATTEMPTS:
        raise TooManyAttempts(limit=CODE_ATTEMPTS)
    raise CodeInvalid(attempts_left=CODE_ATTEMPTS - now_live.attempts)


# --- R10: forgotten account and password ------------------------------------------


async def recover_account(
    uow: UnitOfWork,
    clock: Clock,
    mailer: Mailer,
    session_id: int,
    name: str,
    id_type: str,
    id_number: str,
    *,
    requester: str,
    locale: str,
) -> None:
    """R10: mails the account that registered the matching record its own address.

    The caller answers the same whatever happens here ("if an account registered this
    record, its address got a mail"): the chat never learns whether the record exists
    or was registered, so the step cannot be used to test ID numbers. Look-ups are
    limited like quick print (R39), per requester and per ID number over a sliding
    hour (ratelimit.RECOVERY), hits and misses alike; past it TooManyRequests. The
    mail goes to the account's own address only, after the commit.
    """
    # R12: the form (and check digit) first, like every look-up by ID number.
    number = clean_id_number(id_type.strip(), id_number, clock)
    now = clock.now()
    policy = ratelimit.RECOVERY
    await ratelimit.check_and_count(
        uow,
        now,
        policy,
        [
            (ratelimit.key(policy.prefix, "chat", requester), policy.limit),
            (ratelimit.key(policy.prefix, "id", number), ratelimit.RECOVERY_PER_ID_NUMBER),
        ],
    )
    record = await uow.records.find(session_id, id_type.strip(), number)
    if record is None or normalize_name(record.name) != normalize_name(name):
        return
    registrations = await uow.registrations.of_record_any(record.id)
    if not registrations:
        return
    # The active registration if there is one, else the latest (newest first).
    chosen = next((r for r in registrations if r.status == "active"), registrations[0])
    account = await uow.accounts.get(chosen.account_id)
    if account is None:
        return
    args = {"email": account.email, "name": record.name}
    subject = t(locale, "account-recover-mail-subject", args)
    body = t(locale, "account-recover-mail-body", args)
    uow.after_commit.append(partial(_deliver, mailer, account.email, subject, body))


async def start_password_reset(
    uow: UnitOfWork,
    clock: Clock,
    mailer: Mailer,
    email: str,
    locale: str,
    *,
    requester: str,
) -> None:
    """R10: mails a reset code to the account's address, usable from `requester` only.

    Limited per requester (ratelimit.RESET_CODES, any addresses): past it
    TooManyRequests, counted before the address is looked at, so it says nothing
    about the address. Nothing visible for an unknown address. Another chat's codes
    for the same address stay valid (each chat's newest code is its live one), so a
    stranger asking for codes neither blocks nor replaces the owner's.
    """
    email = normalize_email(email)
    policy = ratelimit.RESET_CODES
    await ratelimit.check_and_count(
        uow, clock.now(), policy, [(ratelimit.key(policy.prefix, "chat", requester), policy.limit)]
    )
    if await uow.accounts.by_email(email) is None:
        return
    await _issue_code(uow, clock, mailer, email, PURPOSE_RESET, locale, requester)


async def reset_password(
    uow: UnitOfWork,
    clock: Clock,
    email: str,
    code: str,
    new_password: str,
    *,
    requester: str,
) -> AccountDTO:
    """R10: sets a new password with a mailed reset code; every bound chat is signed out.

    Only the code the requester asked for works. The code proves the address, so an
    unverified account becomes verified, and the address's sign-in lock is lifted
    (R8). The caller binds the current chat again (bind_chat) in the same unit of
    work. Raises WeakPassword before the code is looked at (a weak password burns no
    attempt), then like verify_email.
    """
    email = normalize_email(email)
    check_password(new_password)
    account = await uow.accounts.by_email(email)
    if account is None:
        # Same answer as a wrong code: no hint whether the address has an account.
        raise CodeInvalid(attempts_left=0)
    await _use_code(uow, clock, email, PURPOSE_RESET, code, requester)
    await uow.accounts.set_password(account.id, await hash_password(new_password))
    if account.email_verified_at is None:
        await uow.accounts.mark_verified(account.id, clock.now())
    await ratelimit.clear(uow, _sign_in_keys(email, requester)[0])
    # Whoever knew the old password may be signed in from another chat.
    for platform, chat_user_id in await uow.accounts.bindings(account.id):
        await uow.accounts.unbind(platform, chat_user_id)
    return await _reload(uow, account.id)


async def _reload(uow: UnitOfWork, account_id: int) -> AccountDTO:
    account = await uow.accounts.get(account_id)
    assert account is not None, "account vanished inside its own transaction"
    return account
