"""`cetbot run --processes N`: N webhook processes on one port (SO_REUSEPORT), one supervisor.

Why a forking supervisor and not a shell script: the children share nothing but the
listening port (each binds it with SO_REUSEPORT, so the kernel spreads connections
over them) and the database; a supervisor in Python can refuse the setups that would
break that (SQLite, long polling), restarts a child that dies, and stops them all on
SIGTERM/SIGINT, the same under systemd, Docker or a terminal.

Order per user across processes needs nothing here: Telegram (and the emulator) sends a
chat's next update only once the previous one was answered, the webhook answers after
the update's replies are out (`bot/app.py`), and the conversation row lock serializes
whatever overlaps anyway (a retried delivery; `processed_updates` drops the duplicate).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# A child that dies is started again, but not in a tight loop.
RESTART_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0)
# A child that keeps dying this often in this long means a configuration error: give up.
MAX_RESTARTS = 5
RESTART_WINDOW = 60.0


class ClusterRefused(ValueError):
    """The settings cannot run several processes (the reason is a message key)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def check_cluster(processes: int, *, webhook: bool, sqlite: bool) -> None:
    """Several processes need webhook mode (one getUpdates consumer per bot) and PostgreSQL."""
    if processes < 1:
        raise ClusterRefused("cluster-bad-count")
    if processes == 1:
        return
    if not webhook:
        raise ClusterRefused("cluster-needs-webhook")
    if sqlite:
        raise ClusterRefused("cluster-needs-postgresql")


@dataclass
class Supervisor:
    """Forks `processes` children that each call `child()`; restarts, stops them."""

    processes: int
    child: Callable[[int], int]  # gets its index, returns the exit code
    children: dict[int, int] = field(default_factory=dict)  # pid -> index
    restarts: list[float] = field(default_factory=list)
    stopping: bool = False

    def _fork(self, index: int) -> None:
        pid = os.fork()
        if pid == 0:  # the child: default signal handling, run, never return
            code = 1
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                code = self.child(index)
            finally:
                os._exit(code)
        self.children[pid] = index

    def _stop(self, signum: int, _frame: object) -> None:
        self.stopping = True
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def run(self) -> int:
        """Until SIGTERM/SIGINT (then every child gets SIGTERM) or all children have ended."""
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        worst = 0
        try:
            for first in range(self.processes):
                self._fork(first)
            while self.children:
                try:
                    pid, status = os.wait()
                except ChildProcessError:
                    break
                except InterruptedError:
                    continue
                index = self.children.pop(pid, None)
                if index is None:
                    continue
                code = os.waitstatus_to_exitcode(status)
                if self.stopping or code == 0:
                    worst = max(worst, abs(code) if code not in (-signal.SIGTERM,) else 0)
                    continue
                now = time.monotonic()
                self.restarts = [t for t in self.restarts if now - t < RESTART_WINDOW]
                if len(self.restarts) >= MAX_RESTARTS:
                    worst = max(worst, abs(code) or 1)
                    self._stop(signal.SIGTERM, None)
                    continue
                delay = RESTART_DELAYS[min(len(self.restarts), len(RESTART_DELAYS) - 1)]
                self.restarts.append(now)
                time.sleep(delay)
                if not self.stopping:
                    self._fork(index)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return worst
