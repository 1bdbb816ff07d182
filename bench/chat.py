"""Measures the chat end to end: simulated candidates through the emulator and a real adapter.

Run: .venv/bin/python bench/chat.py [--candidates 200] [--concurrency 50] [--runs 5]
     [--frameworks aiogram ptb] [--platform telegram|wechat] [--no-pin] [--ptb-pool N]
     [--ptb-echo-transport httpx|aiohttp] [--profile FILE.svg|FILE.txt]

``--platform wechat`` runs the same candidates and steps through the emulator's WeChat
official account and the WeChat adapter instead (bench/chat_wechat.py).

Prints figures only (no pass/fail), the median of ``--runs`` runs, bot and echo interleaved
(bot, echo, bot, echo, ...).

Setup (once): a SQLite file with the example session (examples/), its CET4 capacity at
BSU-HD raised so every candidate gets a seat, and ``--candidates`` candidates made through
the services: a roster record eligible for CET4, a verified account bound to the
candidate's chat user (R7) and saved registration information (R13). So the bench skips
sign-up and the eligibility lookup (their argon2 hashing would dominate and is measured by
the account tests) and times the registration itself:

    /start -> overview (ov) -> add a subject (add) -> CET4 (subj) -> campus (camp)
           -> paper report (paper) -> pay link (pay)

Each run gets a fresh copy of that file, a fresh emulator and the bot (``create_app``:
the real adapter, EventRunner and conversations) polling it from a process of its own (the
emulator and the candidates stay in this one), so that process's CPU time is the bot's
alone: "CPU ms/update" is its user + system CPU over the timed window (bench/cpu.py, from
/proc) divided by the updates served. Throughput on this shared 2-core machine moves
+-30% between runs; CPU per update moves far less, so it is the figure to compare.
``--concurrency`` candidates act at once; each waits for the bot's answer (the emulator's
/control/wait, the message sent or edited) before its next step, as a person would. A
step's latency is from the user's action to that answer.

The ceiling: the same emulator, users and number of steps against a bare echo bot of the
same library (``bot/handlers/echo_bots.py``: a menu per message, answer + edit per
button, no engine, no database), also in a process of its own. "ratio" = bot updates/s /
echo updates/s, and echo CPU per update / bot CPU per update.

Both the bot and the echo run at saturation (the process under test is busy the whole
window), so any other task on its core inflates its CPU per update. By default (``--no-pin``
turns it off) the process under test gets one core and this process (emulator and
candidates) the other, so both sides run with the same placement. Each run also prints what
makes the two sides comparable: updates per getUpdates answer (the emulator's counts), the
process's open sockets (sampled every 0.1 s: its HTTP connection pool, whose size moves PTB's
CPU per update; ``--ptb-pool`` caps it on both sides), how often its main thread was
preempted per update, and the share of the window it waited for a core (other work on its
core). The table gives echo/bot for each interleaved pair, and the medians of the runs that
waited less than 15% ("undisturbed"). docs/performance.md tells what moved PTB's figure.

"SQL/update" counts the statements the bot's units of work send
(``Database.watching_statements``: SQLAlchemy's cursor executions plus the BEGIN and
savepoint statements sent to sqlite3 directly) over the updates the runner processed,
menu bookkeeping included, in one extra untimed run: a listener on every execution would
slow the timed runs (measured: about 8% of the engine's time under cProfile), which the
echo bot would not pay.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.cpu import (  # noqa: E402
    open_sockets,
    preemptions,
    process_cpu,
    run_queue_wait,
    split_cores,
)
from bot.app import create_app  # noqa: E402
from bot.handlers import echo_bots  # noqa: E402
from cetbot.demo import seed_example_session  # noqa: E402
from emulator.client import EmulatorClient  # noqa: E402
from emulator.server import start_emulator  # noqa: E402
from foundation import heap  # noqa: E402
from foundation.clock import FrozenClock  # noqa: E402
from foundation.settings import Settings  # noqa: E402
from outgoing.mailer import MailboxMailer  # noqa: E402
from registration import accounts, eligibility  # noqa: E402
from registration.identity import make_id_card_number  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import Database  # noqa: E402

TOKEN = "555000111:bench-chat-token"
# Inside the example session's registration window.
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
CAMPUS, SUBJECT = "BSU-HD", "CET4"
FIRST_USER = 900_000_001
BOT_STEPS = ("start", "ov", "add", "subj", "camp", "paper", "pay")
STEP_TIMEOUT = 60.0


@dataclass
class RunResult:
    updates_per_s: float
    latencies: dict[str, list[float]] = field(default_factory=dict)  # step -> seconds
    sql_per_update: float | None = None
    failed: int = 0
    cpu_ms_per_update: float = float("nan")  # the bot process's CPU over the updates served
    polls: int = 0  # getUpdates answers the emulator gave in the timed window
    delivered: int = 0  # updates those answers held
    empty_polls: int = 0  # answers that held none
    preempted_per_update: float = float("nan")  # the bot's main thread switched out, runnable
    waited_share: float = float("nan")  # of the window, its main thread ready but off a core
    sockets: list[int] = field(default_factory=list)  # the process's open sockets, sampled
    calls: dict[str, int] = field(default_factory=dict)  # Bot API calls in the window, by method

    @property
    def batch(self) -> float:
        """Updates per getUpdates answer that held any."""
        return updates_per_answer(self.delivered, self.polls, self.empty_polls)

    @property
    def mean_sockets(self) -> float:
        return statistics.mean(self.sockets) if self.sockets else float("nan")

    @property
    def undisturbed(self) -> bool:
        return self.waited_share < UNDISTURBED


# A run whose process under test waited for a core less than this share of the window: the
# other helpers' work barely touched its core.
UNDISTURBED = 0.15


def updates_per_answer(delivered: int, polls: int, empty: int) -> float:
    """How many updates one getUpdates answer carried, over the answers that carried any."""
    answered = polls - empty
    return delivered / answered if answered > 0 else float("nan")


def pair_ratios(bot: list[float], echo: list[float]) -> list[float]:
    """echo/bot CPU per update of each interleaved pair (bot run i, then echo run i)."""
    return [e / b for b, e in zip(bot, echo, strict=True) if b > 0]


# -- setup ---------------------------------------------------------------------------------


async def build_template(
    path: Path,
    n: int,
    platform: str = "telegram",
    chat_user: Callable[[Any, int], Awaitable[int]] | None = None,
) -> None:
    """The example session plus n candidates ready to register, made through the services,
    each bound to a chat user of `platform`: Telegram's FIRST_USER + i, or what
    `chat_user(uow, i)` gives (bench/chat_wechat.py: an OpenID's internal id)."""
    url = f"sqlite+aiosqlite:///{path}"
    await migrate.upgrade(url)
    db = Database(url)
    clock = FrozenClock(NOW)
    try:
        await seed_example_session(db, NOW.date())
        async with db.uow() as uow:
            [session] = await uow.sessions.all()
            campus = next(c for c in await uow.sessions.campuses(session.id) if c.code == CAMPUS)
            assert await uow.sessions.set_capacity(campus.id, SUBJECT, 1_000_000)
            rows, eligible = [], {}
            for i in range(n):
                number = make_id_card_number(
                    "320102", date(2004, 1, 1) + timedelta(i // 900), i % 900
                )
                rows.append(
                    {
                        "name": f"考生{i}",
                        "gender": "F",
                        "id_type": "id_card",
                        "id_number": number,
                        "school": campus.school,
                        "campus_code": CAMPUS,
                        "student_no": f"B{i:07d}",
                        "phone": "13800000000",
                        "has_photo": False,
                    }
                )
                eligible[("id_card", number)] = [SUBJECT]
            await uow.records.bulk_upsert(session.id, rows, eligible, {})
            keys = await uow.records.keys_of_session(session.id)
            for i, row in enumerate(rows):
                user = FIRST_USER + i if chat_user is None else await chat_user(uow, i)
                account = await uow.accounts.create(f"{platform}{i}@example.com", "x", NOW)
                await uow.accounts.mark_verified(account.id, NOW)
                account = await uow.accounts.get(account.id)
                assert account is not None
                await accounts.bind_chat(uow, clock, platform, user, account.id)
                await eligibility.save_registration(
                    uow,
                    clock,
                    account=account,
                    session_id=session.id,
                    record_id=keys[("id_card", row["id_number"])],
                    phone="13912345678",
                    agreed=True,
                )
            await uow.commit()
    finally:
        await db.dispose()


# -- one simulated candidate ---------------------------------------------------------------


class Candidate:
    """One chat user: acts through the control API, waits for the bot's answer each time."""

    def __init__(self, em: EmulatorClient, user_id: int) -> None:
        self.em = em
        self.user_id = user_id
        self.seq = 0
        self.last: dict[str, Any] = {}

    async def _answer(self) -> None:
        events = await self.em.wait_for_bot(self.user_id, 1, STEP_TIMEOUT, after=self.seq)
        self.seq = events[-1]["seq"]
        self.last = events[-1]

    async def start(self) -> None:
        await self.em.command(self.user_id, "start")
        await self._answer()

    async def press(self, action: str, *, prefix: str = "") -> None:
        """Presses the latest menu's button for `action` (the first one, or the one whose
        callback data continues with `prefix`)."""
        buttons = [b for row in self.last.get("keyboard") or [] for b in row]
        for button in buttons:
            parts = str(button.get("callback_data") or "").split(":")
            if parts[2:3] == [action] and ":".join(parts[3:]).startswith(prefix):
                await self.em.press(self.user_id, self.last["message_id"], button["callback_data"])
                await self._answer()
                return
        offered = [b.get("callback_data") for b in buttons]
        raise RuntimeError(f"user {self.user_id}: no {action} button in {offered}")

    async def press_any(self) -> None:
        """The echo bot's single button."""
        [[button]] = self.last["keyboard"]
        await self.em.press(self.user_id, self.last["message_id"], button["callback_data"])
        await self._answer()


async def _bot_path(c: Candidate, campus_id: str, timed: Callable[..., Awaitable[None]]) -> None:
    await timed("start", c.start())
    for step in BOT_STEPS[1:]:
        if step == "camp":
            await timed(step, c.press(step, prefix=campus_id))
        else:
            await timed(step, c.press(step))
    link = [b for row in c.last.get("keyboard") or [] for b in row if b.get("url")]
    if not link:
        raise RuntimeError(f"user {c.user_id}: no pay link: {c.last.get('text')!r}")


async def _echo_path(c: Candidate, campus_id: str, timed: Callable[..., Awaitable[None]]) -> None:
    await timed("start", c.start())
    for step in BOT_STEPS[1:]:
        await timed(step, c.press_any())


# -- runs ----------------------------------------------------------------------------------


async def _drive(
    em: EmulatorClient,
    n: int,
    concurrency: int,
    path: Callable[[Candidate, str, Callable[..., Awaitable[None]]], Awaitable[None]],
    campus_id: str,
) -> RunResult:
    latencies: dict[str, list[float]] = defaultdict(list)
    failed = 0
    gate = asyncio.Semaphore(concurrency)

    async def timed(step: str, act: Awaitable[None]) -> None:
        began = time.perf_counter()
        await act
        latencies[step].append(time.perf_counter() - began)

    async def one(i: int) -> None:
        nonlocal failed
        async with gate:
            try:
                await path(Candidate(em, FIRST_USER + i), campus_id, timed)
            except Exception as err:  # counted and shown: a bench must not hide failures
                failed += 1
                if failed <= 3:
                    print(f"  candidate {i} failed: {err}", file=sys.stderr)

    for i in range(n):
        await em.create_user(FIRST_USER + i, f"考生{i}", language_code="zh-hans")
    began = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - began
    updates = sum(len(v) for v in latencies.values())
    return RunResult(updates / elapsed, dict(latencies), failed=failed)


async def _sample_sockets(pid: int, into: list[int], every: float = 0.1) -> None:
    """Samples the process's open sockets until cancelled: its HTTP connection pool's size
    (the long poll, the pipe to this process and the pooled connections to the emulator)."""
    while True:
        into.append(open_sockets(pid))
        await asyncio.sleep(every)


async def _campus_callback_arg(template: Path) -> str:
    db = Database(f"sqlite+aiosqlite:///{template}")
    try:
        async with db.uow() as uow:
            [session] = await uow.sessions.all()
            campus = next(c for c in await uow.sessions.campuses(session.id) if c.code == CAMPUS)
            return str(campus.id)
    finally:
        await db.dispose()


def _serve_in_child(
    conn: Connection,
    kind: str,
    framework: str,
    emulator_url: str,
    db_path: str,
    data_dir: str,
    count_sql: bool,
    profile: str | None = None,
    ptb_pool: int | None = None,
    echo_transport: str = "httpx",
) -> None:
    """The bot (or the echo bot) in a process of its own, so its CPU time is its own."""
    if ptb_pool:
        _cap_ptb_pool(ptb_pool)
    logging.basicConfig(level=logging.WARNING)
    for noisy in ("aiogram", "telegram", "httpx", "bot"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    asyncio.run(
        _serve(
            *(conn, kind, framework, emulator_url, db_path, data_dir, count_sql, profile),
            echo_transport,
        )
    )


def _cap_ptb_pool(size: int) -> None:
    """--ptb-pool: every PTB Application built in this process (the bot's or the echo's) gets
    at most `size` pooled connections for its calls. PTB allows 256 by default and keeps every
    connection a burst opened; httpcore walks them all on each request and answer, so a run's
    CPU per update grows with the pool a burst left (docs/performance.md)."""
    from telegram.ext import ApplicationBuilder

    from bot.handlers import ptb_adapter

    ptb_adapter.CONNECTION_POOL_SIZE = size  # the product's request object (AiohttpRequest)
    build = ApplicationBuilder.build

    def capped(self: ApplicationBuilder[Any, Any, Any, Any, Any, Any]) -> Any:
        with contextlib.suppress(RuntimeError):  # a request object was given: capped above
            self.connection_pool_size(size)
        return build(self)

    ApplicationBuilder.build = capped  # type: ignore[method-assign]


def _ptb_aiohttp_requests() -> tuple[Any, Any]:
    """--ptb-echo-transport aiohttp: the PTB echo's request objects on the product's transport
    (the pool as the product's, capped by --ptb-pool like it)."""
    from bot.handlers.ptb_adapter import CONNECTION_POOL_SIZE, AiohttpRequest

    return AiohttpRequest(connection_pool_size=CONNECTION_POOL_SIZE), AiohttpRequest()


def _start_profiler(profile: str | None) -> subprocess.Popen[bytes] | None:
    """--profile: py-spy samples this process over the timed window into an SVG flame graph
    (a name ending in .txt: py-spy's collapsed stacks, one line per stack with its count)."""
    if not profile:
        return None
    spy = Path(sys.executable).with_name("py-spy")
    form = "raw" if profile.endswith(".txt") else "flamegraph"
    argv = [str(spy), "record", "-r", "97", "-f", form, "-o", profile]
    argv += ["--pid", str(os.getpid())]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop_profiler(spy: subprocess.Popen[bytes] | None) -> None:
    if spy is not None:
        spy.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        spy.wait(60)


async def _serve(
    conn: Connection,
    kind: str,
    framework: str,
    emulator_url: str,
    db_path: str,
    data_dir: str,
    count_sql: bool,
    profile: str | None,
    echo_transport: str = "httpx",
) -> None:
    loop = asyncio.get_running_loop()

    async def receive() -> Any:
        return await loop.run_in_executor(None, conn.recv)

    if kind == "echo":
        if framework == "aiogram":
            stop = await echo_bots.start_aiogram_echo(TOKEN, emulator_url)
        else:
            requests = _ptb_aiohttp_requests if echo_transport == "aiohttp" else None
            stop = await echo_bots.start_ptb_echo(TOKEN, emulator_url, requests=requests)
        try:
            conn.send("ready")
            await receive()  # begin
            spy = _start_profiler(profile)
            conn.send("begun")
            await receive()  # end
            conn.send((0, 0))
            _stop_profiler(spy)
        finally:
            await stop()
        return

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TOKEN,
        telegram_api_url=emulator_url,
        bot_framework=framework,
        database_url=f"sqlite+aiosqlite:///{db_path}",
        data_dir=data_dir,
    )
    app = create_app(settings, clock=FrozenClock(NOW), mailer=MailboxMailer())
    statements = 0

    def count(*_args: Any) -> None:
        nonlocal statements
        statements += 1

    # A cursor-execute listener slows every statement of the bot (SQLAlchemy then
    # dispatches events per execution), so timed runs go without it and the
    # statements are counted in a run of their own.
    watching = contextlib.ExitStack()
    if count_sql:
        watching.enter_context(app.database.watching_statements(count))
    polling = asyncio.create_task(app.run_polling(poll_timeout=10))
    await app.startup()
    heap.settle()  # as `cetbot run` does once started (bot/app.py serve)
    try:
        conn.send("ready")
        await receive()  # begin
        spy = _start_profiler(profile)
        before_sql, before_events = statements, app.adapter.runner.stats.events
        conn.send("begun")
        await receive()  # end
        conn.send((app.adapter.runner.stats.events - before_events, statements - before_sql))
        _stop_profiler(spy)
    finally:
        app.request_stop()
        await asyncio.wait_for(polling, 30)
        watching.close()


async def _run(
    kind: str,
    framework: str,
    n: int,
    concurrency: int,
    template: Path | None,
    count_sql: bool,
    profile: str | None = None,
    pin: bool = True,
    ptb_pool: int | None = None,
    echo_transport: str = "httpx",
) -> RunResult:
    """One timed run: the emulator and the candidates here, the bot in a child process.

    With `pin`, the bot (or echo) runs on one core and this process on the other(s), the
    same for both: left to the scheduler, the two sometimes share a core for a whole run.
    """
    work = Path(tempfile.mkdtemp(prefix="cetbot-chat-bench-"))
    emulator = await start_emulator(port=0, default_token=TOKEN)
    parent, child = multiprocessing.get_context("spawn").Pipe()
    db_path = work / "bench.db"
    if template is not None:
        shutil.copy(template, db_path)
    process = multiprocessing.get_context("spawn").Process(
        target=_serve_in_child,
        args=(
            *(child, kind, framework, emulator.url, str(db_path), str(work / "data")),
            *(count_sql, profile, ptb_pool, echo_transport),
        ),
    )
    loop = asyncio.get_running_loop()

    async def receive() -> Any:
        return await loop.run_in_executor(None, parent.recv)

    cores = split_cores(os.sched_getaffinity(0)) if pin else None
    here = os.sched_getaffinity(0)
    try:
        process.start()
        if cores is not None:
            os.sched_setaffinity(process.pid or 0, cores[0])
            os.sched_setaffinity(0, cores[1])
        assert await receive() == "ready"
        campus_id = await _campus_callback_arg(template) if template is not None else ""
        parent.send("begin")
        assert await receive() == "begun"
        pid = process.pid or 0
        began = time.perf_counter()
        cpu_before, preempted, waited = process_cpu(pid), preemptions(pid), run_queue_wait(pid)
        sockets: list[int] = []
        sampler = asyncio.create_task(_sample_sockets(pid, sockets))
        async with EmulatorClient(emulator.url, token=TOKEN) as em:
            path = _bot_path if kind == "bot" else _echo_path
            stats_before = await em.stats()
            result = await _drive(em, n, concurrency, path, campus_id)
            stats_after = await em.stats()
        sampler.cancel()
        result.sockets = sockets
        cpu = process_cpu(pid) - cpu_before
        preempted, waited = preemptions(pid) - preempted, run_queue_wait(pid) - waited
        window = time.perf_counter() - began
        parent.send("end")
        processed, statements = await receive()
        updates = sum(len(v) for v in result.latencies.values())
        result.cpu_ms_per_update = cpu * 1000 / max(updates, 1)
        result.preempted_per_update = preempted / max(updates, 1)
        result.waited_share = waited / window
        result.polls = _delta(stats_before, stats_after, "requests", "getUpdates")
        result.delivered = _delta(stats_before, stats_after, "updates_delivered")
        result.empty_polls = _delta(stats_before, stats_after, "empty_polls")
        result.calls = {
            method: _delta(stats_before, stats_after, "requests", method)
            for method in stats_after.get("requests", {})
        }
        if count_sql:
            result.sql_per_update = statements / max(processed, 1)
        await loop.run_in_executor(None, process.join, 30)
    finally:
        os.sched_setaffinity(0, here)
        if process.is_alive():
            process.kill()
        await emulator.stop()
        shutil.rmtree(work, ignore_errors=True)
    return result


def _delta(before: dict[str, Any], after: dict[str, Any], key: str, method: str = "") -> int:
    """A counter of /control/stats over the window (`method`: one entry of "requests")."""

    def value(stats: dict[str, Any]) -> int:
        found = stats.get(key, 0)
        return int(found.get(method, 0) if isinstance(found, dict) else found)

    return value(after) - value(before)


async def bot_run(
    template: Path,
    framework: str,
    n: int,
    concurrency: int,
    *,
    count_sql: bool = False,
    profile: str | None = None,
    pin: bool = True,
    ptb_pool: int | None = None,
) -> RunResult:
    return await _run("bot", framework, n, concurrency, template, count_sql, profile, pin, ptb_pool)


async def echo_run(
    framework: str,
    n: int,
    concurrency: int,
    *,
    profile: str | None = None,
    pin: bool = True,
    ptb_pool: int | None = None,
    transport: str = "httpx",
) -> RunResult:
    return await _run(
        *("echo", framework, n, concurrency, None, False, profile),
        pin=pin,
        ptb_pool=ptb_pool,
        echo_transport=transport,
    )


# -- report --------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _median_run(runs: list[RunResult]) -> RunResult:
    return sorted(runs, key=lambda r: r.updates_per_s)[len(runs) // 2]


def _table(framework: str, bot: list[RunResult], echo: list[RunResult], counted: RunResult) -> str:
    b, e = _median_run(bot), _median_run(echo)
    lines = [
        f"## {framework}: {len(bot)} runs, median run shown",
        "",
        "| step | bot p50 ms | bot p99 ms | echo p50 ms | echo p99 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for step in BOT_STEPS:
        lines.append(
            f"| {step} | {_pct(b.latencies.get(step, []), 0.5) * 1000:.1f}"
            f" | {_pct(b.latencies.get(step, []), 0.99) * 1000:.1f}"
            f" | {_pct(e.latencies.get(step, []), 0.5) * 1000:.1f}"
            f" | {_pct(e.latencies.get(step, []), 0.99) * 1000:.1f} |"
        )
    bot_rates = [r.updates_per_s for r in bot]
    echo_rates = [r.updates_per_s for r in echo]
    ratio = statistics.median(bot_rates) / statistics.median(echo_rates)
    bot_cpu = statistics.median(r.cpu_ms_per_update for r in bot)
    echo_cpu = statistics.median(r.cpu_ms_per_update for r in echo)
    lines += [
        "",
        "| | bot | echo (ceiling) |",
        "|---|---:|---:|",
        f"| updates/s (median) | {statistics.median(bot_rates):.0f} "
        f"| {statistics.median(echo_rates):.0f} |",
        f"| updates/s (runs) | {', '.join(f'{x:.0f}' for x in bot_rates)} "
        f"| {', '.join(f'{x:.0f}' for x in echo_rates)} |",
        f"| bot process CPU ms/update (median) | {bot_cpu:.2f} | {echo_cpu:.2f} |",
        f"| CPU ms/update (runs) | {', '.join(f'{r.cpu_ms_per_update:.2f}' for r in bot)} "
        f"| {', '.join(f'{r.cpu_ms_per_update:.2f}' for r in echo)} |",
        f"| SQL statements/update (a counted run) | {counted.sql_per_update or 0:.1f} | 0 |",
        f"| failed candidates | {sum(r.failed for r in bot)} | {sum(r.failed for r in echo)} |",
        f"| updates per getUpdates answer (runs) | {_runs(bot, lambda r: r.batch)} "
        f"| {_runs(echo, lambda r: r.batch)} |",
        f"| getUpdates answers, empty (runs) | {_runs(bot, _answers, '{}')} "
        f"| {_runs(echo, _answers, '{}')} |",
        f"| open sockets, mean over the window (runs) | {_runs(bot, _sockets, '{:.1f}')} "
        f"| {_runs(echo, _sockets, '{:.1f}')} |",
        f"| preempted/update (runs) | {_runs(bot, lambda r: r.preempted_per_update)} "
        f"| {_runs(echo, lambda r: r.preempted_per_update)} |",
        f"| waited for a core, % of window (runs) | {_runs(bot, _waited, '{:.0f}')} "
        f"| {_runs(echo, _waited, '{:.0f}')} |",
        "",
        f"ratio bot/echo: {ratio:.0%} of the echo's updates/s; CPU per update "
        f"echo/bot {echo_cpu / bot_cpu:.0%} (the bot costs {bot_cpu / echo_cpu:.2f}x the echo)",
    ]
    pairs = pair_ratios([r.cpu_ms_per_update for r in bot], [r.cpu_ms_per_update for r in echo])
    lines.append(
        f"echo/bot CPU per pair (bot run i, echo run i): {', '.join(f'{x:.0%}' for x in pairs)};"
        f" median {statistics.median(pairs):.0%}"
    )
    calm_bot = [r.cpu_ms_per_update for r in bot if r.undisturbed]
    calm_echo = [r.cpu_ms_per_update for r in echo if r.undisturbed]
    calm = f"undisturbed runs (waited for a core < {UNDISTURBED:.0%} of the window): "
    calm += f"{len(calm_bot)} bot, {len(calm_echo)} echo"
    if calm_bot and calm_echo:
        calm_b, calm_e = statistics.median(calm_bot), statistics.median(calm_echo)
        calm += f"; CPU ms/update {calm_b:.2f} and {calm_e:.2f}, echo/bot {calm_e / calm_b:.0%}"
    lines.append(calm)
    return "\n".join(lines)


def _answers(r: RunResult) -> str:
    return f"{r.polls} ({r.empty_polls})"


def _sockets(r: RunResult) -> float:
    return r.mean_sockets


def _waited(r: RunResult) -> float:
    return r.waited_share * 100


def _runs(runs: list[RunResult], of: Callable[[RunResult], Any], spec: str = "{:.2f}") -> str:
    return ", ".join(spec.format(of(r)) for r in runs)


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def _progress(framework: str, which: str, run: int, result: RunResult) -> None:
    rate = f"{result.updates_per_s:.0f} updates/s, {result.cpu_ms_per_update:.2f} CPU ms/update"
    rate += f", {result.batch:.2f} updates per getUpdates answer"
    rate += (
        f", {result.mean_sockets:.1f} open sockets (mean), {max(result.sockets, default=0)} peak"
    )
    rate += f", waited for a core {result.waited_share:.0%}"
    updates = max(sum(len(v) for v in result.latencies.values()), 1)
    calls = ", ".join(
        f"{method} {count / updates:.2f}" for method, count in sorted(result.calls.items()) if count
    )
    rate += f"; calls per update: {calls}"
    print(f"  {framework} {which} run {run + 1}: {rate}; {_load()}", flush=True)


async def _main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    for noisy in ("aiogram", "telegram", "httpx", "bot"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    work = Path(tempfile.mkdtemp(prefix="cetbot-chat-template-"))
    try:
        template = work / "template.db"
        began = time.perf_counter()
        await build_template(template, args.candidates)
        print(
            f"{args.candidates} candidates, concurrency {args.concurrency}, "
            f"{len(BOT_STEPS)} updates each; setup {time.perf_counter() - began:.1f}s; "
            f"{'a core each for the bot (or echo) and the driver' if args.pin else 'no pinning'}"
            f"{f'; PTB connection pool capped at {args.ptb_pool}' if args.ptb_pool else ''}"
            f"{f'; PTB echo over {args.ptb_echo_transport}' if 'ptb' in args.frameworks else ''}"
        )
        for framework in args.frameworks:
            bot_runs, echo_runs = [], []
            for run in range(args.runs):
                bot_runs.append(
                    await bot_run(
                        template,
                        framework,
                        args.candidates,
                        args.concurrency,
                        pin=args.pin,
                        ptb_pool=args.ptb_pool,
                    )
                )
                _progress(framework, "bot", run, bot_runs[-1])
                echo_runs.append(
                    await echo_run(
                        framework,
                        args.candidates,
                        args.concurrency,
                        pin=args.pin,
                        ptb_pool=args.ptb_pool,
                        transport=args.ptb_echo_transport,
                    )
                )
                _progress(framework, "echo", run, echo_runs[-1])
            counted = await bot_run(
                template,
                framework,
                args.candidates,
                args.concurrency,
                count_sql=True,
                pin=args.pin,
                ptb_pool=args.ptb_pool,
            )
            if args.profile:
                given = Path(args.profile)
                profile = str(given.with_suffix(f".{framework}{given.suffix}"))
                await bot_run(
                    template,
                    framework,
                    args.candidates,
                    args.concurrency,
                    profile=profile,
                    pin=args.pin,
                    ptb_pool=args.ptb_pool,
                )
                echo_profile = str(given.with_suffix(f".{framework}-echo{given.suffix}"))
                await echo_run(
                    framework,
                    args.candidates,
                    args.concurrency,
                    profile=echo_profile,
                    pin=args.pin,
                    ptb_pool=args.ptb_pool,
                    transport=args.ptb_echo_transport,
                )
                print(
                    f"  {framework}: py-spy profiles of one more bot run in {profile}"
                    f" and of one more echo run in {echo_profile}"
                )
            print()
            print(_table(framework, bot_runs, echo_runs, counted))
            print()
        print(_load())
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--frameworks", nargs="+", default=["aiogram", "ptb"], choices=["aiogram", "ptb"]
    )
    parser.add_argument("--platform", default="telegram", choices=["telegram", "wechat"])
    parser.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="leave the bot, the echo and the driver to the scheduler instead of a core each",
    )
    parser.add_argument(
        "--ptb-pool",
        type=int,
        metavar="N",
        help="cap PTB's connection pool at N for the bot and the echo alike (PTB's default is "
        "256): the pool then keeps one size through a run instead of the size a burst left",
    )
    parser.add_argument(
        "--ptb-echo-transport",
        default="httpx",
        choices=["httpx", "aiohttp"],
        help="the PTB echo's HTTP transport: PTB's own httpx (bare PTB, the default) or the "
        "product's aiohttp request (AiohttpRequest), to compare the two on one transport",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE.svg",
        help="also py-spy one more bot run and one more echo run per framework into "
        "FILE.<framework>.svg and FILE.<framework>-echo.svg (FILE.txt: collapsed stacks)",
    )
    args = parser.parse_args()
    if args.platform == "wechat":
        from bench import chat_wechat

        logging.basicConfig(level=logging.WARNING)
        for noisy in ("bot", "aiohttp"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        asyncio.run(chat_wechat.main(args.candidates, args.concurrency, args.runs, NOW))
        return
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
