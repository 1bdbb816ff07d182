"""The `cetbot` command: database, administration, tickets and (later) the bot itself."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import typer
from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

from backoffice import authority
from backoffice.importing import (
    ImportFailed,
    parse_roster,
    parse_scores,
    parse_session_toml,
)
from cetbot.checklist import Command, Platform, preflight
from cetbot.shell import _locale, _run, _session_id, admin_app, console, fail, say
from cetbot.ticket_cli import ticket_app
from foundation import event_loop, heap
from foundation.i18n import t
from foundation.settings import Settings
from registration import errors, review
from storage import migrate
from storage.db import Database, UnitOfWork

T = TypeVar("T")


def _serve_loop(main: Coroutine[Any, Any, T]) -> T:
    """Runs a command's coroutine on the chosen event loop (foundation/event_loop.py);
    an unknown CETBOT_EVENT_LOOP refuses to start, naming the choices."""
    try:
        return event_loop.run(main, choice=ProcessSwitches().cetbot_event_loop)
    except event_loop.UnknownLoop as unknown:
        raise fail("cli-event-loop-unknown", code=2, name=unknown.name) from None


app = typer.Typer(no_args_is_help=True, add_completion=False)
db_app = typer.Typer(no_args_is_help=True)
capacity_app = typer.Typer(no_args_is_help=True)
app.add_typer(db_app, name="db", help="Database schema (Alembic).")
app.add_typer(admin_app, name="admin", help="The exam authority's operations.")
app.add_typer(ticket_app, name="ticket", help="Admission tickets.")
admin_app.add_typer(capacity_app, name="capacity", help="Seat capacities.")


def _report_import_errors(failed: ImportFailed) -> typer.Exit:
    loc = _locale()
    for e in failed.errors:
        key = f"import-reason-{e.reason}"
        reason = t(loc, key, e.args)
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
    _serve_loop(migrate.upgrade(settings.database_url, revision))
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
        session_id = await authority.load_session(uow, spec)
        await uow.commit()
        return session_id

    _run(settings, work)
    say("cli-session-loaded", code=spec.code, campuses=len(spec.campuses))


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
        return sid, await authority.session_campus_map(uow, sid), set(offered)

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
        counts = await authority.import_roster(uow, session_id, roster)
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
        counts = await authority.import_scores(uow, rows)
        await uow.commit()
        return counts

    new, updated = _run(settings, write)
    say("cli-scores-imported", new=new, updated=updated)


@admin_app.command("stats")
def stats(session: str | None = typer.Option(None, "--session")) -> None:
    """Records, registrations, entries and seats of a session."""
    settings = Settings()

    async def work(uow: UnitOfWork) -> authority.SessionStats:
        return await authority.stats(uow, await _session_id(uow, session))

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
        promoted = await authority.set_capacity(
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


@admin_app.command("assign-seats")
def assign_seats(session: str | None = typer.Option(None, "--session")) -> None:
    """Give paid entries whose print time has come a ticket number, room and seat (R38)."""
    from admission import tickets

    settings = Settings()
    clock = settings.clock()

    async def work(uow: UnitOfWork) -> tuple[str, int]:
        sid = await _session_id(uow, session)
        found = await uow.sessions.get(sid)
        count = await tickets.assign_seats(uow, clock, session_id=sid)
        await uow.commit()
        return (found.code if found else str(sid)), count

    code, count = _run(settings, work)
    say("cli-seats-assigned", code=code, count=count)


@admin_app.command("revoke-ticket")
def revoke_ticket(ticket_no: str, reason: str = typer.Option(..., "--reason")) -> None:
    """Revoke an admission ticket: no longer sent, and listed by export-revoked."""
    from admission import tickets

    settings = Settings()
    clock = settings.clock()

    async def work(uow: UnitOfWork) -> None:
        await tickets.revoke_ticket(uow, clock, ticket_no=ticket_no, reason=reason, actor="cli")
        await uow.commit()

    _run(settings, work)
    say("cli-ticket-revoked", ticket=ticket_no)


@admin_app.command("export-revoked")
def export_revoked(
    file: Path, session: str | None = typer.Option(None, "--session", help="only this session")
) -> None:
    """Write revoked ticket numbers to FILE, one a line, for `ticket verify --revoked`."""
    from admission import tickets

    settings = Settings()

    async def work(uow: UnitOfWork) -> list[str]:
        sid = await _session_id(uow, session) if session is not None else None
        return await tickets.revoked_ticket_numbers(uow, session_id=sid)

    numbers = _run(settings, work)
    # Written whole to a temporary name, then renamed: a checker never reads half a list.
    tmp = file.with_name(file.name + ".tmp")
    tmp.write_text("".join(f"{n}\n" for n in numbers), encoding="utf-8")
    tmp.replace(file)
    say("cli-revoked-exported", count=len(numbers), file=str(file))


@app.command("demo")
def demo(
    port: int = typer.Option(8080, "--port", help="port of the local Bot API emulator"),
    host: str = typer.Option("127.0.0.1", "--host"),
    no_worker: bool = typer.Option(
        False, "--no-worker", help="no background worker (also CETBOT_WORKER=0)"
    ),
    platform: str = typer.Option(
        "telegram", "--platform", help="telegram, or wechat (the emulator's official account)"
    ),
) -> None:
    """Seed the demo session, start the local emulator and the bot; open the printed page."""
    import logging

    from bot.app import PLATFORMS
    from bot.handlers import FRAMEWORKS
    from cetbot.demo import run_demo, run_wechat_demo

    platform = platform.strip().lower()
    if platform not in PLATFORMS:
        raise fail("run-unknown-platform", code=2, name=platform)
    settings = Settings()
    if platform == "telegram" and settings.bot_framework.strip().lower() not in FRAMEWORKS:
        raise fail("run-unknown-framework", code=2, name=settings.bot_framework)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    start = run_wechat_demo if platform == "wechat" else run_demo
    try:
        _serve_loop(
            start(
                settings,
                host=host,
                port=port,
                console=console,
                locale=_locale(),
                worker=ProcessSwitches().cetbot_worker and not no_worker,
            )
        )
    except KeyboardInterrupt:
        say("demo-stopping")
    except OSError as exc:
        if exc.errno in (98, 48):  # EADDRINUSE on Linux, macOS
            raise fail("demo-port-busy", code=2, port=str(port)) from None
        raise


@app.command("run")
def run(
    listen: str = typer.Option("0.0.0.0", "--listen", help="webhook mode: address to listen on"),
    port: int = typer.Option(8443, "--port", help="webhook mode: port to listen on"),
    processes: int = typer.Option(
        1, "--processes", help="webhook mode on PostgreSQL: N processes sharing the port"
    ),
    no_worker: bool = typer.Option(
        False, "--no-worker", help="no background worker here (also CETBOT_WORKER=0)"
    ),
    platform: str = typer.Option(
        "telegram",
        "--platform",
        help="telegram, or wechat (an official account's push URL on --listen/--port)",
    ),
) -> None:
    """Run the bot: long polling, or a webhook server when WEBHOOK_URL is set; with
    --platform wechat, the push URL of a WeChat Official Account."""
    import logging

    from bot.app import PLATFORMS, serve
    from bot.handlers import TokenRejected

    platform = platform.strip().lower()
    if platform not in PLATFORMS:
        raise fail("run-unknown-platform", code=2, name=platform)
    settings = Settings()
    _refuse_unless_ready(settings, "run", "wechat" if platform == "wechat" else "telegram")
    if platform == "wechat":
        switches = ProcessSwitches()
        worker = switches.cetbot_worker and not no_worker
        raise typer.Exit(_run_wechat(settings, listen, port, worker))
    framework = settings.bot_framework.strip().lower()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)  # one line per update otherwise
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if processes != 1:
        from cetbot.cluster import ClusterRefused, check_cluster

        try:
            check_cluster(
                processes,
                webhook=bool(settings.webhook_url),
                sqlite=settings.database_url.startswith("sqlite"),
            )
        except ClusterRefused as refused:
            raise fail(refused.key, code=2, processes=processes) from None
    if settings.webhook_url:
        say("run-webhook", framework=framework, url=settings.webhook_url, listen=f"{listen}:{port}")
    else:
        say("run-polling", framework=framework)
    switches = ProcessSwitches()
    if processes > 1:
        worker = switches.cetbot_worker and not no_worker
        raise typer.Exit(_run_cluster(settings, listen, port, processes, worker))
    try:
        _serve_loop(
            serve(
                settings,
                listen=listen,
                port=port,
                worker=switches.cetbot_worker and not no_worker,
                callback_port=switches.payment_callback_port,
                notice=lambda key, args: say(key, **args),
            )
        )
    except KeyboardInterrupt:
        pass
    except TokenRejected:
        raise fail("run-token-rejected", code=2) from None
    except OSError as exc:
        if exc.errno in (98, 48):  # EADDRINUSE on Linux, macOS: the callback port
            raise fail("run-port-busy", code=2, detail=str(exc)) from None
        raise
    say("run-stopped")


def _run_wechat(settings: Settings, listen: str, port: int, worker: bool) -> int:
    """`run --platform wechat`: one process serving the account's push URL, with the
    background worker sending the WeChat outbox rows (custom or template messages)."""
    import logging
    from urllib.parse import urlsplit

    from bot.app import WECHAT_PATH, serve
    from bot.handlers import PlatformUnreachable, TokenRejected

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    path = urlsplit(settings.wechat_url or "").path or WECHAT_PATH
    say("run-wechat", app_id=settings.wechat_app_id or "", listen=f"{listen}:{port}", path=path)
    try:
        _serve_loop(
            serve(
                settings,
                listen=listen,
                port=port,
                worker=worker,
                callback_port=ProcessSwitches().payment_callback_port,
                notice=lambda key, args: say(key, **args),
                platform="wechat",
            )
        )
    except KeyboardInterrupt:
        pass
    except TokenRejected:
        raise fail("run-wechat-rejected", code=2) from None
    except PlatformUnreachable as lost:
        raise fail("run-wechat-unreachable", code=2, detail=str(lost)) from None
    except OSError as exc:
        if exc.errno in (98, 48):
            raise fail("run-port-busy", code=2, detail=str(exc)) from None
        raise
    say("run-stopped")
    return 0


def _refuse_unless_ready(
    settings: Settings, command: Command, platform: Platform = "telegram"
) -> None:
    """The start-up checklist (cetbot/checklist.py): every problem said, then exit 2."""
    problems = preflight(settings, command, platform)
    if not problems:
        return
    for problem in problems[:-1]:
        console.print(f"[red]{t(_locale(), problem.key, problem.args)}[/red]", highlight=False)
    last = problems[-1]
    raise fail(last.key, code=2, **last.args)


def _run_cluster(settings: Settings, listen: str, port: int, processes: int, worker: bool) -> int:
    """`run --processes N`: N forked webhook processes on one port (cetbot/cluster.py)."""
    from bot.app import serve
    from bot.handlers import TokenRejected
    from cetbot.cluster import Supervisor

    def child(index: int) -> int:
        # One embedded worker for the cluster: each worker paces its own sends at
        # Telegram's 30/s, so N of them would send N times too fast.
        try:
            _serve_loop(serve(settings, listen=listen, port=port, worker=worker and index == 0))
        except KeyboardInterrupt:
            return 0
        except TokenRejected:
            say("run-token-rejected")
            return 2
        return 0

    say("cluster-started", processes=processes, listen=f"{listen}:{port}")
    code = Supervisor(processes, child).run()
    say("run-stopped")
    return code


# --- Background worker and the sandbox payment server (R26-R33, R37) ---------------------


class ProcessSwitches(BaseSettings):
    """What one `cetbot run` / `cetbot demo` process runs besides the bot, and the event loop
    of every command, read like Settings (environment and .env). Kept apart from Settings:
    only the commands use them."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    # CETBOT_WORKER=0: no background worker in this process (run `cetbot worker` instead).
    cetbot_worker: bool = True
    # CETBOT_EVENT_LOOP: uvloop (blank: the default) or asyncio (foundation/event_loop.py).
    cetbot_event_loop: str = ""
    # PAYMENT_CALLBACK_PORT: the gateway callback's own port; unset: 8081 when polling,
    # none in webhook mode (the webhook server has the route); 0: none.
    payment_callback_port: int | None = None

    @field_validator("payment_callback_port", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `PAYMENT_CALLBACK_PORT=` (as copied from .env.example) means "not set".
        return None if isinstance(value, str) and not value.strip() else value


@app.command("worker")
def worker(
    once: bool = typer.Option(False, "--once", help="run every job once, send what is due, exit"),
    callback_port: int = typer.Option(
        0, "--callback-port", help="also serve POST /payments/callback on this port (0: off)"
    ),
) -> None:
    """Run background work only: expiry, reminders, waitlists, outbox."""
    import contextlib
    import logging
    import signal

    from bot.worker_runtime import WorkerAlreadyRunning, runtime_from_settings, single_sqlite_worker
    from registration.payments import gateway_from_settings
    from storage.db import is_sqlite_url

    settings = Settings()
    _refuse_unless_ready(settings, "worker")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # PTB: one line per message otherwise
    clock = settings.clock()

    async def go() -> None:
        from aiohttp import web

        from payment_web.callback_app import create_callback_app

        db = Database(settings.database_url)
        gateway = gateway_from_settings(settings)
        performer = _worker_performer(settings)
        runner = None
        try:
            # Telegram's rows: a WeChat row goes through `run --platform wechat`'s worker.
            runtime = runtime_from_settings(settings, db, clock, performer, "telegram")
            if not once:
                # The pool, its statements and the texts ready before the first callback.
                await runtime.warm_up()
            if callback_port:
                runner = web.AppRunner(create_callback_app(db, clock, gateway), access_log=None)
                await runner.setup()
                # Loopback unless PAYMENT_CALLBACK_HOST says otherwise (docs/security.md).
                await web.TCPSite(runner, settings.payment_callback_host, callback_port).start()
            if once:
                report = await runtime.tick()
                assert runtime.dispatcher is not None
                sent = await runtime.dispatcher.drain()
                console.print({**report, "sent": sent.sent}, highlight=False)
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            heap.settle()  # started: see foundation/heap.py
            await runtime.run(stop)
        finally:
            if runner is not None:
                await runner.cleanup()
            close = getattr(performer, "close", None)
            if close is not None:
                await close()
            await db.dispose()

    if is_sqlite_url(settings.database_url):
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(single_sqlite_worker(settings.database_url))
            except WorkerAlreadyRunning as exc:
                # `cetbot run` (or another `cetbot worker`) already works this database.
                raise fail("cli-worker-already-running", detail=str(exc)) from None
            say("cli-worker-sqlite-single")
            _serve_loop(go())
    else:
        say("cli-worker-started")
        _serve_loop(go())


def _worker_performer(settings: Settings) -> Any:
    """The configured adapter's Performer (BOT_FRAMEWORK), with its retries; the worker
    itself knows no Telegram."""
    from bot.handlers import TokenRejected, UnknownFramework, load_adapter

    try:
        return load_adapter(settings.bot_framework).performer_from_settings(settings)
    except UnknownFramework:
        raise fail("run-unknown-framework", code=2, name=settings.bot_framework) from None
    except TokenRejected:
        raise fail("run-no-token", code=2) from None
    except ImportError:
        raise fail("cli-worker-no-adapter") from None


@app.command("paysandbox")
def paysandbox(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8090, "--port"),
    callback_url: str = typer.Option(
        "http://127.0.0.1:8081/payments/callback", "--callback-url", help="the bot's endpoint"
    ),
) -> None:
    """Run the sandbox payment server (payment page, signed callbacks, queries)."""
    from payment_web.sandbox_server import start_sandbox

    settings = Settings()
    # The sandbox signs with the bot's PAYMENT_SECRET: a public one would let anyone pay.
    _refuse_unless_ready(settings, "paysandbox")
    assert settings.payment_secret is not None

    async def go() -> None:
        assert settings.payment_secret is not None
        running = await start_sandbox(
            host,
            port,
            secret=settings.payment_secret.get_secret_value(),
            callback_url=callback_url,
            clock=settings.clock(),
        )
        say("cli-paysandbox-running", url=running.url, callback=callback_url)
        try:
            await asyncio.Event().wait()
        finally:
            await running.stop()

    try:
        _serve_loop(go())
    except KeyboardInterrupt:
        pass


# Commands defined in their own modules add themselves to the groups above: imported
# after this module's own (the order of `cetbot admin --help`) and before main(), so that
# `python -m cetbot.cli admin add-admin` finds them too.
from cetbot import admin_cli  # noqa: E402, F401


def main() -> None:
    app()


if __name__ == "__main__":
    main()
