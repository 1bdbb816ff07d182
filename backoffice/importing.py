"""Pure parsers for the authority's data files (session TOML, roster CSV, score CSV), R41.

Every parser is all-or-nothing: it either returns frozen dataclasses or raises
``ImportFailed`` carrying one ``RowError`` per problem found, for every bad line
of the file (not only the first), sorted by line. Line numbers are 1-based and
count physical lines of the file (the CSV header is line 1); line 0 means the
file as a whole (unreadable, wrong encoding).

Encoding (``read_text_file``): UTF-8, with or without a byte-order mark, is read
as is. A file that is not UTF-8 but decodes as GB18030 (a superset of GBK, what
Excel on a Chinese Windows saves as "CSV") is read too, and the warning
``encoding-gbk`` is added so the operator sees it was converted. Anything else
(UTF-16, binary, Latin-1 that is not valid GB18030) is refused with reason
``encoding``. The session TOML must be UTF-8 (the TOML standard says so).

Reason codes (stable, ASCII; ``detail`` is for the log, not for people):

- any file: ``file-missing``, ``encoding``, ``missing-column``,
  ``duplicate-column``, ``column-count``, ``empty-field``
- session TOML: ``toml-syntax``, ``missing-key``, ``unknown-key``, ``bad-type``,
  ``bad-code``, ``bad-timezone``, ``bad-instant``, ``naive-instant``,
  ``window-order``, ``exam-order``, ``bad-fee``, ``bad-capacity``,
  ``bad-room-size``, ``unknown-subject``, ``duplicate-subject``,
  ``missing-required-subject``, ``duplicate-campus``
- roster: ``bad-name``, ``bad-gender``, ``bad-id-type``, ``bad-check-digit``,
  ``bad-birth-date``, ``bad-id-number`` (other ID form problems; the detail starts
  with the identity reason), ``unknown-campus``, ``campus-school-mismatch``,
  ``unknown-subject``, ``not-written-subject``, ``bad-phone``, ``bad-student-no``,
  ``duplicate-id-number`` and ``duplicate-student-no`` (on every line involved),
  ``photo-missing``, ``photo-too-large``, ``photo-format``
- scores: ``bad-ticket``, ``ticket-subject-mismatch``, ``ticket-session-mismatch``,
  ``bad-score``, ``bad-session``, ``unknown-subject``, ``bad-name``,
  ``bad-id-number``, ``bad-check-digit``, ``duplicate-ticket``, ``duplicate-result``
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backoffice.catalogue import SubjectSpec, load_default_catalogue
from registration.identity import (
    IdType,
    InvalidIdNumber,
    InvalidPhone,
    InvalidTicketNumber,
    check_phone,
    gb11643_check_digit,
    normalize_id_number,
    normalize_name,
    normalize_ticket_no,
    parse_ticket_no,
    validate_id_number,
)

__all__ = [
    "ROSTER_COLUMNS",
    "SCORE_COLUMNS",
    "CampusSpec",
    "ImportFailed",
    "RosterFile",
    "RosterRow",
    "RowError",
    "ScoreRow",
    "SessionSpec",
    "SessionSubject",
    "SessionWindows",
    "parse_roster",
    "parse_scores",
    "parse_session_text",
    "parse_session_toml",
    "read_text_file",
]

ROSTER_COLUMNS = (
    "name",
    "gender",
    "id_type",
    "id_number",
    "school",
    "campus",
    "student_no",
    "phone",
    "eligible",
    "photo",
)
SCORE_COLUMNS = ("ticket_no", "name", "id_number", "subject", "score", "session")

PHOTO_MAX_BYTES = 200 * 1024
MAX_SCORE = 710
DEFAULT_ROOM_SIZE = 30
PROGRESS_EVERY = 5000
_MAX_NAME = 64
_MAX_STUDENT_NO = 32


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in an imported file: where, a stable reason code, and a detail for the log."""

    line: int
    reason: str
    detail: str = ""
    # Placeholders of the reason's text (e.g. the accepted values), for the operator.
    args: Mapping[str, str] = field(default_factory=dict)


