"""Identity numbers, names and phones as a candidate types them (R12, R13, R14)."""

from __future__ import annotations

from datetime import date

import pytest

from registration.identity import (
    IdType,
    InvalidIdNumber,
    InvalidPhone,
    InvalidTicketNumber,
    check_id_number,
    check_phone,
    gb11643_check_digit,
    make_id_card_number,
    normalize_id_number,
    normalize_name,
    normalize_phone,
    parse_ticket_no,
    validate_id_number,
    validate_phone,
)

TODAY = date(2026, 11, 25)


def reason_of(id_type: IdType | str, number: str) -> str:
    with pytest.raises(InvalidIdNumber) as caught:
        validate_id_number(id_type, number, today=TODAY)
    return caught.value.reason


def with_other_check_digit(number: str) -> str:
    chars = "0123456789X"
    return number[:17] + chars[(chars.index(number[17]) + 1) % 11]


# -- GB 11643 -----------------------------------------------------------------


def test_gb11643_check_digit_of_the_standard_example() -> None:
    # The worked example of GB 11643-1999 ends in X.
    assert gb11643_check_digit("11010519491231002") == "X"
    assert gb11643_check_digit("44052418800101001") == "4"


def test_make_id_card_number_is_valid_and_encodes_its_parts() -> None:
    number = make_id_card_number("650102", date(2005, 4, 12), 123)
    assert number.startswith("65010220050412123")
    assert len(number) == 18
    validate_id_number(IdType.ID_CARD, number, today=TODAY)


@pytest.mark.parametrize("seq", [0, 1, 2, 500, 998, 999])
def test_make_id_card_number_every_seq_validates(seq: int) -> None:
    validate_id_number(
        "id_card", make_id_card_number("110108", date(2004, 2, 29), seq), today=TODAY
    )


def test_make_id_card_number_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError):
        make_id_card_number("11010", date(2005, 1, 1), 1)
    with pytest.raises(ValueError):
        make_id_card_number("110108", date(2005, 1, 1), 1000)


def test_r12_id_card_check_digit_refused() -> None:
    good = make_id_card_number("110108", date(2005, 3, 14), 123)
    assert reason_of(IdType.ID_CARD, with_other_check_digit(good)) == "check-digit"


def test_r12_id_card_every_wrong_check_character_refused() -> None:
    good = make_id_card_number("320102", date(2004, 7, 1), 77)
    for ch in "0123456789X":
        candidate = good[:17] + ch
        if ch == good[17]:
            validate_id_number(IdType.ID_CARD, candidate, today=TODAY)
        else:
            assert reason_of(IdType.ID_CARD, candidate) == "check-digit"


def test_r12_id_card_length_refused() -> None:
    good = make_id_card_number("110108", date(2005, 3, 14), 123)
    assert reason_of(IdType.ID_CARD, good[:17]) == "length"
    assert reason_of(IdType.ID_CARD, good + "1") == "length"
    # The old 15-digit card was replaced in 2013: refused.
    assert reason_of(IdType.ID_CARD, "110105491231002") == "length"


def test_r12_id_card_characters_refused() -> None:
    assert reason_of(IdType.ID_CARD, "1101051949123100X2") == "characters"
    assert reason_of(IdType.ID_CARD, "11010519491231A02X") == "characters"


def test_r12_id_card_birth_date_must_be_real_and_past() -> None:
    body = "110105" + "20050230" + "123"  # 30 February
    assert reason_of(IdType.ID_CARD, body + gb11643_check_digit(body)) == "birth-date"
    tomorrow = make_id_card_number("110105", date(2026, 11, 26), 1)
    assert reason_of(IdType.ID_CARD, tomorrow) == "birth-date"
    today = make_id_card_number("110105", TODAY, 1)
    validate_id_number(IdType.ID_CARD, today, today=TODAY)
    old = make_id_card_number("110105", date(1899, 12, 31), 1)
    assert reason_of(IdType.ID_CARD, old) == "birth-date"


