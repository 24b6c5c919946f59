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

    The event is recorded only after the handler succeeded: a handler that raises gets the event
    again from the bus. A crash between the handler and the record repeats the handler once, so
    handlers stay idempotent (at-least-once, never at-most-once).
    """

    async def once(envelope: Envelope) -> None:
        if await inbox.seen(consumer, envelope.event_id):
            return
        await handler(envelope)
        await inbox.first_time(consumer, envelope.event_id, clock.now())

    return once