class ImportFailed(Exception):
    """The file was refused as a whole; ``errors`` lists every problem, sorted by line."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = sorted(errors, key=lambda e: e.line)
        head = "; ".join(f"line {e.line}: {e.reason} {e.detail}".strip() for e in self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__(f"{len(self.errors)} error(s): {head}{more}")


# -- text files ---------------------------------------------------------------


def _read_bytes(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise ImportFailed([RowError(0, "file-missing", f"{path}: {e.strerror}")]) from None


def read_text_file(path: str | Path, warnings: list[str] | None = None) -> str:
    """The text of a UTF-8 (BOM optional) or GBK/GB18030 file; for GBK ``encoding-gbk`` is
    appended to ``warnings`` when given. Raises ``ImportFailed`` on anything else."""
    data = _read_bytes(path)
    if b"\x00" in data:
        # NUL bytes: UTF-16 or a binary file (e.g. an .xlsx saved under a .csv name).
        raise ImportFailed([RowError(0, "encoding", "not a text file (UTF-16 or binary)")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        bad_line = data.count(b"\n", 0, e.start) + 1
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportFailed(
            [RowError(0, "encoding", f"neither UTF-8 (line {bad_line}) nor GBK/GB18030")]
        ) from None
    if warnings is not None:
        warnings.append("encoding-gbk")
    return text


def _read_utf8(path: str | Path) -> str:
    data = _read_bytes(path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ImportFailed([RowError(0, "encoding", f"not UTF-8 (line {line})")]) from None


class _Csv:
    """A CSV file's header check and record iteration with physical line numbers."""

    def __init__(self, text: str, columns: Sequence[str], errors: list[RowError]) -> None:
        self._reader = csv.reader(io.StringIO(text, newline=""))
        self.index: dict[str, int] = {}
        self.width = 0
        self.extra: list[str] = []
        header = next(self._reader, None) or []
        names = [h.strip().lower() for h in header]
        while names and not names[-1]:
            names.pop()  # empty trailing header cells, as spreadsheets write them
        seen: set[str] = set()
        for name in names:
            if name and name in seen:
                errors.append(RowError(1, "duplicate-column", name))
            seen.add(name)
        missing = [c for c in columns if c not in seen]
        if missing:
            errors.append(RowError(1, "missing-column", ",".join(missing)))
        self.ok = not errors
        if self.ok:
            self.index = {c: names.index(c) for c in columns}
            self.width = len(names)
            self.extra = [n for n in names if n not in columns]

    def records(self, errors: list[RowError]) -> Iterable[tuple[int, list[str]]]:
        reader, width = self._reader, self.width
        for record in reader:
            line = reader.line_num
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # blank line
            if len(record) != width:
                # Spreadsheets often pad rows with empty trailing cells; only real data counts.
                if len(record) > width and not any(c.strip() for c in record[width:]):
                    record = record[:width]
                else:
                    errors.append(
                        RowError(line, "column-count", f"{len(record)} fields, need {width}")
                    )
                    continue
            yield line, record


# -- session TOML -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionWindows:
    """The instants of R2-R5 (timezone-aware, as written in the file)."""

    published: datetime
    registration_opens: datetime
    registration_closes: datetime
    print_written: datetime
    print_oral: datetime


@dataclass(frozen=True, slots=True)
class SessionSubject:
    """A catalogue subject as offered in one session: its fee (fen) and exam time."""

    code: str
    fee_fen: int
    exam_start: datetime
    exam_end: datetime


@dataclass(frozen=True, slots=True)
class CampusSpec:
    """A campus of a school: payment deadline (R4) and seats per subject (R23).

    A subject absent from ``capacity`` has no seats at this campus.
    """

    code: str
    school: str
    name_zh: str
    name_en: str
    address_zh: str
    address_en: str
    pay_deadline: datetime
    capacity: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """An exam session as configured by the authority."""

    code: str
    name_zh: str
    name_en: str
    timezone: str
    help_phone: str
    room_size: int
    windows: SessionWindows
    subjects: tuple[SessionSubject, ...]
    campuses: tuple[CampusSpec, ...]

    def campus_schools(self) -> dict[str, str]:
        """Campus code -> school name, the mapping ``parse_roster`` takes."""
        return {c.code: c.school for c in self.campuses}

    def subject_codes(self) -> set[str]:
        return {s.code for s in self.subjects}


