"""The lean call-control path and the documented FastAPI routes give the same answers.

Each case is sent by a PBX to the app as served (the lean path in front) and to an app whose routes
answer alone, on the same desk. Status, content type and body must be equal, and a refused request
writes nothing through either. A last test puts a recording stand-in behind the lean path to show
which requests it answers itself and that the rest reach the router with their body intact.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.types import Scope

from switchboard.bootstrap import Container
from switchboard.web.app import create_app
from switchboard.web.lean import LeanPaths
from switchboard.web.voice_path import pbx_routes
from tests.api.test_bad_input import row_counts
from tests.api.test_inbound_path import Recording
from tests.support.clock import ManualClock
from tests.support.desk import Desk
from tests.support.pbx import MAIN_NUMBER, Pbx, phone_channel

BASE = "http://switchboard.test"


def answer_of(response: httpx.Response) -> tuple[int, str, Any]:
    return response.status_code, response.headers["content-type"], response.json()


def refusals(pbx: Pbx, desk: Desk) -> dict[str, tuple[str, dict[str, str], bytes]]:
    """Requests each refused for a different reason, as (path, headers, body)."""
    good = json.dumps({"call_id": "refused", "ani": "+79161234567", "dnis": MAIN_NUMBER}).encode()
    calls = f"/api/v1/voice/pbx/{pbx.channel_id}/calls"

    def signed(body: bytes, **signing: Any) -> dict[str, str]:
        return pbx.headers(body, **signing)

    def body(**patch: Any) -> bytes:
        return json.dumps({**json.loads(good), **patch}).encode()

    stale = int(pbx.clock.now().timestamp()) - 3600
    return {
        "unsigned": (calls, {"content-type": "application/json"}, good),
        "wrong-secret": (calls, signed(good, secret="not-the-secret"), good),
        "stale-timestamp": (calls, signed(good, timestamp=stale), good),
        "signed-other-body": (calls, signed(body(call_id="other")), good),
        "malformed-json": (calls, signed(b'{"call_id": '), b'{"call_id": '),
        "missing-dnis": (calls, signed(b'{"call_id": "x"}'), b'{"call_id": "x"}'),
        "unknown-field": (calls, signed(body(colour="red")), body(colour="red")),
        "call-id-too-long": (calls, signed(body(call_id="x" * 129)), body(call_id="x" * 129)),
        "number-not-answered": (calls, signed(body(dnis="+74959999999")), body(dnis="+74959999999")),
        "bad-dnis": (calls, signed(body(dnis="12")), body(dnis="12")),
        "channel-id-not-a-number": ("/api/v1/voice/pbx/abc/calls", signed(good), good),
        "channel-id-zero": ("/api/v1/voice/pbx/0/calls", signed(good), good),
        "channel-id-too-large": (f"/api/v1/voice/pbx/{2**63}/calls", signed(good), good),
        "not-a-phone-channel": (f"/api/v1/voice/pbx/{desk.channel_id}/calls", signed(good), good),
        "unknown-channel": ("/api/v1/voice/pbx/999999/calls", signed(good), good),
        "form-content-type": (calls, {**signed(good), "content-type": "application/x-www-form-urlencoded"}, good),
        "bad-outcome": (
            f"/api/v1/voice/pbx/{pbx.channel_id}/results",
            signed(b'{"call_id": "x", "step_id": 0, "outcome": "maybe"}'),
            b'{"call_id": "x", "step_id": 0, "outcome": "maybe"}',
        ),
        "result-for-unknown-call": (
            f"/api/v1/voice/pbx/{pbx.channel_id}/results",
            signed(b'{"call_id": "nobody", "step_id": 0, "outcome": "done"}'),
            b'{"call_id": "nobody", "step_id": 0, "outcome": "done"}',
        ),
        "event-for-unknown-call": (
            f"/api/v1/voice/pbx/{pbx.channel_id}/events",
            signed(b'{"event_id": "e1", "call_id": "nobody", "kind": "hangup"}'),
            b'{"event_id": "e1", "call_id": "nobody", "kind": "hangup"}',
        ),
    }


CASES = [
    "unsigned",
    "wrong-secret",
    "stale-timestamp",
    "signed-other-body",
    "malformed-json",
    "missing-dnis",
    "unknown-field",
    "call-id-too-long",
    "number-not-answered",
    "bad-dnis",
    "channel-id-not-a-number",
    "channel-id-zero",
    "channel-id-too-large",
    "not-a-phone-channel",
    "unknown-channel",
    "form-content-type",
    "bad-outcome",
    "result-for-unknown-call",
    "event-for-unknown-call",
]


@pytest.mark.parametrize("case", CASES)
async def test_each_refusal_is_the_documented_routes(
    app_client: httpx.AsyncClient,
    route_client: httpx.AsyncClient,
    desk: Desk,
    container: Container,
    clock: ManualClock,
    case: str,
) -> None:
    # given a phone channel and a call-control request refused for one reason
    pbx = Pbx(app_client, await phone_channel(app_client, desk), clock)
    path, headers, body = refusals(pbx, desk)[case]
    before = await row_counts(container)
    # when it goes to the app as served and to the routes alone
    served = await app_client.post(path, headers=headers, content=body)
    documented = await route_client.post(path, headers=headers, content=body)
    # then both answer the same problem, and neither wrote anything
    assert served.status_code >= 400, served.text
    assert answer_of(served) == answer_of(documented)
    assert await row_counts(container) == before


async def test_a_call_is_answered_alike_step_by_step(
    app_client: httpx.AsyncClient, route_client: httpx.AsyncClient, desk: Desk, clock: ManualClock
) -> None:
    channel_id = await phone_channel(app_client, desk)
    answers: dict[str, list[dict[str, Any]]] = {}
    for name, client in (("served", app_client), ("documented", route_client)):
        pbx = Pbx(client, channel_id, clock)
        # given a new call from a new number, asked twice (a PBX retry)
        first = await pbx.call(f"call-{name}", ani=f"+7916000{len(name):04}")
        again = await pbx.call(f"call-{name}")
        # when the first step's result comes back and the operator's phone rings, twice
        step = await pbx.result(f"call-{name}")
        rang = await pbx.event(f"call-{name}", "ringing", event_id=f"ring-{name}", operator_id=desk.operator_id)
        rang_again = await pbx.event(f"call-{name}", "ringing", event_id=f"ring-{name}", operator_id=desk.operator_id)
        # then the repeat is the same step and the repeated event changes nothing
        assert again == first
        assert (rang["duplicate"], rang_again["duplicate"]) == (False, True)
        answers[name] = [first, step, rang, rang_again]
    # and both paths answered the same fields, in the same order, with the same values but ids
    for served, documented in zip(answers["served"], answers["documented"], strict=True):
        assert list(served) == list(documented)
        assert {k: v for k, v in served.items() if k != "call_id"} == {
            k: v for k, v in documented.items() if k != "call_id"
        }


async def test_the_routes_stay_documented(app_client: httpx.AsyncClient) -> None:
    schema = (await app_client.get("/api/v1/openapi.json")).json()
    for what, model in (("calls", "NewCallIn"), ("results", "StepResultIn"), ("events", "CallEventIn")):
        operation = schema["paths"][f"/api/v1/voice/pbx/{{phone_channel_id}}/{what}"]["post"]
        assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(f"/{model}")
        assert set(operation["responses"]) >= {"200", "401", "422"}


async def test_the_lean_path_answers_signed_calls_and_hands_over_the_rest(
    container: Container, desk: Desk, app_client: httpx.AsyncClient, clock: ManualClock
) -> None:
    # given the lean path in front of a recording router, in the real app's context
    channel_id = await phone_channel(app_client, desk)
    app = create_app(container, manage_lifecycle=False)
    router = Recording()
    lean = LeanPaths(router, routes=pbx_routes("/api/v1"))

    async def in_app(scope: Scope, receive: Any, send: Any) -> None:
        await lean({**scope, "app": app, "state": {}}, receive, send)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=in_app), base_url=BASE) as client:
        pbx = Pbx(client, channel_id, clock)
        # when a signed call, its result and an event come, they are answered without the router
        await pbx.call("lean-1")
        await pbx.result("lean-1")
        await pbx.event("lean-1", "ringing", operator_id=desk.operator_id)
        assert router.bodies == []
        # and a refusal found by the signature check or the use case is answered there too
        cases = refusals(pbx, desk)
        for case, status in (("wrong-secret", 401), ("number-not-answered", 404), ("event-for-unknown-call", 404)):
            path, headers, body = cases[case]
            assert (await client.post(path, headers=headers, content=body)).status_code == status, case
        assert router.bodies == []
        # when the shape of the request is not the common case, the router gets it with the body intact
        handed = ["malformed-json", "unknown-field", "channel-id-not-a-number", "form-content-type", "bad-outcome"]
        for case in handed:
            path, headers, body = cases[case]
            assert (await client.post(path, headers=headers, content=body)).status_code == 299, case
        assert router.bodies == [cases[case][2] for case in handed]
        # and other paths and methods pass straight through
        assert (await client.get(f"/api/v1/voice/pbx/{channel_id}/calls")).status_code == 299
        assert (await client.post(f"/api/v1/voice/pbx/{channel_id}/calls/x", content=b"{}")).status_code == 299
