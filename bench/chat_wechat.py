"""`bench/chat.py --platform wechat`: the same candidates and steps through the WeChat side.

The emulator's official account (safe mode: AES pushes, menu messages) pushes each
candidate's action to the bot on the WeChat platform (`create_wechat_app`, the real
adapter, runner and conversations, in a process of its own on a copy of the template);
a step is answered when the bot's menu message for it has reached the candidate (through
the customer-service API). Beside it, a bare echo (`bot/handlers/wechat/echo.py`: same
protocol work, one menu message per push, no engine, no database) through the same
emulator. The candidates' OpenIDs are bound to their accounts in the template (their
internal numbers made by the platform user table), so, as for Telegram, the bench times
registration itself:

    /start -> my registration (ov) -> add a subject (add) -> CET4 (subj) -> campus (camp)
           -> paper report (paper) -> pay link (pay)

Figures per step: the p50/p99 of the step (action to the menu message) and of the push's
HTTP answer (what WeChat's 5-second deadline applies to: the adapter answers once the
step's reply is decided, passively or `success` before the customer-service messages).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.cpu import process_cpu
from emulator.server import start_emulator
from emulator.wechat_client import WeChatEmulatorClient, bot_settings

STEP_TIMEOUT = 60.0
# The label of each step's option in the menu message before it (the Telegram bench's
# action codes, as a candidate reads them).
STEPS = (
    ("start", None),
    ("ov", "我的报名"),
    ("add", "报考科目"),
    ("subj", "英语四级"),
    ("camp", "海淀校区"),
    ("paper", "不需要"),
    ("pay", "去支付"),
)
TOKEN = "555000111:bench-chat-token"


def openid(i: int) -> str:
    return f"oBench{i:022d}"  # 28 characters, as WeChat's


@dataclass
class WxRunResult:
    updates_per_s: float
    latencies: dict[str, list[float]] = field(default_factory=dict)  # step -> seconds
    answers: dict[str, list[float]] = field(default_factory=dict)  # step -> push answer s
    failed: int = 0
    cpu_ms_per_update: float = float("nan")
    late_pushes: int = 0  # pushes WeChat would have retried (no answer within 5 s)


async def _wechat_user(uow: Any, i: int) -> int:
    """The internal id of candidate i's OpenID (bench/chat.py build_template binds it)."""
    from bench.chat import NOW

    user = await uow.platform_users.intake("wechat", openid(i), NOW, None)
    return int(user.user_id)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_in_child(conn: Connection, kind: str, account: dict[str, Any], **kw: Any) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    for noisy in ("bot", "aiohttp"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    asyncio.run(_serve(conn, kind, account, **kw))


async def _serve(
    conn: Connection,
    kind: str,
    account: dict[str, Any],
    *,
    emulator_url: str,
    port: int,
    db_path: str,
    data_dir: str,
    now: Any,
) -> None:
    loop = asyncio.get_running_loop()

    async def receive() -> Any:
        return await loop.run_in_executor(None, conn.recv)

    if kind == "echo":
        from bot.handlers.wechat.echo import start_wechat_echo

        stop = await start_wechat_echo(
            app_id=account["appid"],
            app_secret=account["secret"],
            token=account["token"],
            aes_key=account["encoding_aes_key"],
            api_url=emulator_url,
            host="127.0.0.1",
            port=port,
        )
        try:
            conn.send("ready")
            await receive()
            conn.send("begun")
            await receive()
            conn.send(0)
        finally:
            await stop()
        return

    import secrets

    from bot.app import create_wechat_app
    from foundation import heap
    from foundation.clock import FrozenClock
    from foundation.settings import Settings
    from outgoing.mailer import MailboxMailer

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        **bot_settings(account, emulator_url, f"http://127.0.0.1:{port}/wechat"),
        public_url=f"http://127.0.0.1:{port}",
        database_url=f"sqlite+aiosqlite:///{db_path}",
        data_dir=data_dir,
        payment_secret=secrets.token_urlsafe(32),
    )
    app = create_wechat_app(settings, clock=FrozenClock(now), mailer=MailboxMailer())
    await app.start_wechat("127.0.0.1", port)
    heap.settle()  # as `cetbot run` does once started (bot/app.py serve)
    try:
        conn.send("ready")
        await receive()
        before = app.adapter.runner.stats.events
        conn.send("begun")
        await receive()
        conn.send(app.adapter.runner.stats.events - before)
    finally:
        await app.close()