_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,19}")
_TOML_ERROR_LINE = re.compile(r"at line (\d+)")
_TOML_HEADER = re.compile(r"\s*(\[\[?)\s*([A-Za-z0-9_.\s-]+?)\s*\]\]?")
_TOML_KEY = re.compile(r"\s*([A-Za-z0-9_-]+|\"[^\"]*\")\s*=")
_TOP_KEYS = {"code", "name_zh", "name_en", "timezone", "help_phone", "room_size"}
_TOP_TABLES = {"windows", "subjects", "campuses"}
_WINDOW_KEYS = (
    "published",
    "registration_opens",
    "registration_closes",
    "print_written",
    "print_oral",
)
_SUBJECT_KEYS = ("code", "fee_fen", "exam_start", "exam_end")
_CAMPUS_TEXT_KEYS = ("code", "school", "name_zh", "name_en", "address_zh", "address_en")
_CAMPUS_KEYS = {*_CAMPUS_TEXT_KEYS, "pay_deadline", "capacity"}


def _toml_key_lines(text: str) -> dict[tuple[Any, ...], int]:
    """Maps key paths such as ``("campuses", 1, "capacity", "CET4")`` to the line they are on.

    tomllib reports no positions for values, and an error that names only a key
    would leave the operator searching; this simple scan covers the layout of
    session files (tables, arrays of tables, plain keys).
    """
    lines: dict[tuple[Any, ...], int] = {}
    counts: dict[tuple[Any, ...], int] = {}
    current: tuple[Any, ...] = ()
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        header = _TOML_HEADER.match(raw) if stripped.startswith("[") else None
        if header:
            parts = [p.strip() for p in header.group(2).split(".")]
            # Resolve each part against the arrays seen so far ("campuses" -> latest element).
            path: tuple[Any, ...] = ()
            for i, part in enumerate(parts):
                path = (*path, part)
                is_last = i == len(parts) - 1
                if is_last and header.group(1) == "[[":
                    index = counts.get(path, 0)
                    counts[path] = index + 1
                    path = (*path, index)
                elif path in counts:
                    path = (*path, counts[path] - 1)
            current = path
            lines.setdefault(current, number)
            continue
        key = _TOML_KEY.match(raw)
        if key:
            lines.setdefault((*current, key.group(1).strip('"')), number)
    return lines


class _SessionChecker:
    """Collects every problem of a session file, with the line each one is on."""

    def __init__(self, text: str) -> None:
        self.errors: list[RowError] = []
        self._lines = _toml_key_lines(text)

    def line(self, path: tuple[Any, ...]) -> int:
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return 0

    def error(self, path: tuple[Any, ...], reason: str, detail: str = "") -> None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        self.errors.append(RowError(self.line(path), reason, f"{where}: {detail}".rstrip(": ")))

    def unknown_keys(self, table: Mapping[str, Any], allowed: Iterable[str], path: tuple) -> None:
        for key in sorted(set(table) - set(allowed)):
            self.error((*path, key), "unknown-key")

    def text(self, table: Mapping[str, Any], key: str, path: tuple) -> str:
        value = table.get(key)
        if value is None:
            self.error((*path, key), "missing-key")
            return ""
        if not isinstance(value, str):
            self.error((*path, key), "bad-type", "need a string")
            return ""
        if not value.strip():
            self.error((*path, key), "empty-field")
        return value.strip()

    def code(self, table: Mapping[str, Any], key: str, path: tuple) -> str:
        value = self.text(table, key, path)
        if value and not _CODE.fullmatch(value):
            self.error((*path, key), "bad-code", "letters, digits, - and _, at most 20")
        return value

    def instant(self, table: Mapping[str, Any], key: str, path: tuple) -> datetime | None:
        value = table.get(key)
        where = (*path, key)
        if value is None:
            self.error(where, "missing-key")
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                self.error(where, "bad-instant", "need an ISO-8601 date and time")
                return None
        if not isinstance(value, datetime):
            self.error(where, "bad-instant", "need a date and time")
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            self.error(where, "naive-instant", "add a zone, e.g. +08:00")
            return None
        return value

    def whole(self, value: Any, path: tuple, reason: str, minimum: int) -> int | None:
        # bool is an int in Python; `true` is not a fee.
        if type(value) is not int or value < minimum:
            self.error(path, reason, f"need a whole number >= {minimum}")
            return None
        return value

    def before(
        self,
        earlier: datetime | None,
        later: datetime | None,
        path: tuple,
        detail: str,
        *,
        strict: bool = True,
        reason: str = "window-order",
    ) -> None:
        if earlier is None or later is None:
            return
        if later < earlier or (strict and later == earlier):
            self.error(path, reason, detail)


