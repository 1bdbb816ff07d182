"""The `cetbot` command: database, administration, tickets and (later) the bot itself."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from cetbot.i18n import pick_locale, t
from cetbot.settings import Settings
from cetbot.ticket_cli import ticket_app
from registration import admin, errors, review
from registration.importing import (
    ImportFailed,
    parse_roster,
    parse_scores,
    parse_session_toml,
)
from storage import migrate
from storage.db import Database, UnitOfWork

T = TypeVar("T")

app = typer.Typer(no_args_is_help=True, add_completion=False)
db_app = typer.Typer(no_args_is_help=True)
admin_app = typer.Typer(no_args_is_help=True)
capacity_app = typer.Typer(no_args_is_help=True)
app.add_typer(db_app, name="db", help="Database schema (Alembic).")
app.add_typer(admin_app, name="admin", help="The exam authority's operations.")
app.add_typer(ticket_app, name="ticket", help="Admission tickets.")
admin_app.add_typer(capacity_app, name="capacity", help="Seat capacities.")

console = Console()


def _locale() -> str:
    # Operators read messages in their shell's language (LANG=zh_CN.UTF-8 -> zh).
    return pick_locale(os.environ.get("CETBOT_LANG") or os.environ.get("LANG"))


def say(key: str, **args: Any) -> None:
    console.print(t(_locale(), key, args), highlight=False)


def fail(key: str, code: int = 1, **args: Any) -> typer.Exit:
    console.print(f"[red]{t(_locale(), key, args)}[/red]", highlight=False)
    return typer.Exit(code)


def _run(settings: Settings, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    async def go() -> T:
        db = Database(settings.database_url)
        try:
            async with db.uow() as uow:
                return await work(uow)
        finally:
            await db.dispose()

    try:
        return asyncio.run(go())
    except errors.DomainError as refused:
        raise fail(f"error-{refused.code}", **_printable(refused.params)) from None


def _printable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, int | str) else str(v)) for k, v in params.items()}


def _report_import_errors(failed: ImportFailed) -> typer.Exit:
    loc = _locale()
    for e in failed.errors:
        key = f"import-reason-{e.reason}"
        reason = t(loc, key)
        if reason == key:
            reason = e.reason
        detail = f" ({e.detail})" if e.detail else ""
        console.print(
            t(loc, "cli-import-error-line", {"line": e.line, "reason": reason}) + detail,
            highlight=False,
            markup=False,
        )
    return fail("cli-import-refused", count=len(failed.errors))


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: head)."""
    settings = Settings()
    asyncio.run(migrate.upgrade(settings.database_url, revision))
    say("cli-db-upgraded", revision=revision)


@admin_app.command("load-session")
def load_session(file: Path) -> None:
    """Create or update a session from FILE.toml: windows, campuses, capacities, fees."""
    settings = Settings()
    try:
        spec = parse_session_toml(file)
    except ImportFailed as failed:
        raise _report_import_errors(failed) from None

    async def work(uow: UnitOfWork) -> int:
        session_id = await admin.load_session(uow, spec)
        await uow.commit()
        return session_id

    _run(settings, work)
    say("cli-session-loaded", code=spec.code, campuses=len(spec.campuses))


async def _session_id(uow: UnitOfWork, code: str | None) -> int:
    if code is None:
        sessions = await uow.sessions.all()
        if not sessions:
            raise errors.NotFound(what="session")
        return sessions[0].id
    session = await uow.sessions.by_code(code)
    if session is None:
        raise errors.NotFound(what=f"session {code}")
    return session.id


@admin_app.command("import-roster")
def import_roster(
    file: Path, session: str = typer.Option(..., "--session", help="session code")
) -> None:
    """Import a school roster (all or nothing; every bad row reported with its line)."""
    settings = Settings()
    clock = settings.clock()

    async def campuses(uow: UnitOfWork) -> tuple[int, dict[str, str], set[str]]:
        sid = await _session_id(uow, session)
        offered = await uow.sessions.offered(sid)
        return sid, await admin.session_campus_map(uow, sid), set(offered)

    session_id, campus_map, subjects = _run(settings, campuses)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed} rows"),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(t(_locale(), "cli-reading"), total=None)
        try:
            roster = parse_roster(
                file,
                campus_map,
                subjects,
                clock.now().date(),
                progress=lambda n: progress.update(task, completed=n),
            )
        except ImportFailed as failed:
            raise _report_import_errors(failed) from None
    for warning in roster.warnings:
        say(f"cli-warning-{warning}")

    async def write(uow: UnitOfWork) -> tuple[int, int]:
        counts = await admin.import_roster(uow, session_id, roster)
        await uow.commit()
        return counts

    new, updated = _run(settings, write)
    say("cli-roster-imported", new=new, updated=updated)


@admin_app.command("import-scores")
def import_scores(file: Path) -> None:
    """Import past CET results used by the CET-6 review (all or nothing)."""
    settings = Settings()
    warnings: list[str] = []
    try:
        rows = parse_scores(file, warnings=warnings)
    except ImportFailed as failed:
        raise _report_import_errors(failed) from None
    for warning in warnings:
        say(f"cli-warning-{warning}")

    async def write(uow: UnitOfWork) -> tuple[int, int]:
        counts = await admin.import_scores(uow, rows)
        await uow.commit()
        return counts

    new, updated = _run(settings, write)
    say("cli-scores-imported", new=new, updated=updated)


