"""Sends replies through their connectors: claims due tasks, paces each channel, retries with backoff.

Woken by ``ReplyQueued`` on a private queue of this process (every node hears it; the claim's
lease and SKIP LOCKED split the work), and by a short poll for retries that come due. It also
pushes notices (a conversation closed, to an API integration: application/notices.py), queued by a
consumer of ``ConversationClosed`` on the durable ``notices`` queue, once per event.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import timedelta

import structlog

from switchboard.application import notices, outbound
from switchboard.application.context import Services
from switchboard.application.outbox import consume_once
from switchboard.application.ports.bus import Bus, Envelope, Subscription
from switchboard.application.ports.storage import DeliveryTask, Inbox, StorageUnavailable
from switchboard.application.tasks import Loop, within
from switchboard.domain.delivery import RetryPolicy

log = structlog.get_logger("switchboard.delivery")
TOPICS = ("ReplyQueued",)
NOTICES = "notices"  # the durable queue whose consumer queues notices (one per event, whichever node takes it)
NOTICE_TOPICS = ("ConversationClosed",)


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
        inbox: Inbox,
        *,
        batch: int = 20,
        lease: timedelta = timedelta(seconds=120),
        poll_seconds: float = 0.5,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._services = services
        self._bus = bus
        self._inbox = inbox
        self._batch = batch
        self._lease = lease
        self._poll = poll_seconds
        self.policy = policy or RetryPolicy()
        self._rng = rng or random.Random()
        self._pacer = Pacer()
        self._wake = asyncio.Event()
        self._loop = Loop("delivery")
        self._subscription: Subscription | None = None
        self._notices: Subscription | None = None

    async def start(self) -> None:
        self._subscription = await self._bus.subscribe(None, self._on_event, topics=TOPICS)
        queue_notice = consume_once(self._inbox, self._services.clock, NOTICES, self._on_closed)
        self._notices = await self._bus.subscribe(NOTICES, queue_notice, topics=NOTICE_TOPICS)
        self._loop.start(self._run)

    async def _on_closed(self, envelope: Envelope) -> None:
        if await notices.queue_close_notice(self._services, envelope):
            self._wake.set()

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

    async def push_notices_once(self) -> list[notices.NoticeOutcome]:
        """Claim the notices that are due and push them, oldest first; the loop's second step."""
        tasks = await notices.claim_notices(self._services, self._batch, self._lease)
        return [await notices.push_notice(self._services, task, self._rng.random(), self.policy) for task in tasks]

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
        while self._loop.running:
            self._wake.clear()
            try:
                outcomes = await self.run_once()
                pushed = await self.push_notices_once()
                if self._batch in (len(outcomes), len(pushed)):
                    continue
            except StorageUnavailable:
                log.warning("delivery.storage_unavailable")
            except Exception:
                log.exception("delivery.round_failed")
            with contextlib.suppress(TimeoutError):
                await within(self._poll, self._wake.wait())

    async def stop(self) -> None:
        for subscription in (self._subscription, self._notices):
            if subscription is not None:
                await subscription.cancel()
        self._subscription = self._notices = None
        self._wake.set()  # ends the wait for work; the loop sees it is stopping
        await self._loop.stop()
