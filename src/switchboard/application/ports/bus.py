"""The bus port: how committed events leave a unit of work and reach consumers.

Delivery is at-least-once: a publish returns only when the broker has taken the
events (publisher confirms on RabbitMQ), and a handler that raises gets the
envelope again, up to ``max_attempts``, then the envelope goes to the queue's
dead letters. Consumers are therefore written to be idempotent by ``event_id``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class BusUnavailable(Exception):
    """The broker cannot take events now; the outbox keeps them for a later try."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """One committed event as it travels: the outbox row id is its identity.

    ``sequence`` is the publish order the relay gave it (gap-free, increasing in the order events
    leave the outbox, unlike ids, which a database sequence hands out before commit): websockets
    stream and resume by it. Live-only notices have neither (both 0).
    """

    event_id: int
    name: str
    occurred_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    sequence: int = 0

    @property
    def topic(self) -> str:
        """Routing key: the event name, e.g. ``MessageReceived``."""
        return self.name


Handler = Callable[[Envelope], Awaitable[None]]


class Subscription(Protocol):
    async def cancel(self) -> None: ...


class Bus(Protocol):
    async def start(self) -> None:
        """Connect and declare what is needed; idempotent."""

    async def close(self) -> None:
        """Stop consumers and disconnect."""

    async def publish(self, envelopes: Sequence[Envelope], *, fresh: bool = False) -> None:
        """Hand events to the broker; returns only once they are confirmed.

        ``fresh``: the envelopes were just read from JSON (the outbox's rows) and the caller keeps no
        reference to them, so a backend that copies envelopes through JSON for its consumers (the
        in-process bus) may hand these over as they are. Raises BusUnavailable when the broker
        cannot take them.
        """

    async def subscribe(
        self,
        queue: str | None,
        handler: Handler,
        *,
        topics: Sequence[str] = ("#",),
        max_attempts: int = 5,
    ) -> Subscription:
        """Consume from a queue bound to ``topics``.

        A named queue is durable and shared: each envelope goes to one consumer
        of the queue, and every named queue gets its own copy. ``None`` makes a
        private, transient queue for this process (websocket fan-out).
        """

    async def declare(self, queue: str, *, topics: Sequence[str] = ("#",), max_attempts: int = 5) -> None:
        """Create a named queue now, so events published before its consumer starts wait in it."""

    async def ping(self) -> bool:
        """True when the broker is reachable (readiness)."""