def parse_session_toml(
    path: str | Path, *, catalogue: Sequence[SubjectSpec] | None = None
) -> SessionSpec:
    """Reads and validates a session file; raises ``ImportFailed`` listing every problem."""
    return parse_session_text(_read_utf8(path), catalogue=catalogue)


def parse_session_text(text: str, *, catalogue: Sequence[SubjectSpec] | None = None) -> SessionSpec:
    """Validates session TOML text (see ``parse_session_toml``)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        found = _TOML_ERROR_LINE.search(str(e))
        raise ImportFailed(
            [RowError(int(found.group(1)) if found else 0, "toml-syntax", str(e))]
        ) from None
    known = {s.code: s for s in (catalogue if catalogue is not None else load_default_catalogue())}
    check = _SessionChecker(text)
    check.unknown_keys(data, _TOP_KEYS | _TOP_TABLES, ())

    code = check.code(data, "code", ())
    name_zh = check.text(data, "name_zh", ())
    name_en = check.text(data, "name_en", ())
    help_phone = check.text(data, "help_phone", ())
    timezone = check.text(data, "timezone", ())
    if timezone:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            check.error(("timezone",), "bad-timezone", timezone)
    room_size = check.whole(
        data.get("room_size", DEFAULT_ROOM_SIZE), ("room_size",), "bad-room-size", 1
    )

    windows_raw = data.get("windows")
    if not isinstance(windows_raw, dict):
        check.error(("windows",), "missing-key", "need a [windows] table")
        windows_raw = {}
    check.unknown_keys(windows_raw, _WINDOW_KEYS, ("windows",))
    w = {k: check.instant(windows_raw, k, ("windows",)) for k in _WINDOW_KEYS}
    # R2-R5: published <= opens < closes; tickets print only after registration has closed.
    check.before(
        w["published"],
        w["registration_opens"],
        ("windows", "registration_opens"),
        "opens before published",
        strict=False,
    )
    check.before(
        w["registration_opens"],
        w["registration_closes"],
        ("windows", "registration_closes"),
        "must be after registration_opens",
    )
    for key in ("print_written", "print_oral"):
        check.before(
            w["registration_closes"], w[key], ("windows", key), "must be after registration_closes"
        )

    subjects: list[SessionSubject] = []
    raw_subjects = data.get("subjects")
    if not isinstance(raw_subjects, list) or not raw_subjects:
        check.error(("subjects",), "missing-key", "need at least one [[subjects]] table")
        raw_subjects = []
    seen_subjects: set[str] = set()
    for i, raw in enumerate(raw_subjects):
        where = ("subjects", i)
        if not isinstance(raw, dict):
            check.error(where, "bad-type", "need a table")
            continue
        check.unknown_keys(raw, _SUBJECT_KEYS, where)
        s_code = check.text(raw, "code", where)
        spec = known.get(s_code)
        if s_code and spec is None:
            check.error((*where, "code"), "unknown-subject", s_code)
        if s_code in seen_subjects:
            check.error((*where, "code"), "duplicate-subject", s_code)
        seen_subjects.add(s_code)
        fee = check.whole(raw.get("fee_fen"), (*where, "fee_fen"), "bad-fee", 0)
        start = check.instant(raw, "exam_start", where)
        end = check.instant(raw, "exam_end", where)
        check.before(
            start, end, (*where, "exam_end"), "must be after exam_start", reason="exam-order"
        )
        if spec is not None:
            printed = w["print_written"] if spec.is_written else w["print_oral"]
            check.before(printed, start, (*where, "exam_start"), "must be after its print time")
        if s_code and fee is not None and start is not None and end is not None:
            subjects.append(SessionSubject(s_code, fee, start, end))
    for s_code in sorted(seen_subjects):
        spec = known.get(s_code)
        # R21: an oral subject can only be taken next to its written subject.
        if spec is not None and spec.requires and spec.requires not in seen_subjects:
            i = next(i for i, s in enumerate(raw_subjects) if s.get("code") == s_code)
            check.error(("subjects", i, "code"), "missing-required-subject", spec.requires)

    campuses: list[CampusSpec] = []
    raw_campuses = data.get("campuses")
    if not isinstance(raw_campuses, list) or not raw_campuses:
        check.error(("campuses",), "missing-key", "need at least one [[campuses]] table")
        raw_campuses = []
    seen_campuses: set[str] = set()
    for i, raw in enumerate(raw_campuses):
        where = ("campuses", i)
        if not isinstance(raw, dict):
            check.error(where, "bad-type", "need a table")
            continue
        check.unknown_keys(raw, _CAMPUS_KEYS, where)
        texts = {
            k: (check.code if k == "code" else check.text)(raw, k, where) for k in _CAMPUS_TEXT_KEYS
        }
        if texts["code"] in seen_campuses:
            check.error((*where, "code"), "duplicate-campus", texts["code"])
        seen_campuses.add(texts["code"])
        deadline = check.instant(raw, "pay_deadline", where)
        # R4: the campus's payment deadline is at or after the close of registration.
        check.before(
            w["registration_closes"],
            deadline,
            (*where, "pay_deadline"),
            "before registration_closes",
            strict=False,
        )
        capacity: dict[str, int] = {}
        raw_capacity = raw.get("capacity")
        if not isinstance(raw_capacity, dict):
            check.error((*where, "capacity"), "missing-key", "need a [campuses.capacity] table")
            raw_capacity = {}
        for s_code, seats in raw_capacity.items():
            c_where = (*where, "capacity", s_code)
            if s_code not in seen_subjects:
                check.error(c_where, "unknown-subject", f"{s_code} is not a subject of the session")
            value = check.whole(seats, c_where, "bad-capacity", 0)
            if value is not None:
                capacity[s_code] = value
        if deadline is not None:
            campuses.append(
                CampusSpec(pay_deadline=deadline, capacity=MappingProxyType(capacity), **texts)
            )

    if check.errors:
        raise ImportFailed(check.errors)
    windows = SessionWindows(**w)  # type: ignore[arg-type]  # all present: no errors
    return SessionSpec(
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        timezone=timezone,
        help_phone=help_phone,
        room_size=room_size or DEFAULT_ROOM_SIZE,
        windows=windows,
        subjects=tuple(subjects),
        campuses=tuple(campuses),
    )


# -- roster CSV -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One student record of a school roster, normalised."""

    line: int
    name: str
    gender: str  # "M" or "F"
    id_type: IdType
    id_number: str
    school: str
    campus: str
    student_no: str
    phone: str
    eligible: frozenset[str]  # written subject codes (R20)
    photo: bytes | None = field(default=None, repr=False)
    photo_type: str | None = None  # "image/jpeg" or "image/png"


