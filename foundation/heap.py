"""The heap of a long-running process, settled once the process has started.

A bot process holds some 340,000 objects before its first update (the FAQ index, the
locales, SQLAlchemy's tables and compiled statements, the Bot API models). None of them
ever becomes garbage, yet each full pass of Python's cyclic collector walks all of them:
measured in `bench/chat.py` (issue 17), each pass cost about 0.24 s of CPU, and a run's
passes about a fifth of the bot's CPU per update. `settle` collects once, then moves
every object alive to the collector's permanent generation (`gc.freeze`): reference
counting still frees them, the cyclic collector no longer walks them. Objects made
afterwards (the updates, the replies) are collected as before.

It also makes the youngest generation's collections rarer (`YOUNG_THRESHOLD` container
objects made and not yet freed, against Python's 700). A young collection walks every
young object still alive: in a rush these are the objects of the updates in flight (each
waits on the database or the Bot API while others run), so a collection's cost grows
with how many updates are in flight, and at 700 one came every few updates. Measured in
`bench/rush.py` (issue 17, tenth round: docs/performance.md), about 0.1 ms of the bot's
collections per update less. Garbage without cycles is still freed at once by reference
counting; cyclic garbage (a few dozen objects per update) waits a little longer.

Called once by `cetbot run` and `cetbot worker` when they have started, just before
they serve; not by libraries or tests, whose processes make and drop many apps.
"""

from __future__ import annotations

import gc

# Container objects made (and not yet freed) between two collections of the youngest
# generation; Python's default is 700. The older generations keep Python's ratios.
YOUNG_THRESHOLD = 20_000


def settle() -> int:
    """Collects once, then freezes what is alive and makes young collections rarer
    (`YOUNG_THRESHOLD`); returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
    return gc.get_freeze_count()
