"""Screen pop over a real websocket, on both databases: the ringing operator's window gets the caller's card."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets

from switchboard.bootstrap import Container
from switchboard.web.app import create_app
from tests.api.test_routing import go, settle
from tests.api.test_voice_ivr import contact, tree, vip_line
from tests.support.clock import ManualClock
from tests.support.desk import Desk, inbound
from tests.support.pbx import VIP_NUMBER, Pbx, phone_channel
from tests.support.server import serving


@pytest.fixture
def routing_on() -> bool:
    return True


@pytest.fixture
def extra_settings() -> dict[str, object]:
    return {"voice_sweep_seconds": 0}


def token(desk: Desk, who: str) -> str:
    return desk.as_(who)["authorization"].removeprefix("Bearer ")


async def frames_until(ws: Any, event: str, timeout: float = 5.0) -> list[dict[str, Any]]:
    """Every frame up to and including the first ``event``."""
    seen: list[dict[str, Any]] = []
    while not seen or seen[-1].get("event") != event:
        seen.append(json.loads(await asyncio.wait_for(ws.recv(), timeout)))
    return seen


async def quiet(ws: Any, seconds: float = 0.5, *, frames: bool = False) -> list[Any]:
    """Names of the events (or the frames) that arrive until none comes for ``seconds``."""
    seen: list[Any] = []
    try:
        while True:
            received = json.loads(await asyncio.wait_for(ws.recv(), seconds))
            seen.append(received if frames else received["event"])
    except TimeoutError:
        return seen


async def test_the_vip_scenario_pops_the_card_on_the_vip_operators_screen(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    # given a VIP client with an earlier chat and an open lead, and the VIP line staffed by ivan
    vip = await vip_line(app_client, desk)
    pbx = Pbx(app_client, await phone_channel(app_client, desk, ivr=tree(vip)), clock)
    client_id = await contact(app_client, desk, "Анна Важная", "vip", phone="+79165551111")
    chat = await app_client.post(
        "/api/v1/inbound", headers=desk.as_("integration"), json=inbound(desk.channel_id, "Счёт", phone="+79165551111")
    )
    lead = await app_client.post(
        f"/api/v1/conversations/{chat.json()['conversation_id']}/leads",
        headers=desk.as_("supervisor"),
        json={"title": "Renewal"},
    )
    assert lead.status_code == 201, lead.text
    await go(app_client, desk, "operator")
    await go(app_client, desk, "operator2")
    await settle(container)
    async with (
        serving(create_app(container, manage_lifecycle=False)) as host,
        websockets.connect(f"ws://{host}/api/v1/ws?token={token(desk, 'operator2')}") as ivan,
        websockets.connect(f"ws://{host}/api/v1/ws?token={token(desk, 'operator')}") as olga,
    ):
        assert json.loads(await ivan.recv())["event"] == "ready"
        assert json.loads(await olga.recv())["event"] == "ready"
        # when the VIP calls, is identified, and the PBX rings the VIP operator it was told to
        await pbx.call("c-1", ani="+79165551111", dnis=VIP_NUMBER)
        await settle(container)
        ring = await pbx.result("c-1", "waited")
        assert ring["operator_id"] == desk.other_operator_id
        await pbx.event("c-1", "ringing", operator_id=desk.other_operator_id)
        # then ivan's window gets the card (straight from the server that took the event) and the event,
        # the card once: the relay's copy of the event does not pop it again
        frames = await frames_until(ivan, "CallRinging")
        frames += await quiet(ivan, 0.5, frames=True)
        ringing = next(f for f in frames if f.get("event") == "CallRinging")
        pops = [f for f in frames if f.get("event") == "ScreenPop"]
        assert len(pops) == 1, [f.get("event") for f in frames]
        pop = pops[0]
        assert pop["for_event"] == ringing["event_id"]
        card = pop["data"]
        assert (card["known"], card["number"], card["actions"]) == (True, "+79165551111", [])
        assert (card["contact"]["id"], card["contact"]["name"], card["contact"]["tier"]) == (
            client_id,
            "Анна Важная",
            "vip",
        )
        assert [c["id"] for c in card["conversations"]] == [chat.json()["conversation_id"]]
        assert [x["title"] for x in card["leads"]] == ["Renewal"]
        # and olga's does not
        assert "ScreenPop" not in await quiet(olga)


async def test_an_unknown_caller_pops_as_unknown_with_actions(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    pbx = Pbx(app_client, await phone_channel(app_client, desk), clock)
    await go(app_client, desk, "operator")
    await settle(container)
    async with (
        serving(create_app(container, manage_lifecycle=False)) as host,
        websockets.connect(f"ws://{host}/api/v1/ws?token={token(desk, 'operator')}") as olga,
    ):
        assert json.loads(await olga.recv())["event"] == "ready"
        await pbx.call("c-1", ani="+79160001234")
        await settle(container)
        await pbx.result("c-1", "waited")
        ringing = await pbx.event("c-1", "ringing", extension="sip:olga@pbx.test")
        card = (await frames_until(olga, "ScreenPop"))[-1]["data"]
    assert (card["call_id"], card["known"], card["number"], card["actions"]) == (
        ringing["call_id"],
        False,
        "+79160001234",
        ["create_contact", "create_lead"],
    )
    assert card["contact"]["name"] == "+79160001234"  # the card to fill in, made when the call reached the queue
    # and the same card is there to fetch, for the operator it rang at only
    fetched = await app_client.get(f"/api/v1/voice/calls/{ringing['call_id']}/card", headers=desk.as_("operator"))
    assert fetched.json() == card
    other = await app_client.get(f"/api/v1/voice/calls/{ringing['call_id']}/card", headers=desk.as_("operator2"))
    assert other.status_code == 404


async def test_the_card_pops_from_the_server_that_took_the_ringing_event_without_waiting_for_the_relay(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    # given olga's window connected to the server the PBX reports to, and an unknown caller offered to her
    pbx = Pbx(app_client, await phone_channel(app_client, desk), clock)
    await go(app_client, desk, "operator")
    await settle(container)
    async with (
        serving(create_app(container, manage_lifecycle=False)) as host,
        websockets.connect(f"ws://{host}/api/v1/ws?token={token(desk, 'operator')}") as olga,
    ):
        assert json.loads(await olga.recv())["event"] == "ready"
        await pbx.call("c-1", ani="+79160001234")
        await settle(container)
        await pbx.result("c-1", "waited")
        await quiet(olga)  # the offer's events are in
        # when the outbox relay is stopped (the broker is slow, the relay busy) and the phone rings
        await container.relay.stop()
        ringing = await pbx.event("c-1", "ringing", operator_id=desk.operator_id)
        # then the card still arrives, before the event itself could
        first = json.loads(await asyncio.wait_for(olga.recv(), 5.0))
        assert (first["event"], first["data"]["call_id"], first["data"]["known"]) == (
            "ScreenPop",
            ringing["call_id"],
            False,
        )
        assert await quiet(olga) == []
        # and once the relay publishes, the event follows and the card is not sent again
        assert await container.relay.drain() == 0
        assert await quiet(olga, 1.0) == ["CallRinging"]


async def test_a_new_number_stays_unknown_for_this_call_whatever_it_does_meanwhile(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    # given a number nobody knows calling (its contact is made when the call reaches the queue)
    pbx = Pbx(app_client, await phone_channel(app_client, desk), clock)
    await pbx.call("c-1", ani="+79160001234")
    # and, while the caller waits, the same number writes a message (a conversation on that contact)
    clock.advance(seconds=20)
    chat = await app_client.post(
        "/api/v1/inbound",
        headers=desk.as_("integration"),
        json=inbound(desk.channel_id, "Where?", phone="+79160001234"),
    )
    assert chat.status_code in (200, 201, 202), chat.text
    clock.advance(seconds=20)
    ringing = await pbx.event("c-1", "ringing", operator_id=desk.operator_id)
    # when the card is read after all that
    card = (
        await app_client.get(f"/api/v1/voice/calls/{ringing['call_id']}/card", headers=desk.as_("supervisor"))
    ).json()
    # then the caller is still an unknown caller for this call: nothing of theirs predates it
    assert (card["known"], card["actions"]) == (False, ["create_contact", "create_lead"])
    assert [c["id"] for c in card["conversations"]] == [chat.json()["conversation_id"]]
    # and their next call finds them known
    clock.advance(seconds=60)
    await pbx.call("c-2", ani="+79160001234")
    again = await pbx.event("c-2", "ringing", operator_id=desk.operator_id)
    second = (
        await app_client.get(f"/api/v1/voice/calls/{again['call_id']}/card", headers=desk.as_("supervisor"))
    ).json()
    assert (second["known"], second["actions"]) == (True, [])
