"""The in-process bus: RabbitMQ's semantics without a broker (embedded mode, tests).

It behaves like the RabbitMQ adapter on every point the contract suite checks:

* one topic exchange: a queue is bound to patterns matched like AMQP topic
  bindings (dot-separated words, ``*`` is exactly one word, ``#`` is zero or more);
* a named queue is durable: it is declared on the first ``subscribe`` (or
  ``declare``) and from then on keeps what is published to it, with or without
  consumers, until the bus is closed. Events published before a queue is declared
  are not routed to it (as on RabbitMQ, where an unbound exchange drops them);
* the consumers of one queue compete: each envelope goes to one of them, round
  robin among the idle ones; every queue gets its own copy;
* each consumer handles one envelope at a time, so one consumer sees its queue in
  publish order;
* at-least-once: a handler that raises gets the envelope again (before the rest of
  the queue) until ``max_attempts`` deliveries failed, then the envelope goes to the
  queue's dead letters (:meth:`InMemoryBus.dead_letters`). A private queue
  (``queue=None``) has no dead letters: the envelope is dropped and logged;
* bindings accumulate: subscribing again with other topics adds bindings;
  ``max_attempts`` is fixed when the queue is declared (a different value raises
  ValueError, as RabbitMQ refuses a re-declaration with other arguments);
* every envelope is encoded to the JSON wire format at ``publish`` (a payload RabbitMQ
  could not carry fails here too) and decoded back once, when a queue takes it: every
  queue gets that decoded copy, never the publisher's object. Handlers treat an
  envelope as read-only (it is frozen, and none changes a payload), so the queues
  share the copy instead of paying a decode each. Envelopes published ``fresh`` (the
  relay's, just decoded from the outbox's JSON and kept by nobody) are that copy
  already and go as they are: the JSON round trip was most of the relay's work in
  the intake benchmark (docs/benchmarks.md).

Handlers run in their own asyncio tasks: ``publish`` only enqueues. ``close()``
stops the consumers, letting each finish the envelope in hand (bounded by
``close_timeout``), and is final. "Durable" means for the life of the process:
envelopes not yet handled when the process ends are gone, unlike on RabbitMQ.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from switchboard.application.ports.bus import BusUnavailable, Envelope, Handler
from switchboard.application.tasks import stop_task

from .wire import check_max_attempts, check_queue_name, check_topics, decode, encode

log = logging.getLogger(__name__)


@lru_cache(maxsize=4096)  # few patterns, few event names; every envelope asks every queue
def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: ``*`` is exactly one word, ``#`` is zero or more words."""
    words = routing_key.split(".")
    parts = pattern.split(".")
    # reachable[j]: the first i pattern parts can consume the first j words.
    reachable = [True] + [False] * len(words)
    for part in parts:
        following = [False] * (len(words) + 1)
        for j in range(len(words) + 1):
            if part == "#":
                following[j] = reachable[j] or (j > 0 and following[j - 1])
            elif j > 0 and reachable[j - 1]:
                following[j] = part in ("*", words[j - 1])
        reachable = following
    return reachable[len(words)]


@dataclass(slots=True)
class _Delivery:
    envelope: Envelope
    failures: int = 0


class _Queue:
    """One queue: pending bodies, idle consumers waiting for work, dead letters."""

    def __init__(self, name: str, *, durable: bool, max_attempts: int, activity: asyncio.Event) -> None:
        self.name = name
        self.activity = activity
        self.durable = durable
        self.max_attempts = max_attempts
        self.patterns: set[str] = set()
        self._routed: dict[str, bool] = {}  # routing key → whether a pattern matches (few event names)
        self.pending: deque[_Delivery] = deque()
        self.idle: deque[asyncio.Future[_Delivery]] = deque()
        self.consumers: set[MemorySubscription] = set()
        self.dead: list[Envelope] = []
        self.in_flight = 0

    def routes(self, routing_key: str) -> bool:
        routed = self._routed.get(routing_key)
        if routed is None:
            routed = self._routed[routing_key] = any(topic_matches(p, routing_key) for p in self.patterns)
        return routed

    def bind(self, patterns: tuple[str, ...]) -> None:
        self.patterns.update(patterns)
        self._routed.clear()

    def put(self, delivery: _Delivery, *, first: bool = False) -> None:
        """Hand the delivery to the longest-idle consumer, else keep it."""
        while self.idle:
            waiter = self.idle.popleft()
            if not waiter.done():
                self.in_flight += 1
                waiter.set_result(delivery)
                return
        if first:
            self.pending.appendleft(delivery)
        else:
            self.pending.append(delivery)

    async def take(self) -> _Delivery:
        if self.pending:
            self.in_flight += 1
            return self.pending.popleft()
        waiter: asyncio.Future[_Delivery] = asyncio.get_running_loop().create_future()
        self.idle.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # Handed over just as this consumer stopped: give it back, first in line.
                self.in_flight -= 1
                self.put(waiter.result(), first=True)
            else:
                with contextlib.suppress(ValueError):
                    self.idle.remove(waiter)
            raise

    def settled(self) -> None:
        self.in_flight -= 1
        self.activity.set()

    @property
    def drained(self) -> bool:
        return not self.pending and self.in_flight == 0


