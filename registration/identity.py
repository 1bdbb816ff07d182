"""What a candidate types to identify themselves (ID numbers, names, phones, past tickets), checked.

ID types and the checks made on each (``validate_id_number``):

``id_card`` (mainland resident identity card, GB 11643-1999)
    18 characters: 17 digits and a check digit (``0``-``9`` or ``X``). The first two
    digits are a mainland province code (11-15, 21-23, 31-37, 41-46, 50-54, 61-65),
    digits 7-14 a birth date (a real date, year 1900 or later, not after ``today``),
    and the check digit is ``"10X98765432"[sum(d_i * w_i) % 11]`` with weights
    7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2.
``hmt_residence`` (residence permit for Hong Kong, Macao and Taiwan residents)
    The same 18-character form, birth date and check digit as ``id_card``, but the
    first six digits are 810000 (Hong Kong), 820000 (Macao) or 830000 (Taiwan).
``hk_macao_permit`` (mainland travel permit for Hong Kong and Macao residents)
    ``H`` (Hong Kong) or ``M`` (Macao) followed by 8 digits, or by 10 digits (the
    current card adds a two-digit issue count). No public check digit.
``taiwan_permit`` (mainland travel permit for Taiwan residents)
    8 digits (the card issued since 2015; the older 10-digit booklet has expired).
    No public check digit.
``foreign_permanent`` (foreign permanent resident ID card)
    Either the 2023 card: 18 characters starting with ``9``, a province code in
    digits 2-3, a birth date in digits 7-14 and the GB 11643 check digit; or the
    older card: 3 letters (nationality) followed by 12 digits, form only.
``passport``
    5 to 17 letters and digits (countries differ; no common check digit).

Reason codes of ``InvalidIdNumber``: ``empty``, ``length``, ``characters``,
``region``, ``birth-date``, ``check-digit``. Reason codes of ``InvalidPhone``:
``empty``, ``characters``, ``length``, ``prefix``. Reason codes of
``InvalidTicketNumber``: ``empty``, ``length``, ``characters``, ``form``.

CET admission ticket numbers (``parse_ticket_no``, used by the CET-6 review, R14)
are taken to be 15 digits laid out as::

    CCCCCC YY H L RRR SS
    |      |  | | |   +- seat in the room, 01-99
    |      |  | | +----- room number at the test centre, 001-999
    |      |  | +------- level: 1 = CET-4, 2 = CET-6
    |      |  +--------- half-year: 1 = June sitting, 2 = December sitting
    |      +------------ last two digits of the year
    +------------------- test centre code (any six digits)

Only length, digits and the values of H, L, RRR and SS are checked; the test
centre code is not (no public list).

Numbers are compared in normalised form (``normalize_id_number``): half-width,
no spaces or hyphens, all letters upper-case (so the trailing ``x`` of an ID card
becomes ``X``; passport and permit letters are case-insensitive too).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from operator import mul

__all__ = [
    "IdType",
    "InvalidIdNumber",
    "InvalidPhone",
    "InvalidTicketNumber",
    "TicketNumber",
    "check_id_number",
    "check_phone",
    "gb11643_check_digit",
    "make_id_card_number",
    "normalize_id_number",
    "normalize_name",
    "normalize_phone",
    "normalize_ticket_no",
    "parse_ticket_no",
    "validate_id_number",
    "validate_phone",
]


class IdType(StrEnum):
    """The kinds of identity document a student record may carry."""

    ID_CARD = "id_card"
    PASSPORT = "passport"
    HK_MACAO_PERMIT = "hk_macao_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    HMT_RESIDENCE = "hmt_residence"
    FOREIGN_PERMANENT = "foreign_permanent"


class InvalidIdNumber(ValueError):
    """An ID number that cannot be right; ``reason`` is a stable ASCII code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class InvalidPhone(ValueError):
    """A phone number that is not a mainland mobile number; ``reason`` is a stable code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class InvalidTicketNumber(ValueError):
    """A string that cannot be a CET admission ticket number; ``reason`` is a stable code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ZERO_OFFSET = ord("0") * sum(_WEIGHTS)
_MAINLAND_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41}
    | {42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65}
)
_HMT_REGIONS = frozenset({"810000", "820000", "830000"})

# Compiled once: the roster importer calls these for every one of 200,000 rows.
_EIGHTEEN = re.compile(r"[0-9]{17}[0-9X]")
_HK_MACAO = re.compile(r"[HM](?:[0-9]{8}|[0-9]{10})")
_TAIWAN = re.compile(r"[0-9]{8}")
_FOREIGN_OLD = re.compile(r"[A-Z]{3}[0-9]{12}")
_PASSPORT = re.compile(r"[A-Z0-9]{5,17}")
_DIGITS = re.compile(r"[0-9]*")

