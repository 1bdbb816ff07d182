"""The counting helpers of bench/chat.py and bench/cpu.py (counts and shares, never timings)."""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys

from bench.chat import RunResult, pair_ratios, updates_per_answer
from bench.cpu import open_sockets, preemptions, run_queue_wait, split_cores


def test_updates_per_answer_leaves_out_the_empty_answers() -> None:
    assert updates_per_answer(delivered=1400, polls=260, empty=10) == 5.6
    assert updates_per_answer(delivered=7, polls=7, empty=0) == 1.0
    assert math.isnan(updates_per_answer(delivered=0, polls=3, empty=3))
    assert math.isnan(updates_per_answer(delivered=0, polls=0, empty=0))


def test_a_run_result_gives_its_batch_size() -> None:
    run = RunResult(100.0, delivered=1400, polls=255, empty_polls=5)
    assert run.batch == 5.6


def test_pair_ratios_divide_each_echo_run_by_the_bot_run_before_it() -> None:
    assert pair_ratios([8.0, 5.0, 4.0], [6.0, 5.0, 5.0]) == [0.75, 1.0, 1.25]
    assert pair_ratios([0.0, 2.0], [1.0, 1.0]) == [0.5]


def test_a_run_is_undisturbed_only_below_the_share() -> None:
    assert RunResult(1.0, waited_share=0.05).undisturbed
    assert not RunResult(1.0, waited_share=0.5).undisturbed
    assert not RunResult(1.0).undisturbed  # not measured


def test_split_cores_gives_the_last_core_to_the_process_under_test() -> None:
    assert split_cores({0, 1}) == ({1}, {0})
    assert split_cores([3, 0, 2, 1]) == ({3}, {0, 1, 2})
    assert split_cores({5}) is None
    assert split_cores(set()) is None


def test_preemptions_and_run_queue_wait_read_a_live_process_and_a_gone_one() -> None:
    assert preemptions(os.getpid()) >= 0
    assert run_queue_wait(os.getpid()) >= 0.0
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(gone.stdout)
    assert preemptions(pid) == 0
    assert run_queue_wait(pid) == 0.0
    assert open_sockets(pid) == 0


def test_open_sockets_counts_the_sockets_a_process_holds() -> None:
    before = open_sockets(os.getpid())
    pair = socket.socketpair()
    try:
        assert open_sockets(os.getpid()) == before + 2
    finally:
        for end in pair:
            end.close()
    assert open_sockets(os.getpid()) == before


def test_a_run_result_averages_its_socket_samples() -> None:
    assert RunResult(1.0, sockets=[4, 6, 8]).mean_sockets == 6
    assert math.isnan(RunResult(1.0).mean_sockets)


def test_ptb_pool_caps_the_connections_of_every_application_built_after_it() -> None:
    # In a process of its own: the cap replaces ApplicationBuilder.build for the process.
    script = (
        "from bench.chat import _cap_ptb_pool\n"
        "from telegram.ext import Application\n"
        "def pool():\n"
        "    app = Application.builder().token('1:x').build()\n"
        "    return app.bot.request._client_kwargs['limits'].max_connections\n"
        "before = pool()\n"
        "_cap_ptb_pool(3)\n"
        "print(before, pool())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=os.environ
    )
    assert done.stdout.split() == ["256", "3"]
