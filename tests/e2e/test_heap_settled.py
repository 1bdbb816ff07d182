"""`cetbot run` settles its heap once started (foundation/heap.py, issue 17): what is alive
then lives as long as the process, so the cyclic collector stops walking it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from pathlib import Path

from bot.app import serve
from emulator.server import RunningEmulator
from foundation import heap
from foundation.settings import Settings
from tests.conftest import TEST_PAYMENT_SECRET
from tests.e2e.conftest import TOKEN


async def test_cetbot_run_freezes_what_is_alive_once_started(
    emulator: RunningEmulator, sqlite_url: str, tmp_path: Path
) -> None:
    assert gc.get_freeze_count() == 0, "another test left the heap frozen"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=TOKEN,
        telegram_api_url=emulator.url,
        database_url=sqlite_url,
        payment_secret=TEST_PAYMENT_SECRET,
        data_dir=tmp_path / "data",
    )
    said: list[str] = []
    running = asyncio.create_task(
        serve(
            settings,
            listen="127.0.0.1",
            port=0,
            worker=False,
            callback_port=0,
            notice=lambda key, _args: said.append(key),
        )
    )
    try:
        for _ in range(400):
            if gc.get_freeze_count() or running.done():
                break
            await asyncio.sleep(0.05)
        if running.done():
            running.result()
        assert "run-worker-off" in said
        assert gc.get_freeze_count() > 0
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        gc.unfreeze()  # this test process goes on making and dropping apps


def test_settle_collects_then_freezes() -> None:
    assert gc.get_freeze_count() == 0
    try:
        assert heap.settle() == gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0


def _collections_while_making(objects: int) -> list[int]:
    """The generations collected while `objects` lists are made and kept alive (as the
    objects of the updates in flight are), one list per collection."""
    collected: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collected.append(info["generation"])

    kept: list[list[int]] = []
    gc.collect()
    gc.callbacks.append(seen)
    try:
        for _ in range(objects):
            kept.append([])
    finally:
        gc.callbacks.remove(seen)
    return collected


def test_settle_makes_young_collections_rare() -> None:
    # Each young collection walks every young object alive (in a rush: the updates in
    # flight), so after settling they come once per YOUNG_THRESHOLD objects, not per 700.
    made = 100_000
    before = _collections_while_making(made)
    assert len(before) >= made // 700 - 1  # Python's default: one per 700 objects
    try:
        heap.settle()
        after = _collections_while_making(made)
    finally:
        gc.unfreeze()
    assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD
    assert len(after) <= made // heap.YOUNG_THRESHOLD + 1
    assert after.count(2) == 0  # no full pass over the heap for these