def test_r12_id_card_birth_date_uses_the_given_today() -> None:
    # R6: the clock is injected; the same number is valid once its birth day has come.
    number = make_id_card_number("110105", date(2030, 1, 1), 1)
    with pytest.raises(InvalidIdNumber):
        validate_id_number(IdType.ID_CARD, number, today=TODAY)
    validate_id_number(IdType.ID_CARD, number, today=date(2030, 1, 1))


@pytest.mark.parametrize("region", ["000000", "710000", "810000", "910101", "700101", "240101"])
def test_r12_id_card_region_must_be_a_mainland_province(region: str) -> None:
    assert reason_of(IdType.ID_CARD, make_id_card_number(region, date(2005, 1, 1), 1)) == "region"


def test_hmt_residence_permit_prefix_and_check_digit() -> None:
    for prefix in ("810000", "820000", "830000"):
        number = make_id_card_number(prefix, date(2005, 5, 5), 913)
        validate_id_number(IdType.HMT_RESIDENCE, number, today=TODAY)
        assert reason_of(IdType.HMT_RESIDENCE, with_other_check_digit(number)) == "check-digit"
    mainland = make_id_card_number("110108", date(2005, 5, 5), 913)
    assert reason_of(IdType.HMT_RESIDENCE, mainland) == "region"
    assert reason_of(IdType.HMT_RESIDENCE, make_id_card_number("810001", date(2005, 5, 5), 1)) == (
        "region"
    )


def test_hk_macao_permit_forms() -> None:
    for good in ("H60218734", "M12345678", "H6021873401"):
        validate_id_number(IdType.HK_MACAO_PERMIT, good, today=TODAY)
    assert reason_of(IdType.HK_MACAO_PERMIT, "X60218734") == "region"
    assert reason_of(IdType.HK_MACAO_PERMIT, "H6021873") == "length"
    assert reason_of(IdType.HK_MACAO_PERMIT, "H602187340") == "length"
    assert reason_of(IdType.HK_MACAO_PERMIT, "H6021873A") == "characters"
    assert reason_of(IdType.HK_MACAO_PERMIT, "160218734") == "characters"


def test_taiwan_permit_is_eight_digits() -> None:
    validate_id_number(IdType.TAIWAN_PERMIT, "01234567", today=TODAY)
    assert reason_of(IdType.TAIWAN_PERMIT, "1234567") == "length"
    assert reason_of(IdType.TAIWAN_PERMIT, "1234567890") == "length"
    assert reason_of(IdType.TAIWAN_PERMIT, "1234567B") == "characters"


def test_foreign_permanent_resident_card_both_generations() -> None:
    new = make_id_card_number("911840", date(1990, 6, 1), 12)  # 9, Beijing, nationality 840
    validate_id_number(IdType.FOREIGN_PERMANENT, new, today=TODAY)
    assert reason_of(IdType.FOREIGN_PERMANENT, with_other_check_digit(new)) == "check-digit"
    validate_id_number(IdType.FOREIGN_PERMANENT, "USA110900601012", today=TODAY)
    assert reason_of(IdType.FOREIGN_PERMANENT, "US1110900601012") == "characters"
    mainland = make_id_card_number("110108", date(1990, 6, 1), 12)
    assert reason_of(IdType.FOREIGN_PERMANENT, mainland) == "region"
    assert reason_of(IdType.FOREIGN_PERMANENT, "9118401990") == "length"


def test_passport_form() -> None:
    for good in ("E12345678", "EA1234567", "M48213957", "123456789", "AB12345"):
        validate_id_number(IdType.PASSPORT, good, today=TODAY)
    assert reason_of(IdType.PASSPORT, "E123") == "length"
    assert reason_of(IdType.PASSPORT, "E" * 18) == "length"
    assert reason_of(IdType.PASSPORT, "E1234567.") == "characters"


def test_empty_number_refused_for_every_type() -> None:
    for id_type in IdType:
        assert reason_of(id_type, "") == "empty"


