"""The heap of a long-running process, settled once the process has started.

A bot process holds some 340,000 objects before its first update (the FAQ index, the
locales, SQLAlchemy's tables and compiled statements, the Bot API models). None of them
ever becomes garbage, yet each full pass of Python's cyclic collector walks all of them:
measured in `bench/chat.py` (issue 17), each pass cost about 0.24 s of CPU, and a run's
passes about a fifth of the bot's CPU per update. `settle` collects once, then moves
every object alive to the collector's permanent generation (`gc.freeze`): reference
counting still frees them, the cyclic collector no longer walks them. Objects made
afterwards (the updates, the replies) are collected as before.

Called once by `cetbot run` and `cetbot worker` when they have started, just before
they serve; not by libraries or tests, whose processes make and drop many apps.
"""

from __future__ import annotations

import gc


def settle() -> int:
    """Collects once, then freezes what is alive; returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
