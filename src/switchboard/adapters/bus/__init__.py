"""Bus adapters: the in-process bus (embedded) and RabbitMQ (scaled).

``bus_from_url`` picks one from configuration:

* ``memory://`` or an empty URL: :class:`InMemoryBus`;
* ``amqp://…`` or ``amqps://…``: :class:`RabbitMQBus`.

``namespace`` prefixes every exchange and queue name (``<namespace>.events``,
``<namespace>.<queue>``), so two deployments or test runs can share a broker.
Both backends also offer ``declare(queue, topics=…, max_attempts=…)``,
``drain(timeout)`` and ``dead_letters(queue)``; RabbitMQ adds ``delete_namespace()``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .memory import InMemoryBus, MemorySubscription, topic_matches
from .rabbitmq import RabbitMQBus, RabbitMQSubscription

__all__ = [
    "InMemoryBus",
    "MemorySubscription",
    "RabbitMQBus",
    "RabbitMQSubscription",
    "bus_from_url",
    "topic_matches",
]


def bus_from_url(url: str, *, namespace: str = "switchboard") -> InMemoryBus | RabbitMQBus:
    """The bus for a configuration URL; raises ValueError on an unknown scheme."""
    scheme = urlsplit(url.strip()).scheme.lower() if url.strip() else "memory"
    if scheme == "memory":
        return InMemoryBus(namespace=namespace)
    if scheme in ("amqp", "amqps"):
        return RabbitMQBus(url.strip(), namespace=namespace)
    raise ValueError(f"unsupported bus URL scheme {scheme!r}: use memory:// or amqp(s)://")
