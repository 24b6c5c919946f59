"""A test that runs past its limit shows who waits on what, then ends the run, instead of hanging CI.

A hang in an async test is a task waiting on a future nobody will settle; a thread dump shows only the
loop idle in ``select``. So the dump also prints every asyncio task's stack and the future it waits on.
``SIGUSR1`` prints the same dump on demand (``kill -USR1 <pytest pid>``) without stopping anything.

The limit is ``SWITCHBOARD_TEST_LIMIT`` seconds per test, setup and teardown included (default 300).
"""

from __future__ import annotations

import asyncio
import faulthandler
import gc
import inspect
import os
import signal
import sys
import threading
import time
from collections.abc import Generator, Iterator
from types import FrameType
from typing import TextIO

import pytest

LIMIT = float(os.environ.get("SWITCHBOARD_TEST_LIMIT", "300"))
GRACE = 30.0


def running_loops() -> list[asyncio.AbstractEventLoop]:
    return [o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop) and o.is_running()]


def awaiting(coroutine: object) -> Iterator[FrameType]:
    """The frames of a coroutine and of everything it awaits, outermost first (``Task.print_stack`` shows
    only the outermost). An ``async for``/``__anext__`` hides its generator; it is found in the frame's locals."""
    seen: set[int] = set()
    current: object = coroutine
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frame = getattr(current, "cr_frame", None) or getattr(current, "ag_frame", None)
        frame = frame or getattr(current, "gi_frame", None)
        if frame is not None:
            yield frame
        following = getattr(current, "cr_await", None) or getattr(current, "ag_await", None)
        following = following or getattr(current, "gi_yieldfrom", None)
        if following is not None and frame is not None and not hasattr(following, "cr_frame"):
            running = [v for v in frame.f_locals.values() if inspect.isasyncgen(v) and v.ag_running]
            following = running[0] if running else following
        current = following


def dump(out: TextIO, why: str) -> None:
    """Threads' stacks, then each running loop's tasks with the future each one waits on."""
    print(f"\n===== watchdog: {why} =====", file=out, flush=True)
    faulthandler.dump_traceback(file=out, all_threads=True)
    for loop in running_loops():
        tasks = list(asyncio.all_tasks(loop))
        print(f"----- {len(tasks)} asyncio tasks of {loop!r} -----", file=out)
        for task in tasks:
            print(f"* {task.get_name()} waits on {getattr(task, '_fut_waiter', None)!r}", file=out)
            for frame in awaiting(task.get_coro()):
                print(f"    {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}", file=out)
    print("===== end of watchdog dump =====", file=out, flush=True)


class Watchdog:
    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.deadline: float | None = None
        self.test = ""
        self.config: pytest.Config | None = None
        self.thread = threading.Thread(target=self.watch, name="test-watchdog", daemon=True)

    def watch(self) -> None:
        while True:
            time.sleep(1.0)
            deadline = self.deadline
            if deadline is None or time.monotonic() < deadline:
                continue
            self.dump(f"{self.test} ran past {self.limit:.0f} s")
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
            time.sleep(GRACE)
            print("watchdog: the run did not end after the interrupt; exiting", file=sys.__stderr__, flush=True)
            os._exit(3)

    def dump(self, why: str) -> None:
        """Printed past pytest's capture of the standard streams, which would otherwise swallow it."""
        capture = self.config.pluginmanager.getplugin("capturemanager") if self.config else None
        if capture is None:
            dump(sys.__stderr__, why)
            return
        with capture.global_and_fixture_disabled():
            dump(sys.__stderr__, why)


WATCHDOG = Watchdog(LIMIT)


def pytest_configure(config: pytest.Config) -> None:
    WATCHDOG.config = config
    if not WATCHDOG.thread.is_alive():
        WATCHDOG.thread.start()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGUSR1, lambda *_: WATCHDOG.dump("SIGUSR1"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    WATCHDOG.test = item.nodeid
    WATCHDOG.deadline = time.monotonic() + WATCHDOG.limit
    try:
        yield
    finally:
        WATCHDOG.deadline = None
