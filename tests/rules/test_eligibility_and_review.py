"""R9, R11-R19: lookup, confirmation, the registration information and the CET-6 review."""

from __future__ import annotations

from datetime import date

import pytest

from registration import eligibility, entries, errors, review
from registration.identity import make_id_card_number
from tests.rules.conftest import OTHER_SCHOOL, World

TICKET = "110010261105118"  # a 15-digit CET-4 ticket number (June 2026, level 1)


async def _score(world: World, ticket: str, name: str, id_number: str, score: int) -> None:
    async with world.db.uow() as uow:
        await uow.scores.bulk_upsert(
            [
                {
                    "ticket_no": ticket,
                    "name": name,
                    "id_number": id_number,
                    "subject": "CET4",
                    "score": score,
                    "session_label": "2026-06",
                }
            ]
        )
        await uow.commit()


async def _lookup(world: World, name: str, id_type: str, number: str):  # type: ignore[no-untyped-def]
    async with world.db.uow(readonly=True) as uow:
        return await eligibility.lookup_record(
            uow,
            world.clock,
            session_id=world.session_id,
            name=name,
            id_type=id_type,
            id_number=number,
        )


async def test_r12_lookup_needs_name_type_and_number_to_match(world: World) -> None:
    rec = await world.record(name="阿依古丽·买买提", id_number="11010820050301004X")
    found = await _lookup(world, "阿依古丽·买买提", "id_card", "11010820050301004X")
    assert found.id == rec.id and found.eligible == frozenset({"CET4"})
    # Full-width digits, spaces and a lowercase x are accepted; the dot variant too.
    found = await _lookup(world, "阿依古丽・买买提", "id_card", "１１０１０８ 2005 0301 004x")
    assert found.id == rec.id
    other_number = make_id_card_number("110108", date(2005, 3, 1), 999)
    for name, number in (("阿依古丽", "11010820050301004X"), ("阿依古丽·买买提", other_number)):
        with pytest.raises(errors.NoMatchingRecord) as miss:
            await _lookup(world, name, "id_card", number)
        assert miss.value.params == {}  # never says which field was wrong


async def test_r12_id_number_form_and_check_digit_checked_before_lookup(world: World) -> None:
    for bad, reason in (
        ("11010820050301004", "length"),  # 17 characters
        ("110108200503010041", "check-digit"),
        ("1101082005030100😀X", "characters"),
    ):
        with pytest.raises(errors.InvalidIdNumber) as refused:
            await _lookup(world, "张伟", "id_card", bad)
        assert refused.value.params["reason"] == reason
    with pytest.raises(errors.InvalidInput):
        await _lookup(world, "张伟", "driving_licence", "X1234567")


async def test_r11_r13_saving_needs_agreement_and_a_verified_email(world: World) -> None:
    rec = await world.record()
    acc = await world.account()
    async with world.db.uow() as uow:
        with pytest.raises(errors.AgreementRequired):
            await eligibility.save_registration(
                uow,
                world.clock,
                account=acc,
                session_id=world.session_id,
                record_id=rec.id,
                phone="13912345678",
                agreed=False,
            )
        unverified = await uow.accounts.create("new@example.com", "x", world.clock.now())
        with pytest.raises(errors.EmailNotVerified):  # R9
            await eligibility.save_registration(
                uow,
                world.clock,
                account=unverified,
                session_id=world.session_id,
                record_id=rec.id,
                phone="13912345678",
                agreed=True,
            )
        with pytest.raises(errors.InvalidInput):
            await eligibility.save_registration(
                uow,
                world.clock,
                account=acc,
                session_id=world.session_id,
                record_id=rec.id,
                phone="12345",
                agreed=True,
            )
        reg = await eligibility.save_registration(
            uow,
            world.clock,
            account=acc,
            session_id=world.session_id,
            record_id=rec.id,
            phone="+86 139 1234 5678",
            agreed=True,
        )
        again = await eligibility.save_registration(
            uow,
            world.clock,
            account=acc,
            session_id=world.session_id,
            record_id=rec.id,
            phone="13912345678",
            agreed=True,
        )
        await uow.commit()
    assert reg.phone == "13912345678" and again.id == reg.id


async def test_r13_a_record_is_claimed_by_one_account_per_session(world: World) -> None:
    reg = await world.candidate()
    other = await world.account()
    async with world.db.uow() as uow:
        with pytest.raises(errors.RecordClaimed):
            await eligibility.save_registration(
                uow,
                world.clock,
                account=other,
                session_id=world.session_id,
                record_id=reg.record_id,
                phone="13912345678",
                agreed=True,
            )


async def _review(world: World, record_id: int, ticket: str = TICKET):  # type: ignore[no-untyped-def]
    acc = await world.account()
    async with world.db.uow() as uow:
        result = await review.request_review(
            uow,
            world.clock,
            account_id=acc.id,
            session_id=world.session_id,
            record_id=record_id,
            ticket_no=ticket,
        )
        await uow.commit()
    return result


