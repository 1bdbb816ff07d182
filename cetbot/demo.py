"""`cetbot demo`: the example session, the local Bot API emulator and the bot, in one process."""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

from backoffice import authority
from backoffice.importing import parse_roster, parse_scores, parse_session_toml
from cetbot.checklist import make_secret, secret_problem
from foundation.clock import Clock, RunningClock
from foundation.i18n import t
from foundation.settings import Settings
from outgoing.mailer import MailboxMailer
from storage import migrate
from storage.db import Database, sqlite_file, url_without_password

if TYPE_CHECKING:
    from bot.app import BotApp

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SESSION_FILE = EXAMPLES / "session-2026-12.toml"
ROSTER_FILE = EXAMPLES / "roster.csv"
SCORES_FILE = EXAMPLES / "scores.csv"
# examples/README.md: the demo's "today", inside the December 2026 registration window.
DEMO_NOW = datetime.fromisoformat("2026-11-25T10:00:00+08:00")
# The emulator accepts any token; this one is local and never leaves the machine.
DEMO_TOKEN = "123456:cetbot-demo-local-token"

# Roster line (header = line 1) -> what that candidate exercises (examples/README.md).
CANDIDATE_NOTES: tuple[tuple[int, str, dict[str, str]], ...] = (
    (2, "demo-try-plain", {}),
    (3, "demo-try-cet6-eligible", {}),
    (10, "demo-try-x-digit", {}),
    (12, "demo-try-middle-dot", {}),
    (14, "demo-try-cjt4-only", {}),
    (15, "demo-try-one-per-level", {}),
    (43, "demo-try-cft4-only", {}),
    (25, "demo-try-passport", {}),
    (26, "demo-try-hk-macao", {}),
    (27, "demo-try-hmt-residence", {}),
    (8, "demo-try-no-photo", {}),
    (28, "demo-try-small-campus", {}),
    (29, "demo-try-small-campus", {}),
    (30, "demo-try-small-campus", {}),
    (31, "demo-try-small-campus", {}),
    (19, "demo-try-review-pass", {"ticket": "110010261105118"}),
    (24, "demo-try-review-renamed", {"ticket": "110010252101207"}),
    (20, "demo-try-review-manual", {"ticket": "320050261103321"}),
    (21, "demo-try-review-foreign", {"ticket": "110010261108803"}),
    (22, "demo-try-review-low", {"ticket": "110010261104226"}),
    (23, "demo-try-review-missing", {"ticket": "110010261112030"}),
)


@dataclass(frozen=True, slots=True)
class Seeded:
    session: str
    records: int
    scores: int


async def seed_example_session(database: Database, today: date) -> Seeded | None:
    """Loads the example session, roster and scores unless the database has a session already."""
    async with database.uow() as uow:
        if await uow.sessions.all():
            return None
    spec = parse_session_toml(SESSION_FILE)
    async with database.uow() as uow:
        session_id = await authority.load_session(uow, spec)
        await uow.commit()
    async with database.uow() as uow:
        campuses = await authority.session_campus_map(uow, session_id)
        subjects = set(await uow.sessions.offered(session_id))
    roster = parse_roster(ROSTER_FILE, campuses, subjects, today)
    scores = parse_scores(SCORES_FILE)
    async with database.uow() as uow:
        new, updated = await authority.import_roster(uow, session_id, roster)
        score_new, score_updated = await authority.import_scores(uow, scores)
        await uow.commit()
    return Seeded(spec.code, new + updated, score_new + score_updated)


class ConsoleMailbox(MailboxMailer):
    """Keeps mails for the page and tests, and prints each one: the demo has no SMTP server."""

    def __init__(self, console: Console, locale: str) -> None:
        super().__init__()
        self._console = console
        self._locale = locale

    async def send(self, to: str, subject: str, body: str) -> None:
        await super().send(to, subject, body)
        header = t(self._locale, "demo-mail-header", {"to": to, "subject": subject})
        self._console.rule(header, style="cyan")
        self._console.print(body, highlight=False, markup=False)
        self._console.rule(style="cyan")


