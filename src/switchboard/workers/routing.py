"""Runs the router in the process that leads routing: its event queue and its durable timers."""

from __future__ import annotations

from typing import Protocol

import structlog

from switchboard.application.ports.bus import Bus, Subscription
from switchboard.application.routing.router import TOPICS, Router
from switchboard.application.tasks import Loop

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
        self._loop = Loop("routing")
        self.leading = False

    async def declare(self) -> None:
        """The queue exists before any event is published, whoever leads."""
        await self._bus.declare(QUEUE, topics=TOPICS)

    async def start(self) -> None:
        await self.declare()
        if await self._leadership.try_acquire():
            await self._lead()
        self._loop.start(self._run)

    async def _lead(self) -> None:
        await self.router.start()
        self._subscription = await self._bus.subscribe(QUEUE, self.router.handle, topics=TOPICS)
        self.leading = True
        log.info("routing.leading")

    async def _run(self) -> None:
        while self._loop.running:
            try:
                if self.leading:
                    await self.router.fire_due()
                    await self._loop.pause(self._tick)
                elif await self._leadership.try_acquire():
                    await self._lead()
                else:
                    await self._loop.pause(self._retry)
            except Exception:
                log.exception("routing.tick_failed")
                await self._loop.pause(self._retry)

    async def stop(self) -> None:
        await self._loop.stop()
        if self._subscription is not None:
            await self._subscription.cancel()
            self._subscription = None
        await self._leadership.release()
        self.leading = False
