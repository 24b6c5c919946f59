"""The statements routing costs to admit a new conversation, counted on both databases."""

from __future__ import annotations

import httpx
import pytest

from switchboard.application.ports.bus import Envelope
from switchboard.bootstrap import Container
from tests.api.test_routing import settle, write
from tests.api.test_voice_statements import statements
from tests.support.clock import ManualClock
from tests.support.desk import Desk


@pytest.fixture
def routing_on() -> bool:
    return False  # the router is driven by hand below, in this task, so its statements can be told apart


async def test_admitting_a_new_conversation_nobody_can_take_reads_it_and_its_history_once(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    # given a router that knows the floor (every operator offline), and a new customer's conversation
    router = container.routing.router
    await router.start()
    await settle(container)
    conversation_id = await write(app_client, desk, "+79167654321")
    payload = {"conversation_id": conversation_id, "line_id": desk.line_id, "channel_id": desk.channel_id}
    opened = Envelope(0, "ConversationOpened", clock.now(), payload)
    # when the router admits it
    with statements(container) as seen:
        await router.handle(opened)
    # then: the conversation, its queueing (the claim), the contact's history in one read, the event;
    # no second update for the "keep waiting" that follows (it is queued already)
    assert seen == [
        "SELECT conversations",
        "UPDATE conversations",
        "SELECT conversations",
        "INSERT INTO outbox",
    ]
    position = await router.position(conversation_id)
    assert position is not None and position[0] >= 1
