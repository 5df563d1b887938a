"""Garbage collector tuning, so that p99 latency is not set by collection pauses.

Start-up leaves a few hundred thousand long-lived objects (the schema, the ORM's models,
imported modules). Every full collection walks them all; frozen, they are skipped. A larger
first-generation threshold lets the short-lived garbage of a request die young without a
collection per few hundred allocations.
"""

from __future__ import annotations

import gc

# Allocations between young collections (CPython's default is 700).
YOUNG_THRESHOLD = 50_000


def tune_after_start_up() -> None:
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
