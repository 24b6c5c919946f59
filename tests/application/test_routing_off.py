"""A process with routing off on the in-process bus keeps nothing for a router that cannot be there."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.application.ports.bus import Envelope
from switchboard.bootstrap import Container
from switchboard.domain.events import ConversationOpened
from switchboard.workers.routing import QUEUE, TOPICS

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def test_routing_off_on_the_in_process_bus_keeps_no_events_for_routing(container: Container) -> None:
    # given a process with routing off (the tests' default) on the in-process bus
    assert container.settings.routing is False
    # when a conversation opens and the relay publishes it
    async with container.services.uow() as uow:
        uow.emit(ConversationOpened(1, 1, 1, 1), AT)
        await uow.commit()
    assert await container.relay.drain(5) == 0
    # then no queue kept it: a router subscribing later gets nothing from before (it rebuilds from
    # the database on start), and nothing grows in memory meanwhile
    heard: list[Envelope] = []

    async def hear(envelope: Envelope) -> None:
        heard.append(envelope)

    subscription = await container.bus.subscribe(QUEUE, hear, topics=TOPICS)
    try:
        await container.bus.drain()
    finally:
        await subscription.cancel()
    assert heard == []