@dataclass(frozen=True, slots=True)
class RosterFile:
    """A parsed roster: its rows in file order and operator warnings (e.g. ``encoding-gbk``)."""

    rows: list[RosterRow]
    warnings: list[str] = field(default_factory=list)


# Written with escapes: Chinese text stays out of Python modules (the words are "male", "female").
_GENDERS = {
    "m": "M",
    "male": "M",
    "\u7537": "M",
    "f": "F",
    "female": "F",
    "\u5973": "F",
}


def _label_key(text: str) -> str:
    # Full-width letters, case, spaces and separators vary between schools' exports.
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s_\-/\u00b7.]+", "", folded)


@cache
def id_type_labels() -> MappingProxyType[str, IdType]:
    """Every accepted spelling of an ID type (its code and the labels of id_types.toml),
    normalized with `_label_key`, mapped to the type."""
    data = tomllib.loads(
        resources.files(__package__).joinpath("id_types.toml").read_text(encoding="utf-8")
    )
    found: dict[str, IdType] = {}
    for id_type in IdType:
        for label in [id_type.value, *data.get(id_type.value, {}).get("labels", [])]:
            key = _label_key(label)
            if found.setdefault(key, id_type) is not id_type:
                raise ValueError(f"id_types.toml: {label!r} names two ID types")
    return MappingProxyType(found)


def accepted_id_types() -> str:
    """The codes and labels an `id_type` cell may hold, for the error that refuses one."""
    data = tomllib.loads(
        resources.files(__package__).joinpath("id_types.toml").read_text(encoding="utf-8")
    )
    groups = []
    for id_type in IdType:
        spelled: dict[str, str] = {}
        for label in [id_type.value, *data.get(id_type.value, {}).get("labels", [])]:
            spelled.setdefault(_label_key(label), label)  # "passport" once, not twice
        groups.append(", ".join(spelled.values()))
    return "; ".join(groups)


