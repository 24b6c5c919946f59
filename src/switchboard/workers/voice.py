"""Voice in the background: calls the PBX never reported the end of are closed, and routing's
callback requests become callback tasks."""

from __future__ import annotations

import structlog

from switchboard.application.outbox import consume_once
from switchboard.application.ports.bus import Bus, Envelope, Subscription
from switchboard.application.ports.clock import Clock
from switchboard.application.ports.storage import Inbox
from switchboard.application.tasks import Loop
from switchboard.application.voice import CallControl
from switchboard.application.voice.callbacks import on_callback_requested
from switchboard.workers.routing import RoutingWorker

log = structlog.get_logger("switchboard.voice")
QUEUE = "voice"
TOPICS = ("CallbackRequested",)


class RouterPositions:
    """Queue positions from the routing engine, where this process leads routing (else unknown)."""

    def __init__(self, routing: RoutingWorker) -> None:
        self._routing = routing

    async def position(self, conversation_id: int) -> tuple[int, float | None] | None:
        if not self._routing.leading:
            return None
        return await self._routing.router.position(conversation_id)


class VoiceWorker:
    def __init__(self, control: CallControl, bus: Bus, inbox: Inbox, clock: Clock, *, sweep_seconds: float = 5.0):
        self.control = control
        self._bus, self._inbox, self._clock = bus, inbox, clock
        self._sweep = sweep_seconds
        self._subscription: Subscription | None = None
        self._loop = Loop("voice-sweep")

    async def start(self) -> None:
        handler = consume_once(self._inbox, self._clock, QUEUE, self._handle)
        self._subscription = await self._bus.subscribe(QUEUE, handler, topics=TOPICS)
        if self._sweep > 0:
            self._loop.start(self._run)

    async def _handle(self, envelope: Envelope) -> None:
        if envelope.name == "CallbackRequested":
            await on_callback_requested(self.control.services, envelope)

    async def _run(self) -> None:
        while self._loop.running:
            try:
                await self.control.close_expired()
            except Exception:
                log.exception("voice.sweep_failed")
            await self._loop.pause(self._sweep)

    async def stop(self) -> None:
        await self._loop.stop()
        if self._subscription is not None:
            await self._subscription.cancel()
            self._subscription = None