def candidates_table(locale: str) -> Table:
    """Name, ID type and number of the demo candidates, and what each one is for."""
    with ROSTER_FILE.open(encoding="utf-8", newline="") as f:
        rows = {line: row for line, row in enumerate(csv.DictReader(f), start=2)}
    table = Table(title=t(locale, "demo-candidates-title"), title_justify="left")
    for key in ("name", "id-type", "id-number", "try"):
        table.add_column(
            t(locale, f"demo-col-{key}"),
            no_wrap=key in ("name", "id-number"),
            overflow="fold",
        )
    for line, note, args in CANDIDATE_NOTES:
        row = rows.get(line)
        if row is None:  # the roster was edited: show what is there
            continue
        id_type = t(locale, "demo-id-type-" + row["id_type"].replace("_", "-"))
        table.add_row(row["name"], id_type, row["id_number"], t(locale, note, args))
    return table


def demo_secrets_path(settings: Settings) -> Path | None:
    """Where the demo keeps the secrets it made for this database: next to a SQLite file,
    else in the data folder under a name derived from the URL (None: an in-memory database,
    whose secrets live as long as it does)."""
    url = settings.database_url
    if url.startswith("sqlite"):
        database = sqlite_file(url)
        if database is None:
            return None
        return database.with_name(database.name + ".demo-secrets.json")
    # The password is left out so changing it keeps the same secrets.
    digest = hashlib.sha256(url_without_password(url).encode()).hexdigest()[:16]
    return Path(settings.data_dir) / f"demo-secrets-{digest}.json"


def demo_secrets(settings: Settings) -> dict[str, str]:
    """The demo's own random secrets for this database, made on its first start and reused on
    the next one (a payment link of yesterday's demo still verifies); never a constant."""
    path = demo_secrets_path(settings)
    stored: dict[str, str] = {}
    if path is not None and path.exists():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            loaded = {}
        if isinstance(loaded, dict):
            stored = {k: v for k, v in loaded.items() if isinstance(v, str)}
    wanted = ("payment_secret", "webhook_secret")
    if all(secret_problem(stored.get(name)) is None for name in wanted):
        return stored
    for name in wanted:
        if secret_problem(stored.get(name)) is not None:
            stored[name] = make_secret()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Readable by this user only, written whole under a temporary name, then renamed.
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(stored, f)
        tmp.replace(path)
    return stored


def demo_settings(settings: Settings, api_url: str) -> Settings:
    """The demo's settings: the local token and emulator, the window open unless told otherwise,
    and a payment secret: the configured one if it is fit, else this database's own."""
    update: dict[str, Any] = {
        "bot_token": SecretStr(DEMO_TOKEN),
        "telegram_api_url": api_url,
        "webhook_url": None,
        "cetbot_now": settings.cetbot_now or DEMO_NOW,
    }
    if secret_problem(settings.payment_secret) is not None:
        update["payment_secret"] = SecretStr(demo_secrets(settings)["payment_secret"])
    return settings.model_copy(update=update)


def demo_clock(settings: Settings) -> RunningClock:
    return RunningClock(settings.cetbot_now or DEMO_NOW)


def clock_hook(clock: Clock) -> Any:
    """What the emulator's page calls to move the bot's clock forward by some hours."""

    def advance(hours: float) -> str:
        if isinstance(clock, RunningClock):
            clock.advance(timedelta(hours=hours))
        return clock.now().isoformat()

    return advance


