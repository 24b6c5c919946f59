"""Group commit: requests that arrive while a transaction is being written share the next one.

A database round trip costs far more than the work of one request, so under load the writes of
many concurrent callers go out together: one writer task per process takes everything queued,
writes it in one transaction and answers each caller. With no load a batch is one request and
nothing waits (no timer). The writer exists only while there is work; no lifecycle to manage.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

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
