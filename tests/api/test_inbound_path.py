"""The lean ``POST /api/v1/inbound`` path and the documented FastAPI route give the same answers.

Every case is posted twice on the same desk: once to the app as served (the lean path in front) and
once to an app whose route answers alone. Status, content type, the replay header and the body must
be equal, and a refused request writes nothing through either. A last test drives the lean path
alone, with a recording stand-in for the router, to show which requests it answers itself.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from switchboard.bootstrap import Container
from switchboard.web.app import create_app
from switchboard.web.inbound_path import serve_inbound
from switchboard.web.lean import LeanPaths, lean_route
from switchboard.web.routes.intake import inbound as inbound_route
from switchboard.web.routes.intake import router as intake_router
from tests.api.test_bad_input import row_counts
from tests.support.desk import Desk, inbound

PATH = "/api/v1/inbound"
BASE = "http://switchboard.test"


def answer_of(response: httpx.Response) -> tuple[int, str, str | None, Any]:
    """What a client can tell apart: status, content type, the replay mark and the body."""
    return (
        response.status_code,
        response.headers["content-type"],
        response.headers.get("idempotent-replayed"),
        response.json(),
    )


def integration(desk: Desk, content_type: str | None = "application/json") -> dict[str, str]:
    headers = dict(desk.as_("integration"))
    if content_type is not None:
        headers["content-type"] = content_type
    return headers


def bad_requests(desk: Desk) -> dict[str, tuple[dict[str, str], bytes]]:
    """Requests each refused for a different reason, as (headers, body)."""
    good = inbound(desk.channel_id, "hi", phone="+79161234567")

    def body(**patch: Any) -> bytes:
        return json.dumps({**good, **patch}).encode()

    return {
        "malformed-json": (integration(desk), b'{"channel_id": 1, "sender": {'),
        "empty-body": (integration(desk), b""),
        "not-an-object": (integration(desk), b"[1, 2]"),
        "missing-sender": (integration(desk), json.dumps({"channel_id": desk.channel_id, "text": "hi"}).encode()),
        "unknown-field": (integration(desk), body(colour="red")),
        "channel-id-not-a-number": (integration(desk), body(channel_id="abc")),
        "channel-id-nan": (
            integration(desk),
            body().replace(f'"channel_id": {desk.channel_id}'.encode(), b'"channel_id": NaN'),
        ),
        "channel-id-zero": (integration(desk), body(channel_id=0)),
        "bad-attachment": (integration(desk), body(attachments=[{"name": "a", "content_type": "x", "size": 1}])),
        "kind-without-id": (integration(desk), body(sender={"phone": "+79161234567", "external_kind": "telegram"})),
        "no-identity": (integration(desk), body(sender={"name": "Nobody"})),
        "blank-text": (integration(desk), body(text="   ")),
        "bad-phone": (integration(desk), body(sender={"phone": "12"})),
        "unknown-channel": (integration(desk), body(channel_id=999_999)),
        "operator-role": ({**desk.as_("operator"), "content-type": "application/json"}, body()),
        "unknown-token": ({"authorization": "Bearer sbt_nope", "content-type": "application/json"}, body()),
        "basic-auth": ({"authorization": "Basic YWRtaW46YWRtaW4=", "content-type": "application/json"}, body()),
        "no-auth": ({"content-type": "application/json"}, body()),
        "form-content-type": (integration(desk, "application/x-www-form-urlencoded"), body()),
        "no-content-type": (integration(desk, None), body()),
        "over-the-limit": (integration(desk), body(text="x" * 1_048_576)),
    }


CASES = [
    "malformed-json",
    "empty-body",
    "not-an-object",
    "missing-sender",
    "unknown-field",
    "channel-id-not-a-number",
    "channel-id-nan",
    "channel-id-zero",
    "bad-attachment",
    "kind-without-id",
    "no-identity",
    "blank-text",
    "bad-phone",
    "unknown-channel",
    "operator-role",
    "unknown-token",
    "basic-auth",
    "no-auth",
    "form-content-type",
    "no-content-type",
    "over-the-limit",
]


@pytest.mark.parametrize("case", CASES)
async def test_each_refusal_is_the_documented_routes(
    app_client: httpx.AsyncClient,
    route_client: httpx.AsyncClient,
    desk: Desk,
    container: Container,
    case: str,
) -> None:
    # given a request refused for one reason
    headers, body = bad_requests(desk)[case]
    before = await row_counts(container)
    app_client.cookies.clear()  # the desk's logins leave a session cookie in the client
    # when it goes to the app as served and to the route alone
    served = await app_client.post(PATH, headers=headers, content=body)
    documented = await route_client.post(PATH, headers=headers, content=body)
    # then both answer the same problem, and neither wrote anything
    assert served.status_code >= 400, served.text
    assert answer_of(served) == answer_of(documented)
    assert served.headers.get("www-authenticate") == documented.headers.get("www-authenticate")
    assert await row_counts(container) == before


async def test_stored_and_repeated_messages_are_answered_alike(
    app_client: httpx.AsyncClient, route_client: httpx.AsyncClient, desk: Desk
) -> None:
    answers = {}
    for name, client, phone in (("served", app_client, "+79160000101"), ("documented", route_client, "+79160000102")):
        # given a new sender's message with an external id
        body = inbound(desk.channel_id, "Где мой заказ?", external_id=f"ext-{name}", phone=phone)
        # when it is posted, then posted again
        first = await client.post(PATH, headers=integration(desk), json=body)
        again = await client.post(PATH, headers=integration(desk), json=body)
        # then the first is stored (contact, conversation and lead created), the repeat replays its answer
        assert first.status_code == 201, first.text
        assert (first.json()["contact_created"], first.json()["lead_created"]) == (True, True)
        assert again.status_code == 200
        assert again.headers["idempotent-replayed"] == "true"
        assert again.content == first.content
        answers[name] = (first, again)
    # and both paths give the same headers and the same bytes, ids aside
    for served, documented in zip(answers["served"], answers["documented"], strict=True):
        assert sorted(served.json()) == sorted(documented.json())
        assert list(served.json()) == list(documented.json())  # the same field order
        assert served.headers["content-type"] == documented.headers["content-type"] == "application/json"
        assert served.headers.get("idempotent-replayed") == documented.headers.get("idempotent-replayed")
        assert len(served.headers["x-request-id"]) == len(documented.headers["x-request-id"])
        assert int(served.headers["content-length"]) == len(served.content)
        assert served.json()["lead_id"] is not None
        assert {k: v for k, v in served.json().items() if not k.endswith("_id")} == {
            k: v for k, v in documented.json().items() if not k.endswith("_id")
        }


async def test_the_route_stays_documented(app_client: httpx.AsyncClient) -> None:
    schema = (await app_client.get("/api/v1/openapi.json")).json()
    operation = schema["paths"][PATH]["post"]
    assert operation["x-roles"] == ["admin", "integration"]
    assert set(operation["responses"]) >= {"200", "201", "422"}
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/InboundIn")


class Recording:
    """A stand-in for the router behind the lean path: records what it is handed, answers 299."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        self.bodies.append(b"".join(chunks))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def test_the_lean_path_answers_the_common_case_and_hands_over_the_rest(container: Container, desk: Desk) -> None:
    # given the lean path in front of a recording router, in the real app's context
    app = create_app(container, manage_lifecycle=False)
    router = Recording()
    lean = LeanPaths(router, routes=[lean_route(intake_router, inbound_route, serve_inbound, prefix="/api/v1")])

    async def in_app(scope: Scope, receive: Receive, send: Send) -> None:
        await lean({**scope, "app": app, "state": {}}, receive, send)

    cases = bad_requests(desk)
    good = json.dumps(inbound(desk.channel_id, "hi", external_id="lean-1", phone="+79160000103")).encode()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=in_app), base_url=BASE) as client:
        # when a good message comes with a token and JSON, it is stored without the router
        stored = await client.post(PATH, headers=integration(desk), content=good)
        assert stored.status_code == 201, stored.text
        assert router.bodies == []
        # and a refusal found by the use case (or the role rule) is answered there too
        refused = await client.post(PATH, headers=cases["unknown-channel"][0], content=cases["unknown-channel"][1])
        assert (refused.status_code, refused.json()["field"]) == (422, "channel_id")
        operator = await client.post(PATH, headers=cases["operator-role"][0], content=cases["operator-role"][1])
        assert operator.status_code == 403, operator.text
        assert router.bodies == []
        # when the shape of the request is not the common case, the router gets it with the body intact
        handed = ["malformed-json", "not-an-object", "unknown-field", "no-auth", "basic-auth", "form-content-type"]
        for case in handed:
            headers, body = cases[case]
            answer = await client.post(PATH, headers=headers, content=body)
            assert answer.status_code == 299, case
        assert router.bodies == [cases[case][1] for case in handed]
        # and other paths and methods pass straight through
        assert (await client.get(PATH)).status_code == 299
        assert (await client.post("/api/v1/inbound/x", headers=integration(desk), content=good)).status_code == 299
