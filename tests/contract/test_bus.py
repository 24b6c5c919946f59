"""The bus contract: every backend (in-process, RabbitMQ) behaves the same way."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from switchboard.adapters.bus import InMemoryBus, RabbitMQBus, bus_from_url
from switchboard.application.ports.bus import BusUnavailable, Envelope
from tests.support.tcp_proxy import TcpProxy

from .conftest import AnyBus, unique_namespace

WAIT = 10.0  # upper bound for anything the broker should do; tests pass far below it


def envelope(event_id: int, name: str = "MessageReceived", **payload: object) -> Envelope:
    occurred_at = datetime(2024, 5, 1, 9, 30, tzinfo=UTC) + timedelta(seconds=event_id)
    return Envelope(event_id=event_id, name=name, occurred_at=occurred_at, payload=dict(payload))


class Recorder:
    """A handler that records what it handled; ``fails`` decides which calls raise."""

    def __init__(
        self,
        *,
        fails: Callable[[Envelope, int], bool] | None = None,
        delay: float = 0.0,
        changed: asyncio.Event | None = None,
    ) -> None:
        self.handled: list[Envelope] = []
        self.calls: list[int] = []  # event ids, one per call, failures included
        self._fails = fails
        self._delay = delay
        self._changed = changed or asyncio.Event()  # recorders may share one to be awaited together

    async def __call__(self, item: Envelope) -> None:
        self.calls.append(item.event_id)
        self._changed.set()
        if self._delay:
            await asyncio.sleep(self._delay)
        if self._fails is not None and self._fails(item, self.calls.count(item.event_id)):
            raise RuntimeError(f"handler refused event {item.event_id}")
        self.handled.append(item)
        self._changed.set()

    @property
    def ids(self) -> list[int]:
        return [item.event_id for item in self.handled]

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT):
            while not condition():
                self._changed.clear()
                await self._changed.wait()

    async def wait_handled(self, count: int) -> None:
        await self.wait_for(lambda: len(self.handled) >= count)


async def settle(bus: AnyBus) -> None:
    async with asyncio.timeout(WAIT):
        await bus.drain()


async def poll_until(check: Callable[[], Awaitable[bool]]) -> None:
    """Broker state has no event to wait on: ask again every 20 ms, for at most WAIT seconds."""
    async with asyncio.timeout(WAIT):
        while not await check():  # noqa: ASYNC110 - polling the broker, nothing to await instead
            await asyncio.sleep(0.02)


# -- publish and subscribe ---------------------------------------------------------


async def test_a_subscriber_receives_the_published_envelope_unchanged(bus: AnyBus) -> None:
    recorder = Recorder()
    await bus.subscribe("audit", recorder)
    sent = Envelope(
        event_id=41,
        name="MessageReceived",
        occurred_at=datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=3))),
        payload={"text": "Привет", "channel_id": 7, "flags": [True, None], "money": {"amount": "10.50"}},
        sequence=39,  # the relay's publish number travels with it (the websocket's id)
    )
    live_only = Envelope(0, "VisitorTyping", sent.occurred_at, {"conversation_id": 7})

    await bus.publish([sent, live_only])
    await recorder.wait_handled(2)
    await settle(bus)

    assert recorder.handled == [sent, live_only]
    # what came off the wire, never the publisher's own objects (a publisher may reuse its payload)
    assert recorder.handled[0] is not sent and recorder.handled[0].payload is not sent.payload


async def test_fresh_envelopes_reach_every_queue_equal_to_what_was_published(bus: AnyBus) -> None:
    # given two queues, and envelopes as the relay has them: just read from the outbox's JSON
    billing, routing = Recorder(), Recorder()
    await bus.subscribe("billing", billing)
    await bus.subscribe("routing", routing, topics=("LeadCreated",))
    sent = [envelope(1, text="Привет", tags=[1, None]), envelope(2, "LeadCreated", lead_id=5)]
    # when they are published as fresh
    await bus.publish(sent, fresh=True)
    await billing.wait_handled(2)
    await routing.wait_handled(1)
    await settle(bus)
    # then each queue got what its bindings route, equal to what was sent, in order
    assert billing.handled == sent
    assert routing.handled == [sent[1]]


EVENT_NAMES = [
    "MessageReceived",
    "Conversation",
    "Conversation.Closed",
    "Conversation.Closed.Late",
    "Call.Closed",
]
TOPIC_TABLE: dict[tuple[str, ...], list[str]] = {
    ("MessageReceived",): ["MessageReceived"],
    ("*",): ["MessageReceived", "Conversation"],
    ("#",): EVENT_NAMES,
    ("Conversation.*",): ["Conversation.Closed"],
    ("Conversation.#",): ["Conversation", "Conversation.Closed", "Conversation.Closed.Late"],
    ("*.Closed",): ["Conversation.Closed", "Call.Closed"],
    ("#.Closed",): ["Conversation.Closed", "Call.Closed"],
    ("Conversation.*.Late",): ["Conversation.Closed.Late"],
    ("MessageReceived", "Call.*"): ["MessageReceived", "Call.Closed"],
    ("Conversation.*", "#.Closed"): ["Conversation.Closed", "Call.Closed"],  # two bindings match: one copy
}


async def test_topic_bindings_select_events_like_an_amqp_topic_exchange(bus: AnyBus) -> None:
    recorders = {topics: Recorder() for topics in TOPIC_TABLE}
    for number, (topics, recorder) in enumerate(recorders.items()):
        await bus.subscribe(f"topics-{number}", recorder, topics=topics)
    await bus.publish([envelope(number, name) for number, name in enumerate(EVENT_NAMES, start=1)])
    await recorders[("#",)].wait_handled(len(EVENT_NAMES))
    await settle(bus)

    received = {topics: [item.name for item in recorder.handled] for topics, recorder in recorders.items()}
    assert received == TOPIC_TABLE


async def test_every_named_queue_gets_its_own_copy(bus: AnyBus) -> None:
    billing, routing = Recorder(), Recorder()
    await bus.subscribe("billing", billing)
    await bus.subscribe("routing", routing)

    await bus.publish([envelope(1), envelope(2), envelope(3)])
    await billing.wait_handled(3)
    await routing.wait_handled(3)
    await settle(bus)

    assert billing.ids == [1, 2, 3]
    assert routing.ids == [1, 2, 3]


async def test_consumers_of_one_queue_share_the_work_and_nothing_is_handled_twice(bus: AnyBus) -> None:
    first = Recorder(delay=0.005)
    second = Recorder(delay=0.005, changed=first._changed)
    await bus.subscribe("work", first)
    await bus.subscribe("work", second)

    await bus.publish([envelope(number) for number in range(1, 41)])
    await first.wait_for(lambda: len(first.handled) + len(second.handled) >= 40)
    await settle(bus)

    assert sorted(first.ids + second.ids) == list(range(1, 41))
    assert len(first.calls) + len(second.calls) == 40
    assert first.handled, "the first consumer got no work"
    assert second.handled, "the second consumer got no work"


async def test_one_consumer_sees_its_queue_in_publish_order(bus: AnyBus) -> None:
    recorder = Recorder()
    await bus.subscribe("ordered", recorder)

    await bus.publish([envelope(number) for number in range(1, 31)])
    for number in range(31, 41):
        await bus.publish([envelope(number)])
    await recorder.wait_handled(40)
    await settle(bus)

    assert recorder.ids == list(range(1, 41))


async def test_a_handler_can_publish_follow_up_events(bus: AnyBus) -> None:
    recorder = Recorder()

    async def react(item: Envelope) -> None:
        await recorder(item)
        if item.name == "MessageReceived":
            await bus.publish([envelope(item.event_id + 100, "OfferMade")])

    await bus.subscribe("chain", react)

    await bus.publish([envelope(1)])
    await recorder.wait_handled(2)
    await settle(bus)

    assert [(item.event_id, item.name) for item in recorder.handled] == [(1, "MessageReceived"), (101, "OfferMade")]


# -- failures --------------------------------------------------------------------


async def test_a_failing_handler_is_retried_up_to_max_attempts_then_dead_lettered(bus: AnyBus) -> None:
    recorder = Recorder(fails=lambda item, attempt: item.event_id == 1)
    await bus.subscribe("fragile", recorder, max_attempts=3)
    poisoned, healthy = envelope(1), envelope(2, "ConversationOpened")

    await bus.publish([poisoned, healthy])
    await recorder.wait_handled(1)
    await recorder.wait_for(lambda: recorder.calls.count(1) >= 3)
    await settle(bus)
    letters: list[Envelope] = []

    async def dead_lettered() -> bool:
        letters[:] = await bus.dead_letters("fragile")
        return bool(letters)

    await poll_until(dead_lettered)  # RabbitMQ dead-letters asynchronously

    assert letters == [poisoned]
    assert recorder.calls.count(1) == 3
    assert recorder.ids == [2]
    assert await bus.dead_letters("fragile") == [poisoned], "peeking must not consume the dead letters"


async def test_a_handler_that_recovers_within_max_attempts_handles_the_envelope_once(bus: AnyBus) -> None:
    recorder = Recorder(fails=lambda item, attempt: attempt <= 2)
    await bus.subscribe("flaky", recorder, max_attempts=3)

    await bus.publish([envelope(7)])
    await recorder.wait_handled(1)
    await settle(bus)

    assert recorder.calls == [7, 7, 7]
    assert recorder.ids == [7]
    assert await bus.dead_letters("flaky") == []


async def test_max_attempts_is_fixed_when_the_queue_is_declared(bus: AnyBus) -> None:
    recorder = Recorder()
    await bus.subscribe("fixed", recorder, max_attempts=3)

    with pytest.raises(ValueError, match="max_attempts"):
        await bus.subscribe("fixed", Recorder(), max_attempts=4)
    await bus.publish([envelope(1)])
    await recorder.wait_handled(1)
    await settle(bus)

    assert recorder.ids == [1]


async def test_a_payload_that_is_not_json_is_refused_and_nothing_of_the_batch_is_sent(bus: AnyBus) -> None:
    recorder = Recorder()
    await bus.subscribe("strict", recorder)

    with pytest.raises(TypeError, match="event 2"):
        await bus.publish([envelope(1), envelope(2, when=datetime(2024, 1, 1, tzinfo=UTC))])
    await bus.publish([envelope(3)])
    await recorder.wait_handled(1)
    await settle(bus)

    assert recorder.ids == [3]


# -- queues without consumers, private queues ---------------------------------------


async def test_a_declared_queue_keeps_what_is_published_while_nobody_consumes(bus: AnyBus) -> None:
    await bus.publish([envelope(1)])  # no queue declared yet: routed nowhere
    first = await bus.subscribe("late", Recorder())
    await first.cancel()

    await bus.publish([envelope(2), envelope(3)])
    recorder = Recorder()
    await bus.subscribe("late", recorder)
    await recorder.wait_handled(2)
    await settle(bus)

    assert recorder.ids == [2, 3]


async def test_declare_creates_the_queue_before_any_consumer(bus: AnyBus) -> None:
    await bus.declare("outbox-audit", topics=("Conversation.*",), max_attempts=2)

    await bus.publish([envelope(1, "Conversation.Closed"), envelope(2, "MessageReceived")])
    recorder = Recorder()
    await bus.subscribe("outbox-audit", recorder, topics=("Conversation.*",), max_attempts=2)
    await recorder.wait_handled(1)
    await settle(bus)

    assert recorder.ids == [1]


async def test_a_private_queue_receives_only_while_subscribed(bus: AnyBus) -> None:
    witness, first_node, second_node = Recorder(), Recorder(), Recorder()
    await bus.subscribe("witness", witness)
    first = await bus.subscribe(None, first_node)
    await bus.subscribe(None, second_node)

    await bus.publish([envelope(1)])
    await first_node.wait_handled(1)
    await second_node.wait_handled(1)
    await first.cancel()
    await first.cancel()  # cancelling twice is harmless
    await bus.publish([envelope(2)])
    await witness.wait_handled(2)
    await second_node.wait_handled(2)
    await settle(bus)

    assert first_node.ids == [1]
    assert second_node.ids == [1, 2]
    assert witness.ids == [1, 2]


# -- lifecycle -------------------------------------------------------------------


async def test_ping_reports_a_started_bus(bus: AnyBus) -> None:
    assert await bus.ping() is True


async def test_close_is_idempotent_and_final(bus: AnyBus) -> None:
    recorder = Recorder()
    await bus.subscribe("closing", recorder)

    await bus.close()
    await bus.close()

    assert await bus.ping() is False
    with pytest.raises(BusUnavailable):
        await bus.publish([envelope(1)])
    with pytest.raises(BusUnavailable):
        await bus.subscribe("closing", recorder)
    assert recorder.calls == []


async def test_close_lets_the_handler_in_progress_finish(bus: AnyBus) -> None:
    recorder = Recorder(delay=0.3)
    await bus.subscribe("slow", recorder)
    await bus.publish([envelope(1)])
    await recorder.wait_for(lambda: recorder.calls == [1])

    await bus.close()

    assert recorder.ids == [1]


async def test_a_bus_that_was_not_started_is_unavailable() -> None:
    for unstarted in (InMemoryBus(), RabbitMQBus("amqp://guest:guest@127.0.0.1:1/")):
        assert await unstarted.ping() is False
        with pytest.raises(BusUnavailable, match="not started"):
            await unstarted.publish([envelope(1)])


# -- RabbitMQ: the broker goes away and comes back ----------------------------------


def _via(url: str, port: int) -> str:
    scheme, _, rest = url.partition("://")
    credentials, _, address = rest.rpartition("@")
    path = address.partition("/")[2]
    return f"{scheme}://{credentials}@127.0.0.1:{port}/{path}"


@pytest.mark.rabbitmq
async def test_rabbitmq_publish_fails_fast_while_cut_and_everything_resumes_after(amqp_url: str) -> None:
    parts = amqp_url.partition("://")[2].rpartition("@")[2].partition("/")[0]
    host, _, port = parts.partition(":")
    proxy = TcpProxy(host or "127.0.0.1", int(port or 5672))
    bus = RabbitMQBus(
        _via(amqp_url, await proxy.start()),
        namespace=unique_namespace(),
        publish_timeout=2.0,
        reconnect_interval=0.3,
    )
    try:
        await bus.start()
        durable, private = Recorder(), Recorder()
        await bus.subscribe("survivor", durable)
        await bus.subscribe(None, private)
        await bus.publish([envelope(1)])
        await durable.wait_handled(1)
        await private.wait_handled(1)
        await settle(bus)  # acknowledged: a cut from here on does not redeliver event 1

        await proxy.cut()
        started = time.monotonic()
        with pytest.raises(BusUnavailable):
            await bus.publish([envelope(2)])
        elapsed = time.monotonic() - started
        assert elapsed < 3.0, f"publish took {elapsed:.1f}s to fail"
        assert await bus.ping() is False

        await proxy.restore()
        await poll_until(bus.ping)
        await bus.publish([envelope(3)])  # ping is True only once channels and consumers are back
        await durable.wait_handled(2)
        await private.wait_handled(2)
        await settle(bus)

        assert durable.ids == [1, 3]
        assert private.ids == [1, 3]
    finally:
        if proxy.is_cut:
            await proxy.restore()
        await bus.delete_namespace()
        await bus.close()
        await proxy.close()


@pytest.mark.rabbitmq
async def test_rabbitmq_start_raises_bus_unavailable_when_the_broker_is_unreachable(amqp_url: str) -> None:
    proxy = TcpProxy("127.0.0.1", 5672)
    port = await proxy.start()
    await proxy.cut()  # the port now refuses connections
    bus = RabbitMQBus(_via(amqp_url, port), namespace=unique_namespace(), connect_timeout=2.0)

    started = time.monotonic()
    with pytest.raises(BusUnavailable):
        await bus.start()

    assert time.monotonic() - started < 3.0
    assert await bus.ping() is False
    await bus.close()


# -- configuration ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("", InMemoryBus),
        ("memory://", InMemoryBus),
        ("amqp://guest:guest@127.0.0.1:5672/", RabbitMQBus),
        ("amqps://user:secret@rabbit.example:5671/prod", RabbitMQBus),
    ],
)
def test_bus_from_url_picks_the_backend_by_scheme(url: str, kind: type) -> None:
    created = bus_from_url(url, namespace="tenant-a")

    assert type(created) is kind
    assert created.namespace == "tenant-a"


def test_bus_from_url_refuses_an_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="redis"):
        bus_from_url("redis://127.0.0.1:6379/0")
