"""Events leave only after commit, survive a crash before publishing, and wait out a broker outage."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from switchboard.application.access import Principal
from switchboard.application.intake import InboundMessage, Sender, receive_message
from switchboard.application.outbox import consume_once
from switchboard.application.ports.bus import Envelope
from switchboard.bootstrap import Container, build
from switchboard.config import load_settings
from switchboard.domain.operators import Role
from tests.support.clock import ManualClock
from tests.support.desk import given_desk
from tests.support.services import AMQP_URL, require
from tests.support.tcp_proxy import TcpProxy

INTEGRATION = Principal(Role.INTEGRATION)


async def _desk_channel(container: Container) -> int:
    from switchboard.application.catalog import create_line
    from switchboard.application.channels import create_channel
    from switchboard.domain.channels import ChannelKind
    from switchboard.domain.lines import Line

    admin = Principal(Role.ADMIN)
    line = await create_line(container.services, admin, Line(0, "L"))
    return (await create_channel(container.services, admin, ChannelKind.API, "API", line.id, {})).id


def _message(channel_id: int, phone: str, external_id: str) -> InboundMessage:
    return InboundMessage(channel_id, Sender("Анна", phone=phone), "Здравствуйте", external_id)


async def _collect(container: Container, queue: str) -> list[Envelope]:
    received: list[Envelope] = []

    async def handler(envelope: Envelope) -> None:
        received.append(envelope)

    await container.bus.subscribe(queue, handler, topics=("#",))
    return received


async def _until(condition: object, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_committed_events_are_published_in_order(container: Container) -> None:
    channel_id = await _desk_channel(container)
    received = await _collect(container, "probe")
    # when a message from a new customer is received
    await receive_message(container.services, INTEGRATION, _message(channel_id, "+79160000010", "e-1"))
    await _until(lambda: any(e.name == "MessageReceived" for e in received))
    # then the events of that unit of work arrive, in the order they were emitted
    names = [e.name for e in received if e.name not in ("LineChanged", "ChannelChanged")]
    assert names == ["ContactCreated", "ConversationOpened", "LeadCreated", "MessageReceived"]
    # and the relay marks them published (it marks after the bus took them, so this may lag delivery)
    for _ in range(300):
        if not await container.outbox.unpublished(100):
            break
        await asyncio.sleep(0.05)
    assert await container.outbox.unpublished(100) == []


async def test_events_committed_before_a_crash_are_published_after_restart(
    container: Container, clock: ManualClock
) -> None:
    # given the relay died right after the commit (nothing published)
    channel_id = await _desk_channel(container)
    await container.relay.stop()
    await receive_message(container.services, INTEGRATION, _message(channel_id, "+79160000011", "e-2"))
    waiting = await container.outbox.unpublished(100)
    assert "MessageReceived" in [e.name for e in waiting]
    # when the service starts again on the same database
    restarted = build(container.settings, clock=clock, fast_hashing=True)
    await restarted.bus.start()
    received = await _collect(restarted, "probe")
    await restarted.start()
    try:
        await _until(lambda: len(received) >= len(waiting))
        # then every waiting event is published once, and the outbox is empty
        assert [e.event_id for e in received] == [e.event_id for e in waiting]
        assert await restarted.relay.drain(2) == 0  # a round marks after its publish: wait for its turn to end
        assert await restarted.outbox.unpublished(100) == []
        assert [e.event_id for e in received] == [e.event_id for e in waiting]
    finally:
        await restarted.stop(drain_seconds=1)


async def test_redelivered_event_is_handled_once(container: Container) -> None:
    handled: list[int] = []

    async def handler(envelope: Envelope) -> None:
        handled.append(envelope.event_id)

    once = consume_once(container.inbox, container.services.clock, "probe", handler)
    envelope = Envelope(41, "ContactCreated", container.services.clock.now(), {"contact_id": 1})
    await once(envelope)
    await once(envelope)
    assert handled == [41]


async def test_an_event_whose_handler_failed_is_handled_when_delivered_again(container: Container) -> None:
    attempts: list[int] = []

    async def flaky(envelope: Envelope) -> None:
        attempts.append(envelope.event_id)
        if len(attempts) == 1:
            raise RuntimeError("the handler's dependency is down")

    once = consume_once(container.inbox, container.services.clock, "probe", flaky)
    envelope = Envelope(42, "ContactCreated", container.services.clock.now(), {"contact_id": 1})
    with pytest.raises(RuntimeError):
        await once(envelope)
    await once(envelope)
    await once(envelope)
    assert attempts == [42, 42]


async def test_graceful_stop_drains_the_outbox(container: Container, clock: ManualClock) -> None:
    channel_id = await _desk_channel(container)
    await container.relay.stop()
    await receive_message(container.services, INTEGRATION, _message(channel_id, "+79160000012", "e-3"))
    assert await container.outbox.unpublished(100) != []
    left = await container.stop(drain_seconds=5)
    assert left == 0
    again = build(container.settings, clock=clock, fast_hashing=True)
    try:
        assert await again.outbox.unpublished(100) == []
    finally:
        await again.database.dispose()


@pytest.mark.rabbitmq
async def test_broker_outage_delays_events_and_loses_none(sqlite_url: str) -> None:
    require(AMQP_URL, 5672, "RabbitMQ")
    from switchboard.adapters.storage.database import Database
    from tests.conftest import empty_tables

    proxy = TcpProxy("127.0.0.1", 5672)
    port = await proxy.start()
    settings = load_settings(
        database_url=sqlite_url,
        bus_url=f"amqp://guest:guest@127.0.0.1:{port}/",
        bus_namespace=f"sbtest.{uuid.uuid4().hex[:8]}",
        routing=False,
    )
    database = Database(sqlite_url)
    await empty_tables(database)
    await database.dispose()
    container = build(settings, clock=ManualClock(), fast_hashing=True)
    await container.start()
    try:
        channel_id = await _desk_channel(container)
        received = await _collect(container, "probe")
        await receive_message(container.services, INTEGRATION, _message(channel_id, "+79160000013", "r-1"))
        await _until(lambda: any(e.name == "MessageReceived" for e in received))
        before = len(received)
        # when the broker's connection is cut, intake still works and events wait in the outbox
        await proxy.cut()
        result = await receive_message(container.services, INTEGRATION, _message(channel_id, "+79160000014", "r-2"))
        assert result.contact_created is True
        await asyncio.sleep(1.5)
        assert len(received) == before
        waiting = await container.outbox.unpublished(100)
        assert [e.name for e in waiting] == ["ContactCreated", "ConversationOpened", "LeadCreated", "MessageReceived"]
        # then when it is back, every waiting event goes out, none lost
        await proxy.restore()
        await _until(lambda: len(received) >= before + len(waiting), timeout=30)
        assert [e.event_id for e in received[before:]] == [e.event_id for e in waiting]
        # and they are marked published (after the broker confirmed them, which may lag their delivery)
        for _ in range(300):
            if not await container.outbox.unpublished(100):
                break
            await asyncio.sleep(0.05)
        assert await container.outbox.unpublished(100) == []
    finally:
        await container.stop(drain_seconds=2)
        await container.bus.delete_namespace() if hasattr(container.bus, "delete_namespace") else None
        await proxy.close()


async def test_desk_fixture_is_usable_with_relay(container: Container) -> None:
    """A guard that the shared desk fixture leaves the outbox flowing (used by the API tests)."""
    import httpx

    from switchboard.web.app import create_app

    app = create_app(container, manage_lifecycle=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        await given_desk(container.services, client)
    await container.relay.drain(2)
    assert await container.outbox.unpublished(100) == []


async def test_stop_lets_the_round_in_progress_finish(monkeypatch: pytest.MonkeyPatch, clock: ManualClock) -> None:
    # given a relay in the middle of a round (a statement cancelled half-way can leave SQLite locked)
    from switchboard.workers import relay as relay_module

    started, gate, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def a_round(*_: object) -> int:
        started.set()
        await gate.wait()
        finished.set()
        return 0

    monkeypatch.setattr(relay_module, "publish_pending", a_round)
    relay = relay_module.OutboxRelay(None, None, clock)  # type: ignore[arg-type]
    relay.start()
    await started.wait()
    # when it is told to stop while the round is still running, and the round then completes
    stopping = asyncio.create_task(relay.stop(grace_seconds=5))
    await asyncio.sleep(0.05)
    assert not stopping.done()
    gate.set()
    await stopping
    # then the round ran to its end instead of being cancelled
    assert finished.is_set()


async def test_stop_ends_a_back_off_at_once(monkeypatch: pytest.MonkeyPatch, clock: ManualClock) -> None:
    # given a relay backing off for 10 s because the broker is down
    from switchboard.application.ports.bus import BusUnavailable
    from switchboard.workers import relay as relay_module

    tried = asyncio.Event()

    async def broker_down(*_: object) -> int:
        tried.set()
        raise BusUnavailable("down")

    monkeypatch.setattr(relay_module, "publish_pending", broker_down)
    relay = relay_module.OutboxRelay(None, None, clock, poll_seconds=10)  # type: ignore[arg-type]
    relay.start()
    await tried.wait()
    # when it is stopped, then it stops within a moment, not after the back-off or the grace
    await asyncio.wait_for(relay.stop(grace_seconds=5), timeout=1)


async def test_rounds_under_load_are_spaced_and_a_commit_after_quiet_goes_at_once(
    monkeypatch: pytest.MonkeyPatch, clock: ManualClock
) -> None:
    # given a relay whose rounds are recorded, spaced 0.3 s apart, with nothing to poll for meanwhile
    from switchboard.workers import relay as relay_module

    rounds: list[float] = []

    async def a_round(*_: object) -> int:
        rounds.append(asyncio.get_running_loop().time())
        return 1

    monkeypatch.setattr(relay_module, "publish_pending", a_round)
    relay = relay_module.OutboxRelay(None, None, clock, poll_seconds=60, spacing_seconds=1.0)  # type: ignore[arg-type]
    relay.start()
    await _until(lambda: len(rounds) == 1)  # the start-up round
    await asyncio.sleep(1.2)  # a quiet spell longer than the spacing
    try:
        # when a commit wakes it after the quiet spell
        woken = asyncio.get_running_loop().time()
        relay.wake()
        await _until(lambda: len(rounds) == 2)
        # then that round starts at once
        assert rounds[1] - woken < 0.5
        # and when ten commits follow within 0.1 s, they wait for the spacing and leave in one round
        for _ in range(10):
            relay.wake()
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.5)
        assert len(rounds) == 3
        assert rounds[2] - rounds[1] >= 1.0
    finally:
        await relay.stop()


async def test_stop_during_the_spacing_ends_at_once(monkeypatch: pytest.MonkeyPatch, clock: ManualClock) -> None:
    # given a relay that just ran a round and waits out the spacing before the next one, polling every 10 s
    from switchboard.workers import relay as relay_module

    rounds: list[float] = []

    async def a_round(*_: object) -> int:
        rounds.append(asyncio.get_running_loop().time())
        return 1

    monkeypatch.setattr(relay_module, "publish_pending", a_round)
    relay = relay_module.OutboxRelay(None, None, clock, poll_seconds=10, spacing_seconds=3)  # type: ignore[arg-type]
    relay.start()
    await _until(lambda: len(rounds) == 1)
    relay.wake()  # a commit: the next round waits for the spacing
    await asyncio.sleep(0.05)
    # when it is stopped within the spacing
    stopped_at = asyncio.get_running_loop().time()
    await relay.stop(grace_seconds=5)
    # then it stops at once: no round and no poll's wait after the stop (drain() sends what is left)
    assert asyncio.get_running_loop().time() - stopped_at < 1
    assert len(rounds) == 1
