"""Publishing committed events: the outbox relay's one step, and idempotent consumption."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from switchboard.application.ports.bus import Bus, Envelope
from switchboard.application.ports.clock import Clock
from switchboard.application.ports.storage import Inbox, OutboxStore


async def publish_pending(store: OutboxStore, bus: Bus, clock: Clock, batch: int = 500) -> int:
    """Publish the oldest unpublished events and mark them; returns how many went out.

    A crash between publish and mark publishes the batch again on restart: delivery is
    at-least-once and consumers dedupe by event id (see ``consume_once``).
    Raises BusUnavailable when the broker cannot take them; the rows stay for the next try.
    """
    envelopes = await store.unpublished(batch)
    if not envelopes:
        return 0
    await bus.publish(envelopes)
    await store.mark_published([e.event_id for e in envelopes], clock.now())
    return len(envelopes)


def consume_once(
    inbox: Inbox, clock: Clock, consumer: str, handler: Callable[[Envelope], Awaitable[None]]
) -> Callable[[Envelope], Awaitable[None]]:
    """Wrap a handler so a redelivered event is a no-op.

    The event is recorded before the handler runs; a handler that fails is retried by the bus
    only when it raises before recording, so handlers with side effects record inside their own
    unit of work where that matters.
    """

    async def once(envelope: Envelope) -> None:
        if await inbox.first_time(consumer, envelope.event_id, clock.now()):
            await handler(envelope)

    return once