class WxCandidate:
    """One WeChat user: acts through the emulator's control API, waits for the menu."""

    def __init__(self, wx: WeChatEmulatorClient, oid: str) -> None:
        self.wx = wx
        self.openid = oid
        self.seq = 0
        self.menu: dict[str, Any] = {}
        self.answer_s = 0.0
        self.late = 0

    async def _act(self, push: Awaitable[dict[str, Any]]) -> None:
        report = await push
        if report.get("attempts", 1) > 1 or report.get("outcome") == "error":
            self.late += 1
        tries = report.get("tries") or []
        self.answer_s = float(tries[-1].get("elapsed", report["elapsed"])) if tries else 0.0
        while True:  # the step's reply ends with its menu message
            entries = await self.wx.wait_for_bot(self.openid, 1, STEP_TIMEOUT, after=self.seq)
            self.seq = max(e["seq"] for e in entries)
            menus = [e for e in entries if e["kind"] == "msgmenu"]
            if menus:
                self.menu = menus[-1]
                return

    async def start(self) -> None:
        await self._act(self.wx.send_text(self.openid, "/start"))

    async def press(self, label: str) -> None:
        options = self.menu.get("options") or []
        for option in options:
            if label in option["content"]:
                await self._act(self.wx.choose(self.openid, option["id"]))
                return
        offered = [o["content"] for o in options]
        raise RuntimeError(f"{self.openid}: no {label!r} in {offered}")

    async def press_any(self) -> None:
        [option] = self.menu["options"]
        await self._act(self.wx.choose(self.openid, option["id"]))


async def _drive(wx: WeChatEmulatorClient, n: int, concurrency: int, kind: str) -> WxRunResult:
    latencies: dict[str, list[float]] = defaultdict(list)
    answers: dict[str, list[float]] = defaultdict(list)
    failed = late = 0
    gate = asyncio.Semaphore(concurrency)

    async def timed(c: WxCandidate, step: str, act: Callable[[], Awaitable[None]]) -> None:
        began = time.perf_counter()
        await act()
        latencies[step].append(time.perf_counter() - began)
        answers[step].append(c.answer_s)

    async def one(i: int) -> None:
        nonlocal failed, late
        async with gate:
            c = WxCandidate(wx, openid(i))
            try:
                await timed(c, "start", c.start)
                for step, label in STEPS[1:]:
                    if kind == "bot":
                        assert label is not None
                        await timed(c, step, lambda label=label: c.press(label))
                    else:
                        await timed(c, step, c.press_any)
            except Exception as err:
                failed += 1
                if failed <= 3:
                    print(f"  candidate {i} failed: {err}", file=sys.stderr)
            late += c.late

    began = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - began
    updates = sum(len(v) for v in latencies.values())
    return WxRunResult(updates / elapsed, dict(latencies), dict(answers), failed, late_pushes=late)


