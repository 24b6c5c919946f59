"""An API integration hears that a conversation closed: pushed, signed, once per close, retried while it is down.

The whole path runs: the close commits ``ConversationClosed``, the relay publishes it, the durable
``notices`` consumer queues the notice, the delivery worker pushes it to a real HTTP server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from switchboard.adapters.storage import tables as t
from switchboard.application.notices import queue_close_notice
from switchboard.application.ports.bus import Envelope
from switchboard.bootstrap import Container
from switchboard.workers.delivery import NOTICES
from tests.api.test_api_channel_push import SECRET, _api_channel, _documented_verifier
from tests.support.clock import ManualClock
from tests.support.desk import Desk, taken_by_operator
from tests.support.providers.integration import Answer, Integration


@pytest.fixture
async def integration() -> Any:
    async with Integration().running() as running:
        yield running


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, "not in time"
        await asyncio.sleep(0.02)


async def closed_conversation(client: httpx.AsyncClient, desk: Desk, channel_id: int) -> dict[str, Any]:
    """A customer writes, an operator takes the conversation and closes it: what the inbound call answered."""
    taken = await taken_by_operator(client, desk, channel_id, "Спасибо", external_id="crm-9")
    closed = await client.post(f"/api/v1/conversations/{taken['conversation_id']}/close", headers=desk.as_("operator"))
    assert closed.status_code == 200, closed.text
    return taken


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():
        assert loop.time() < deadline, "not in time"
        await asyncio.sleep(0.02)


async def health(client: httpx.AsyncClient, desk: Desk, channel_id: int) -> dict[str, Any]:
    shown = await client.get(f"/api/v1/channels/{channel_id}", headers=desk.as_("admin"))
    return dict(shown.json()["health"])


async def notices_queued(container: Container) -> int:
    async with container.database.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(t.notices))).scalar_one())


async def _failing(client: httpx.AsyncClient, desk: Desk, channel_id: int) -> bool:
    return bool((await health(client, desk, channel_id))["failing"])


async def _none_queued(container: Container) -> bool:
    return await notices_queued(container) == 0


async def closed_event(container: Container, conversation_id: int) -> Envelope:
    events = await container.outbox.after(0, 1000)
    return next(e for e in events if e.name == "ConversationClosed" and e.payload["conversation_id"] == conversation_id)


async def test_a_close_is_pushed_signed_once(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, integration: Integration, clock: ManualClock
) -> None:
    # given an API channel that pushes to the integration
    channel = await _api_channel(app_client, desk, {"webhook_url": integration.url}, {"webhook_secret": SECRET})
    # when an operator closes one of its conversations
    taken = await closed_conversation(app_client, desk, channel)
    await until(lambda: len(integration.pushes) == 1)
    # then the integration is told, with exactly this body, signed as a reply is
    (push,) = integration.pushes
    event = await closed_event(container, taken["conversation_id"])
    expected = {
        "type": "conversation.closed",
        "id": f"conversation.closed-{event.event_id}",
        "channel_id": channel,
        "conversation_id": taken["conversation_id"],
        "contact_id": taken["contact_id"],
        "closed_at": clock.now().isoformat(),
        "closed_by": desk.operator_id,
    }
    assert json.loads(push.body) == expected  # key order is not part of it (PostgreSQL's JSONB keeps its own)
    assert push.headers["x-switchboard-event"] == "conversation.closed"
    assert _documented_verifier()(SECRET, push.headers, push.body) is True
    # and the consumer recorded the event, so the bus redelivering it is a no-op, and nothing more goes out
    await eventually(lambda: container.inbox.seen(NOTICES, event.event_id))
    container.delivery.wake()
    await asyncio.sleep(0.3)
    assert (len(integration.pushes), await notices_queued(container)) == (1, 0)


async def test_an_integration_that_is_down_gets_the_close_when_it_is_back(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, integration: Integration, clock: ManualClock
) -> None:
    # given an integration that answers 503 once
    channel = await _api_channel(app_client, desk, {"webhook_url": integration.url}, {"webhook_secret": SECRET})
    integration.script = [Answer(503, b'{"error": "maintenance"}')]
    # when a conversation closes
    taken = await closed_conversation(app_client, desk, channel)
    await until(lambda: len(integration.pushes) == 1)
    # then the notice waits for its retry, and the channel's health says why
    await eventually(lambda: _failing(app_client, desk, channel))
    assert "503" in (await health(app_client, desk, channel))["last_error"]
    assert await notices_queued(container) == 1
    # and the same event handled again meanwhile queues no second notice
    assert (
        await queue_close_notice(container.services, await closed_event(container, taken["conversation_id"])) is False
    )
    assert await notices_queued(container) == 1
    # and when the retry comes due, the same document goes again and is taken
    clock.advance(minutes=5)
    container.delivery.wake()
    await until(lambda: len(integration.pushes) == 2)
    assert integration.pushes[1].body == integration.pushes[0].body
    await eventually(lambda: _none_queued(container))
    assert (await health(app_client, desk, channel))["failing"] is False


async def test_a_refused_close_is_not_retried(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, integration: Integration, clock: ManualClock
) -> None:
    # given an integration that refuses the notice with a 4xx
    channel = await _api_channel(app_client, desk, {"webhook_url": integration.url}, {"webhook_secret": SECRET})
    integration.script = [Answer(410, b'{"error": "unknown conversation"}')]
    # when a conversation closes and time passes
    await closed_conversation(app_client, desk, channel)
    await until(lambda: len(integration.pushes) == 1)
    await eventually(lambda: _none_queued(container))
    clock.advance(hours=1)
    container.delivery.wake()
    await asyncio.sleep(0.3)
    # then it was tried once and dropped, and the channel's health shows the integration's answer
    assert (len(integration.pushes), await notices_queued(container)) == (1, 0)
    last_error = (await health(app_client, desk, channel))["last_error"]
    assert "410" in last_error and "unknown conversation" in last_error


async def test_a_channel_that_does_not_push_queues_no_notice(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given the desk's API channel, which has no webhook_url (the integration reads from the API)
    # when one of its conversations closes
    taken = await closed_conversation(app_client, desk, desk.channel_id)
    event = await closed_event(container, taken["conversation_id"])
    # then nothing is queued for it, now or when the event is handled again
    assert await queue_close_notice(container.services, event) is False
    assert await notices_queued(container) == 0
