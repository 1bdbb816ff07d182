"""The one retry policy for Bot API calls, shared by the aiogram and the PTB adapter."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Outcome(StrEnum):
    """What a failed call means for us; each adapter maps its library's exceptions to one."""

    RETRY_AFTER = "retry-after"  # 429: Telegram names the wait
    TRANSIENT = "transient"  # 5xx, HTML error page, no connection: surely not carried out
    # No answer after the request went out (read timeout, connection dropped): Telegram may
    # have carried it out. Retried only for calls that are harmless twice (edit, answer,
    # delete); a send is not repeated blindly (seen: a reply sent twice by a slow Telegram).
    UNCERTAIN = "uncertain"
    BLOCKED = "blocked"  # 403: the user blocked the bot (or deleted the account)
    NOT_MODIFIED = "not-modified"  # an edit that changes nothing: the message already shows it
    NOT_FOUND = "not-found"  # the message to edit or delete is gone, or cannot be edited
    FAILED = "failed"  # anything else (a bad request): retrying cannot help


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    retry_after: float = 0.0
    detail: str = ""


class CallFailed(Exception):
    """A call that did not succeed and will not be retried (again)."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(f"{verdict.outcome}: {verdict.detail}")
        self.verdict = verdict


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Measured: neither aiogram 3 nor PTB 22 retry by default, so replies were lost.

    `backoff` gives the pauses between tries after transient failures (so at most
    len(backoff) + 1 tries); 429 waits exactly `retry_after`, up to `max_flood_waits` times,
    and gives up when Telegram asks for more than `max_retry_after` seconds (the user is
    better served by an error in the log than by a reply minutes late).
    """

    backoff: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0)
    max_flood_waits: int = 5
    max_retry_after: float = 120.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    classify: Callable[[BaseException], Verdict],
    policy: RetryPolicy,
    *,
    what: str,
    idempotent: bool = True,
) -> T:
    """Run `call` until it succeeds; raise CallFailed when it must not or cannot be retried.

    `idempotent=False` (a send): an UNCERTAIN failure is final, since the first call may
    have gone through."""
    transient_failures = 0
    flood_waits = 0
    while True:
        try:
            return await call()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            verdict = classify(exc)
            if verdict.outcome is Outcome.RETRY_AFTER:
                flood_waits += 1
                if flood_waits > policy.max_flood_waits or (
                    verdict.retry_after > policy.max_retry_after
                ):
                    log.warning(
                        "%s: giving up after 429 (retry_after=%s)", what, verdict.retry_after
                    )
                    raise CallFailed(verdict) from exc
                log.info("%s: 429, waiting %.1f s as Telegram asks", what, verdict.retry_after)
                await policy.sleep(verdict.retry_after)
                continue
            if verdict.outcome is Outcome.UNCERTAIN and not idempotent:
                log.warning("%s: no answer, maybe carried out; not sent again: %s", what, exc)
                raise CallFailed(verdict) from exc
            if verdict.outcome in (Outcome.TRANSIENT, Outcome.UNCERTAIN):
                if transient_failures >= len(policy.backoff):
                    log.warning(
                        "%s: giving up after %d tries: %s", what, transient_failures + 1, exc
                    )
                    raise CallFailed(verdict) from exc
                pause = policy.backoff[transient_failures]
                transient_failures += 1
                log.info(
                    "%s: %s, retry %d in %.1f s", what, verdict.detail, transient_failures, pause
                )
                await policy.sleep(pause)
                continue
            raise CallFailed(verdict) from exc