# Whitespace and every dash a keyboard or a spreadsheet might put inside a number.
_NUMBER_JUNK = dict.fromkeys(
    map(ord, " \t\r\n\u00a0\u3000-\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d"), None
)
_PHONE_JUNK = dict.fromkeys(map(ord, " \t\u00a0\u3000-\u2010\u2011\u2013\u2014()"), None)


def gb11643_check_digit(body: str) -> str:
    """The GB 11643-1999 check character (``0``-``9`` or ``X``) for 17 leading digits."""
    if len(body) != 17 or not body.isdigit() or not body.isascii():
        raise ValueError("need exactly 17 ASCII digits")
    # Weighted sum over the ASCII codes, then remove the '0' offset: all in C, no per-digit int().
    total = sum(map(mul, body.encode("ascii"), _WEIGHTS)) - _ZERO_OFFSET
    return _CHECK_CHARS[total % 11]


def normalize_id_number(text: str) -> str:
    """Half-width, without spaces or hyphens, letters upper-case (``x`` -> ``X``)."""
    if not text.isascii():
        # NFKC folds full-width digits and letters (e.g. from a Chinese IME) to ASCII.
        text = unicodedata.normalize("NFKC", text)
    return text.translate(_NUMBER_JUNK).upper()


def _check_birth_date(digits: str, today: date) -> None:
    try:
        born = date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise InvalidIdNumber("birth-date", f"{digits} is not a date") from None
    if born.year < 1900 or born > today:
        raise InvalidIdNumber("birth-date", f"{born.isoformat()} is out of range")


def _check_eighteen(number: str, today: date) -> None:
    """Form, birth date and check digit shared by the 18-character GB 11643 numbers."""
    if len(number) != 18:
        raise InvalidIdNumber("length", f"{len(number)} characters, need 18")
    if not _EIGHTEEN.fullmatch(number):
        raise InvalidIdNumber("characters", "need 17 digits and a digit or X")
    _check_birth_date(number[6:14], today)
    expected = gb11643_check_digit(number[:17])
    if number[17] != expected:
        raise InvalidIdNumber("check-digit", f"last character should be {expected}")


def validate_id_number(id_type: IdType | str, number: str, *, today: date) -> None:
    """Raises ``InvalidIdNumber`` unless ``number`` (already normalised) fits ``id_type``.

    ``today`` comes from the injected clock (R6): a birth date after it is refused.
    """
    id_type = IdType(id_type)
    if not number:
        raise InvalidIdNumber("empty")
    if id_type is IdType.ID_CARD:
        if len(number) == 18 and number[:2].isdigit():
            if int(number[:2]) not in _MAINLAND_PROVINCES:
                raise InvalidIdNumber("region", f"{number[:2]} is not a mainland province")
        _check_eighteen(number, today)
    elif id_type is IdType.HMT_RESIDENCE:
        if len(number) == 18 and number[:6] not in _HMT_REGIONS:
            raise InvalidIdNumber("region", "need 810000, 820000 or 830000")
        _check_eighteen(number, today)
    elif id_type is IdType.HK_MACAO_PERMIT:
        if len(number) not in (9, 11):
            raise InvalidIdNumber("length", f"{len(number)} characters, need 9 or 11")
        if number[0] not in "HM" and number[0].isalpha():
            raise InvalidIdNumber("region", "need H (Hong Kong) or M (Macao)")
        if not _HK_MACAO.fullmatch(number):
            raise InvalidIdNumber("characters", "need H or M followed by digits")
    elif id_type is IdType.TAIWAN_PERMIT:
        if len(number) != 8:
            raise InvalidIdNumber("length", f"{len(number)} characters, need 8")
        if not _TAIWAN.fullmatch(number):
            raise InvalidIdNumber("characters", "need 8 digits")
    elif id_type is IdType.FOREIGN_PERMANENT:
        if len(number) == 15:
            if not _FOREIGN_OLD.fullmatch(number):
                raise InvalidIdNumber("characters", "need 3 letters and 12 digits")
            return
        if len(number) != 18:
            raise InvalidIdNumber("length", f"{len(number)} characters, need 15 or 18")
        if number[0] != "9" or (
            number[1:3].isdigit() and int(number[1:3]) not in _MAINLAND_PROVINCES
        ):
            raise InvalidIdNumber("region", "need 9 and a province code")
        _check_eighteen(number, today)
    else:  # passport
        if not 5 <= len(number) <= 17:
            raise InvalidIdNumber("length", f"{len(number)} characters, need 5 to 17")
        if not _PASSPORT.fullmatch(number):
            raise InvalidIdNumber("characters", "need letters and digits only")


