"""Operators' websocket: their events live, and after a reconnect nothing lost or doubled."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import insert

from switchboard.adapters.storage import tables
from switchboard.bootstrap import Container
from switchboard.web.app import create_app
from tests.support.desk import Desk, inbound
from tests.support.server import serving


async def _next_events(ws: Any, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while len(events) < count:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if "id" in frame:
            events.append(frame)
    return events


async def _silent(ws: Any, seconds: float = 0.5) -> bool:
    try:
        frame = await asyncio.wait_for(ws.recv(), seconds)
    except TimeoutError:
        return True
    raise AssertionError(f"unexpected frame {frame}")


def _token(desk: Desk, who: str) -> str:
    return desk.as_(who)["authorization"].removeprefix("Bearer ")


async def test_unauthenticated_socket_is_closed_with_a_reason(container: Container, desk: Desk) -> None:
    async with serving(create_app(container, manage_lifecycle=False)) as host:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with websockets.connect(f"ws://{host}/api/v1/ws?token=forged") as ws:
                await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_operator_gets_own_events_and_resumes_without_loss_or_doubles(
    container: Container, app_client: httpx.AsyncClient, desk: Desk
) -> None:
    async def customer_writes(text: str) -> dict[str, Any]:
        answer = await app_client.post(
            "/api/v1/inbound",
            headers=desk.as_("integration"),
            json=inbound(desk.channel_id, text, phone="+79160000020"),
        )
        return dict(answer.json())

    first = await customer_writes("1")
    conversation = first["conversation_id"]
    async with serving(create_app(container, manage_lifecycle=False)) as host:
        url = f"ws://{host}/api/v1/ws?token={_token(desk, 'operator')}"
        async with websockets.connect(url) as ws:
            assert json.loads(await ws.recv())["event"] == "ready"
            # when the conversation is assigned to this operator, they hear of it
            await app_client.post(
                f"/api/v1/conversations/{conversation}/assign",
                headers=desk.as_("supervisor"),
                json={"operator_id": desk.operator_id},
            )
            (assigned,) = await _next_events(ws, 1)
            assert assigned["event"] == "ConversationAssigned"
            assert assigned["data"]["conversation_id"] == conversation
            # and a customer message in another operator's conversation is not theirs
            other = await app_client.post(
                "/api/v1/inbound",
                headers=desk.as_("integration"),
                json=inbound(desk.channel_id, "x", phone="+79160000021"),
            )
            await app_client.post(
                f"/api/v1/conversations/{other.json()['conversation_id']}/assign",
                headers=desk.as_("supervisor"),
                json={"operator_id": desk.other_operator_id},
            )
            assert await _silent(ws)
            last_seen = assigned["id"]
        # while disconnected, the customer writes twice
        await customer_writes("2")
        await customer_writes("3")
        await container.relay.drain(2)  # published while away (an event not yet published comes live, after)
        async with websockets.connect(f"{url}&last_event_id={last_seen}") as ws:
            missed = await _next_events(ws, 2)
            assert [e["event"] for e in missed] == ["MessageReceived", "MessageReceived"]
            assert all(e["data"]["assignee_id"] == desk.operator_id for e in missed)
            assert json.loads(await ws.recv())["event"] == "ready"
            # and live events continue after the replay, each once
            await customer_writes("4")
            (live,) = await _next_events(ws, 1)
            assert live["event"] == "MessageReceived" and live["id"] > missed[-1]["id"]
            assert await _silent(ws)


async def test_supervisor_sees_the_whole_floor(container: Container, app_client: httpx.AsyncClient, desk: Desk) -> None:
    await container.relay.drain(2)  # the desk's own set-up events are out before we listen
    await container.bus.drain()  # type: ignore[attr-defined]
    async with (
        serving(create_app(container, manage_lifecycle=False)) as host,
        websockets.connect(f"ws://{host}/api/v1/ws?token={_token(desk, 'supervisor')}") as ws,
    ):
        assert json.loads(await ws.recv())["event"] == "ready"
        await app_client.post(
            "/api/v1/inbound",
            headers=desk.as_("integration"),
            json=inbound(desk.channel_id, "hi", phone="+79160000022"),
        )
        events = await _next_events(ws, 4)
    assert [e["event"] for e in events] == ["ContactCreated", "ConversationOpened", "LeadCreated", "MessageReceived"]


async def test_ping_is_answered(container: Container, desk: Desk) -> None:
    async with (
        serving(create_app(container, manage_lifecycle=False)) as host,
        websockets.connect(f"ws://{host}/api/v1/ws?token={_token(desk, 'operator')}") as ws,
    ):
        assert json.loads(await ws.recv())["event"] == "ready"
        await ws.send("ping")
        assert json.loads(await ws.recv()) == {"event": "pong"}


async def _event_row(connection: Any, label: str) -> int:
    statement = (
        insert(tables.outbox)
        .values(name="Interleaved", payload={"label": label}, occurred_at=datetime.now(UTC))
        .returning(tables.outbox.c.id)
    )
    return int((await connection.execute(statement)).scalar_one())


# PostgreSQL only: sQLite has one writer: its ids commit in order
@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_resume_after_a_smaller_id_commits_late_misses_nothing(container: Container, desk: Desk) -> None:
    await container.relay.drain(2)
    await container.bus.drain()  # type: ignore[attr-defined]
    engine = container.database.engine
    async with serving(create_app(container, manage_lifecycle=False)) as host:
        url = f"ws://{host}/api/v1/ws?token={_token(desk, 'supervisor')}"
        async with engine.connect() as early, engine.connect() as late:
            # given two transactions where the one holding the smaller id commits last
            await early.begin()
            smaller = await _event_row(early, "smaller id, committed last")
            await late.begin()
            larger = await _event_row(late, "larger id, committed first")
            await late.commit()
            assert smaller < larger
            async with websockets.connect(url) as ws:
                assert json.loads(await ws.recv())["event"] == "ready"
                container.relay.wake()
                (seen,) = await _next_events(ws, 1)
                assert seen["data"] == {"label": "larger id, committed first"}
            # when the smaller id commits while the client is away
            await early.commit()
        container.relay.wake()
        assert await container.relay.drain(2) == 0
        # then the resume after the last event seen gets it, once, and live events follow once each
        async with websockets.connect(f"{url}&last_event_id={seen['id']}") as ws:
            (missed,) = await _next_events(ws, 1)
            assert missed["data"] == {"label": "smaller id, committed last"}
            assert missed["id"] == seen["id"] + 1
            assert json.loads(await ws.recv()) == {"event": "ready", "last_event_id": missed["id"]}
            assert await _silent(ws)
            async with engine.begin() as connection:
                await _event_row(connection, "live")
            container.relay.wake()
            (live,) = await _next_events(ws, 1)
            assert (live["id"], live["data"]) == (missed["id"] + 1, {"label": "live"})
            assert await _silent(ws)
