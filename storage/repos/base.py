"""Shared plumbing of the repositories."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import ColumnElement, Row, Table, literal_column
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from storage.repos.audit import AuditSink

D = TypeVar("D")

_FIELDS: dict[type, tuple[str, ...]] = {}


# (DTO class, the row's column names) -> (field, column position) pairs. A statement's
# rows all share their names, so the look-up by name happens once per statement shape,
# not for every field of every row (~7% of a chat update in a py-spy profile).
_PLANS: dict[tuple[type, tuple[str, ...]], tuple[tuple[str, int], ...]] = {}


def to_dto(cls: type[D], row: Row[Any] | Any, **extra: Any) -> D:
    """Builds a frozen DTO from the columns of `row` that the DTO names."""
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
    keys = getattr(row, "_fields", None)
    if keys is None:  # a bare mapping holder, not a Row
        mapping = row._mapping
        values = {n: mapping[n] for n in names if n in mapping}
    else:
        plan = _PLANS.get((cls, keys))
        if plan is None:
            first: dict[str, int] = {}
            for i, key in enumerate(keys):
                first.setdefault(key, i)
            plan = _PLANS[(cls, keys)] = tuple((n, first[n]) for n in names if n in first)
        values = {n: row[i] for n, i in plan}
    values.update(extra)
    return cls(**values)


class Repository:
    def __init__(self, conn: AsyncConnection, audit: AuditSink | None = None) -> None:
        self.conn = conn
        # Where the repositories that change audited rows report each change (None: a
        # repository used on its own, outside a unit of work, records nothing).
        self.audit_sink = audit

    async def _audited(
        self,
        action: str,
        object_type: str,
        object_ids: Any,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        """Reports one change of the rows `object_ids` (one id, or several) to the sink."""
        if self.audit_sink is None:
            return
        ids = object_ids if isinstance(object_ids, list | tuple) else (object_ids,)
        await self.audit_sink.record_many(action, object_type, ids, before, after)

    @property
    def dialect(self) -> str:
        return self.conn.dialect.name


def table(model: type[Any]) -> Table:
    """The Core table of a declarative model, typed as a Table for the checker."""
    return cast(Table, model.__table__)


def insert_or_skip(
    target: Table, values: dict[str, Any], returning: Any, **conflict: Any
) -> dict[str, Any]:
    """`INSERT ... ON CONFLICT DO NOTHING RETURNING` built once per database, keyed by the
    dialect name (both say it; SQLAlchemy has a construct per dialect). `conflict` names
    the index when it matters (index_elements, index_where)."""
    return {
        name: make(target).values(values).on_conflict_do_nothing(**conflict).returning(*returning)
        for name, make in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
    }


def status_is(column: Any, value: str) -> ColumnElement[bool]:
    """`column = 'value'` with the value written into the SQL instead of bound.

    The indexes on registrations, entries and waitlists are partial (`WHERE status =
    'active'`, ...). SQLite uses a partial index only when the statement itself implies
    its condition, and so does a PostgreSQL generic plan of a prepared statement: with a
    bound status both scan the whole table (seen: every chat update scanned
    registrations). Values are fixed words of the code, never user input."""
    if not value.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"not a status word: {value!r}")
    return cast(ColumnElement[bool], column == literal_column(f"'{value}'"))
