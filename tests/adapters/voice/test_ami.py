"""AMI driven from Asterisk's side: a manager on loopback sends the banner, checks the login, streams a call's events
and answers Originate; the call record, the operator's screen pop and click-to-call show the effect."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets

from switchboard.adapters.voice.ami import AmiAddress, AmiClient
from switchboard.application.voice.model import NewCall, Outcome, StepResult
from switchboard.bootstrap import Container
from switchboard.web.app import create_app
from tests.adapters.voice.asterisk import FakeManager
from tests.api.test_routing import go, settle
from tests.api.test_voice_ivr import contact, tree, vip_line
from tests.api.test_voice_screen_pop import frames_until, quiet, token
from tests.support.clock import ManualClock
from tests.support.desk import Desk
from tests.support.pbx import VIP_NUMBER, phone_channel
from tests.support.server import serving

CALLER = "1712345678.42"  # the caller's channel: Uniqueid and the call's Linkedid
IVAN_LEG = "1712345678.43"  # the channel Dial opened to ivan's phone


@pytest.fixture
async def manager() -> AsyncIterator[FakeManager]:
    async with FakeManager().running() as running:
        yield running


@pytest.fixture
def routing_on() -> bool:
    return True


@pytest.fixture
def extra_settings(manager: FakeManager) -> dict[str, object]:
    return {"voice_sweep_seconds": 0, "ami_url": manager.url, "ami_recordings_url": "https://pbx.test/rec/"}


@pytest.fixture
async def channel_id(app_client: httpx.AsyncClient, desk: Desk, container: Container, manager: FakeManager) -> int:
    line = await vip_line(app_client, desk)
    made = await phone_channel(app_client, desk, ivr=tree(line))  # no originate_url: AMI places the calls
    await settle(container)
    await manager.logged_in()
    return made


async def ringing_at_ivan(container: Container, desk: Desk) -> int:
    """A VIP call that FastAGI (or any front end) put on hold and is now told to ring ivan."""
    control = container.call_control
    await control.start_call(NewCall(CALLER, "+79165551111", VIP_NUMBER))
    await settle(container)
    step = await control.report_result(None, StepResult(CALLER, 1, Outcome.WAITED))
    assert (step.action.value, step.operator_id) == ("connect", desk.other_operator_id)
    async with container.services.uow(read_only=True) as uow:
        call = await uow.calls.find(None, CALLER)
    assert call is not None
    return call.id


def leg(uniqueid: str, channel: str, **more: str) -> dict[str, str]:
    return {"Channel": channel, "Uniqueid": uniqueid, "Linkedid": CALLER, **more}


async def record(client: httpx.AsyncClient, desk: Desk, call_id: int) -> dict[str, Any]:
    answer = await client.get(f"/api/v1/voice/calls/{call_id}", headers=desk.as_("supervisor"))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def until(check: Any, seconds: float = 5.0) -> None:
    """The AMI client works on its own task: poll what it changed, within a bound."""
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110 - the change is in the database, no event to wait on
            await asyncio.sleep(0.02)


async def recorded(client: httpx.AsyncClient, desk: Desk, call_id: int) -> bool:
    return (await record(client, desk, call_id))["recording_url"] is not None


async def status(client: httpx.AsyncClient, desk: Desk, call_id: int, wanted: str) -> bool:
    return (await record(client, desk, call_id))["status"] == wanted


async def test_a_call_rung_answered_recorded_and_hung_up_in_ami_events(
    app_client: httpx.AsyncClient,
    desk: Desk,
    container: Container,
    clock: ManualClock,
    manager: FakeManager,
    channel_id: int,
) -> None:
    # given a VIP client calling, both operators at their desks
    await contact(app_client, desk, "Анна Важная", "vip", phone="+79165551111")
    clock.advance(seconds=3600)
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
        call_id = await ringing_at_ivan(container, desk)
        # when Asterisk dials ivan's phone
        await manager.event("Newchannel", **leg(IVAN_LEG, "PJSIP/ivan-00000002", ChannelStateDesc="Down"))
        await manager.event(
            "DialBegin",
            **leg(CALLER, "PJSIP/trunk-00000001"),
            DestChannel="PJSIP/ivan-00000002",
            DestUniqueid=IVAN_LEG,
            DestLinkedid=CALLER,
            DialString="ivan@pbx.test",
        )
        # then ivan's window pops the caller's card, olga's does not
        card = (await frames_until(ivan, "ScreenPop"))[-1]["data"]
        assert (card["call_id"], card["known"], card["contact"]["tier"]) == (call_id, True, "vip")
        assert "ScreenPop" not in await quiet(olga, 0.3)
    # when ivan picks up (both legs enter the bridge), MixMonitor records, and the caller hangs up
    clock.advance(seconds=5)
    await manager.event("DialEnd", **leg(CALLER, "PJSIP/trunk-00000001"), DestUniqueid=IVAN_LEG, DialStatus="ANSWER")
    await manager.event("BridgeEnter", **leg(CALLER, "PJSIP/trunk-00000001"), BridgeUniqueid="b-1")
    await manager.event("BridgeEnter", **leg(IVAN_LEG, "PJSIP/ivan-00000002"), BridgeUniqueid="b-1")
    recording = "/var/spool/asterisk/monitor/c42.wav"
    await manager.event(
        "VarSet", **leg(CALLER, "PJSIP/trunk-00000001"), Variable="MIXMONITOR_FILENAME", Value=recording
    )
    await until(lambda: recorded(app_client, desk, call_id))  # the client handles events in order
    clock.advance(seconds=60)
    cause = {"Cause": "16", "Cause-txt": "Normal Clearing"}
    await manager.event("Hangup", **leg(IVAN_LEG, "PJSIP/ivan-00000002"), **cause)
    await manager.event("Hangup", **leg(CALLER, "PJSIP/trunk-00000001"), **cause)
    await until(lambda: status(app_client, desk, call_id, "ended"))
    kept = await record(app_client, desk, call_id)
    assert (kept["disposition"], kept["operator_id"], kept["talk_s"], kept["recording_url"]) == (
        "answered",
        desk.other_operator_id,
        60,
        "https://pbx.test/rec/c42.wav",
    )


async def test_a_hang_up_reported_before_the_answer_is_corrected_by_the_events_timestamps(
    app_client: httpx.AsyncClient,
    desk: Desk,
    container: Container,
    clock: ManualClock,
    manager: FakeManager,
    channel_id: int,
) -> None:
    await go(app_client, desk, "operator2")
    await settle(container)
    call_id = await ringing_at_ivan(container, desk)
    answered_at = clock.now().timestamp() + 2
    clock.advance(seconds=32)
    # when the Hangup reaches us before the BridgeEnter that happened 30 s earlier (timestampevents = yes)
    await manager.event("Hangup", **leg(CALLER, "PJSIP/trunk-00000001"), Timestamp=f"{clock.now().timestamp():.6f}")
    await manager.event("BridgeEnter", **leg(CALLER, "PJSIP/trunk-00000001"), Timestamp=f"{answered_at:.6f}")

    async def corrected() -> bool:
        return (await record(app_client, desk, call_id))["disposition"] == "answered"

    await until(corrected)
    assert (await record(app_client, desk, call_id))["talk_s"] == 30


async def test_events_of_unknown_calls_are_logged_and_ignored_and_a_bad_line_reconnects(
    app_client: httpx.AsyncClient,
    desk: Desk,
    container: Container,
    manager: FakeManager,
    channel_id: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await go(app_client, desk, "operator2")
    await settle(container)
    with caplog.at_level(logging.INFO, "switchboard.voice.ami"):
        # an event about a call Switchboard never saw
        await manager.event("Hangup", Channel="PJSIP/x-1", Uniqueid="999.1", Linkedid="999.1", Cause="16")
        await until(lambda: _true_when("ami.unknown_call call=999.1" in caplog.text))
        # a line that is not "Key: Value": the client drops the connection and logs in again
        await manager.send("this line has no colon", "")
        await manager.logged_in(2)
        assert "ami.disconnected" in caplog.text
        # a manager restart: the client comes back again
        manager.drop()
        await manager.logged_in(3)
    # and events keep working after the reconnects
    call_id = await ringing_at_ivan(container, desk)
    await manager.event("BridgeEnter", **leg(CALLER, "PJSIP/trunk-00000001"))

    await until(lambda: status(app_client, desk, call_id, "talking"))


async def _true_when(value: bool) -> bool:
    return value


async def test_a_wrong_secret_is_refused_and_logged_without_the_secret(
    container: Container, manager: FakeManager, caplog: pytest.LogCaptureFixture
) -> None:
    address = AmiAddress.parse(f"ami://switchboard:wrong-one@127.0.0.1:{manager.port}")
    client = AmiClient(container.call_control, address, backoff=(0.05, 0.1))
    with caplog.at_level(logging.ERROR, "switchboard.voice.ami"):
        await client.start()
        await until(lambda: _true_when("ami.login_refused" in caplog.text))
        await client.stop()
    assert client.connections == 0
    assert "wrong-one" not in caplog.text and "wrong-one" not in repr(address)
    with pytest.raises(ValueError, match="ami://"):
        AmiAddress.parse("http://127.0.0.1:5038")


@pytest.mark.parametrize(("answer", "status"), [("Success", 201), ("Failure", 502), ("Error", 502)])
async def test_click_to_call_originates_through_ami(
    app_client: httpx.AsyncClient,
    desk: Desk,
    container: Container,
    manager: FakeManager,
    channel_id: int,
    answer: str,
    status: int,
) -> None:
    # given Asterisk that places the call, cannot place it, or refuses the action
    manager.originate = answer
    await go(app_client, desk, "operator")
    await settle(container)
    # when olga clicks "call"
    dialled = await app_client.post(
        "/api/v1/voice/calls", headers=desk.as_("operator"), json={"number": "+79163334455"}
    )
    # then AMI got an Originate ringing her phone first, then the customer's number from the outbound context
    assert dialled.status_code == status, dialled.text
    sent = next(a for a in manager.actions if a.get("Action") == "Originate")
    assert {k: sent[k] for k in ("Channel", "Context", "Exten", "Priority", "CallerID", "Async")} == {
        "Channel": "PJSIP/olga",
        "Context": "switchboard-out",
        "Exten": "+79163334455",
        "Priority": "1",
        "CallerID": "+74950000000",
        "Async": "true",
    }
    if status == 201:  # the call's events will carry the id we gave the channel
        assert dialled.json()["pbx_call_id"] == sent["ChannelId"]
        assert sent["Variable"] == f"SWITCHBOARD_CALL_ID={sent['ChannelId']}"
    else:
        assert dialled.headers["content-type"].startswith("application/problem+json")


async def test_an_originate_that_fails_after_the_wait_ends_the_outbound_call(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, manager: FakeManager, channel_id: int
) -> None:
    # given Asterisk that queues the Originate, and only later finds the operator's phone unreachable
    assert container.ami is not None
    container.ami.originator.wait_s = 0.05
    manager.originate, manager.originate_after_s = "Failure", 0.3
    await go(app_client, desk, "operator")
    await settle(container)
    # when olga clicks "call", she is told it is on its way
    dialled = await app_client.post(
        "/api/v1/voice/calls", headers=desk.as_("operator"), json={"number": "+79163334455"}
    )
    assert (dialled.status_code, dialled.json()["status"]) == (201, "dialing")
    # then the late OriginateResponse: Failure ends the call
    await until(lambda: status(app_client, desk, dialled.json()["id"], "ended"))
    kept = await record(app_client, desk, dialled.json()["id"])
    assert (kept["disposition"], kept["answered_at"], kept["talk_s"]) == ("missed", None, None)


async def test_a_channel_set_up_with_a_placeholder_originate_url_still_dials_through_ami(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, manager: FakeManager, channel_id: int
) -> None:
    # given the channel as set up before AMI needed no URL (a placeholder nobody listens at)
    edited = await app_client.patch(
        f"/api/v1/channels/{channel_id}",
        headers=desk.as_("admin"),
        json={
            "settings": {"numbers": ["+74950000000"], "secret": "********", "originate_url": "https://127.0.0.1:9/x"}
        },
    )
    assert edited.status_code == 200, edited.text
    await go(app_client, desk, "operator")
    await settle(container)
    # when olga clicks "call"
    dialled = await app_client.post(
        "/api/v1/voice/calls", headers=desk.as_("operator"), json={"number": "+79163334455"}
    )
    # then the call went out through AMI, not to the URL
    assert dialled.status_code == 201, dialled.text
    sent = [a for a in manager.actions if a.get("Action") == "Originate"]
    assert [a["ChannelId"] for a in sent] == [dialled.json()["pbx_call_id"]]
