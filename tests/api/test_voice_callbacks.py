"""Callbacks and click-to-call, on both databases; the PBX integration is a real HTTP server on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from switchboard.bootstrap import Container
from switchboard.domain.voice.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_problem
from tests.api.test_routing import go, settle
from tests.api.test_voice import call_record
from tests.support.clock import ManualClock
from tests.support.desk import Desk
from tests.support.pbx import MAIN_NUMBER, SECRET, Pbx, phone_channel
from tests.support.server import serving


@pytest.fixture
def routing_on() -> bool:
    return True


@pytest.fixture
def extra_settings() -> dict[str, object]:
    return {"voice_sweep_seconds": 0}


@dataclass
class PbxIntegration:
    """The PBX side of click-to-call: checks the signature as docs/voice.md tells a PBX to, then places the call."""

    clock: ManualClock
    answer_status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)
    refused_signatures: list[str] = field(default_factory=list)
    url: str = ""

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/originate")
        async def originate(request: Request) -> JSONResponse:
            body = await request.body()
            problem = signature_problem(
                SECRET,
                request.headers.get(TIMESTAMP_HEADER),
                request.headers.get(SIGNATURE_HEADER),
                body,
                self.clock.now().timestamp(),
            )
            if problem is not None:
                self.refused_signatures.append(problem)
                return JSONResponse({"error": problem}, status_code=401)
            self.received.append(json.loads(body))
            if self.answer_status != 200:
                return JSONResponse({"error": "trunk down"}, status_code=self.answer_status)
            return JSONResponse({"call_id": f"pbx-out-{len(self.received)}"})

        return app


@pytest.fixture
async def integration(clock: ManualClock) -> AsyncIterator[PbxIntegration]:
    pbx = PbxIntegration(clock)
    async with serving(pbx.app()) as host:
        pbx.url = f"http://{host}/originate"
        yield pbx


@pytest.fixture
async def pbx(
    app_client: httpx.AsyncClient, desk: Desk, clock: ManualClock, container: Container, integration: PbxIntegration
) -> Pbx:
    channel_id = await phone_channel(app_client, desk, originate_url=integration.url)
    await settle(container)
    return Pbx(app_client, channel_id, clock)


async def dial(client: httpx.AsyncClient, desk: Desk, **body: Any) -> httpx.Response:
    return await client.post("/api/v1/voice/calls", headers=desk.as_("operator"), json=body)


async def test_click_to_call_rings_my_phone_then_the_customer_and_is_recorded_as_outbound(
    app_client: httpx.AsyncClient,
    desk: Desk,
    pbx: Pbx,
    container: Container,
    clock: ManualClock,
    integration: PbxIntegration,
) -> None:
    # given a contact with a phone number, and olga at her desk
    made = await app_client.post(
        "/api/v1/contacts",
        headers=desk.as_("operator"),
        json={"name": "Пётр", "identities": [{"kind": "phone", "value": "+79163334455"}]},
    )
    contact_id = made.json()["id"]
    await go(app_client, desk, "operator")
    await settle(container)
    # when she clicks "call" on the card
    answer = await dial(app_client, desk, contact_id=contact_id)
    # then the PBX integration got a signed request: ring olga's phone, then dial the contact, showing our number
    assert answer.status_code == 201, answer.text
    call = answer.json()
    assert integration.refused_signatures == []
    assert integration.received == [
        {
            "call_id": integration.received[0]["call_id"],
            "channel_id": pbx.channel_id,
            "operator_id": desk.operator_id,
            "from": "sip:olga@pbx.test",
            "to": "+79163334455",
            "caller_id": MAIN_NUMBER,
        }
    ]
    assert (call["direction"], call["status"], call["pbx_call_id"], call["dnis"], call["ani"]) == (
        "out",
        "dialing",
        "pbx-out-1",
        "+79163334455",
        MAIN_NUMBER,
    )
    # and the call is a conversation of hers: routing counts her voice slot
    await settle(container)
    conversation = (
        await app_client.get(f"/api/v1/conversations/{call['conversation_id']}", headers=desk.as_("operator"))
    ).json()
    assert (conversation["status"], conversation["assignee_id"]) == ("assigned", desk.operator_id)
    # when the customer answers, they talk two minutes and hang up
    await pbx.event("pbx-out-1", "answered")
    clock.advance(seconds=120)
    await pbx.event("pbx-out-1", "hangup")
    record = await call_record(app_client, desk, call["id"])
    assert (record["disposition"], record["talk_s"], record["operator_id"]) == ("answered", 120.0, desk.operator_id)
    timeline = (await app_client.get(f"/api/v1/contacts/{contact_id}/timeline", headers=desk.as_("operator"))).json()
    assert [e["summary"] for e in timeline["items"] if e["kind"] == "call"] == [
        "outbound call to +79163334455: answered by Olga, talk 2:00"
    ]


async def test_a_pbx_that_refuses_gives_a_502_and_the_attempt_is_recorded_as_failed(
    app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx, container: Container, integration: PbxIntegration
) -> None:
    integration.answer_status = 503
    answer = await dial(app_client, desk, number="8 916 333-44-55")
    assert answer.status_code == 502
    assert answer.json()["detail"] == 'the PBX did not place the call: HTTP 503 {"error":"trunk down"}'
    await settle(container)
    calls = [c for c in (await app_client.get("/api/v1/conversations", headers=desk.as_("supervisor"))).json()]
    assert [c["status"] for c in calls] == ["closed"]


async def test_dialling_needs_one_valid_target(app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx) -> None:
    none = await dial(app_client, desk)
    assert (none.status_code, none.json()["field"]) == (422, "number")
    bad = await dial(app_client, desk, number="12")
    assert (bad.status_code, bad.json()["field"]) == (422, "number")
    missing = await dial(app_client, desk, contact_id=999)
    assert missing.status_code == 404


async def test_the_widget_orders_a_callback_the_operator_calls_it_back_and_it_is_done(
    app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx, container: Container, clock: ManualClock
) -> None:
    # given a callback ordered on the website (the widget's backend holds an integration token)
    ordered = await app_client.post(
        "/api/v1/voice/callbacks",
        headers=desk.as_("integration"),
        json={"channel_id": desk.channel_id, "phone": "+7 916 777-88-99", "name": "Мария", "note": "про доставку"},
    )
    assert ordered.status_code == 201, ordered.text
    callback = ordered.json()
    assert (callback["number"], callback["reason"], callback["status"], callback["due_at"]) == (
        "+79167778899",
        "widget",
        "open",
        "2026-11-02T10:00:00Z",
    )
    # and ordering it again adds nothing
    again = await app_client.post(
        "/api/v1/voice/callbacks",
        headers=desk.as_("integration"),
        json={"channel_id": desk.channel_id, "phone": "+79167778899"},
    )
    assert again.json()["id"] == callback["id"]
    # when olga calls it from the list, and nobody picks up the first time
    listed = (await app_client.get("/api/v1/voice/callbacks", headers=desk.as_("operator"))).json()
    assert [c["id"] for c in listed] == [callback["id"]]
    first = (await dial(app_client, desk, callback_id=callback["id"])).json()
    taken = await dial(app_client, desk, callback_id=callback["id"])
    assert (taken.status_code, taken.json()["detail"]) == (409, "the callback is calling, not open")
    await pbx.event(first["pbx_call_id"], "hangup")
    reopened = (await app_client.get("/api/v1/voice/callbacks", headers=desk.as_("operator"))).json()
    assert [(c["status"], c["attempts"]) for c in reopened] == [("open", 1)]
    # and the customer answers the second time
    second = (await dial(app_client, desk, callback_id=callback["id"])).json()
    await pbx.event(second["pbx_call_id"], "answered")
    clock.advance(seconds=30)
    await pbx.event(second["pbx_call_id"], "hangup")
    # then the callback is done and off the list
    assert (await app_client.get("/api/v1/voice/callbacks", headers=desk.as_("operator"))).json() == []
    done = (
        await app_client.get("/api/v1/voice/callbacks", params={"status": "done"}, headers=desk.as_("supervisor"))
    ).json()
    assert [(c["id"], c["attempts"], c["done_at"]) for c in done] == [(callback["id"], 2, "2026-11-02T09:00:30Z")]


async def test_operators_see_only_their_lines_callbacks(app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx) -> None:
    other_line = await app_client.post("/api/v1/lines", headers=desk.as_("admin"), json={"name": "Elsewhere"})
    other_channel = await app_client.post(
        "/api/v1/channels",
        headers=desk.as_("admin"),
        json={"kind": "api", "name": "Elsewhere site", "line_id": other_line.json()["id"]},
    )
    await app_client.post(
        "/api/v1/voice/callbacks",
        headers=desk.as_("integration"),
        json={"channel_id": other_channel.json()["id"], "phone": "+79167778899"},
    )
    assert (await app_client.get("/api/v1/voice/callbacks", headers=desk.as_("operator"))).json() == []
    assert len((await app_client.get("/api/v1/voice/callbacks", headers=desk.as_("supervisor"))).json()) == 1
    refused = await app_client.get(
        "/api/v1/voice/callbacks", params={"line_id": other_line.json()["id"]}, headers=desk.as_("operator")
    )
    assert (refused.status_code, refused.json()["field"]) == (422, "line_id")


async def test_without_ami_a_phone_channel_without_an_originate_url_cannot_place_calls(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given only a phone channel without an originate_url, and no AMI connection
    await phone_channel(app_client, desk)
    await go(app_client, desk, "operator")
    await settle(container)
    # when olga clicks "call"
    answer = await dial(app_client, desk, number="+79163334455")
    # then a problem naming what is missing, and no call is recorded
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == "no active phone channel with an originate_url and a secret can place calls"
    async with container.services.uow(read_only=True) as uow:  # an outbound call would be live, with an expiry
        assert await uow.calls.expired(container.services.clock.now() + timedelta(days=1), 10) == []