async def test_r15_review_passes_at_once_when_id_matches_whatever_the_name(world: World) -> None:
    rec = await world.record(name="王浩然")
    await _score(world, TICKET, "王皓然", rec.id_number, 512)
    world.before_window()  # R2: the review may be asked before the window opens
    result = await _review(world, rec.id)
    assert result.status == "passed"
    async with world.db.uow(readonly=True) as uow:
        assert "CET6" in await uow.records.eligible(rec.id)


async def test_r16_review_with_only_the_name_matching_waits_for_the_school(world: World) -> None:
    rec = await world.record(name="韩雪儿")
    await _score(world, TICKET, "韩雪儿", make_id_card_number("120101", date(2004, 3, 8), 1), 468)
    result = await _review(world, rec.id)
    assert result.status == "not_reviewed"
    async with world.db.uow(readonly=True) as uow:
        assert "CET6" not in await uow.records.eligible(rec.id)
    with pytest.raises(errors.ReviewPending):
        await _review(world, rec.id)


async def test_r17_review_refused_when_neither_name_nor_id_matches(world: World) -> None:
    rec = await world.record(name="李娜")
    await _score(world, TICKET, "钱多多", make_id_card_number("110102", date(2004, 1, 19), 3), 530)
    with pytest.raises(errors.ReviewMismatch):
        await _review(world, rec.id)
    async with world.db.uow(readonly=True) as uow:
        assert await uow.reviews.of_record(world.session_id, rec.id) == []


async def test_r18_unknown_ticket_saved_for_manual_review_low_score_refused(world: World) -> None:
    rec = await world.record(name="刘洋")
    assert (await _review(world, rec.id, "320050261103321")).status == "not_reviewed"
    rec2 = await world.record(name="赵敏")
    await _score(world, TICKET, "赵敏", rec2.id_number, 424)
    with pytest.raises(errors.ScoreTooLow) as low:
        await _review(world, rec2.id)
    assert low.value.params["score"] == 424
    with pytest.raises(errors.BadTicketNumber):
        await _review(world, rec2.id, "12345")


async def test_r14_ticket_number_typed_with_spaces_and_full_width_digits(world: World) -> None:
    rec = await world.record(name="王浩然")
    await _score(world, TICKET, "王浩然", rec.id_number, 600)
    result = await _review(world, rec.id, "１１００１０ 2611 05118")
    assert result.status == "passed" and result.ticket_no == TICKET


async def test_r19_school_approves_or_rejects_and_approval_makes_cet6_eligible(
    world: World,
) -> None:
    reg = await world.candidate(name="韩雪儿")
    await _score(world, TICKET, "韩雪儿", make_id_card_number("120101", date(2004, 3, 8), 1), 468)
    pending = await _review(world, reg.record_id)
    async with world.db.uow() as uow:
        assert [r.id for r in await review.pending_reviews(uow, school=OTHER_SCHOOL)] == []
        with pytest.raises(errors.Forbidden):  # R42: another school's admin
            await review.decide_review(
                uow,
                world.clock,
                review_id=pending.id,
                approve=True,
                note="",
                decided_by="x",
                school=OTHER_SCHOOL,
            )
        queue = await review.pending_reviews(uow, school="北京示范大学")
        assert [r.id for r in queue] == [pending.id]
        decided = await review.decide_review(
            uow,
            world.clock,
            review_id=pending.id,
            approve=True,
            note="证明已核验",
            decided_by="admin:1",
        )
        with pytest.raises(errors.ReviewAlreadyDecided):
            await review.decide_review(
                uow, world.clock, review_id=pending.id, approve=False, note="", decided_by="x"
            )
        await uow.commit()
    assert decided.status == "approved" and decided.note == "证明已核验"
    async with world.db.uow() as uow:
        entry = await entries.register_subject(
            uow,
            world.clock,
            registration_id=reg.id,
            subject_code="CET6",
            campus_id=world.campus["BSU-HD"],
        )
        await uow.commit()
    assert entry.subject_code == "CET6"


async def test_r19_rejected_review_leaves_cet6_ineligible(world: World) -> None:
    rec = await world.record(name="韩雪儿")
    await _score(world, TICKET, "韩雪儿", make_id_card_number("120101", date(2004, 3, 8), 1), 468)
    pending = await _review(world, rec.id)
    async with world.db.uow() as uow:
        decided = await review.decide_review(
            uow,
            world.clock,
            review_id=pending.id,
            approve=False,
            note="无证明",
            decided_by="admin:1",
        )
        await uow.commit()
    assert decided.status == "rejected"
    async with world.db.uow(readonly=True) as uow:
        assert "CET6" not in await uow.records.eligible(rec.id)
