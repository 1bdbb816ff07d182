"""Attempt limits kept in the database (rate_events), shared by every process and read
off the injected clock: quick print (R39), account recovery, reset codes, sign-in.

Two policies over the same rows:

- `check_and_count`: a sliding window; at most `limit` attempts of a key in `window`
  (every attempt counts, hits and misses alike).
- `check_backoff` / `count_failure`: failures only; after `free` failures in the
  window each further one doubles the wait since the latest failure (1, 2, 4... minutes,
  capped), so a guesser slows down fast while a person who mistypes twice never waits.

Keys carry a digest of personal values (ID numbers, e-mail addresses), never the value.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from registration import errors

if TYPE_CHECKING:
    from foundation.clock import Clock
    from storage.db import UnitOfWork

__all__ = [
    "Backoff",
    "Window",
    "check_and_count",
    "check_backoff",
    "clear",
    "count_failure",
    "key",
    "prune",
]


@dataclass(frozen=True, slots=True)
class Window:
    """At most `limit` attempts of one key within a sliding `span`."""

    prefix: str
    span: timedelta
    limit: int


@dataclass(frozen=True, slots=True)
class Backoff:
    """`free` failures within `span`, then a wait doubling from `first_wait` up to `max_wait`."""

    prefix: str
    span: timedelta
    free: int
    first_wait: timedelta
    max_wait: timedelta

    def wait_after(self, failures: int) -> timedelta:
        """How long to wait after the latest of `failures` failures (zero while free)."""
        if failures < self.free:
            return timedelta(0)
        doubled = self.first_wait * 2 ** min(failures - self.free, 30)
        return min(doubled, self.max_wait)


def key(prefix: str, kind: str, value: str) -> str:
    """A rate key for `value` (a chat, an ID number, an address), as a digest."""
    return f"{prefix}:{kind}:" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


def _minutes_until(free_at: datetime, now: datetime) -> int:
    return max(1, math.ceil((free_at - now).total_seconds() / 60))


async def check_and_count(
    uow: UnitOfWork, now: datetime, window: Window, keys: Sequence[tuple[str, int]]
) -> None:
    """Refuses (TooManyRequests) when any key is at its limit in the window; else counts
    one attempt for each. `keys` are (key, limit) pairs; the limit overrides the window's."""
    since = now - window.span
    for rate_key, limit in keys:
        count, oldest = await uow.tickets.rate_events_since(rate_key, since)
        if count >= limit:
            free_at = (oldest or now) + window.span
            raise errors.TooManyRequests(minutes=_minutes_until(free_at, now))
    for rate_key, _limit in keys:
        await uow.tickets.add_rate_event(rate_key, now)


async def check_backoff(
    uow: UnitOfWork, now: datetime, policy: Backoff, keys: Sequence[str]
) -> timedelta:
    """The longest wait any key still has to sit out (zero: go ahead). Counts nothing."""
    longest = timedelta(0)
    for rate_key in keys:
        failures, latest = await uow.tickets.rate_events_latest(rate_key, now - policy.span)
        if latest is None:
            continue
        remaining = latest + policy.wait_after(failures) - now
        longest = max(longest, remaining)
    return longest


async def count_failure(uow: UnitOfWork, now: datetime, keys: Sequence[str]) -> None:
    for rate_key in keys:
        await uow.tickets.add_rate_event(rate_key, now)


async def clear(uow: UnitOfWork, rate_key: str) -> None:
    """Forgets every counted event of a key (a proven owner lifts their account's lock)."""
    await uow.tickets.delete_rate_events(rate_key)


async def prune(uow: UnitOfWork, clock: Clock) -> int:
    """Deletes counted events older than their policy's window; for the background worker."""
    now = clock.now()
    pruned = 0
    for policy in POLICIES:
        pruned += await uow.tickets.prune_rate_events(now - policy.span, f"{policy.prefix}:")
    # Keys of no policy (retired ones): whatever is older than the longest window.
    pruned += await uow.tickets.prune_rate_events(now - max(p.span for p in POLICIES))
    return pruned


# --- the policies in use (the limits themselves live here, so pruning knows them all) ---

# R39: quick print, per chat user (this limit) and per ID number (QUICK_PRINT_PER_ID_NUMBER).
QUICK_PRINT: Final = Window("quick-print", timedelta(hours=1), 5)
QUICK_PRINT_PER_ID_NUMBER: Final = 10
# R10: account recovery names a person by ID number: the same limits as quick print.
RECOVERY: Final = Window("recover", timedelta(hours=1), 5)
RECOVERY_PER_ID_NUMBER: Final = 10
# R10: password-reset codes a chat may ask for (any addresses) in an hour.
RESET_CODES: Final = Window("reset-code", timedelta(hours=1), 3)
# R8: wrong passwords, per account (whichever chats) and per chat (whichever accounts):
# five free, then 1, 2, 4 ... minutes after the latest failure, at most a day; a
# failure older than a day no longer counts.
SIGN_IN: Final = Backoff(
    "sign-in",
    span=timedelta(days=1),
    free=5,
    first_wait=timedelta(minutes=1),
    max_wait=timedelta(days=1),
)
POLICIES: Final[tuple[Window | Backoff, ...]] = (QUICK_PRINT, RECOVERY, RESET_CODES, SIGN_IN)