@admin_app.command("stats")
def stats(session: str | None = typer.Option(None, "--session")) -> None:
    """Records, registrations, entries and seats of a session."""
    settings = Settings()

    async def work(uow: UnitOfWork) -> admin.SessionStats:
        return await admin.stats(uow, await _session_id(uow, session))

    figures = _run(settings, work)
    loc = _locale()
    say(
        "cli-stats-head",
        code=figures.code,
        records=figures.records,
        registrations=figures.registrations,
        paid=figures.entries_by_status.get("paid", 0),
        unpaid=figures.entries_by_status.get("unpaid", 0),
        expired=figures.entries_by_status.get("expired", 0),
        cancelled=figures.entries_by_status.get("cancelled", 0),
    )
    table = Table()
    for key in ("campus", "subject", "capacity", "taken", "paid", "unpaid", "free", "waiting"):
        table.add_column(
            t(loc, f"cli-col-{key}"), justify="left" if key in ("campus", "subject") else "right"
        )
    for line in figures.seats:
        table.add_row(
            line.campus_code,
            line.subject_code,
            str(line.capacity),
            str(line.taken),
            str(line.paid),
            str(line.unpaid),
            str(line.capacity - line.taken),
            str(line.waiting),
        )
    console.print(table)


@admin_app.command("reviews")
def reviews(
    school: str | None = typer.Option(None, "--school"),
    session: str | None = typer.Option(None, "--session"),
) -> None:
    """The 'not reviewed' CET-6 requests (R42), of one school if given."""
    settings = Settings()

    async def work(uow: UnitOfWork) -> list[tuple[Any, Any]]:
        sid = await _session_id(uow, session)
        out = []
        for r in await review.pending_reviews(uow, session_id=sid, school=school):
            out.append((r, await uow.records.get(r.record_id)))
        return out

    rows = _run(settings, work)
    loc = _locale()
    table = Table()
    for key in ("id", "name", "school", "ticket", "requested"):
        table.add_column(t(loc, f"cli-col-{key}"))
    for r, rec in rows:
        table.add_row(str(r.id), rec.name, rec.school, r.ticket_no, r.created_at.isoformat())
    console.print(table)


def _decide(review_id: int, approve: bool, note: str) -> None:
    settings = Settings()
    clock = settings.clock()

    async def work(uow: UnitOfWork) -> None:
        await review.decide_review(
            uow, clock, review_id=review_id, approve=approve, note=note, decided_by="cli"
        )
        await uow.commit()

    _run(settings, work)
    say("cli-review-approved" if approve else "cli-review-rejected", id=review_id)


@admin_app.command("approve")
def approve(review_id: int, note: str = typer.Option("", "--note")) -> None:
    """Approve a 'not reviewed' CET-6 request (R19)."""
    _decide(review_id, True, note)


@admin_app.command("reject")
def reject(review_id: int, note: str = typer.Option(..., "--note")) -> None:
    """Reject a 'not reviewed' CET-6 request with a note (R19)."""
    _decide(review_id, False, note)


@capacity_app.command("set")
def capacity_set(
    campus: str, subject: str, capacity: int, session: str | None = typer.Option(None, "--session")
) -> None:
    """Set the seats of (CAMPUS, SUBJECT); raising it promotes waiters (R37)."""
    settings = Settings()
    clock = settings.clock()

    async def work(uow: UnitOfWork) -> int:
        sid = await _session_id(uow, session)
        found = await uow.sessions.campus_by_code(sid, campus)
        if found is None:
            raise errors.UnknownCampus(campus=campus)
        promoted = await admin.set_capacity(
            uow, clock, campus_id=found.id, subject_code=subject, capacity=capacity
        )
        await uow.commit()
        return len(promoted)

    promoted = _run(settings, work)
    say("cli-capacity-set", campus=campus, subject=subject, capacity=capacity, promoted=promoted)


@admin_app.command("expire")
def expire() -> None:
    """Run the 24-hour expiry sweep once (R31); the worker does this continuously."""
    from registration import expiry

    settings = Settings()
    clock = settings.clock()

    async def work(uow: UnitOfWork) -> Any:
        result = await expiry.expire_due(uow, clock, limit=10_000)
        await uow.commit()
        return result

    result = _run(settings, work)
    say(
        "cli-expired",
        entries=len(result.expired),
        promoted=len(result.promotions),
        registrations=len(result.deleted_registrations),
    )


@app.command("demo")
def demo() -> None:
    """Prepare the demo: migrate, load the example session, roster and scores, show stats."""
    examples = Path(__file__).resolve().parent.parent / "examples"
    db_upgrade("head")
    load_session(examples / "session-2026-12.toml")
    import_roster(examples / "roster.csv", session="2026-12")
    import_scores(examples / "scores.csv")
    stats(session="2026-12")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