def test_unknown_id_type_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        validate_id_number("visa", "E12345678", today=TODAY)


# -- normalising --------------------------------------------------------------


def test_normalize_id_number_full_width_spaces_hyphens_and_lower_x() -> None:
    assert normalize_id_number("１１０１０５ １９４９-１２３１ ００２ｘ") == "11010519491231002X"
    assert normalize_id_number(" 11010519491231002x\t") == "11010519491231002X"
    assert normalize_id_number("110105\u300019491231\u2014002X") == "11010519491231002X"
    assert normalize_id_number("h60218734") == "H60218734"


def test_check_id_number_normalises_then_validates() -> None:
    assert check_id_number("id_card", "11010519491231002x", today=TODAY) == "11010519491231002X"
    with pytest.raises(InvalidIdNumber):
        check_id_number("id_card", "11010519491231002", today=TODAY)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("阿依古丽•买买提", "阿依古丽·买买提"),
        ("阿依古丽‧买买提", "阿依古丽·买买提"),
        ("阿依古丽・买买提", "阿依古丽·买买提"),
        ("阿依古丽･买买提", "阿依古丽·买买提"),
        ("阿依古丽.买买提", "阿依古丽·买买提"),
        ("阿依古丽．买买提", "阿依古丽·买买提"),
        ("阿依古丽 · 买买提", "阿依古丽·买买提"),
        ("  迪丽娜尔.艾力 ", "迪丽娜尔·艾力"),
        ("张伟", "张伟"),
        ("KIM   MINJUN", "KIM MINJUN"),
        ("J. Smith", "J. Smith"),
        ("\u3000王芳\u3000", "王芳"),
    ],
)
def test_r12_normalize_name(typed: str, stored: str) -> None:
    assert normalize_name(typed) == stored


def test_normalize_name_is_nfc() -> None:
    decomposed = "Zoe\u0301 Martin"  # e + combining acute
    assert normalize_name(decomposed) == "Zo\u00e9 Martin"


def test_normalize_name_is_idempotent() -> None:
    for name in ("阿依古丽 • 买买提", "J.  Smith", "李.娜"):
        once = normalize_name(name)
        assert normalize_name(once) == once


# -- phones -------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["13812345678", "+86 138 1234 5678", "+86-138-1234-5678", "0086 13812345678", "8613812345678",
     "１３８１２３４５６７８", "(+86) 138 1234 5678"],
)  # fmt: skip
def test_r13_phone_forms_accepted(typed: str) -> None:
    assert check_phone(typed) == "13812345678"


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "empty"),
        ("1381234567", "length"),
        ("138123456789", "length"),
        ("12812345678", "prefix"),
        ("23812345678", "prefix"),
        ("1381234567a", "characters"),
        ("010-62981234", "prefix"),  # a landline
    ],
)
def test_r13_phone_refused(typed: str, reason: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        validate_phone(normalize_phone(typed))
    assert caught.value.reason == reason


# -- ticket numbers -----------------------------------------------------------


def test_r14_ticket_number_parts() -> None:
    ticket = parse_ticket_no("110010261105118")
    assert (ticket.centre, ticket.year, ticket.half, ticket.level) == ("110010", 2026, 1, 4)
    assert (ticket.room, ticket.seat, ticket.subject) == (51, 18, "CET4")
    assert parse_ticket_no("110010252200509").subject == "CET6"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("", "empty"),
        ("11001026110511", "length"),
        ("1100102611051180", "length"),
        ("11001026110511A", "characters"),
        ("110010263105118", "form"),  # half-year 3
        ("110010261305118", "form"),  # level 3
        ("110010261100018", "form"),  # room 000
        ("110010261105100", "form"),  # seat 00
    ],
)
def test_r14_ticket_number_refused(number: str, reason: str) -> None:
    with pytest.raises(InvalidTicketNumber) as caught:
        parse_ticket_no(number)
    assert caught.value.reason == reason