async def wechat_run(kind: str, template: Path, n: int, concurrency: int, now: Any) -> WxRunResult:
    work = Path(tempfile.mkdtemp(prefix="cetbot-chat-wechat-"))
    emulator = await start_emulator(port=0, default_token=TOKEN)
    port = _free_port()
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    db_path = work / "bench.db"
    shutil.copy(template, db_path)
    loop = asyncio.get_running_loop()

    async def receive() -> Any:
        return await loop.run_in_executor(None, parent.recv)

    process = None
    try:
        async with emulator.wechat_client() as wx:
            account = await wx.configure(
                url=f"http://127.0.0.1:{port}/wechat", mode="safe", msgmenu=True
            )
            process = ctx.Process(
                target=_serve_in_child,
                args=(child, kind, account),
                kwargs={
                    "emulator_url": emulator.url,
                    "port": port,
                    "db_path": str(db_path),
                    "data_dir": str(work / "data"),
                    "now": now,
                },
            )
            process.start()
            assert await receive() == "ready"
            parent.send("begin")
            assert await receive() == "begun"
            cpu_before = process_cpu(process.pid or 0)
            result = await _drive(wx, n, concurrency, kind)
            cpu = process_cpu(process.pid or 0) - cpu_before
            parent.send("end")
            await receive()
            updates = sum(len(v) for v in result.latencies.values())
            result.cpu_ms_per_update = cpu * 1000 / max(updates, 1)
        await loop.run_in_executor(None, process.join, 30)
    finally:
        if process is not None and process.is_alive():
            process.kill()
        await emulator.stop()
        shutil.rmtree(work, ignore_errors=True)
    return result


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def table(bot: list[WxRunResult], echo: list[WxRunResult]) -> str:
    b = sorted(bot, key=lambda r: r.updates_per_s)[len(bot) // 2]
    e = sorted(echo, key=lambda r: r.updates_per_s)[len(echo) // 2]
    lines = [
        f"## wechat (safe mode, menu messages): {len(bot)} runs, median run shown",
        "",
        "| step | bot p50 ms | bot p99 ms | push answer p99 ms | echo p50 ms | echo p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for step, _ in STEPS:
        lines.append(
            f"| {step} | {_pct(b.latencies.get(step, []), 0.5) * 1000:.1f}"
            f" | {_pct(b.latencies.get(step, []), 0.99) * 1000:.1f}"
            f" | {_pct(b.answers.get(step, []), 0.99) * 1000:.1f}"
            f" | {_pct(e.latencies.get(step, []), 0.5) * 1000:.1f}"
            f" | {_pct(e.latencies.get(step, []), 0.99) * 1000:.1f} |"
        )
    all_answers = [x for v in b.answers.values() for x in v]
    bot_rates = [r.updates_per_s for r in bot]
    echo_rates = [r.updates_per_s for r in echo]
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
        f"| server process CPU ms/update (median) | {bot_cpu:.2f} | {echo_cpu:.2f} |",
        f"| push answer p99 ms, all steps (median run) | "
        f"{_pct(all_answers, 0.99) * 1000:.0f} | - |",
        f"| push answer max ms (median run) | {max(all_answers or [0]) * 1000:.0f} | - |",
        f"| pushes retried by WeChat (no answer in 5 s) | {sum(r.late_pushes for r in bot)} "
        f"| {sum(r.late_pushes for r in echo)} |",
        f"| failed candidates | {sum(r.failed for r in bot)} | {sum(r.failed for r in echo)} |",
    ]
    return "\n".join(lines)


async def main(candidates: int, concurrency: int, runs: int, now: Any) -> None:
    work = Path(tempfile.mkdtemp(prefix="cetbot-chat-wechat-template-"))
    try:
        template = work / "template.db"
        began = time.perf_counter()
        from bench.chat import build_template  # its candidates, bound to WeChat users

        await build_template(template, candidates, "wechat", _wechat_user)
        print(
            f"wechat: {candidates} candidates, concurrency {concurrency}, {len(STEPS)} updates "
            f"each; setup {time.perf_counter() - began:.1f}s"
        )
        bot, echo = [], []
        for run in range(runs):
            bot.append(await wechat_run("bot", template, candidates, concurrency, now))
            print(f"  wechat bot run {run + 1}: {bot[-1].updates_per_s:.0f} updates/s", flush=True)
            echo.append(await wechat_run("echo", template, candidates, concurrency, now))
            print(
                f"  wechat echo run {run + 1}: {echo[-1].updates_per_s:.0f} updates/s", flush=True
            )
        print()
        print(table(bot, echo))
    finally:
        shutil.rmtree(work, ignore_errors=True)
