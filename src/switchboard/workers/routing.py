"""Runs the router in the process that leads routing: its event queue and its durable timers."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

import structlog

from switchboard.application.ports.bus import Bus, Subscription
from switchboard.application.routing.router import TOPICS, Router

log = structlog.get_logger("switchboard.routing")
QUEUE = "routing"


class Leadership(Protocol):
    async def try_acquire(self) -> bool: ...
    async def release(self) -> None: ...


class RoutingWorker:
    def __init__(
        self,
        router: Router,
        bus: Bus,
        leadership: Leadership,
        *,
        tick_seconds: float = 0.25,
        retry_seconds: float = 5.0,
    ) -> None:
        self.router = router
        self._bus = bus
        self._leadership = leadership
        self._tick = tick_seconds
        self._retry = retry_seconds
        self._subscription: Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        self.leading = False

    async def declare(self) -> None:
        """The queue exists before any event is published, whoever leads."""
        await self._bus.declare(QUEUE, topics=TOPICS)

    async def start(self) -> None:
        await self.declare()
        if await self._leadership.try_acquire():
            await self._lead()
        self._task = asyncio.create_task(self._run(), name="routing")

    async def _lead(self) -> None:
        await self.router.start()
        self._subscription = await self._bus.subscribe(QUEUE, self.router.handle, topics=TOPICS)
        self.leading = True
        log.info("routing.leading")

    async def _run(self) -> None:
        while True:
            try:
                if self.leading:
                    await self.router.fire_due()
                    await asyncio.sleep(self._tick)
                elif await self._leadership.try_acquire():
                    await self._lead()
                else:
                    await asyncio.sleep(self._retry)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("routing.tick_failed")
                await asyncio.sleep(self._retry)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._subscription is not None:
            await self._subscription.cancel()
            self._subscription = None
        await self._leadership.release()
        self.leading = False
