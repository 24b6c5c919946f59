"""An operator whose desk disconnects and does not come back is signed out; their work is requeued."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets

from switchboard.bootstrap import Container
from switchboard.web.app import create_app
from tests.api.test_routing import conversation, go, settle, write
from tests.support.desk import Desk
from tests.support.server import serving

GRACE = 0.3


@pytest.fixture
def routing_on() -> bool:
    return True


@pytest.fixture
def extra_settings() -> dict[str, object]:
    return {"disconnect_grace_seconds": GRACE}


async def _status(client: httpx.AsyncClient, desk: Desk) -> str:
    answer = await client.get(f"/api/v1/operators/{desk.operator_id}", headers=desk.as_("supervisor"))
    return str(answer.json()["status"])


@pytest.mark.parametrize("comes_back", [False, True], ids=["gone", "reconnects-in-time"])
async def test_a_lost_desk_hands_its_work_back_unless_it_returns_in_time(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, comes_back: bool
) -> None:
    # given olga available with a conversation she holds
    await go(app_client, desk, "operator")
    await settle(container)
    held = await write(app_client, desk, "+79161001800")
    await settle(container)
    assert (
        await app_client.post(f"/api/v1/conversations/{held}/accept", headers=desk.as_("operator"))
    ).status_code == 204
    await settle(container)
    token = desk.as_("operator")["authorization"].removeprefix("Bearer ")
    async with serving(create_app(container, manage_lifecycle=False)) as host:
        url = f"ws://{host}/api/v1/ws?token={token}"
        async with websockets.connect(url) as ws:
            assert json.loads(await ws.recv())["event"] == "ready"
        # when her desk's connection drops (and, in one case, comes back within the grace period)
        if comes_back:
            async with websockets.connect(url) as ws:
                assert json.loads(await ws.recv())["event"] == "ready"
                await asyncio.sleep(GRACE * 2)
        else:
            await asyncio.sleep(GRACE * 2)
        await settle(container)
    # then she is offline with her conversation back in the queue, or untouched if she came back
    state = await conversation(app_client, desk, held)
    if comes_back:
        assert (await _status(app_client, desk), state["status"], state["assignee_id"]) == (
            "available",
            "assigned",
            desk.operator_id,
        )
    else:
        assert (await _status(app_client, desk), state["status"], state["assignee_id"]) == ("offline", "queued", None)
