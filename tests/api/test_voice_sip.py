"""The SIP front end's HTTP contract, on both databases: who may ask, and the answers for bad input.

The whole path through Kamailio and sipp is in tests/e2e/test_sip_kamailio.py.
"""

from __future__ import annotations

import httpx
import pytest

from switchboard.bootstrap import Container
from switchboard.web.app import create_app
from switchboard.web.routes.sip import SECRET_HEADER
from tests.support.desk import Desk
from tests.support.pbx import MAIN_NUMBER, phone_channel

SIP_SECRET = "sip-shared-secret-0123456789"
PROXY = {SECRET_HEADER: SIP_SECRET}


@pytest.fixture
def extra_settings() -> dict[str, object]:
    return {"sip_secret": SIP_SECRET, "voice_sweep_seconds": 0}


def route(call_id: str, dnis: str = MAIN_NUMBER) -> dict[str, object]:
    return {"call_id": call_id, "ani": "+79161234567", "dnis": dnis, "domain": "sip.test", "wait_s": 0}


async def test_a_caller_without_the_shared_secret_is_refused_and_nothing_is_written(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    await phone_channel(app_client, desk)
    for headers in ({}, {SECRET_HEADER: "wrong-secret-0123456789"}, {SECRET_HEADER: SIP_SECRET[:-1]}):
        # when the route is asked without the secret, or with a wrong one
        answer = await app_client.post("/api/v1/voice/sip/route", json=route("c-1"), headers=headers)
        # then 401 problem, and no call is recorded
        assert answer.status_code == 401, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    async with container.services.uow(read_only=True) as uow:
        assert await uow.calls.find(None, "c-1") is None


async def test_the_right_secret_from_another_host_is_refused(
    container: Container, desk: Desk, app_client: httpx.AsyncClient
) -> None:
    # given a request from a non-loopback address that knows the secret
    await phone_channel(app_client, desk)
    transport = httpx.ASGITransport(app=create_app(container, manage_lifecycle=False), client=("192.0.2.7", 5060))
    async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test") as remote:
        answer = await remote.post("/api/v1/voice/sip/route", json=route("c-1"), headers=PROXY)
    # then 401: the proxy must run on Switchboard's host
    assert answer.status_code == 401, answer.text
    assert "on this host" in answer.json()["detail"]


async def test_without_a_configured_secret_the_front_end_is_off(
    container: Container, desk: Desk, app_client: httpx.AsyncClient
) -> None:
    container.settings.sip_secret = None
    try:
        answer = await app_client.post("/api/v1/voice/sip/route", json=route("c-1"), headers=PROXY)
    finally:
        container.settings.sip_secret = SIP_SECRET
    assert answer.status_code == 401, answer.text


async def test_an_unknown_number_is_answered_404_and_a_malformed_one_484(
    app_client: httpx.AsyncClient, desk: Desk
) -> None:
    await phone_channel(app_client, desk)
    unknown = await app_client.post("/api/v1/voice/sip/route", json=route("c-1", "+74959999999"), headers=PROXY)
    malformed = await app_client.post("/api/v1/voice/sip/route", json=route("c-2", "sales"), headers=PROXY)
    assert unknown.json() == {
        "call_id": "c-1",
        "action": "reply",
        "step_id": None,
        "uri": None,
        "operator_id": None,
        "timeout_ms": None,
        "code": 404,
        "reason": "Number Not Served",
    }
    assert (malformed.json()["code"], malformed.json()["reason"]) == (484, "Address Incomplete")


async def test_nobody_to_take_the_call_within_the_wait_is_480_and_the_call_ends(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given nobody available (routing is off in this module: the call waits in the queue)
    await phone_channel(app_client, desk)
    # when the proxy may hold the INVITE for no time at all
    answer = await app_client.post("/api/v1/voice/sip/route", json=route("c-1"), headers=PROXY)
    # then 480, and the call is closed as abandoned (the caller was refused)
    assert (answer.json()["action"], answer.json()["code"]) == ("reply", 480)
    again = await app_client.post(
        "/api/v1/voice/sip/events", json={"call_id": "c-1", "kind": "hangup", "cause": "bye"}, headers=PROXY
    )
    assert again.json()["duplicate"] is True  # the hang-up was recorded when Switchboard answered 480
    async with container.services.uow(read_only=True) as uow:
        call = await uow.calls.find(None, "c-1")
    assert call is not None and call.ended_at is not None
    assert (call.disposition.value if call.disposition else None, call.end_reason) == ("abandoned", "hangup")


async def test_reports_about_unknown_calls_are_404_problems(app_client: httpx.AsyncClient, desk: Desk) -> None:
    await phone_channel(app_client, desk)
    failure = {"call_id": "nope", "step_id": 1, "code": 408, "domain": "sip.test"}
    for path, body in (("failure", failure), ("events", {"call_id": "nope", "kind": "answered"})):
        answer = await app_client.post(f"/api/v1/voice/sip/{path}", json=body, headers=PROXY)
        assert answer.status_code == 404, answer.text
        assert answer.headers["content-type"] == "application/problem+json"


async def test_a_caller_nobody_answers_in_time_is_redirected_to_the_channels_voicemail_else_480(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given the line has voicemail, and the channel its own (which wins)
    line = await app_client.patch(
        f"/api/v1/lines/{desk.line_id}", headers=desk.as_("admin"), json={"routing": {"voicemail_uri": "sip:vm@line"}}
    )
    assert line.status_code == 200, line.text
    channel_id = await phone_channel(app_client, desk, voicemail_uri="sips:box@pbx.test")
    # when a call waits longer than the proxy holds it (wait_s 0: at once)
    answer = await app_client.post("/api/v1/voice/sip/route", json=route("c-1"), headers=PROXY)
    # then the proxy is told to redirect to the channel's voicemail, and the call is over
    assert answer.json() == {
        "call_id": "c-1",
        "action": "redirect",
        "step_id": None,
        "uri": "sips:box@pbx.test",
        "operator_id": None,
        "timeout_ms": None,
        "code": 302,
        "reason": "Moved Temporarily",
    }
    async with container.services.uow(read_only=True) as uow:
        call = await uow.calls.find(None, "c-1")
    assert call is not None and call.ended_at is not None
    # and without the channel's, the line's is used
    edited = await app_client.patch(
        f"/api/v1/channels/{channel_id}",
        headers=desk.as_("admin"),
        json={"settings": {"numbers": [MAIN_NUMBER], "secret": "********"}},
    )
    assert edited.status_code == 200, edited.text
    answer = await app_client.post("/api/v1/voice/sip/route", json=route("c-2"), headers=PROXY)
    assert (answer.json()["action"], answer.json()["uri"]) == ("redirect", "sip:vm@line")
    # and without either, 480 as before
    cleared = await app_client.patch(f"/api/v1/lines/{desk.line_id}", headers=desk.as_("admin"), json={"routing": {}})
    assert cleared.status_code == 200, cleared.text
    answer = await app_client.post("/api/v1/voice/sip/route", json=route("c-3"), headers=PROXY)
    assert (answer.json()["action"], answer.json()["code"], answer.json()["reason"]) == (
        "reply",
        480,
        "No Operator Available",
    )


async def test_a_voicemail_uri_that_is_not_a_sip_uri_is_refused_naming_the_field(
    app_client: httpx.AsyncClient, desk: Desk
) -> None:
    body = {"kind": "phone", "name": "Bad", "line_id": desk.line_id, "settings": {"voicemail_uri": "http://x"}}
    channel = await app_client.post("/api/v1/channels", headers=desk.as_("admin"), json=body)
    assert channel.status_code == 422, channel.text
    assert "settings.voicemail_uri" in channel.text
    line = await app_client.patch(
        f"/api/v1/lines/{desk.line_id}", headers=desk.as_("admin"), json={"routing": {"voicemail_uri": "sip:a b"}}
    )
    assert line.status_code == 422, line.text
    assert "routing.voicemail_uri" in line.text
