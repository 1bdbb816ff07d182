"""`bench/rush.py --timeline`: where each step's latency goes, and what ran meanwhile.

For every step, over the candidates that finished it:

* its latency split into the wait in the emulator's queue (update queued -> the webhook
  delivery started; Telegram's side, bounded by max_connections) and the delivery
  (started -> answered: the bot's own time, including its wait for a core and for the
  database);
* the cores each process kept busy while the step was in flight, from /proc sampled every
  `interval` seconds: the bot processes (or the echo), the worker, the payment sandbox, the
  PostgreSQL backends of the rush database and this process (emulator and candidates).

A step whose delivery is short but whose queue wait is long waits behind other updates;
one whose share of the cores goes to the worker or the sandbox competes with the
payments in flight.
"""

from __future__ import annotations

import asyncio
import bisect
import os
import statistics
import time
from dataclasses import dataclass, field

from bench.cpu import postgres_backend_pids, process_cpu, tree_pids

ROLES = ("bot", "worker", "sandbox", "db", "bench")


@dataclass
class Sampler:
    """Cumulative CPU seconds of each role at each sample time (perf_counter)."""

    pids: dict[str, list[int]]
    interval: float = 0.2
    times: list[float] = field(default_factory=list)
    cpu: dict[str, list[float]] = field(default_factory=lambda: {r: [] for r in ROLES})

    @classmethod
    def of(cls, roots: dict[str, list[int]], database: str | None) -> Sampler:
        """The process trees under `roots` (role -> pids), the database's backends, this
        process; the pids are taken once (the bench's processes are up by then)."""
        pids = {role: [p for root in rs for p in tree_pids(root)] for role, rs in roots.items()}
        pids["db"] = postgres_backend_pids(database) if database else []
        pids["bench"] = [os.getpid()]
        return cls(pids)

    def sample(self) -> None:
        self.times.append(time.perf_counter())
        for role in ROLES:
            self.cpu[role].append(sum(process_cpu(p) for p in self.pids.get(role, [])))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sample()
            try:
                await asyncio.wait_for(stop.wait(), self.interval)
            except TimeoutError:
                pass
        self.sample()

    def at(self, role: str, t: float) -> float:
        """Cumulative CPU seconds of `role` at `t`, interpolated between samples."""
        ts, cs = self.times, self.cpu[role]
        i = bisect.bisect_left(ts, t)
        if i <= 0:
            return cs[0]
        if i >= len(ts):
            return cs[-1]
        span = ts[i] - ts[i - 1]
        share = (t - ts[i - 1]) / span if span > 0 else 1.0
        return cs[i - 1] + (cs[i] - cs[i - 1]) * share


def report(
    spans: list[tuple[str, float, float, list[int]]],
    times: dict[int, list[float]],
    sampler: Sampler,
    order: tuple[str, ...],
) -> list[str]:
    """One line per step: p50 latency, mean queue wait and delivery, cores per role."""
    lines = [
        f"{'step':<9} {'n':>4} {'p50 ms':>7} {'queue ms':>8} {'deliv ms':>8}   cores busy "
        + " ".join(f"{r:>7}" for r in ROLES)
    ]
    for name in order:
        mine = [s for s in spans if s[0] == name]
        if not mine:
            continue
        latency = statistics.median(end - start for _, start, end, _ in mine)
        waits = [times[u] for *_, uids in mine for u in uids if u in times]
        queue = statistics.fmean(t[1] - t[0] for t in waits) if waits else 0.0
        deliver = statistics.fmean(t[2] - t[1] for t in waits) if waits else 0.0
        total = sum(end - start for _, start, end, _ in mine)
        cores = [
            sum(sampler.at(r, end) - sampler.at(r, start) for _, start, end, _ in mine) / total
            if total > 0
            else 0.0
            for r in ROLES
        ]
        lines.append(
            f"{name:<9} {len(mine):>4} {latency * 1000:>7.0f} {queue * 1000:>8.0f}"
            f" {deliver * 1000:>8.0f}   {'':>10} " + " ".join(f"{c:>7.2f}" for c in cores)
        )
    return lines
