"""Publishing committed events: the outbox relay's one step, and idempotent consumption."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from switchboard.application.ports.bus import Bus, Envelope
from switchboard.application.ports.clock import Clock
from switchboard.application.ports.storage import Inbox, OutboxStore


async def publish_pending(store: OutboxStore, bus: Bus, clock: Clock, batch: int = 500) -> int:
    """Number, publish and mark the oldest unpublished events; returns how many went out.

    One relay at a time takes a turn (every node runs a relay): the numbers it gives are the
    publish order, gap-free, so a websocket resuming after number N misses nothing even when
    PostgreSQL committed a smaller id after a larger one. A crash between publish and mark
    publishes the batch again, with the same numbers: delivery is at-least-once and consumers
    dedupe by event id (see ``consume_once``), websockets by number.
    Raises BusUnavailable when the broker cannot take them; the rows stay for the next try.
    """
    # idle: one read, no lock and no write. On PostgreSQL this ordered index scan is also what marks the
    # entries of published rows dead in the partial index of unpublished ones, which keeps the numbering fast.
    if not store.numbered_at_insert and not await store.unpublished(1):
        return 0
    async with store.relay_turn():
        envelopes = await store.sequence_pending(batch)
        if not envelopes:
            return 0
        await bus.publish(envelopes, fresh=True)  # the store read them from JSON just now
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
