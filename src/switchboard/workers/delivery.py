"""Sends replies through their connectors: claims due tasks, paces each channel, retries with backoff.

Woken by ``ReplyQueued`` on a private queue of this process (every node hears it; the claim's
lease and SKIP LOCKED split the work), and by a short poll for retries that come due.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import timedelta

import structlog

from switchboard.application import outbound
from switchboard.application.context import Services
from switchboard.application.ports.bus import Bus, Envelope, Subscription
from switchboard.application.ports.storage import DeliveryTask, StorageUnavailable
from switchboard.domain.delivery import RetryPolicy

log = structlog.get_logger("switchboard.delivery")
TOPICS = ("ReplyQueued",)


class Pacer:
    """At most ``rate_per_second`` sends per channel (the channel's setting); others wait their turn."""

    def __init__(self) -> None:
        self._next: dict[int, float] = {}

    async def pace(self, channel_id: int, rate_per_second: float | None) -> None:
        if not rate_per_second or rate_per_second <= 0:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(now, self._next.get(channel_id, now))
        self._next[channel_id] = slot + 1.0 / rate_per_second
        if slot > now:
            await asyncio.sleep(slot - now)


class DeliveryWorker:
    def __init__(
        self,
        services: Services,
        bus: Bus,
        *,
        batch: int = 20,
        lease: timedelta = timedelta(seconds=120),
        poll_seconds: float = 0.5,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._services = services
        self._bus = bus
        self._batch = batch
        self._lease = lease
        self._poll = poll_seconds
        self.policy = policy or RetryPolicy()
        self._rng = rng or random.Random()
        self._pacer = Pacer()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        self._subscription = await self._bus.subscribe(None, self._on_event, topics=TOPICS)
        self._task = asyncio.create_task(self._run(), name="delivery")

    async def _on_event(self, _: Envelope) -> None:
        self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self) -> list[outbound.Outcome]:
        """Claim what is due and send it; the loop's body, callable from tests and the CLI."""
        tasks = await outbound.claim(self._services, self._batch, self._lease)
        by_channel: dict[int, list[DeliveryTask]] = {}
        for task in tasks:
            by_channel.setdefault(task.channel_id, []).append(task)
        groups = await asyncio.gather(*(self._send_in_order(group) for group in by_channel.values()))
        return [outcome for group in groups for outcome in group]

    async def _send_in_order(self, tasks: list[DeliveryTask]) -> list[outbound.Outcome]:
        """One channel's replies one after another, oldest first, so a customer reads them in order."""
        outcomes = []
        rate = await self._rate(tasks[0].channel_id)  # one channel per group: its setting is read once
        for task in tasks:
            await self._pacer.pace(task.channel_id, rate)
            outcomes.append(await outbound.deliver(self._services, task, self._rng.random(), self.policy))
        return outcomes

    async def _rate(self, channel_id: int) -> float | None:
        async with self._services.uow(read_only=True) as uow:
            channel = await uow.channels.get(channel_id)
        value = channel.settings.get("rate_per_second") if channel else None
        return float(value) if isinstance(value, int | float) else None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                outcomes = await self.run_once()
                if len(outcomes) == self._batch:
                    continue
            except asyncio.CancelledError:
                raise
            except StorageUnavailable:
                log.warning("delivery.storage_unavailable")
            except Exception:
                log.exception("delivery.round_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.cancel()
            self._subscription = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
