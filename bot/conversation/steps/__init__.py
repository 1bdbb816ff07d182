"""The step handlers and screens of every flow, registered into `bot.conversation.context`."""

from __future__ import annotations

from functools import cache


@cache
def load() -> None:
    """Imports every step module once, so their handlers register themselves."""
    from bot.conversation.steps import (  # noqa: F401
        account,
        admin,
        eligibility,
        entries,
        info,
        main,
        quick,
        waitlist,
    )
