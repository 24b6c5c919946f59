"""The outbox relay: wakes on every commit with events, and polls as a safety net.

Under load its rounds are spaced (``spacing_seconds``), so a round carries every commit that landed
since the last one; a commit after a quiet spell is published at once.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from switchboard.application.outbox import publish_pending
from switchboard.application.ports.bus import Bus, BusUnavailable
from switchboard.application.ports.clock import Clock
from switchboard.application.ports.storage import OutboxStore, StorageUnavailable
from switchboard.application.tasks import stop_task, within

log = structlog.get_logger("switchboard.relay")
BATCH = 500  # events per round


class OutboxRelay:
    def __init__(
        self,
        store: OutboxStore,
        bus: Bus,
        clock: Clock,
        *,
        poll_seconds: float = 1.0,
        max_backoff: float = 10.0,
        spacing_seconds: float = 0.025,
    ) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock
        self._poll = poll_seconds
        self._max_backoff = max_backoff
        # A round costs about 2 ms of CPU whatever it carries. Under load rounds start at most this far
        # apart, so commits that land meanwhile share one; after a quiet spell the first commit goes at once.
        self._spacing = spacing_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.published = 0

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        backoff = self._poll
        started = -self._spacing
        while not self._stopping.is_set():
            if (wait := started + self._spacing - loop.time()) > 0:
                await self._pause(wait)
                if self._stopping.is_set():
                    break  # what is left goes out in drain(), not after a poll's wait
            # cleared before the round: a commit during the round wakes the next one
            self._wake.clear()
            started = loop.time()
            try:
                sent = await publish_pending(self._store, self._bus, self._clock, BATCH)
                self.published += sent
                backoff = self._poll
                if sent == BATCH:  # a full batch: more are waiting, go again at once
                    started = -self._spacing
                    continue
            except (BusUnavailable, StorageUnavailable) as error:
                log.warning("outbox.publish_delayed", reason=type(error).__name__, retry_in=backoff)
                await self._pause(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            except Exception:
                log.exception("outbox.relay_error")
                await self._pause(backoff)
                continue
            if not self._wake.is_set() and not self._stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await within(self._poll, self._wake.wait())

    async def drain(self, timeout: float = 10.0) -> int:
        """Publish everything still waiting (graceful shutdown); returns how many remain unsent."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            try:
                if await publish_pending(self._store, self._bus, self._clock) == 0:
                    return 0
            except (BusUnavailable, StorageUnavailable):
                await asyncio.sleep(0.2)
            except Exception as error:  # shutting down: report and retry until the deadline, never raise
                log.warning("outbox.drain_retry", reason=type(error).__name__)
                await asyncio.sleep(0.2)
        return len(await self._store.unpublished(10_000))

    async def _pause(self, seconds: float) -> None:
        """A back-off that ends at once when the relay is told to stop."""
        with contextlib.suppress(TimeoutError):
            await within(seconds, self._stopping.wait())

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Let the round in progress finish, then stop. Cancelling a statement half-way can leave an
        SQLite database locked for the drain that follows; only a relay stuck past the grace is cancelled."""
        self._stopping.set()
        self._wake.set()
        task, self._task = self._task, None
        if task is None:
            return
        done, _ = await asyncio.wait({task}, timeout=grace_seconds)
        if not done:
            await stop_task(task)