class MemorySubscription:
    def __init__(self, bus: InMemoryBus, queue: _Queue, handler: Handler, *, close_timeout: float) -> None:
        self._bus = bus
        self._queue = queue
        self._handler = handler
        self._close_timeout = close_timeout
        self._busy = False
        self._cancelled = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"bus-consumer:{queue.name}")

    async def _run(self) -> None:
        while not self._cancelled:
            delivery = await self._queue.take()
            self._busy = True
            try:
                await self._deliver(delivery)
            finally:
                self._busy = False
                self._queue.settled()

    async def _deliver(self, delivery: _Delivery) -> None:
        envelope = delivery.envelope
        try:
            await self._handler(envelope)
        except asyncio.CancelledError:
            # Stopped mid-handler (close timed out): the envelope was not handled.
            self._queue.put(delivery, first=True)
            raise
        except Exception:
            delivery.failures += 1
            self._after_failure(delivery, envelope)

    def _after_failure(self, delivery: _Delivery, envelope: Envelope) -> None:
        queue = self._queue
        if delivery.failures < queue.max_attempts:
            log.warning(
                "bus handler failed; redelivering",
                extra={"queue": queue.name, "event_id": envelope.event_id, "attempt": delivery.failures},
                exc_info=True,
            )
            queue.put(delivery, first=True)
        elif queue.durable:
            log.error(
                "bus handler failed %d times; dead-lettered",
                delivery.failures,
                extra={"queue": queue.name, "event_id": envelope.event_id},
                exc_info=True,
            )
            queue.dead.append(envelope)
        else:
            log.error(
                "bus handler failed %d times on a private queue; dropped",
                delivery.failures,
                extra={"queue": queue.name, "event_id": envelope.event_id},
                exc_info=True,
            )

    async def cancel(self) -> None:
        """Stop consuming; waits (bounded) for the envelope in hand to be handled."""
        if self._cancelled:
            return
        self._cancelled = True
        if not self._busy:
            self._task.cancel()
        done, _ = await asyncio.wait({self._task}, timeout=self._close_timeout)
        if not done:
            await stop_task(self._task)
        if self._task.done() and not self._task.cancelled() and self._task.exception() is not None:
            log.error("bus consumer ended with an error", exc_info=self._task.exception())
        self._bus._forget(self, self._queue)


class InMemoryBus:
    """In-process implementation of the ``Bus`` port (see the module docstring)."""

    def __init__(self, *, namespace: str = "switchboard", close_timeout: float = 5.0) -> None:
        self.namespace = namespace
        self._close_timeout = close_timeout
        self._queues: dict[str, _Queue] = {}
        self._activity = asyncio.Event()
        self._started = False
        self._closed = False

    async def start(self) -> None:
        if self._closed:
            raise BusUnavailable("the bus is closed")
        self._started = True

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        subscriptions = [sub for queue in self._queues.values() for sub in queue.consumers]
        await asyncio.gather(*(sub.cancel() for sub in subscriptions))

    async def ping(self) -> bool:
        return self._started and not self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise BusUnavailable("the bus is closed")
        if not self._started:
            raise BusUnavailable("the bus is not started")

    async def publish(self, envelopes: Sequence[Envelope], *, fresh: bool = False) -> None:
        self._check_open()
        if fresh:  # read from JSON just now and nobody else's: already what a copy would be
            for envelope in envelopes:
                self._route(envelope)
            return
        bodies = [(envelope.topic, encode(envelope)) for envelope in envelopes]
        for routing_key, body in bodies:
            if any(queue.routes(routing_key) for queue in self._queues.values()):
                self._route(decode(body))

    def _route(self, envelope: Envelope) -> None:
        for queue in self._queues.values():
            if queue.routes(envelope.topic):
                queue.put(_Delivery(envelope))

    async def declare(self, queue: str, *, topics: Sequence[str] = ("#",), max_attempts: int = 5) -> None:
        """Declare a durable named queue (what ``subscribe`` does first) without consuming."""
        self._check_open()
        self._declare(check_queue_name(queue), check_topics(topics), check_max_attempts(max_attempts))

    def _declare(self, name: str, topics: tuple[str, ...], max_attempts: int) -> _Queue:
        queue = self._queues.get(name)
        if queue is None:
            queue = self._queues[name] = _Queue(name, durable=True, max_attempts=max_attempts, activity=self._activity)
        elif queue.max_attempts != max_attempts:
            raise ValueError(f"queue {name!r} is declared with max_attempts={queue.max_attempts}, not {max_attempts}")
        queue.bind(topics)
        return queue

    async def subscribe(
        self,
        queue: str | None,
        handler: Handler,
        *,
        topics: Sequence[str] = ("#",),
        max_attempts: int = 5,
    ) -> MemorySubscription:
        self._check_open()
        patterns = check_topics(topics)
        check_max_attempts(max_attempts)
        if queue is None:
            target = _Queue(
                f"private.{uuid.uuid4().hex}",
                durable=False,
                max_attempts=max_attempts,
                activity=self._activity,
            )
            target.bind(patterns)
            self._queues[target.name] = target
        else:
            target = self._declare(check_queue_name(queue), patterns, max_attempts)
        subscription = MemorySubscription(self, target, handler, close_timeout=self._close_timeout)
        target.consumers.add(subscription)
        return subscription

    def _forget(self, subscription: MemorySubscription, queue: _Queue) -> None:
        queue.consumers.discard(subscription)
        self._activity.set()
        if not queue.durable and not queue.consumers:
            self._queues.pop(queue.name, None)  # a private queue goes with its consumer

    async def drain(self) -> None:
        """Wait until every queue that has a consumer is empty and no handler runs.

        Queues without consumers are not waited for (they keep their envelopes).
        A handler that never returns makes it wait for ever: bound it with ``asyncio.timeout``.
        """
        while not all(queue.drained for queue in self._queues.values() if queue.consumers):
            self._activity.clear()
            await self._activity.wait()

    async def dead_letters(self, queue: str) -> list[Envelope]:
        """Envelopes of the named queue whose handler failed ``max_attempts`` times, oldest first."""
        target = self._queues.get(queue)
        return list(target.dead) if target is not None else []
