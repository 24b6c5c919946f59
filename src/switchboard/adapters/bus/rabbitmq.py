"""The RabbitMQ bus (aio-pika): the scaled configuration.

Topology, all names prefixed by the namespace ``<ns>``:

* ``<ns>.events``: durable topic exchange; an envelope's routing key is its name.
* ``<ns>.<queue>``: one durable **quorum** queue per named queue, bound to the
  subscription's topics, dead-lettering to ``<ns>.dlx`` (direct, durable) with the
  routing key ``<ns>.<queue>``, which delivers into ``<ns>.<queue>.dead``.
* ``<ns>.private.<uuid>``: a classic exclusive, auto-delete queue per private
  subscription (``queue=None``), gone with its consumer or its connection.

Publishing uses a channel with publisher confirms and persistent messages:
``publish`` returns once the broker confirmed every envelope, and raises
``BusUnavailable`` when there is no connection, when the broker refuses, or when
confirms do not arrive within ``publish_timeout`` seconds. The body is the JSON
wire format (``wire.encode``); ``message_id`` is the event id, so consumers can dedupe.

``max_attempts`` on a named queue is the broker's own poison-message limit: a quorum
queue counts the deliveries that were returned (``nack`` with requeue) and, with
``x-delivery-limit = max_attempts - 1``, dead-letters the envelope instead of
delivering it a ``max_attempts + 1``-th time. Dead-lettering is ``at-least-once``
(with ``x-overflow: reject-publish``, which that strategy requires), so a dead
letter is not lost between the two queues. The limit is a queue argument fixed at
the first declaration: subscribing to the same queue with another ``max_attempts``
raises ValueError (RabbitMQ refuses the re-declaration). A returned delivery counts
whatever returned it, so envelopes prefetched by a consumer whose connection drops
or that is cancelled also use up one attempt. A private queue is a classic queue
(quorum queues cannot be exclusive): there the attempts are counted by the
subscription itself, and an envelope that fails ``max_attempts`` times is dropped
and logged.

Each subscription has its own robust channel with ``prefetch`` unacknowledged
deliveries; its handler runs in one task, one envelope at a time, so a single
consumer sees its queue in publish order. After a lost connection, the robust
connection reconnects every ``reconnect_interval`` seconds and restores the
exchanges, queues, bindings and consumers; deliveries received on the old channel
are skipped (the broker has already requeued them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any

import aio_pika
import aiormq
import aiormq.abc
from aio_pika.abc import (
    AbstractIncomingMessage,
    AbstractRobustChannel,
    AbstractRobustExchange,
    AbstractRobustQueue,
    DeliveryMode,
    ExchangeType,
)
from aio_pika.exceptions import AMQPError, ChannelInvalidStateError, ChannelPreconditionFailed
from aio_pika.robust_connection import RobustConnection

from switchboard.application.ports.bus import BusUnavailable, Envelope, Handler
from switchboard.application.tasks import stop_task

from .wire import CONTENT_TYPE, check_max_attempts, check_queue_name, check_topics, decode, encode

log = logging.getLogger(__name__)

# What a broker that went away, refused or answered too late looks like.
BROKER_ERRORS: tuple[type[Exception], ...] = (
    AMQPError,
    ChannelInvalidStateError,
    ConnectionError,
    OSError,
    TimeoutError,
)


async def _settle(action: Awaitable[Any], what: str) -> None:
    """Ack/nack/reject; on a dead channel the broker has already requeued the delivery."""
    try:
        await action
    except BROKER_ERRORS as error:
        log.debug("bus: could not %s a delivery: %s", what, error)


def _stale(message: AbstractIncomingMessage) -> bool:
    try:
        message.channel  # noqa: B018 - raises when the delivery's channel is closed
    except ChannelInvalidStateError:
        return True
    return False


class RabbitMQSubscription:
    """One consumer on one queue, with its own channel and handler task."""

    def __init__(
        self,
        bus: RabbitMQBus,
        channel: AbstractRobustChannel,
        queue: AbstractRobustQueue,
        handler: Handler,
        *,
        private: bool,
        max_attempts: int,
        close_timeout: float,
    ) -> None:
        self._bus = bus
        self._channel = channel
        self.queue = queue
        self._handler = handler
        self._private = private
        self._max_attempts = max_attempts
        self._close_timeout = close_timeout
        self._inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self._failures: dict[str | None, int] = {}
        self._busy = False
        self._cancelled = False
        self._tag: str | None = None
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"bus-consumer:{queue.name}")

    @property
    def queue_name(self) -> str:
        return self.queue.name

    @property
    def pending(self) -> bool:
        """True while a delivery is being handled or waits in this consumer's prefetch."""
        return self._busy or not self._inbox.empty()

    async def _consume(self) -> None:
        self._tag = await self.queue.consume(self._on_message)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self._inbox.put_nowait(message)

    async def _run(self) -> None:
        while not self._cancelled:
            message = await self._inbox.get()
            self._busy = True
            try:
                await self._process(message)
            finally:
                self._busy = False

    async def _process(self, message: AbstractIncomingMessage) -> None:
        if _stale(message):
            return
        try:
            envelope = decode(message.body)
        except ValueError:
            log.error("bus: malformed message on %s; dead-lettered", self.queue.name, exc_info=True)
            await _settle(message.reject(requeue=False), "reject")
            return
        try:
            await self._handler(envelope)
        except Exception:
            await self._failed(message, envelope)
        else:
            self._failures.pop(message.message_id, None)
            await _settle(message.ack(), "ack")

    async def _failed(self, message: AbstractIncomingMessage, envelope: Envelope) -> None:
        if self._private:
            attempt = self._failures.get(message.message_id, 0) + 1
            self._failures[message.message_id] = attempt
        else:
            returned = message.headers.get("x-delivery-count")
            attempt = (returned if isinstance(returned, int) else 0) + 1
        context = {"queue": self.queue.name, "event_id": envelope.event_id, "attempt": attempt}
        if attempt < self._max_attempts:
            log.warning("bus handler failed; redelivering", extra=context, exc_info=True)
            await _settle(message.nack(requeue=True), "nack")
            return
        self._failures.pop(message.message_id, None)
        outcome = "dropped (private queue)" if self._private else "dead-lettered"
        log.error("bus handler failed %d times; %s", attempt, outcome, extra=context, exc_info=True)
        # Named queues: the broker dead-letters on this return (delivery limit reached).
        await _settle(message.nack(requeue=not self._private), "nack")

    async def cancel(self) -> None:
        """Stop consuming; waits (bounded) for the envelope in hand, returns the prefetched ones."""
        if self._cancelled:
            return
        self._cancelled = True
        # Without a connection, do not wait for one: the consumer is forgotten at once
        # (so it is not restored) and the broker drops it with the old connection.
        budget = self._close_timeout if self._bus._connected() else 0.0
        if self._tag is not None:
            with contextlib.suppress(*BROKER_ERRORS):
                async with asyncio.timeout(budget):
                    await self.queue.cancel(self._tag)
        if not self._busy:
            self._task.cancel()
        done, _ = await asyncio.wait({self._task}, timeout=self._close_timeout)
        if not done:
            await stop_task(self._task)
        while not self._inbox.empty():
            message = self._inbox.get_nowait()
            if not _stale(message):
                await _settle(message.nack(requeue=True), "return")
        with contextlib.suppress(*BROKER_ERRORS):
            async with asyncio.timeout(budget):
                await self._channel.close()
        self._bus._forget(self)


