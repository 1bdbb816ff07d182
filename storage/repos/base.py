"""Shared plumbing of the repositories."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar, cast

from sqlalchemy import Row, Table
from sqlalchemy.ext.asyncio import AsyncConnection

D = TypeVar("D")

_FIELDS: dict[type, tuple[str, ...]] = {}


def to_dto(cls: type[D], row: Row[Any] | Any, **extra: Any) -> D:
    """Builds a frozen DTO from the columns of `row` that the DTO names."""
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
    mapping = row._mapping
    values = {n: mapping[n] for n in names if n in mapping}
    values.update(extra)
    return cls(**values)


class Repository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    @property
    def dialect(self) -> str:
        return self.conn.dialect.name


def table(model: type[Any]) -> Table:
    """The Core table of a declarative model, typed as a Table for the checker."""
    return cast(Table, model.__table__)
