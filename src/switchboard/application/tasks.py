"""Waiting with a limit and stopping a task, without losing a cancel.

On Python 3.11 ``asyncio.wait_for`` swallows a cancel that lands just as the awaited thing completes:
it returns the result instead of raising. A worker's loop cancelled at that moment goes on forever and
``await task`` in its ``stop`` never returns; that hung the test suite in a fixture's teardown.
``within`` is ``asyncio.timeout``, which keeps the cancel; ``stop_task`` cancels again until the task
ends, because a library below us may still lose one, and gives up after its patience rather than hang.

A worker's loop is told to stop and ends between rounds (``Loop``); it is cancelled only when it is
stuck past a grace. A cancel that lands in a database statement lands in SQLAlchemy's and aiosqlite's
clean-up of the connection, and a cancel there can leave a future nobody settles.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


async def within(seconds: float | None, awaitable: Awaitable[T]) -> T:
    """``asyncio.wait_for`` that never swallows a cancel; raises ``TimeoutError`` past ``seconds``."""
    async with asyncio.timeout(seconds):
        return await awaitable


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Whether the event was set within ``seconds``."""
    try:
        return await within(seconds, event.wait())
    except TimeoutError:
        return False


async def stop_task(task: asyncio.Task[object] | None, *, patience: float = 10.0, every: float = 0.5) -> None:
    """Cancel ``task`` and wait for it to end, cancelling again if a cancel was lost on the way.

    A task that outlives ``patience`` is logged and left behind: a stop that hangs is worse."""
    if task is None:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=min(every, max(0.0, deadline - loop.time())))
        if not task.done() and loop.time() >= deadline:
            log.error("task did not stop", extra={"task": task.get_name(), "patience_s": patience})
            return
    if not task.cancelled() and task.exception() is not None:
        log.error("task ended with an error", extra={"task": task.get_name()}, exc_info=task.exception())


class Loop:
    """A worker's background loop that stops between rounds: its body checks ``running`` and waits with
    ``pause`` (which ends at once on stop) instead of ``asyncio.sleep``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self, body: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.stopping.clear()
        self._task = asyncio.create_task(body(), name=self.name)

    @property
    def running(self) -> bool:
        return not self.stopping.is_set()

    async def pause(self, seconds: float) -> None:
        await wait_event(self.stopping, seconds)

    async def stop(self, grace: float = 5.0) -> None:
        """Let the round in progress end, then cancel only what is still running after ``grace``."""
        self.stopping.set()
        task, self._task = self._task, None
        if task is None:
            return
        await asyncio.wait({task}, timeout=grace)
        await stop_task(task)