class RabbitMQBus:
    """RabbitMQ implementation of the ``Bus`` port (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "switchboard",
        prefetch: int = 16,
        publish_timeout: float = 3.0,
        connect_timeout: float = 5.0,
        reconnect_interval: float = 1.0,
        close_timeout: float = 5.0,
    ) -> None:
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1")
        self._url = url
        self.namespace = check_queue_name(namespace)
        self.exchange_name = f"{namespace}.events"
        self.dead_letter_exchange_name = f"{namespace}.dlx"
        self._prefetch = prefetch
        self._publish_timeout = publish_timeout
        self._connect_timeout = connect_timeout
        self._reconnect_interval = reconnect_interval
        self._close_timeout = close_timeout
        self._connection: RobustConnection | None = None
        self._channel: AbstractRobustChannel | None = None
        self._exchange: AbstractRobustExchange | None = None
        self._subscriptions: set[RabbitMQSubscription] = set()
        self._declared: set[str] = set()
        self._start_lock = asyncio.Lock()
        self._closed = False
        self._restored = False  # False from a connection loss until channels and consumers are back

    # -- naming -------------------------------------------------------------------

    def queue_name(self, queue: str) -> str:
        """The broker's name of a named queue."""
        return f"{self.namespace}.{queue}"

    def dead_letter_queue_name(self, queue: str) -> str:
        return f"{self.namespace}.{queue}.dead"

    # -- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        async with self._start_lock:
            if self._closed:
                raise BusUnavailable("the bus is closed")
            if self._connection is not None:
                return
            try:
                connection = await aio_pika.connect_robust(
                    self._url,
                    timeout=self._connect_timeout,
                    reconnect_interval=self._reconnect_interval,
                    connection_class=RobustConnection,
                )
            except BROKER_ERRORS as error:
                raise BusUnavailable(f"cannot connect to RabbitMQ: {error}") from error
            try:
                async with asyncio.timeout(self._connect_timeout):
                    channel = await connection.channel(publisher_confirms=True)
                    self._exchange = await channel.declare_exchange(
                        self.exchange_name, ExchangeType.TOPIC, durable=True
                    )
                    await channel.declare_exchange(self.dead_letter_exchange_name, ExchangeType.DIRECT, durable=True)
            except BROKER_ERRORS as error:
                with contextlib.suppress(*BROKER_ERRORS):
                    await connection.close()
                raise BusUnavailable(f"cannot declare the exchanges: {error}") from error
            connection.close_callbacks.add(self._on_connection_lost)
            connection.reconnect_callbacks.add(self._on_reconnected)
            self._connection = connection
            self._channel = channel
            self._restored = True

    def _on_connection_lost(self, _connection: object, error: BaseException | None = None) -> None:
        if not self._closed:
            log.warning("bus: lost the connection to RabbitMQ: %s", error)
        self._restored = False

    def _on_reconnected(self, _connection: object) -> None:
        log.info("bus: reconnected to RabbitMQ; exchanges, queues and consumers restored")
        self._restored = True

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.gather(*(subscription.cancel() for subscription in tuple(self._subscriptions)))
        if self._connection is not None:
            with contextlib.suppress(*BROKER_ERRORS):
                async with asyncio.timeout(self._close_timeout):
                    await self._connection.close()

    def _connected(self) -> bool:
        connection = self._connection
        return (
            connection is not None
            and self._restored
            and not connection.is_closed
            and connection.connected.is_set()
            and connection.transport is not None
            and not connection.transport.connection.is_closed
        )

    async def ping(self) -> bool:
        return not self._closed and self._connected()

    def _check_open(self) -> None:
        if self._closed:
            raise BusUnavailable("the bus is closed")
        if self._connection is None:
            raise BusUnavailable("the bus is not started")
        if not self._connected():
            raise BusUnavailable("no connection to RabbitMQ (or it is being restored)")

    # -- publishing ---------------------------------------------------------------

    async def publish(self, envelopes: Sequence[Envelope], *, fresh: bool = False) -> None:
        self._check_open()  # fresh or not, every envelope is encoded: the broker carries bytes
        messages = [
            (
                envelope.topic,
                aio_pika.Message(
                    encode(envelope),
                    content_type=CONTENT_TYPE,
                    delivery_mode=DeliveryMode.PERSISTENT,
                    message_id=str(envelope.event_id),
                    type=envelope.name,
                ),
            )
            for envelope in envelopes
        ]
        exchange = self._exchange
        if not messages or exchange is None:
            return
        try:
            async with asyncio.timeout(self._publish_timeout), asyncio.TaskGroup() as group:
                # The channel's lock is FIFO and the tasks reach it in this order,
                # so the broker receives the envelopes in order; confirms overlap.
                for routing_key, message in messages:
                    group.create_task(exchange.publish(message, routing_key, mandatory=False))
        except TimeoutError as error:
            raise BusUnavailable(f"RabbitMQ did not confirm within {self._publish_timeout}s") from error
        except ExceptionGroup as group_error:
            _, unexpected = group_error.split(BROKER_ERRORS)
            if unexpected is not None:
                raise
            raise BusUnavailable(f"RabbitMQ did not take the events: {group_error.exceptions[0]}") from group_error

    # -- consuming ----------------------------------------------------------------

    def _named_arguments(self, queue: str, max_attempts: int) -> dict[str, Any]:
        return {
            "x-queue-type": "quorum",
            "x-delivery-limit": max_attempts - 1,
            "x-dead-letter-exchange": self.dead_letter_exchange_name,
            "x-dead-letter-routing-key": self.queue_name(queue),
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }

    async def _declare_named(
        self,
        channel: AbstractRobustChannel,
        queue: str,
        topics: tuple[str, ...],
        max_attempts: int,
        *,
        robust: bool,
    ) -> AbstractRobustQueue:
        dead = await channel.declare_queue(
            self.dead_letter_queue_name(queue),
            durable=True,
            arguments={"x-queue-type": "quorum"},
            robust=robust,
        )
        self._declared.add(queue)
        await dead.bind(self.dead_letter_exchange_name, self.queue_name(queue), robust=robust)
        declared = await channel.declare_queue(
            self.queue_name(queue),
            durable=True,
            arguments=self._named_arguments(queue, max_attempts),
            robust=robust,
        )
        for pattern in topics:
            await declared.bind(self.exchange_name, pattern, robust=robust)
        return declared

    async def declare(self, queue: str, *, topics: Sequence[str] = ("#",), max_attempts: int = 5) -> None:
        """Declare a durable named queue (what ``subscribe`` does first) without consuming."""
        self._check_open()
        name, patterns = check_queue_name(queue), check_topics(topics)
        check_max_attempts(max_attempts)
        assert self._connection is not None
        channel = self._connection.channel(publisher_confirms=False)
        try:
            async with asyncio.timeout(self._connect_timeout):
                await channel
                await self._declare_named(channel, name, patterns, max_attempts, robust=False)
        except ChannelPreconditionFailed as error:
            raise self._conflict(name, error) from error
        except BROKER_ERRORS as error:
            raise BusUnavailable(f"cannot declare {queue!r}: {error}") from error
        finally:
            await self._discard(channel)

    @staticmethod
    def _conflict(queue: str, error: Exception) -> ValueError:
        return ValueError(
            f"queue {queue!r} exists with other arguments (max_attempts is fixed at declaration): {error}"
        )

    async def subscribe(
        self,
        queue: str | None,
        handler: Handler,
        *,
        topics: Sequence[str] = ("#",),
        max_attempts: int = 5,
    ) -> RabbitMQSubscription:
        self._check_open()
        patterns = check_topics(topics)
        check_max_attempts(max_attempts)
        name = None if queue is None else check_queue_name(queue)
        assert self._connection is not None
        channel = self._connection.channel(publisher_confirms=False)
        try:
            async with asyncio.timeout(self._connect_timeout):
                await channel
                await channel.set_qos(prefetch_count=self._prefetch)
                if name is None:
                    declared = await channel.declare_queue(
                        f"{self.namespace}.private.{uuid.uuid4().hex}",
                        exclusive=True,
                        auto_delete=True,
                    )
                    for pattern in patterns:
                        await declared.bind(self.exchange_name, pattern)
                else:
                    declared = await self._declare_named(channel, name, patterns, max_attempts, robust=True)
                subscription = RabbitMQSubscription(
                    self,
                    channel,
                    declared,
                    handler,
                    private=name is None,
                    max_attempts=max_attempts,
                    close_timeout=self._close_timeout,
                )
                self._subscriptions.add(subscription)
                await subscription._consume()
        except ChannelPreconditionFailed as error:
            await self._discard(channel)
            raise self._conflict(str(name), error) from error
        except BROKER_ERRORS as error:
            await self._discard(channel)
            raise BusUnavailable(f"cannot subscribe to {queue!r}: {error}") from error
        return subscription

    async def _discard(self, channel: AbstractRobustChannel) -> None:
        for subscription in tuple(self._subscriptions):
            if subscription._channel is channel:
                await subscription.cancel()
        with contextlib.suppress(*BROKER_ERRORS):
            async with asyncio.timeout(self._close_timeout):
                await channel.close()

    def _forget(self, subscription: RabbitMQSubscription) -> None:
        self._subscriptions.discard(subscription)

    # -- tests and operations -----------------------------------------------------

    @contextlib.asynccontextmanager
    async def _temporary_channel(self) -> AsyncIterator[aiormq.abc.AbstractChannel]:
        """A plain (not robust) channel: an error closes it and nothing restores it."""
        self._check_open()
        assert self._connection is not None
        assert self._connection.transport is not None
        async with asyncio.timeout(self._connect_timeout):
            channel = await self._connection.transport.connection.channel(publisher_confirms=False)
        try:
            yield channel
        finally:
            with contextlib.suppress(*BROKER_ERRORS):
                await channel.close()

    async def _ready_messages(self) -> int:
        names = {subscription.queue_name for subscription in self._subscriptions}
        total = 0
        async with self._temporary_channel() as channel:
            for name in names:
                try:
                    result = await channel.queue_declare(name, passive=True)
                except aiormq.exceptions.ChannelNotFoundEntity:
                    return -1  # a private queue just went away: look again
                total += result.message_count or 0
        return total

    async def drain(self, quiet_for: float = 0.15) -> None:
        """Wait until the queues consumed here hold no ready message and no handler runs.

        The broker does not count deliveries in flight to a consumer, so the bus must
        look quiet for ``quiet_for`` seconds in a row. Queues without a consumer in this
        process are not waited for. It may wait for ever: bound it with ``asyncio.timeout``.
        """
        loop = asyncio.get_running_loop()
        quiet_since: float | None = None
        while True:
            busy = any(subscription.pending for subscription in self._subscriptions)
            if not busy and await self._ready_messages() == 0:
                quiet_since = quiet_since if quiet_since is not None else loop.time()
                if loop.time() - quiet_since >= quiet_for:
                    return
            else:
                quiet_since = None
            await asyncio.sleep(0.02)

    async def dead_letters(self, queue: str, *, limit: int = 1000) -> list[Envelope]:
        """Peek at the named queue's dead letters, oldest first; they stay in ``<ns>.<queue>.dead``."""
        letters: list[Envelope] = []
        async with self._temporary_channel() as channel:
            try:
                await channel.queue_declare(self.dead_letter_queue_name(queue), passive=True)
            except aiormq.exceptions.ChannelNotFoundEntity:
                return []
            while len(letters) < limit:
                message = await channel.basic_get(self.dead_letter_queue_name(queue), no_ack=False)
                if isinstance(message.delivery, aiormq.spec.Basic.GetEmpty):
                    break
                try:
                    letters.append(decode(message.body))
                except ValueError:
                    log.warning("bus: malformed dead letter in %s", self.dead_letter_queue_name(queue))
            # Closing the channel returns every peeked message to the dead-letter queue.
        return letters

    async def delete_namespace(self) -> None:
        """Delete exactly what this bus declared: its named queues with their dead-letter
        queues, and the two exchanges. Cancels the subscriptions first. Works on a closed
        bus too (it opens a connection of its own); on an open bus, call ``close()`` next.
        """
        await asyncio.gather(*(subscription.cancel() for subscription in tuple(self._subscriptions)))
        try:
            connection = await aio_pika.connect(self._url, timeout=self._connect_timeout)
        except BROKER_ERRORS as error:
            raise BusUnavailable(f"cannot connect to RabbitMQ: {error}") from error
        try:
            async with asyncio.timeout(self._close_timeout * 2):
                channel = await connection.channel(publisher_confirms=False)
                for queue in sorted(self._declared):
                    await channel.queue_delete(self.queue_name(queue))
                    await channel.queue_delete(self.dead_letter_queue_name(queue))
                    self._declared.discard(queue)
                for exchange in (self.exchange_name, self.dead_letter_exchange_name):
                    await channel.exchange_delete(exchange)
        finally:
            await connection.close()
