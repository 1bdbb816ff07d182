"""The CET-6 qualification review, automatic and by hand (R14-R19, R42)."""

from __future__ import annotations

from foundation.clock import Clock
from registration import errors, identity
from registration.common import Phase, get_session, phase
from registration.notices import notify_review_decision
from storage.db import UnitOfWork
from storage.dto import ReviewDTO

PASS_SCORE = 425  # R14
REVIEWED_SUBJECT = "CET6"


async def request_review(
    uow: UnitOfWork,
    clock: Clock,
    *,
    account_id: int,
    session_id: int,
    record_id: int,
    ticket_no: str,
) -> ReviewDTO:
    """R14-R18: checks a CET-4 ticket number against the score records.

    Allowed before the window opens (R2) and while it is open; from the
    overview it needs a written entry (R19), which the conversation enforces.
    """
    now = clock.now()
    session = await get_session(uow, session_id)
    if phase(session, now) in (Phase.UNPUBLISHED, Phase.CLOSED):
        raise errors.WindowClosed(closed_at=session.closes_at)
    record = await uow.records.get(record_id)
    if record is None or record.session_id != session.id:
        raise errors.NoMatchingRecord()
    number = identity.normalize_ticket_no(ticket_no)
    try:
        identity.parse_ticket_no(number)
    except identity.InvalidTicketNumber as bad:
        raise errors.BadTicketNumber(reason=bad.reason) from None
    if REVIEWED_SUBJECT in record.eligible:
        raise errors.AlreadyEligible()
    earlier = await uow.reviews.of_record(session.id, record.id)
    if any(r.status == "not_reviewed" for r in earlier):
        raise errors.ReviewPending()
    score = await uow.scores.get(number)
    values = {
        "session_id": session.id,
        "record_id": record.id,
        "account_id": account_id,
        "ticket_no": number,
        "created_at": now,
        "note": "",
    }
    if score is None:
        # R18 [decision]: an unknown ticket goes to the school for a decision by hand.
        return await uow.reviews.create({**values, "status": "not_reviewed"})
    if score.subject != "CET4" or score.score < PASS_SCORE:
        raise errors.ScoreTooLow(score=score.score, needed=PASS_SCORE)
    if score.id_number == record.id_number:
        # R15: the ID numbers match: passed at once, whatever the names.
        review = await uow.reviews.create({**values, "status": "passed"})
        await uow.records.add_eligibility(record.id, REVIEWED_SUBJECT, "review")
        return review
    if identity.normalize_name(score.name) == record.name:
        # R16: only the name matches; the school decides, the candidate brings proof.
        return await uow.reviews.create({**values, "status": "not_reviewed"})
    raise errors.ReviewMismatch()  # R17


async def decide_review(
    uow: UnitOfWork,
    clock: Clock,
    *,
    review_id: int,
    approve: bool,
    note: str,
    decided_by: str,
    school: str | None = None,
) -> ReviewDTO:
    """R19/R42: a school administrator approves or rejects a 'not reviewed' request."""
    review = await uow.reviews.get(review_id)
    if review is None:
        raise errors.NotFound(what="review")
    record = await uow.records.get(review.record_id)
    assert record is not None
    if school is not None and record.school != school:
        raise errors.Forbidden(what="review")
    decided = await uow.reviews.decide(
        review.id, "approved" if approve else "rejected", note.strip(), decided_by, clock.now()
    )
    if decided is None:
        raise errors.ReviewAlreadyDecided(review=review.id, status=review.status)
    if approve:
        await uow.records.add_eligibility(record.id, REVIEWED_SUBJECT, "review")
    await notify_review_decision(uow, clock.now(), decided)  # R19: the candidate is told
    return decided


async def pending_reviews(
    uow: UnitOfWork, *, session_id: int | None = None, school: str | None = None
) -> list[ReviewDTO]:
    """R42: the 'not reviewed' requests, of one school if given."""
    return await uow.reviews.pending(session_id, school=school)
