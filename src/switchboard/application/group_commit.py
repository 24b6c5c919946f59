"""Group commit: requests that arrive while a transaction is being written share the next one.

A database round trip costs far more than the work of one request, so under load the writes of
many concurrent callers go out together: one writer task per process takes everything queued,
writes it in one transaction and answers each caller. With no load a batch is one request and
nothing waits (no timer). The writer exists only while there is work; no lifecycle to manage.
``together_or_alone`` is the writers' shared rule for a batch that fails.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from switchboard.application.ports.storage import StorageUnavailable

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass(slots=True)
class Pending(Generic[Item, Result]):
    item: Item
    future: asyncio.Future[Result]

    @property
    def open(self) -> bool:
        return not self.future.done()

    def answer(self, result: Result) -> None:
        if not self.future.done():
            self.future.set_result(result)

    def fail(self, error: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(error)


Writer = Callable[[list[Pending[Item, Result]]], Awaitable[None]]
Together = Callable[[list[Pending[Item, Result]]], Awaitable[list[Pending[Item, Result]]]]
Alone = Callable[[Item], Awaitable[Result]]


async def together_or_alone(
    batch: list[Pending[Item, Result]], together: Together[Item, Result], alone: Alone[Item, Result]
) -> None:
    """Write a batch in one transaction, else each request on its own.

    ``together`` answers what it stored and returns what it left to be written alone. When it fails
    for any reason but a lost database (a bad request, a uniqueness race with another process),
    nothing of it stays and every request is written alone, so one bad request fails by itself.
    """
    try:
        left = await together(batch)
    except StorageUnavailable as error:
        for pending in batch:
            pending.fail(error)
        return
    except Exception:  # which request spoiled it is found by writing each alone
        left = [pending for pending in batch if pending.open]
    for pending in left:
        try:
            pending.answer(await alone(pending.item))
        except Exception as error:  # the caller's own error, raised in its request
            pending.fail(error)


@dataclass
class GroupCommit(Generic[Item, Result]):
    """``write`` must settle every pending it is given; anything it leaves open fails."""

    max_batch: int = 128
    batches: int = 0  # how many transactions were written (observability, tests)
    _queue: list[Pending[Item, Result]] = field(default_factory=list)
    _writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item, write: Writer[Item, Result]) -> Result:
        loop = asyncio.get_running_loop()
        pending: Pending[Item, Result] = Pending(item, loop.create_future())
        self._queue.append(pending)
        if self._writer is None or self._writer.done():
            # its own context: the batch is nobody's request (logs must not carry the first caller's id)
            self._writer = loop.create_task(self._drain(write), name="group-commit", context=contextvars.Context())
        return await pending.future

    async def _drain(self, write: Writer[Item, Result]) -> None:
        while self._queue:
            batch = [p for p in self._queue[: self.max_batch] if p.open]  # a caller that gave up is not written
            del self._queue[: self.max_batch]
            if not batch:
                continue
            self.batches += 1
            try:
                await write(batch)
            except BaseException as error:  # the writer must not die with callers waiting
                for pending in batch:
                    pending.fail(error)
                if not isinstance(error, Exception):
                    for pending in self._queue:
                        pending.fail(error)
                    self._queue.clear()
                    raise
            for pending in batch:
                pending.fail(RuntimeError("group commit: the writer left a request unanswered"))