def parse_id_type(text: str) -> IdType | None:
    """The ID type a roster cell names, by code or by a common Chinese or English label."""
    return id_type_labels().get(_label_key(text))


_ID_REASONS = {"check-digit": "bad-check-digit", "birth-date": "bad-birth-date"}
_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _load_photo(path: Path) -> tuple[bytes, str] | RowError:
    """The photo's bytes and type, or the error (line filled in by the caller)."""
    try:
        size = path.stat().st_size
        if size > PHOTO_MAX_BYTES:
            return RowError(0, "photo-too-large", f"{size} bytes, at most {PHOTO_MAX_BYTES}")
        data = path.read_bytes()
    except OSError:
        return RowError(0, "photo-missing", str(path))
    if data.startswith(_JPEG_MAGIC):
        return data, "image/jpeg"
    if data.startswith(_PNG_MAGIC):
        return data, "image/png"
    return RowError(0, "photo-format", "need JPEG or PNG")


def _duplicates(
    seen: dict[Any, list[int]], reason: str, label: Callable[[Any], str]
) -> list[RowError]:
    """One error on every line of every key seen more than once, naming the other lines."""
    errors = []
    for key, lines in seen.items():
        if len(lines) > 1:
            for line in lines:
                others = ",".join(str(o) for o in lines if o != line)
                errors.append(RowError(line, reason, f"{label(key)} also on line {others}"))
    return errors


