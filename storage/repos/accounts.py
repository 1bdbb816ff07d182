"""Pass accounts (R7), their chat bindings, and mailed one-time codes (R9, R10)."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from storage import direct
from storage.dto import AccountDTO, RegistrationDTO, VerificationCodeDTO
from storage.errors import Conflict
from storage.models import Account, ChatBinding, Registration, VerificationCode
from storage.repos import snapshot
from storage.repos.base import Repository, table, to_dto
from storage.repos.snapshot import CandidateSnapshot

A = table(Account)
B = table(ChatBinding)
R = table(Registration)
V = table(VerificationCode)

# What every chat update asks first, built once (see storage/repos/conversations.py).
_GET = select(A).where(A.c.id == bindparam("b_account_id"))
_BINDINGS = select(B.c.platform, B.c.chat_user_id).where(
    B.c.account_id == bindparam("b_account_id")
)
_BOUND_AND_REGISTRATION = snapshot.bound_account_and_registration(
    *A.c, *(c.label(f"reg_{c.name}") for c in R.c)
)


def _requester_is(requester: str | None) -> Any:
    return V.c.requester.is_(None) if requester is None else V.c.requester == requester


class AccountRepository(Repository):
    async def by_email(self, email: str) -> AccountDTO | None:
        row = (await self.conn.execute(select(A).where(A.c.email == email))).first()
        return to_dto(AccountDTO, row) if row else None

    async def get(self, account_id: int) -> AccountDTO | None:
        row = (await self.conn.execute(_GET, {"b_account_id": account_id})).first()
        return to_dto(AccountDTO, row) if row else None

    async def create(self, email: str, password_hash: str, now: datetime) -> AccountDTO:
        """Raises Conflict when the e-mail was taken meanwhile (a racing sign-up)."""
        try:
            # A savepoint keeps the outer transaction usable after the refusal.
            async with self.conn.begin_nested():
                res = await self.conn.execute(
                    insert(A)
                    .values(email=email, password_hash=password_hash, created_at=now)
                    .returning(A.c.id)
                )
        except IntegrityError:
            raise Conflict("accounts.email") from None
        account = await self.get(int(res.scalar_one()))
        assert account is not None
        return account

    async def set_password(self, account_id: int, password_hash: str) -> None:
        await self.conn.execute(
            update(A).where(A.c.id == account_id).values(password_hash=password_hash)
        )

    async def lock(self, account_id: int) -> None:
        """Locks the account's row until the transaction ends (an UPDATE that changes
        nothing: a row lock on PostgreSQL, the write lock on SQLite), so sign-in attempts
        at one account are counted one after another."""
        await self.conn.execute(update(A).where(A.c.id == account_id).values(id=A.c.id))

    async def mark_verified(self, account_id: int, now: datetime) -> None:
        await self.conn.execute(update(A).where(A.c.id == account_id).values(email_verified_at=now))

    # R7: chat bindings.
    async def bound_account(self, platform: str, chat_user_id: int) -> AccountDTO | None:
        row = (
            await self.conn.execute(
                select(A)
                .join(B, B.c.account_id == A.c.id)
                .where(B.c.platform == platform, B.c.chat_user_id == chat_user_id)
            )
        ).first()
        return to_dto(AccountDTO, row) if row else None

    async def bound_account_and_registration(
        self, platform: str, chat_user_id: int, session_id: int
    ) -> tuple[AccountDTO | None, RegistrationDTO | None]:
        """`bound_account` and the account's active registration in `session_id` (as
        `registrations.active_of_account` finds it), in one statement."""
        params = {"b_session_id": session_id, "b_platform": platform, "b_user_id": chat_user_id}
        row = await direct.first(self.conn, _BOUND_AND_REGISTRATION, params)
        if row is None:
            return None, None
        account = to_dto(AccountDTO, row)
        if row.reg_id is None:
            return account, None
        mapping = row._mapping
        values = {f.name: mapping[f"reg_{f.name}"] for f in fields(RegistrationDTO)}
        return account, RegistrationDTO(**values)

    async def candidate_snapshot(
        self, platform: str, chat_user_id: int, session_id: int
    ) -> CandidateSnapshot | None:
        """On PostgreSQL, the bound account with its active registration in `session_id`,
        the registration's record, active entries, waitlists and reviews, in one statement
        (storage/repos/snapshot.py); None elsewhere (read them one by one there)."""
        if not snapshot.available(self.conn):
            return None
        return await snapshot.read(self.conn, platform, chat_user_id, session_id)

    async def bind(self, platform: str, chat_user_id: int, account_id: int, now: datetime) -> None:
        """Binds the chat user to the account, replacing an earlier binding of that user."""
        await self.conn.execute(
            delete(B).where(B.c.platform == platform, B.c.chat_user_id == chat_user_id)
        )
        await self.conn.execute(
            insert(B).values(
                platform=platform, chat_user_id=chat_user_id, account_id=account_id, bound_at=now
            )
        )

    async def unbind(self, platform: str, chat_user_id: int) -> None:
        await self.conn.execute(
            delete(B).where(B.c.platform == platform, B.c.chat_user_id == chat_user_id)
        )

    async def bindings(self, account_id: int) -> list[tuple[str, int]]:
        rows = await direct.rows(self.conn, _BINDINGS, {"b_account_id": account_id})
        return [(r.platform, r.chat_user_id) for r in rows]

    # R9/R10: codes.
    async def add_code(
        self,
        email: str,
        purpose: str,
        code_hash: str,
        now: datetime,
        expires_at: datetime,
        requester: str | None = None,
    ) -> int:
        # A new code replaces the earlier unused ones of the same purpose and requester
        # (another chat's reset code stays: a stranger cannot retire the owner's).
        await self.conn.execute(
            update(V)
            .where(
                V.c.email == email,
                V.c.purpose == purpose,
                _requester_is(requester),
                V.c.consumed_at.is_(None),
            )
            .values(consumed_at=now)
        )
        res = await self.conn.execute(
            insert(V)
            .values(
                email=email,
                purpose=purpose,
                code_hash=code_hash,
                created_at=now,
                expires_at=expires_at,
                attempts=0,
                requester=requester,
            )
            .returning(V.c.id)
        )
        return int(res.scalar_one())

    async def live_code(
        self, email: str, purpose: str, requester: str | None = None
    ) -> VerificationCodeDTO | None:
        """The newest unused code of (email, purpose) asked for by `requester`."""
        row = (
            await self.conn.execute(
                select(V)
                .where(
                    V.c.email == email,
                    V.c.purpose == purpose,
                    _requester_is(requester),
                    V.c.consumed_at.is_(None),
                )
                .order_by(V.c.id.desc())
                .limit(1)
            )
        ).first()
        return to_dto(VerificationCodeDTO, row) if row else None

    async def codes_sent_since(self, email: str, purpose: str, since: datetime) -> int:
        rows = await self.conn.execute(
            select(V.c.id).where(
                V.c.email == email, V.c.purpose == purpose, V.c.created_at >= since
            )
        )
        return len(rows.all())

    async def count_attempt(self, code_id: int) -> None:
        await self.conn.execute(
            update(V).where(V.c.id == code_id).values(attempts=V.c.attempts + 1)
        )

    async def consume_code(self, code_id: int, now: datetime) -> None:
        await self.conn.execute(update(V).where(V.c.id == code_id).values(consumed_at=now))
