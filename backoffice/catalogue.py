"""The subject catalogue (R1), read from TOML data: what each written and oral subject is."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "CatalogueError",
    "SubjectKind",
    "SubjectSpec",
    "load_catalogue",
    "load_default_catalogue",
    "parse_catalogue",
]

_LEVELS = (4, 6)
_FIELDS = {"code", "name_zh", "name_en", "level", "kind", "language", "requires"}


class SubjectKind(StrEnum):
    WRITTEN = "written"
    ORAL = "oral"


@dataclass(frozen=True, slots=True)
class SubjectSpec:
    """One subject of the catalogue; ``requires`` is the written code an oral subject hangs off."""

    code: str
    name_zh: str
    name_en: str
    level: int
    kind: SubjectKind
    language: str
    requires: str | None = None

    @property
    def is_written(self) -> bool:
        return self.kind is SubjectKind.WRITTEN


class CatalogueError(ValueError):
    """A catalogue file that does not describe a usable set of subjects."""


def _subject(i: int, raw: Any) -> SubjectSpec:
    where = f"subjects[{i}]"
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: not a table")
    unknown = set(raw) - _FIELDS
    if unknown:
        raise CatalogueError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("code", "name_zh", "name_en", "kind", "language"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise CatalogueError(f"{where}.{key}: need a non-empty string")
    level = raw.get("level")
    if type(level) is not int or level not in _LEVELS:
        raise CatalogueError(f"{where}.level: need 4 or 6")
    try:
        kind = SubjectKind(raw["kind"])
    except ValueError:
        raise CatalogueError(f"{where}.kind: need written or oral") from None
    requires = raw.get("requires")
    if kind is SubjectKind.ORAL and not isinstance(requires, str):
        raise CatalogueError(f"{where}.requires: an oral subject names its written subject")
    if kind is SubjectKind.WRITTEN and requires is not None:
        raise CatalogueError(f"{where}.requires: only oral subjects require another")
    return SubjectSpec(
        code=raw["code"],
        name_zh=raw["name_zh"],
        name_en=raw["name_en"],
        level=level,
        kind=kind,
        language=raw["language"],
        requires=requires,
    )


def parse_catalogue(text: str) -> list[SubjectSpec]:
    """Subjects from catalogue TOML text; raises ``CatalogueError`` on anything inconsistent."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CatalogueError(f"not TOML: {e}") from None
    raw_subjects = data.get("subjects")
    if not isinstance(raw_subjects, list) or not raw_subjects:
        raise CatalogueError("need at least one [[subjects]] table")
    subjects = [_subject(i, raw) for i, raw in enumerate(raw_subjects)]
    by_code: dict[str, SubjectSpec] = {}
    for s in subjects:
        if s.code in by_code:
            raise CatalogueError(f"duplicate subject code {s.code}")
        by_code[s.code] = s
    for s in subjects:
        if s.requires is None:
            continue
        written = by_code.get(s.requires)
        # R21: an oral subject hangs off a written subject of its own language and level.
        if (
            written is None
            or not written.is_written
            or (written.language, written.level) != (s.language, s.level)
        ):
            raise CatalogueError(
                f"{s.code} requires {s.requires}, which is not a written subject "
                "of the same language and level"
            )
    return subjects


def load_catalogue(path: str | Path) -> list[SubjectSpec]:
    """Subjects from a catalogue TOML file (UTF-8)."""
    return parse_catalogue(Path(path).read_text(encoding="utf-8-sig"))


@cache
def _default() -> tuple[SubjectSpec, ...]:
    text = resources.files(__package__).joinpath("catalogue.toml").read_text(encoding="utf-8")
    return tuple(parse_catalogue(text))


def load_default_catalogue() -> list[SubjectSpec]:
    """The catalogue shipped with the package (``backoffice/catalogue.toml``)."""
    return list(_default())