def parse_roster(
    path: str | Path,
    campuses: Mapping[str, str],
    subjects: AbstractSet[str],
    today: date,
    *,
    progress: Callable[[int], None] | None = None,
    catalogue: Sequence[SubjectSpec] | None = None,
) -> RosterFile:
    """Parses a school roster CSV (columns ``ROSTER_COLUMNS``) against a session.

    ``campuses`` maps campus code -> school name, ``subjects`` are the session's
    subject codes, ``today`` is the injected clock's date (R6). ``progress`` is
    called with the number of records read every ``PROGRESS_EVERY`` records and
    at the end. Raises ``ImportFailed`` with every problem (R41).
    """
    path = Path(path)
    warnings: list[str] = []
    errors: list[RowError] = []
    text = read_text_file(path, warnings)
    table = _Csv(text, ROSTER_COLUMNS, errors)
    if not table.ok:
        raise ImportFailed(errors)
    warnings.extend(f"extra-column:{name}" for name in table.extra)

    specs = {s.code: s for s in (catalogue if catalogue is not None else load_default_catalogue())}
    written = {c for c in subjects if c in specs and specs[c].is_written}
    base = path.parent
    photos: dict[str, tuple[bytes, str] | RowError] = {}
    id_lines: dict[tuple[IdType, str], list[int]] = {}
    student_lines: dict[tuple[str, str], list[int]] = {}
    eligible_cache: dict[str, frozenset[str] | RowError] = {}
    rows: list[RosterRow] = []
    add_error = errors.append
    i_name, i_gender, i_type, i_number, i_school, i_campus, i_student, i_phone, i_elig, i_photo = (
        table.index[c] for c in ROSTER_COLUMNS
    )
    count = 0

    for line, rec in table.records(errors):
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
        row_ok = True

        name = normalize_name(rec[i_name])
        if not name:
            add_error(RowError(line, "empty-field", "name"))
            row_ok = False
        elif len(name) > _MAX_NAME or not name.isprintable():
            add_error(RowError(line, "bad-name", name[:_MAX_NAME]))
            row_ok = False

        gender = _GENDERS.get(rec[i_gender].strip().lower())
        if gender is None:
            add_error(RowError(line, "bad-gender", rec[i_gender].strip()))
            row_ok = False

        id_type = parse_id_type(rec[i_type])
        id_number = normalize_id_number(rec[i_number])
        if id_type is None:
            add_error(
                RowError(
                    line,
                    "bad-id-type",
                    rec[i_type].strip(),
                    {"accepted": accepted_id_types()},
                )
            )
            row_ok = False
        elif not id_number:
            add_error(RowError(line, "empty-field", "id_number"))
            row_ok = False
        else:
            try:
                validate_id_number(id_type, id_number, today=today)
            except InvalidIdNumber as e:
                reason = _ID_REASONS.get(e.reason, "bad-id-number")
                add_error(RowError(line, reason, f"{e.reason}: {e.detail}".rstrip(": ")))
                row_ok = False
            else:
                id_lines.setdefault((id_type, id_number), []).append(line)

        school = " ".join(rec[i_school].split())
        campus = rec[i_campus].strip()
        if not school:
            add_error(RowError(line, "empty-field", "school"))
            row_ok = False
        if not campus:
            add_error(RowError(line, "empty-field", "campus"))
            row_ok = False
        elif campus not in campuses:
            add_error(RowError(line, "unknown-campus", campus))
            row_ok = False
        elif school and campuses[campus] != school:
            add_error(RowError(line, "campus-school-mismatch", f"{campus} is not of {school}"))
            row_ok = False

        student_no = rec[i_student].strip()
        if not student_no:
            add_error(RowError(line, "empty-field", "student_no"))
            row_ok = False
        elif len(student_no) > _MAX_STUDENT_NO:
            add_error(RowError(line, "bad-student-no", f"at most {_MAX_STUDENT_NO} characters"))
            row_ok = False
        elif school:
            student_lines.setdefault((school, student_no), []).append(line)

        phone = ""
        if not rec[i_phone].strip():
            add_error(RowError(line, "empty-field", "phone"))
            row_ok = False
        else:
            try:
                phone = check_phone(rec[i_phone])
            except InvalidPhone as e:
                add_error(RowError(line, "bad-phone", e.reason))
                row_ok = False

        # Most rows share a handful of eligibility lists: check each distinct one once.
        raw_eligible = rec[i_elig]
        eligible = eligible_cache.get(raw_eligible)
        if eligible is None:
            eligible = _parse_eligible(raw_eligible, written, specs, subjects)
            eligible_cache[raw_eligible] = eligible
        if isinstance(eligible, RowError):
            add_error(RowError(line, eligible.reason, eligible.detail))
            row_ok = False

        photo = photo_type = None
        raw_photo = rec[i_photo].strip()
        if raw_photo:
            loaded = photos.get(raw_photo)
            if loaded is None:
                loaded = photos[raw_photo] = _load_photo(base / raw_photo)
            if isinstance(loaded, RowError):
                add_error(RowError(line, loaded.reason, f"{raw_photo}: {loaded.detail}"))
                row_ok = False
            else:
                photo, photo_type = loaded

        # Once the file has failed, rows are no longer kept: only errors matter.
        if row_ok and not errors and gender and id_type and isinstance(eligible, frozenset):
            rows.append(
                RosterRow(
                    line,
                    name,
                    gender,
                    id_type,
                    id_number,
                    school,
                    campus,
                    student_no,
                    phone,
                    eligible,
                    photo,
                    photo_type,
                )
            )

    errors.extend(_duplicates(id_lines, "duplicate-id-number", lambda k: f"{k[0]} {k[1]}"))
    errors.extend(_duplicates(student_lines, "duplicate-student-no", lambda k: k[1]))
    if progress is not None and (count == 0 or count % PROGRESS_EVERY):
        progress(count)
    if errors:
        raise ImportFailed(errors)
    return RosterFile(rows=rows, warnings=warnings)


def _parse_eligible(
    raw: str,
    written: AbstractSet[str],
    specs: Mapping[str, SubjectSpec],
    subjects: AbstractSet[str],
) -> frozenset[str] | RowError:
    codes = {c.strip().upper() for c in raw.split(";")} - {""}
    for code in sorted(codes):
        if code in written:
            continue
        if code in specs and code in subjects:
            return RowError(0, "not-written-subject", code)
        return RowError(0, "unknown-subject", code)
    return frozenset(codes)


# -- scores CSV -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """A past CET result used by the CET-6 review (R14-R18)."""

    line: int
    ticket_no: str
    name: str
    id_number: str
    subject: str  # "CET4" or "CET6"
    score: int
    session: str  # "YYYY-MM" of the sitting


_SCORE_SUBJECTS = {"CET4": 4, "CET6": 6}
_SESSION_CODE = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_SCORE = re.compile(r"\d{1,3}")
_ID_FORM = re.compile(r"[A-Z0-9]{5,18}")
_GB11643_FORM = re.compile(r"[0-9]{17}[0-9X]")


