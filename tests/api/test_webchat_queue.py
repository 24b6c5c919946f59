"""A web chat visitor waiting in the queue sees their place and the wait, and who joins when it is their turn."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from switchboard.bootstrap import Container
from switchboard.web.app import create_app
from tests.api.test_routing import go, settle
from tests.api.test_webchat import make_chat_channel
from tests.support.desk import Desk
from tests.support.server import serving
from tests.support.widget import Widget


@pytest.fixture
def routing_on() -> bool:
    return True


@pytest.fixture
async def host(container: Container) -> AsyncIterator[str]:
    app = create_app(container, manage_lifecycle=False)
    async with serving(app) as address:
        app.state.visitors.poll_seconds = 0.2
        yield address


async def place(widget: Widget, position: int) -> dict[str, object]:
    """The first queue frame that tells ``position`` (earlier ones may tell a place already left)."""
    while True:
        frame = await widget.next("queue")
        if frame["position"] == position:
            return frame


async def test_queue_place_and_wait_are_pushed_while_waiting(
    container: Container, app_client: httpx.AsyncClient, desk: Desk, host: str
) -> None:
    channel_id = await make_chat_channel(app_client, desk)
    await settle(container)
    # given nobody available on the line, two visitors write one after the other
    async with Widget(host, channel_id) as first, Widget(host, channel_id) as second:
        mine = (await first.write("Первый вопрос"))["message"]["conversation_id"]
        await settle(container)
        assert (await place(first, 1))["conversation_id"] == mine
        await second.write("Второй вопрос")
        await settle(container)
        told = await place(second, 2)
        assert told["estimated_wait_s"] is None  # nobody staffs the line: no estimate
        # when the first leaves the queue (the supervisor closes it: spam)
        closed = await app_client.post(f"/api/v1/conversations/{mine}/close", headers=desk.as_("supervisor"))
        assert closed.status_code == 200, closed.text
        await settle(container)
        # then the second moves up to the first place
        assert (await place(second, 1))["conversation_id"] == told["conversation_id"]
        # and when an operator becomes available and accepts, the visitor learns who joined
        await go(app_client, desk, "operator")
        await settle(container)
        theirs = told["conversation_id"]
        accepted = await app_client.post(f"/api/v1/conversations/{theirs}/accept", headers=desk.as_("operator"))
        assert accepted.status_code == 204, accepted.text
        await settle(container)
        while (state := await second.next("state"))["status"] != "assigned":
            pass
        assert state["operator"] == "Olga"
