"""The long-lived processes' heap: what the garbage collector need not look at again.

A full collection walks every object the process holds. After start-up that is mostly
what never becomes garbage: the modules, aiogram's and pydantic's models and schemas,
SQLAlchemy's tables and compiled statements, the Fluent bundles. In the registration rush
the bot process spent about a fifth of its CPU in the collector, most of it in a dozen
full collections over a heap of a few hundred thousand such objects (issue 17, seventh
round, docs/performance.md). `settle_startup_heap` moves what start-up built to the
collector's permanent generation (`gc.freeze`): later collections only walk what was
made after it. Nothing is freed any later than before unless it was garbage already at
start-up and held in a reference cycle, which the collection run first rules out.
"""

from __future__ import annotations

import gc


def settle_startup_heap() -> None:
    """Collect once, then keep everything that survived out of later collections."""
    gc.collect()
    gc.freeze()