def check_id_number(id_type: IdType | str, text: str, *, today: date) -> str:
    """Normalises ``text``, validates it for ``id_type`` and returns the normalised number."""
    number = normalize_id_number(text)
    validate_id_number(id_type, number, today=today)
    return number


def make_id_card_number(region: str, birth: date, seq: int) -> str:
    """A well-formed 18-character number for fictional people (tests, examples).

    ``seq`` is the three-digit order code; by convention an odd one is a man's.
    """
    if len(region) != 6 or not region.isdigit():
        raise ValueError("region must be 6 digits")
    if not 0 <= seq <= 999:
        raise ValueError("seq must be 0..999")
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + gb11643_check_digit(body)


# Middle dots people type between the parts of a minority or foreign name: the
# Latin-1 middle dot (the one kept), bullet, hyphenation point, katakana middle
# dots (full and half width), bullet and dot operators, Greek ano teleia, word
# separator middle dot.
_NAME_DOT = "\u00b7"
_DOT_VARIANTS = str.maketrans(
    dict.fromkeys("\u2022\u2027\u30fb\uff65\u2219\u22c5\u0387\u2e31", _NAME_DOT)
)
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# A full stop (ASCII or full width) between two Chinese characters can only be a
# mistyped name dot; between Latin letters ("J. Smith") it is left alone.
_CJK_STOP = re.compile(f"(?<=[{_CJK}]) ?[.\uff0e] ?(?=[{_CJK}])")
_SPACED_DOT = re.compile(f" ?{_NAME_DOT} ?")


def normalize_name(text: str) -> str:
    """NFC, trimmed, inner whitespace collapsed, every middle-dot variant made ``·``."""
    name = " ".join(unicodedata.normalize("NFC", text).split())
    name = name.translate(_DOT_VARIANTS)
    if "." in name or "\uff0e" in name:
        name = _CJK_STOP.sub(_NAME_DOT, name)
    if _NAME_DOT in name:
        name = _SPACED_DOT.sub(_NAME_DOT, name)
    return name


def normalize_phone(text: str) -> str:
    """Half-width digits without separators and without a +86 / 0086 country prefix."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    number = text.translate(_PHONE_JUNK)
    if number.startswith("+86"):
        number = number[3:]
    elif number.startswith("0086"):
        number = number[4:]
    elif len(number) == 13 and number.startswith("86"):
        number = number[2:]
    return number


def validate_phone(number: str) -> None:
    """Raises ``InvalidPhone`` unless ``number`` (normalised) is an 11-digit 1[3-9] mobile."""
    if not number:
        raise InvalidPhone("empty")
    if not number.isascii() or not _DIGITS.fullmatch(number):
        raise InvalidPhone("characters", "digits only")
    if len(number) != 11:
        raise InvalidPhone("length", f"{len(number)} digits, need 11")
    if number[0] != "1" or number[1] not in "3456789":
        raise InvalidPhone("prefix", "a mainland mobile number starts with 13-19")


def check_phone(text: str) -> str:
    """Normalises ``text``, validates it and returns the 11-digit number."""
    number = normalize_phone(text)
    validate_phone(number)
    return number


@dataclass(frozen=True, slots=True)
class TicketNumber:
    """The parts of a 15-digit CET admission ticket number (layout in the module docstring)."""

    number: str
    centre: str
    year: int
    half: int
    level: int
    room: int
    seat: int

    @property
    def subject(self) -> str:
        """The written subject code the ticket was for."""
        return "CET4" if self.level == 4 else "CET6"


def normalize_ticket_no(text: str) -> str:
    """Half-width digits without spaces or hyphens."""
    return normalize_id_number(text)


def parse_ticket_no(number: str) -> TicketNumber:
    """Splits a normalised ticket number into its parts; raises ``InvalidTicketNumber``."""
    if not number:
        raise InvalidTicketNumber("empty")
    if len(number) != 15:
        raise InvalidTicketNumber("length", f"{len(number)} characters, need 15")
    if not number.isascii() or not _DIGITS.fullmatch(number):
        raise InvalidTicketNumber("characters", "digits only")
    half, level, room, seat = number[8], number[9], int(number[10:13]), int(number[13:15])
    if half not in "12" or level not in "12" or room == 0 or seat == 0:
        raise InvalidTicketNumber("form", "half-year, level, room or seat out of range")
    return TicketNumber(
        number=number,
        centre=number[:6],
        year=2000 + int(number[6:8]),
        half=int(half),
        level=4 if level == "1" else 6,
        room=room,
        seat=seat,
    )
