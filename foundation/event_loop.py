"""The event loop the long-running commands serve on: uvloop where it is installed.

Every chat update crosses several sockets: the webhook's request, each database round
trip (about ten per update on PostgreSQL) and each Bot API call. The stock asyncio loop
spends its CPU on each of them in Python (selector, transport, callbacks); uvloop, on
libuv, does that part in C. Measured in `bench/rush.py` (issue 17, docs/performance.md),
it takes a share off the bot's and the worker's CPU per update; nothing else changes:
asyncio's own API, the same libraries (aiohttp, asyncpg, aiogram, PTB).

`CETBOT_EVENT_LOOP=asyncio` keeps the stock loop (for a platform without uvloop, or to
rule the loop out when chasing a fault). Tests run on pytest's own asyncio loop, so the
product's code must never depend on which loop it runs on.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

CHOICES = ("uvloop", "asyncio")


class UnknownLoop(ValueError):
    """CETBOT_EVENT_LOOP names no loop this module knows."""

    def __init__(self, name: str) -> None:
        super().__init__(f"CETBOT_EVENT_LOOP must be one of {', '.join(CHOICES)}, not {name!r}")
        self.name = name


def loop_factory(choice: str | None = None) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The factory of the chosen loop (`choice`; None: the `CETBOT_EVENT_LOOP` environment
    variable; blank: uvloop), or None for asyncio's own. uvloop chosen but not installed:
    asyncio's, said in the log. (`cetbot` passes the value read with its settings, so a
    `.env` file may set it too.)"""
    wanted = (choice if choice is not None else os.environ.get("CETBOT_EVENT_LOOP", "")).strip()
    wanted = wanted.lower() or "uvloop"
    if wanted not in CHOICES:
        raise UnknownLoop(wanted)
    if wanted == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        log.warning("uvloop is not installed: serving on asyncio's own event loop")
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run(main: Coroutine[Any, Any, T], *, choice: str | None = None) -> T:
    """`asyncio.run(main)` on the chosen loop (see `loop_factory`)."""
    try:
        factory = loop_factory(choice)
    except UnknownLoop:
        main.close()  # never awaited: no "coroutine was never awaited" warning
        raise
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
