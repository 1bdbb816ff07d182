"""Record lookup, confirmation and the registration information (R2, R9, R11-R13)."""

from __future__ import annotations

from dataclasses import dataclass

from foundation.clock import Clock
from registration import errors, identity
from registration.common import get_session, require_open, require_published
from storage.db import UnitOfWork
from storage.dto import (
    AccountDTO,
    EntryDTO,
    RegistrationDTO,
    ReviewDTO,
    StudentRecordDTO,
    WaitlistDTO,
)


def clean_id_number(id_type: str, text: str, clock: Clock) -> str:
    """R12: normalizes and checks the form (and check digit) before any lookup."""
    try:
        identity.IdType(id_type)
    except ValueError:
        raise errors.InvalidInput(field="id_type") from None
    try:
        return identity.check_id_number(id_type, text, today=clock.now().date())
    except identity.InvalidIdNumber as bad:
        raise errors.InvalidIdNumber(reason=bad.reason, id_type=id_type) from None


async def lookup_record(
    uow: UnitOfWork, clock: Clock, *, session_id: int, name: str, id_type: str, id_number: str
) -> StudentRecordDTO:
    """R12: all three must match one record; a miss never says which field was wrong."""
    session = await get_session(uow, session_id)
    require_published(session, clock.now())
    number = clean_id_number(id_type, id_number, clock)
    record = await uow.records.find(session.id, id_type, number)
    if record is None or record.name != identity.normalize_name(name):
        raise errors.NoMatchingRecord()
    return record


async def save_registration(
    uow: UnitOfWork,
    clock: Clock,
    *,
    account: AccountDTO,
    session_id: int,
    record_id: int,
    phone: str,
    agreed: bool,
) -> RegistrationDTO:
    """R11, R13: saves the registration information after the candidate confirmed.

    Saving twice for the same record by the same account returns the first one.
    """
    if not agreed:
        raise errors.AgreementRequired()
    if account.email_verified_at is None:
        raise errors.EmailNotVerified()
    now = clock.now()
    session = await get_session(uow, session_id)
    require_open(session, now)  # R2: nothing is saved before the window opens.
    record = await uow.records.get(record_id)
    if record is None or record.session_id != session.id:
        raise errors.NoMatchingRecord()
    try:
        clean_phone = identity.check_phone(phone)
    except identity.InvalidPhone as bad:
        raise errors.InvalidInput(field="phone", reason=bad.reason) from None
    claimed = await uow.registrations.active_of_record(session.id, record.id)
    if claimed is not None:
        if claimed.account_id == account.id:
            if claimed.phone != clean_phone:
                await uow.registrations.set_phone(claimed.id, clean_phone)
                claimed = await uow.registrations.get(claimed.id)
                assert claimed is not None
            return claimed
        # R13 [decision]: one account per record per session; see R10 recovery.
        raise errors.RecordClaimed()
    mine = await uow.registrations.active_of_account(session.id, account.id)
    if mine is not None:
        raise errors.AlreadyRegistered(record=mine.record_id)
    return await uow.registrations.create(session.id, record.id, account.id, clean_phone, now)


async def update_phone(
    uow: UnitOfWork, clock: Clock, *, registration_id: int, phone: str
) -> RegistrationDTO:
    """R13: the phone can be corrected while the window is open."""
    now = clock.now()
    reg = await uow.registrations.lock(registration_id)
    if reg is None:
        raise errors.NotRegistered()
    require_open(await get_session(uow, reg.session_id), now)
    try:
        clean_phone = identity.check_phone(phone)
    except identity.InvalidPhone as bad:
        raise errors.InvalidInput(field="phone", reason=bad.reason) from None
    await uow.registrations.set_phone(reg.id, clean_phone)
    updated = await uow.registrations.get(reg.id)
    assert updated is not None
    return updated


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything the registration overview shows a candidate."""

    registration: RegistrationDTO
    record: StudentRecordDTO
    entries: list[EntryDTO]
    waitlists: list[WaitlistDTO]
    reviews: list[ReviewDTO]


async def current_registration(
    uow: UnitOfWork, *, session_id: int, account_id: int
) -> RegistrationDTO | None:
    return await uow.registrations.active_of_account(session_id, account_id)


async def overview(
    uow: UnitOfWork, *, registration_id: int, known: RegistrationDTO | None = None
) -> Overview:
    """The registration with its record, entries, waitlists and reviews.

    `known`: the registration as the caller read it in this same unit of work (the chat
    has, on every screen), so it is not read again."""
    reg = known if known is not None and known.id == registration_id else None
    if reg is None:
        reg = await uow.registrations.get(registration_id)
    if reg is None or reg.status != "active":
        raise errors.NotRegistered()
    record = await uow.records.get(reg.record_id)
    assert record is not None
    return Overview(
        registration=reg,
        record=record,
        entries=await uow.entries.of_registration(reg.id),
        waitlists=await uow.waitlists.of_registration(reg.id),
        reviews=await uow.reviews.of_record(reg.session_id, record.id),
    )
