"""Applies and reverts the Alembic migrations programmatically (`cetbot db upgrade`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def revisions(url: str = "sqlite://") -> list[str]:
    """Revision ids from the first to the head."""
    script = ScriptDirectory.from_config(alembic_config(url))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


async def _apply(url: str, fn: str, target: str) -> None:
    # Parameters stay out of error messages, as on every engine (storage.db.HIDE_PARAMETERS).
    engine = create_async_engine(url, hide_parameters=True)
    try:
        async with engine.begin() as conn:

            def go(sync_conn: object) -> None:
                cfg = alembic_config(url)
                cfg.attributes["connection"] = sync_conn
                getattr(command, fn)(cfg, target)

            await conn.run_sync(go)
    finally:
        await engine.dispose()


async def upgrade(url: str, target: str = "head") -> None:
    await _apply(url, "upgrade", target)


async def downgrade(url: str, target: str) -> None:
    await _apply(url, "downgrade", target)


def upgrade_sync(url: str, target: str = "head") -> None:
    asyncio.run(upgrade(url, target))
