"""FastAGI and AMI together, as a real Asterisk uses them: AGI runs the call flow, AMI reports the ringing and
the answer (FastAGI then does not report them itself)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets

from switchboard.bootstrap import Container
from switchboard.web.app import create_app
from tests.adapters.voice.asterisk import AgiCaller, FakeManager, environment
from tests.adapters.voice.test_agi import free_port
from tests.adapters.voice.test_ami import status, until
from tests.api.test_routing import go, settle
from tests.api.test_voice_ivr import contact, tree, vip_line
from tests.api.test_voice_screen_pop import frames_until, token
from tests.support.clock import ManualClock
from tests.support.desk import Desk
from tests.support.pbx import VIP_NUMBER, phone_channel
from tests.support.server import serving

CALLER, IVAN_LEG = "1712345678.80", "1712345678.81"


@pytest.fixture
async def manager() -> AsyncIterator[FakeManager]:
    async with FakeManager().running() as running:
        yield running


@pytest.fixture
def routing_on() -> bool:
    return True


@pytest.fixture
def extra_settings(manager: FakeManager) -> dict[str, object]:
    return {"voice_sweep_seconds": 0, "agi_port": free_port(), "ami_url": manager.url}


async def test_agi_runs_the_vip_call_and_ami_reports_the_ringing_and_the_answer(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock, manager: FakeManager
) -> None:
    # given the VIP line staffed by ivan, a VIP client, and Asterisk connected both ways
    line = await vip_line(app_client, desk)
    await phone_channel(app_client, desk, ivr=tree(line))
    await contact(app_client, desk, "Анна Важная", "vip", phone="+79165551111")
    clock.advance(seconds=3600)
    await go(app_client, desk, "operator2")
    await settle(container)
    await manager.logged_in()
    assert container.agi is not None and not container.agi.server.report_dial_events
    pops: list[dict[str, Any]] = []
    async with (
        serving(create_app(container, manage_lifecycle=False)) as host,
        websockets.connect(f"ws://{host}/api/v1/ws?token={token(desk, 'operator2')}") as ivan,
    ):
        assert json.loads(await ivan.recv())["event"] == "ready"

        async def dial() -> None:  # what Asterisk's Dial() makes the manager say
            legs = {"Channel": "PJSIP/trunk-00000001", "Uniqueid": CALLER, "Linkedid": CALLER}
            await manager.event("DialBegin", **legs, DestUniqueid=IVAN_LEG, DialString="ivan@pbx.test")
            pops.append((await frames_until(ivan, "ScreenPop"))[-1])
            await manager.event("BridgeEnter", **legs, BridgeUniqueid="b-1")
            await until(lambda: status(app_client, desk, pops[0]["data"]["call_id"], "talking"))
            clock.advance(seconds=90)  # they talk; then Dial returns ANSWER

        hooks = {"EXEC MusicOnHold": lambda: settle(container), "EXEC Dial": dial}
        asterisk = AgiCaller(container.agi.port, hooks=hooks)
        commands = await asterisk.call(environment(CALLER, "+79165551111", VIP_NUMBER))
    # then FastAGI did not ask for ANSWEREDTIME (AMI told the answer) and the screen popped from AMI's DialBegin
    assert commands[-3:] == ["EXEC Dial " + commands[-3].split(" ", 2)[2], "GET VARIABLE DIALSTATUS", "HANGUP"]
    assert pops[0]["data"]["contact"]["tier"] == "vip"
    await container.agi.server.idle()
    async with container.services.uow(read_only=True) as uow:
        call = await uow.calls.find(None, CALLER)
    assert call is not None
    kept = (await app_client.get(f"/api/v1/voice/calls/{call.id}", headers=desk.as_("supervisor"))).json()
    assert (kept["status"], kept["disposition"], kept["operator_id"], kept["talk_s"]) == (
        "ended",
        "answered",
        desk.other_operator_id,
        90,
    )