async def run_demo(
    settings: Settings,
    *,
    host: str,
    port: int,
    console: Console,
    locale: str,
    worker: bool = True,
    ready: Callable[[BotApp], None] | None = None,
) -> None:
    """Migrate and seed, start the emulator and the bot, print where to go; run until cancelled.

    `worker`: run the background worker in the process (reminders, payment notices...).
    `ready(app)` is called once everything is up (tests drive the running demo this way).
    """
    from bot.app import create_app
    from emulator import start_emulator

    for noisy in ("aiogram.event", "httpx", "telegram.ext"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    await migrate.upgrade(settings.database_url)
    database = Database(settings.database_url)
    clock = demo_clock(settings)
    try:
        seeded = await seed_example_session(database, clock.now().date())
        if seeded is None:
            console.print(t(locale, "demo-kept", {"url": settings.database_url}), highlight=False)
        else:
            console.print(t(locale, "demo-seeded", asdict(seeded)), highlight=False)
        # Telegram's update ids only grow for a bot, but a fresh emulator would start at 1 and
        # a kept database has recorded those ids as processed (the re-delivery guard would
        # drop every update): continue above them, as a later Telegram session would.
        emulator = await start_emulator(
            host, port, default_token=DEMO_TOKEN, first_update_id=int(time.time())
        )
    except BaseException:
        await database.dispose()
        raise
    payments: list[Callable[[], Awaitable[None]]] = []
    try:
        emulator.register_clock(clock_hook(clock))
        mailer = ConsoleMailbox(console, locale)
        bot_settings = demo_settings(settings, emulator.url)
        app = create_app(bot_settings, clock=clock, mailer=mailer, database=database)
        try:
            await app.startup()
            payments += await _start_payments(app, console, locale)
            if worker and not app.start_worker():
                console.print(t(locale, "run-worker-elsewhere"), highlight=False)
        except BaseException:
            await app.close()
            raise
        console.print(t(locale, "demo-framework", {"framework": settings.bot_framework}))
        _print_how_to_use(console, locale, clock, emulator.url + "/")
        if ready is not None:
            ready(app)
        await app.run_polling(poll_timeout=10)
    finally:
        for stop in reversed(payments):
            await stop()
        await emulator.stop()


def _print_how_to_use(console: Console, locale: str, clock: Clock, page_url: str) -> None:
    """The demo clock, the demo candidates and the chat page's address."""
    now = clock.now().astimezone(DEMO_NOW.tzinfo).isoformat(timespec="seconds")
    console.print(t(locale, "demo-clock", {"now": now}), highlight=False)
    console.print(candidates_table(locale))
    console.print("[bold green]" + t(locale, "demo-page", {"url": page_url}) + "[/bold green]")


async def _start_payments(
    app: BotApp, console: Console, locale: str
) -> list[Callable[[], Awaitable[None]]]:
    """The sandbox payment page, posting to the bot's own callback endpoint (as `cetbot run`
    serves it), so the pay link works and Pay marks the entry paid.

    Returns what to stop (the app closes its endpoint). A busy port only costs the payment
    page: the demo goes on.
    """
    from payment_web.sandbox_server import start_sandbox

    settings, clock = app.settings, app.clock
    stops: list[Callable[[], Awaitable[None]]] = []
    sandbox_url = urlsplit(settings.payment_sandbox_url)
    try:
        callback_port = await app.serve_payment_callback("127.0.0.1", 0)
        assert settings.payment_secret is not None  # demo_settings gave it one
        sandbox = await start_sandbox(
            sandbox_url.hostname or "127.0.0.1",
            sandbox_url.port or 8090,
            secret=settings.payment_secret.get_secret_value(),
            callback_url=f"http://127.0.0.1:{callback_port}/payments/callback",
            clock=clock,
        )
        stops.append(sandbox.stop)
    except OSError:
        console.print(
            t(locale, "demo-no-sandbox", {"url": settings.payment_sandbox_url}), highlight=False
        )
    return stops


# Template ids of the demo's official account (the emulator's): local, never WeChat's.
DEMO_WECHAT_TEMPLATES = {
    "wechat_template_reminder": "DEMO_TPL_REMINDER",
    "wechat_template_waitlist": "DEMO_TPL_WAITLIST",
    "wechat_template_review": "DEMO_TPL_REVIEW",
    "wechat_template_expired": "DEMO_TPL_EXPIRED",
    "wechat_template_payment": "DEMO_TPL_PAYMENT",
    "wechat_template_sign_in": "DEMO_TPL_SIGN_IN",
}


def _free_port(host: str) -> int:
    import socket

    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


async def run_wechat_demo(
    settings: Settings,
    *,
    host: str,
    port: int,
    console: Console,
    locale: str,
    worker: bool = True,
    ready: Callable[[BotApp], None] | None = None,
) -> None:
    """`cetbot demo --platform wechat`: the emulator's official account (safe mode, menu
    messages, the demo's templates) pushing to the bot on the WeChat platform, the payment
    sandbox, and the same seeded session; the chat page is the emulator's /wechat.

    The emulator's clock (the page's "+ hours") moves the bot's rules clock and the
    protocol's time together, so the 48-hour window closes as it would in two days.
    """
    from bot.app import WECHAT_PATH, create_wechat_app
    from bot.handlers.wechat.adapter import PushClock
    from bot.handlers.wechat.templates import account_templates
    from emulator import start_emulator

    await migrate.upgrade(settings.database_url)
    database = Database(settings.database_url)
    clock = demo_clock(settings)
    push_clock = PushClock()
    try:
        seeded = await seed_example_session(database, clock.now().date())
        if seeded is None:
            console.print(t(locale, "demo-kept", {"url": settings.database_url}), highlight=False)
        else:
            console.print(t(locale, "demo-seeded", asdict(seeded)), highlight=False)
        emulator = await start_emulator(host, port, default_token=DEMO_TOKEN)
    except BaseException:
        await database.dispose()
        raise
    payments: list[Callable[[], Awaitable[None]]] = []
    try:

        def advance(hours: float) -> str:
            clock.advance(timedelta(hours=hours))
            push_clock.advance(hours=hours)
            return clock.now().isoformat()

        emulator.register_clock(advance)
        bot_port = _free_port("127.0.0.1")
        bot_url = f"http://127.0.0.1:{bot_port}"
        update: dict[str, Any] = {
            "webhook_url": None,
            "cetbot_now": settings.cetbot_now or DEMO_NOW,
            "public_url": bot_url,
            **DEMO_WECHAT_TEMPLATES,
        }
        if secret_problem(settings.payment_secret) is not None:
            update["payment_secret"] = SecretStr(demo_secrets(settings)["payment_secret"])
        staged = settings.model_copy(update=update)
        async with emulator.wechat_client() as wx:
            # Random AppID, AppSecret, Token and EncodingAESKey: the emulator makes them.
            account = await wx.configure(
                url=bot_url + WECHAT_PATH,
                mode="safe",
                msgmenu=True,
                templates=account_templates(staged, locale="zh"),
                name=t("zh", "demo-wechat-account"),
            )
        bot_settings = staged.model_copy(
            update={
                "wechat_app_id": account["appid"],
                "wechat_app_secret": SecretStr(account["secret"]),
                "wechat_token": SecretStr(account["token"]),
                "wechat_aes_key": SecretStr(account["encoding_aes_key"]),
                "wechat_api_url": emulator.url,
                "wechat_url": bot_url + WECHAT_PATH,
            }
        )
        mailer = ConsoleMailbox(console, locale)
        app = create_wechat_app(
            bot_settings, clock=clock, mailer=mailer, database=database, push_clock=push_clock
        )
        try:
            await app.start_wechat("127.0.0.1", bot_port)
            payments += await _start_payments(app, console, locale)
            if worker and not app.start_worker():
                console.print(t(locale, "run-worker-elsewhere"), highlight=False)
        except BaseException:
            await app.close()
            raise
        console.print(t(locale, "demo-wechat", {"url": bot_url + WECHAT_PATH}), highlight=False)
        _print_how_to_use(console, locale, clock, emulator.url + "/wechat")
        if ready is not None:
            ready(app)
        await app.until_stopped()
    finally:
        for stop in reversed(payments):
            await stop()
        await emulator.stop()
