"""Operator commands for administrators, the audit trail, the exam office export and news."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from backoffice import administration
from cetbot.shell import _locale, _run, _session_id, admin_app, console, say
from foundation.i18n import t
from foundation.settings import Settings
from storage.db import UnitOfWork

export_app = typer.Typer(no_args_is_help=True)
news_app = typer.Typer(no_args_is_help=True)
admin_app.add_typer(export_app, name="export", help="Exports for the exam office.")
admin_app.add_typer(news_app, name="news", help="Latest news shown in the chat (R40).")


@admin_app.command("add-admin")
def add_admin(
    user_id: int,
    school: str = typer.Option("", "--school", help="empty: the exam authority (all schools)"),
    platform: str = typer.Option("telegram", "--platform"),
) -> None:
    """Make a chat user a school administrator (or the authority without --school)."""
    settings = Settings()
    clock = settings.clock()

    async def work(uow: UnitOfWork) -> None:
        await administration.add_admin(
            uow, clock, platform=platform, user_id=user_id, school=school or None
        )
        await uow.commit()

    _run(settings, work)
    say("cli-admin-added", user=str(user_id), school=school or "*")


@admin_app.command("audit")
def audit(entry_id: int) -> None:
    """Every recorded change of an entry: who, when, before and after."""
    settings = Settings()

    async def work(uow: UnitOfWork) -> list[Any]:
        return await administration.audit_trail(uow, entry_id=entry_id)

    trail = _run(settings, work)
    if not trail:
        say("cli-audit-empty", id=entry_id)
        return
    loc = _locale()
    table = Table()
    for key in ("at", "actor", "action", "change"):
        table.add_column(t(loc, f"cli-col-{key}"))
    for a in trail:
        before, after = a.before or {}, a.after or {}
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        change = ", ".join(f"{k}: {before.get(k)} -> {after.get(k)}" for k in changed)
        table.add_row(a.at.isoformat(timespec="seconds"), a.actor, a.action, change)
    console.print(table)


@export_app.command("entries")
def export_entries(
    session: str = typer.Option(..., "--session"),
    output: Path | None = typer.Option(None, "--output", "-o", help="default: standard output"),
) -> None:
    """The active entries of a session as CSV (UTF-8 with BOM, for spreadsheets)."""
    settings = Settings()

    async def work(uow: UnitOfWork) -> list[administration.ExportRow]:
        return await administration.export_entries(uow, session_id=await _session_id(uow, session))

    rows = _run(settings, work)
    out = output.open("w", encoding="utf-8-sig", newline="") if output else sys.stdout
    try:
        writer = csv.writer(out)
        writer.writerow(administration.EXPORT_COLUMNS)
        for r in rows:
            writer.writerow([getattr(r, c) for c in administration.EXPORT_COLUMNS])
    finally:
        if output:
            out.close()
    if output:
        say("cli-exported", count=len(rows), file=str(output))


@news_app.command("add")
def news_add(
    title_zh: str = typer.Option(..., "--title-zh"),
    title_en: str = typer.Option(..., "--title-en"),
    body_zh: str = typer.Option(..., "--body-zh"),
    body_en: str = typer.Option(..., "--body-en"),
    session: str | None = typer.Option(None, "--session"),
) -> None:
    """Publish a news item (both languages) now."""
    settings = Settings()
    clock = settings.clock()

    async def work(uow: UnitOfWork) -> int:
        sid = await _session_id(uow, session) if session else None
        item = await administration.add_news(
            uow,
            clock,
            session_id=sid,
            title_zh=title_zh,
            title_en=title_en,
            body_zh=body_zh,
            body_en=body_en,
        )
        await uow.commit()
        return item.id

    news_id = _run(settings, work)
    say("cli-news-added", id=news_id)