def parse_scores(path: str | Path, *, warnings: list[str] | None = None) -> list[ScoreRow]:
    """Parses a CET score file (columns ``SCORE_COLUMNS``); raises ``ImportFailed`` (R41).

    Ticket numbers follow the layout in ``registration.identity``; the ticket's
    level must match ``subject`` and its year and half-year ``session``.
    ``encoding-gbk`` is appended to ``warnings`` (when given) for a GBK file.
    """
    errors: list[RowError] = []
    text = read_text_file(path, warnings)
    table = _Csv(text, SCORE_COLUMNS, errors)
    if not table.ok:
        raise ImportFailed(errors)
    i_ticket, i_name, i_number, i_subject, i_score, i_session = (
        table.index[c] for c in SCORE_COLUMNS
    )
    rows: list[ScoreRow] = []
    tickets: dict[str, list[int]] = {}
    results: dict[tuple[str, str, str], list[int]] = {}
    for line, rec in table.records(errors):
        row_ok = True

        ticket_no = normalize_ticket_no(rec[i_ticket])
        ticket = None
        try:
            ticket = parse_ticket_no(ticket_no)
        except InvalidTicketNumber as e:
            if e.reason == "empty":
                errors.append(RowError(line, "empty-field", "ticket_no"))
            else:
                errors.append(RowError(line, "bad-ticket", f"{e.reason}: {e.detail}"))
            row_ok = False
        else:
            tickets.setdefault(ticket_no, []).append(line)

        name = normalize_name(rec[i_name])
        if not name:
            errors.append(RowError(line, "empty-field", "name"))
            row_ok = False
        elif len(name) > _MAX_NAME or not name.isprintable():
            errors.append(RowError(line, "bad-name", name[:_MAX_NAME]))
            row_ok = False

        id_number = normalize_id_number(rec[i_number])
        if not id_number:
            errors.append(RowError(line, "empty-field", "id_number"))
            row_ok = False
        elif not _ID_FORM.fullmatch(id_number):
            errors.append(RowError(line, "bad-id-number", "need 5 to 18 letters and digits"))
            row_ok = False
        elif _GB11643_FORM.fullmatch(id_number) and (
            gb11643_check_digit(id_number[:17]) != id_number[17]
        ):
            # No ID type column here: any 18-character number of the GB 11643 form
            # (resident ID, HMT residence permit, new foreign permanent card) is checked.
            errors.append(RowError(line, "bad-check-digit", id_number))
            row_ok = False

        subject = rec[i_subject].strip().upper()
        level = _SCORE_SUBJECTS.get(subject)
        if level is None:
            errors.append(RowError(line, "unknown-subject", subject or "(empty)"))
            row_ok = False
        elif ticket is not None and ticket.level != level:
            errors.append(RowError(line, "ticket-subject-mismatch", f"{ticket_no} vs {subject}"))
            row_ok = False

        raw_score = rec[i_score].strip()
        score = int(raw_score) if _SCORE.fullmatch(raw_score) else -1
        if not 0 <= score <= MAX_SCORE:
            errors.append(RowError(line, "bad-score", f"{raw_score!r}: need 0..{MAX_SCORE}"))
            row_ok = False

        session = rec[i_session].strip()
        found = _SESSION_CODE.fullmatch(session)
        if not found:
            errors.append(RowError(line, "bad-session", f"{session!r}: need YYYY-MM"))
            row_ok = False
        elif ticket is not None:
            half = 1 if int(found.group(2)) <= 6 else 2
            if (ticket.year, ticket.half) != (int(found.group(1)), half):
                errors.append(RowError(line, "ticket-session-mismatch", f"{ticket_no} {session}"))
                row_ok = False
        if found and id_number and level is not None:
            results.setdefault((id_number, subject, session), []).append(line)

        if row_ok and not errors:
            rows.append(ScoreRow(line, ticket_no, name, id_number, subject, score, session))

    errors.extend(_duplicates(tickets, "duplicate-ticket", str))
    errors.extend(_duplicates(results, "duplicate-result", lambda k: f"{k[0]} {k[1]} {k[2]}"))
    if errors:
        raise ImportFailed(errors)
    return rows
