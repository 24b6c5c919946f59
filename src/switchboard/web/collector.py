"""Garbage-collector settings for a serving process.

A request allocates thousands of short-lived containers (coroutines, dicts, rows); with CPython's
default young-generation threshold (700) the collector ran several times per request and took about
a fifth of intake's CPU per message (``bench/intake_asgi.py``: 0.58–0.62 → 0.47 ms on SQLite).
"""

from __future__ import annotations

import gc

THRESHOLDS = (20_000, 20, 20)  # young generation every 20,000 net allocations; older ones as rarely


def settle() -> None:
    """Once the app is built: everything imported so far lives as long as the process, so full
    collections need not walk it again (``freeze``), and the young generation is collected less often."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
