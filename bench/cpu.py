"""CPU time of processes read from /proc: the stable figure beside throughput on a shared machine.

Throughput on a shared 2-core machine moves +-30% between runs; the CPU seconds a process
spends on a fixed amount of work move far less. The benches read these counters before and
after their timed window and divide by the updates served.

Linux only (/proc). A process that exits inside the window takes its CPU with it (its parent
only sees it once it has been waited for), so the benches keep their processes alive across
the window; PostgreSQL backends live as long as the pooled connections do.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (all its threads); 0 if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = stat.rpartition(")")[2].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _TICK


def _parents() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    return parents


def tree_pids(root: int) -> list[int]:
    """The process and every live descendant."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def tree_cpu(roots: Iterable[int]) -> float:
    """CPU seconds of the given processes and all their live descendants."""
    return sum(process_cpu(pid) for root in roots for pid in tree_pids(root))


def postgres_backend_pids(database: str) -> list[int]:
    """PostgreSQL backends serving `database` (their title: 'postgres: ... user database ...')."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        words = title.split()
        if words[:1] == ["postgres:"] and database in words:
            pids.append(int(entry.name))
    return pids


def postgres_cpu(database: str) -> float:
    """CPU seconds of the live backends serving `database`."""
    return sum(process_cpu(pid) for pid in postgres_backend_pids(database))


def preemptions(pid: int) -> int:
    """How often the process's main thread was switched out while it could still run
    (`nonvoluntary_ctxt_switches`): each one is another task taking its core."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    for line in status.splitlines():
        if line.startswith("nonvoluntary_ctxt_switches:"):
            return int(line.split(":")[1])
    return 0


def run_queue_wait(pid: int) -> float:
    """Seconds the process's main thread spent ready to run but waiting for a core
    (/proc/<pid>/schedstat, second field); 0 if the kernel does not keep it."""
    try:
        fields = Path(f"/proc/{pid}/schedstat").read_text().split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return int(fields[1]) / 1e9 if len(fields) > 1 else 0.0


def open_sockets(pid: int) -> int:
    """Sockets the process holds open (its file descriptors that are sockets); 0 if gone."""
    count = 0
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except (FileNotFoundError, ProcessLookupError):
        return 0
    for fd in fds:
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:  # closed between the listing and the reading
            continue
    return count


def split_cores(available: Iterable[int]) -> tuple[set[int], set[int]] | None:
    """One core for the process under test, the others for its driver: (test, driver).

    The highest-numbered core goes to the process under test. None with fewer than two.
    """
    cores = sorted(set(available))
    if len(cores) < 2:
        return None
    return {cores[-1]}, set(cores[:-1])
