"""The audit sink: who changed an entry, review, waitlist, payment or eligibility, and how.

The repositories that change those rows hand each change to the unit of work's sink,
which writes it in the same transaction (so a rolled-back change leaves no trail, and
a committed one always has one). A change costs one INSERT and never a SELECT: the
repositories build `before` from what their statement's WHERE clause already knows
(e.g. an entry is marked paid only `WHERE status = 'unpaid'`) or what it returns.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import direct
from storage.models import AuditRecord

# Not `base.table`: base imports this module for its type, and the two must not circle.
AU = cast(Table, AuditRecord.__table__)
_INSERT = insert(AU)
_COLUMNS = ("at", "actor", "action", "object_type", "object_id", "before", "after")
# One row, built once: sent straight to asyncpg on PostgreSQL (storage/direct.py).
_INSERT_ONE = insert(AU).values({c: bindparam(c) for c in _COLUMNS})

# Personal data kept small: an 18-character mainland ID number never reaches the log,
# even inside free text such as an administrator's note (first 6 and last 4 kept).
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")

Values = Mapping[str, Any]


def mask_id_numbers(text: str) -> str:
    """`text` with every ID-number-shaped run masked (``110108********0231``)."""
    return _ID_NUMBER.sub(lambda m: m.group(1) + "*" * 8 + m.group(2), text)


def _plain(values: Values | None) -> dict[str, Any] | None:
    """JSON-ready values: instants as ISO text, strings scrubbed of ID numbers."""
    if values is None:
        return None
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, str):
            value = mask_id_numbers(value)
        out[key] = value
    return out


class AuditSink:
    """Writes audit rows on the unit of work's connection.

    `actor` is asked at each write (the chat may learn the candidate's account only
    during the event); `now` is the unit of work's clock, or wall time without one.
    """

    def __init__(
        self,
        conn: AsyncConnection,
        actor: Callable[[], Awaitable[str]],
        now: Callable[[], datetime],
    ) -> None:
        self.conn = conn
        self._actor = actor
        self._now = now

    async def record_many(
        self,
        action: str,
        object_type: str,
        object_ids: Iterable[object],
        before: Values | None,
        after: Values | None,
    ) -> None:
        """The same change of several rows (one statement updated them all): a row each."""
        ids = [str(i) for i in object_ids]
        if not ids:
            return
        common = await self.fields(action, object_type, before, after)
        if len(ids) == 1:
            await direct.rowcount(self.conn, _INSERT_ONE, {**common, "object_id": ids[0]})
            return
        await self.conn.execute(_INSERT, [{**common, "object_id": i} for i in ids])

    async def fields(
        self, action: str, object_type: str, before: Values | None, after: Values | None
    ) -> dict[str, Any]:
        """The columns of an audit row but its object_id, as `record_many` writes them.

        For a statement that writes the audit row itself, next to the change (see
        EntryRepository.create_with_seat on PostgreSQL).
        """
        return {
            "at": self._now(),
            "actor": (await self._actor())[:64],
            "action": action,
            "object_type": object_type,
            "before": _plain(before),
            "after": _plain(after),
        }

    async def correct_after(self, audit_id: int, after: Values) -> None:
        """Rewrites `after` of the audit row `audit_id` (written by such a statement)."""
        await self.conn.execute(update(AU).where(AU.c.id == audit_id).values(after=_plain(after)))

    async def record_read(
        self,
        action: str,
        object_type: str,
        object_id: object,
        source: Table,
        where: ColumnElement[bool],
        after: Values,
    ) -> None:
        """A change about to be made to the row of `source` matching `where`: `before`
        (the row's current values of the columns in `after`) is read by the INSERT itself,
        so it costs no round trip of its own. Call it right before the UPDATE.

        The values come as the database renders them in JSON (an instant is ISO text on
        PostgreSQL, SQLite's stored text on SQLite); the callers change ids and codes.
        """
        pairs: list[Any] = []
        for name in after:
            pairs += [literal(name), source.c[name]]
        postgres = self.conn.dialect.name == "postgresql"
        before = (func.json_build_object if postgres else func.json_object)(*pairs)
        read = select(
            literal(self._now(), AU.c.at.type),
            literal((await self._actor())[:64]),
            literal(action),
            literal(object_type),
            literal(str(object_id)),
            before,
            literal(_plain(after), AU.c.after.type),
        ).where(where)
        if postgres:
            # The newest committed row, locked: the UPDATE that follows changes this one.
            read = read.with_for_update(of=source)
        columns = ["at", "actor", "action", "object_type", "object_id", "before", "after"]
        await self.conn.execute(insert(AU).from_select(columns, read))


def without(values: Mapping[Any, Any], *names: str) -> dict[str, Any]:
    """`values` less some keys (the row's own id, a long payment link)."""
    return {k: v for k, v in values.items() if k not in names}
