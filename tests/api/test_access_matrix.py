"""The authorization matrix: every route's roles, as published in OpenAPI and as enforced over HTTP.

``EXPECTED`` is the matrix written out by hand. Adding, removing or re-roling an endpoint without
updating it fails ``test_openapi_declares_exactly_the_expected_matrix``; the parametrized test then
calls every route as every kind of caller, on a real database (SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard.adapters.security.visitors import VisitorTokens
from switchboard.bootstrap import Container, build
from switchboard.config import INSECURE_DEV_KEY, load_settings
from switchboard.web import problems
from switchboard.web.app import create_app
from switchboard.web.routes.sip import SECRET_HEADER
from tests.support.clock import ManualClock
from tests.support.desk import PASSWORD, Desk, inbound
from tests.support.pbx import MAIN_NUMBER, Pbx, phone_channel

PROBLEM = "application/problem+json"
CALLERS = ("anonymous", "integration", "operator", "supervisor", "admin")
PUBLIC = frozenset({"anonymous"})
STAFF = frozenset({"admin", "supervisor", "operator"})
MANAGERS = frozenset({"admin", "supervisor"})
ADMIN = frozenset({"admin"})
INTAKE = frozenset({"admin", "integration"})
OPERATOR = frozenset({"operator"})

# path template -> method -> the roles allowed (``anonymous`` alone marks a public route)
EXPECTED: dict[str, dict[str, frozenset[str]]] = {
    "/api/v1/auth/login": {"post": PUBLIC},
    "/api/v1/auth/logout": {"post": PUBLIC},
    "/api/v1/auth/me": {"get": STAFF},
    "/api/v1/tokens": {"post": ADMIN},
    "/api/v1/inbound": {"post": INTAKE},
    "/api/v1/inbound/status": {"post": INTAKE},
    "/api/v1/contacts": {"get": STAFF, "post": STAFF},
    "/api/v1/contacts/{contact_id}": {"get": STAFF, "patch": STAFF},
    "/api/v1/contacts/{contact_id}/identities": {"post": STAFF},
    "/api/v1/contacts/{contact_id}/timeline": {"get": STAFF},
    "/api/v1/contacts/{contact_id}/suggestions": {"get": STAFF},
    "/api/v1/contacts/{contact_id}/merge": {"post": MANAGERS},
    "/api/v1/contacts/suggestions": {"get": STAFF},
    "/api/v1/contacts/imports": {"post": ADMIN},
    "/api/v1/merges/{merge_id}/undo": {"post": MANAGERS},
    "/api/v1/conversations": {"get": STAFF},
    "/api/v1/conversations/{conversation_id}": {"get": STAFF},
    "/api/v1/conversations/{conversation_id}/messages": {"get": STAFF},
    "/api/v1/conversations/{conversation_id}/replies": {"post": STAFF},
    "/api/v1/conversations/{conversation_id}/uploads": {"post": STAFF},
    "/api/v1/conversations/{conversation_id}/files/{sha256}": {"get": STAFF},
    "/api/v1/conversations/{conversation_id}/reply-channels": {"get": STAFF},
    "/api/v1/conversations/{conversation_id}/close": {"post": STAFF},
    "/api/v1/conversations/{conversation_id}/assign": {"post": MANAGERS},
    "/api/v1/conversations/{conversation_id}/leads": {"post": STAFF},
    "/api/v1/conversations/{conversation_id}/accept": {"post": OPERATOR},
    "/api/v1/conversations/{conversation_id}/decline": {"post": OPERATOR},
    "/api/v1/conversations/{conversation_id}/pick": {"post": OPERATOR},
    "/api/v1/conversations/{conversation_id}/transfer": {"post": STAFF},
    "/api/v1/me/status": {"put": OPERATOR},
    "/api/v1/me/offers": {"get": OPERATOR},
    "/api/v1/statuses": {"get": STAFF},
    "/api/v1/conversations/{conversation_id}/position": {"get": STAFF | frozenset({"integration"})},
    "/api/v1/operators/{operator_id}/status": {"put": MANAGERS},
    "/api/v1/lines": {"get": STAFF, "post": ADMIN},
    "/api/v1/lines/{line_id}": {"get": STAFF, "patch": MANAGERS},
    "/api/v1/channels": {"get": STAFF, "post": ADMIN},
    "/api/v1/channels/{channel_id}": {"get": STAFF, "patch": ADMIN},
    "/api/v1/channels/{channel_id}/connect": {"post": ADMIN},
    "/api/v1/channels/{channel_id}/webhook": {"get": PUBLIC, "post": PUBLIC},
    "/api/v1/operators": {"get": STAFF, "post": ADMIN},
    "/api/v1/operators/{user_id}": {"get": STAFF, "patch": MANAGERS},
    "/api/v1/leads": {"get": STAFF},
    "/api/v1/leads/{lead_id}": {"get": STAFF, "patch": STAFF},
    "/api/v1/conversations/{conversation_id}/typing": {"post": STAFF},
    "/webchat/widget.js": {"get": PUBLIC},
    "/webchat/{channel_id}/config": {"get": PUBLIC},
    "/webchat/{channel_id}/files": {"post": PUBLIC},
    "/webchat/{channel_id}/files/{sha256}": {"get": PUBLIC},
    "/demo/chat": {"get": PUBLIC},
    "/api/v1/voice/pbx/{phone_channel_id}/calls": {"post": PUBLIC},  # signed with the channel's secret instead
    "/api/v1/voice/pbx/{phone_channel_id}/results": {"post": PUBLIC},
    "/api/v1/voice/pbx/{phone_channel_id}/events": {"post": PUBLIC},
    "/api/v1/voice/sip/route": {"post": PUBLIC},  # the SIP proxy's shared secret, from loopback only
    "/api/v1/voice/sip/failure": {"post": PUBLIC},
    "/api/v1/voice/sip/events": {"post": PUBLIC},
    "/api/v1/voice/calls": {"post": OPERATOR},
    "/api/v1/voice/calls/{call_id}": {"get": STAFF},
    "/api/v1/voice/calls/{call_id}/card": {"get": STAFF},
    "/api/v1/voice/callbacks": {"get": STAFF, "post": STAFF | frozenset({"integration"})},
    "/api/v1/conversations/{conversation_id}/notes": {"get": STAFF, "post": STAFF},
    "/api/v1/desk/heads": {"get": STAFF},
    "/api/v1/canned-responses": {"get": STAFF, "post": MANAGERS},
    "/api/v1/canned-responses/{canned_id}": {"delete": MANAGERS},
    "/api/v1/contacts/{contact_id}/reveal": {"post": STAFF},
    "/api/v1/floor": {"get": MANAGERS},
    "/api/v1/integrations/demo/contacts/{contact_id}/orders": {"get": STAFF},
    "/healthz": {"get": PUBLIC},
    "/readyz": {"get": PUBLIC},
    "/metrics": {"get": PUBLIC},
}
ROUTES = [(method, path) for path, methods in EXPECTED.items() for method in methods]


@pytest.fixture
def routing_on() -> bool:
    """The matrix runs with routing, so the routes that ask the engine answer for real."""
    return True


@pytest.fixture
def extra_settings() -> dict[str, object]:
    return {"sip_secret": SIP_SECRET}


# routes whose success needs routing state the matrix desk does not set up (an open offer, a manual line):
# a 409 from them means the access rule let the caller through to the state rule
STATE_DEPENDENT = frozenset(
    {
        ("post", "/api/v1/conversations/{conversation_id}/accept"),
        ("post", "/api/v1/conversations/{conversation_id}/decline"),
        ("post", "/api/v1/conversations/{conversation_id}/pick"),
        ("post", "/api/v1/conversations/{conversation_id}/transfer"),
        ("get", "/api/v1/conversations/{conversation_id}/position"),
        ("post", "/api/v1/channels/{channel_id}/connect"),  # the desk's API channel has no provider to connect
    }
)
# providers' webhooks: public, the connector's signature check decides; the desk's API channel takes none (404)
PROVIDER_CALLS = frozenset(
    {("get", "/api/v1/channels/{channel_id}/webhook"), ("post", "/api/v1/channels/{channel_id}/webhook")}
)
# a status report on a reply never pushed: the world has none, so an allowed caller's 404 problem means the
# rule let them through (tests/api/test_api_channel_push.py reports on real pushed replies)
UNSENT_REPORTS = frozenset({("post", "/api/v1/inbound/status")})
# routes that go on to a system outside (the PBX): a 502 from it means the access rule let the caller through
PBX_DEPENDENT = frozenset({("post", "/api/v1/voice/calls")})
# call control is signed with the phone channel's secret, not a bearer token: every caller signs
SIGNED = frozenset(
    {
        ("post", "/api/v1/voice/pbx/{phone_channel_id}/calls"),
        ("post", "/api/v1/voice/pbx/{phone_channel_id}/results"),
        ("post", "/api/v1/voice/pbx/{phone_channel_id}/events"),
    }
)

# the SIP front end: every caller sends the proxy's shared secret
SIP = frozenset(
    {("post", "/api/v1/voice/sip/route"), ("post", "/api/v1/voice/sip/failure"), ("post", "/api/v1/voice/sip/events")}
)
SIP_SECRET = "matrix-sip-secret-0123456789"


@dataclass
class World:
    """Real objects of the desk that path parameters point at."""

    desk: Desk
    contact_id: int
    conversation_id: int
    lead_id: int
    chat_channel_id: int  # a web chat channel, for the widget's public routes
    visitor_token: str  # a web chat visitor's signed cookie
    file_sha256: str  # a file that visitor uploaded
    spare_contacts: dict[str, int]  # caller -> a contact of their own to merge
    merge_id: int
    pbx: Pbx
    call_id: int
    pbx_call_id: str
    canned_id: int

    def path(self, template: str) -> str:
        return template.format(
            merge_id=self.merge_id,
            contact_id=self.contact_id,
            conversation_id=self.conversation_id,
            lead_id=self.lead_id,
            line_id=self.desk.line_id,
            channel_id=self.chat_channel_id if template.startswith("/webchat/") else self.desk.channel_id,
            user_id=self.desk.operator_id,
            operator_id=self.desk.operator_id,
            sha256=self.file_sha256,
            phone_channel_id=self.pbx.channel_id,
            call_id=self.call_id,
            canned_id=self.canned_id,
        )


# public routes of the web chat widget that only a visitor uses: every caller comes with the visitor's cookie
# (whatever their role) and sends what the widget sends
VISITOR_REQUESTS: dict[tuple[str, str], Callable[[World, str], dict[str, Any]]] = {
    ("post", "/webchat/{channel_id}/files"): lambda w, c: {
        "content": f"note of {c}".encode(),
        "headers": {"content-type": "text/plain", "cookie": f"sb_visitor={w.visitor_token}"},
    },
}


@dataclass(frozen=True)
class Multipart:
    """A form upload instead of a JSON body."""

    data: dict[str, Any]
    files: dict[str, tuple[str, bytes, str]]


# a minimal valid body for every route that takes one; ``caller`` keeps unique values unique
BODIES: dict[tuple[str, str], Callable[[World, str], dict[str, Any] | Multipart]] = {
    ("post", "/api/v1/contacts/{contact_id}/merge"): lambda w, c: {"duplicate_id": w.spare_contacts[c]},
    ("post", "/api/v1/contacts/imports"): lambda w, c: Multipart(
        {"map": ["name=name"]}, {"file": ("people.csv", f"name\nImported by {c}\n".encode(), "text/csv")}
    ),
    ("post", "/api/v1/auth/login"): lambda w, c: {"login": "admin", "password": PASSWORD},
    ("post", "/api/v1/tokens"): lambda w, c: {"name": f"token of {c}"},
    ("post", "/api/v1/inbound"): lambda w, c: inbound(w.desk.channel_id, f"from {c}", phone="+79161112233"),
    ("post", "/api/v1/inbound/status"): lambda w, c: {
        "channel_id": w.desk.channel_id,
        "external_id": f"never-sent-to-{c}",
        "status": "delivered",
    },
    ("post", "/api/v1/contacts"): lambda w, c: {"name": f"Made by {c}"},
    ("patch", "/api/v1/contacts/{contact_id}"): lambda w, c: {"name": f"Renamed by {c}"},
    ("post", "/api/v1/contacts/{contact_id}/identities"): lambda w, c: {"kind": "external", "value": f"id-of-{c}"},
    ("post", "/api/v1/conversations/{conversation_id}/replies"): lambda w, c: {"text": f"reply of {c}"},
    ("post", "/api/v1/conversations/{conversation_id}/uploads"): lambda w, c: Multipart(
        {}, {"file": (f"{c}.txt", f"note of {c}".encode(), "text/plain")}
    ),
    ("post", "/api/v1/conversations/{conversation_id}/assign"): lambda w, c: {"operator_id": w.desk.operator_id},
    ("post", "/api/v1/conversations/{conversation_id}/leads"): lambda w, c: {"title": f"lead of {c}"},
    ("post", "/api/v1/lines"): lambda w, c: {"name": f"line of {c}"},
    ("patch", "/api/v1/lines/{line_id}"): lambda w, c: {"name": f"Sales ({c})"},
    ("post", "/api/v1/channels"): lambda w, c: {"kind": "api", "name": f"channel of {c}", "line_id": w.desk.line_id},
    ("patch", "/api/v1/channels/{channel_id}"): lambda w, c: {"name": f"Website ({c})"},
    ("post", "/api/v1/operators"): lambda w, c: {"login": f"new-{c}", "name": f"New {c}"},
    ("patch", "/api/v1/operators/{user_id}"): lambda w, c: {"name": f"Olga ({c})"},
    ("patch", "/api/v1/leads/{lead_id}"): lambda w, c: {"status": "in_progress"},
    ("put", "/api/v1/me/status"): lambda w, c: {"status": "available"},
    ("put", "/api/v1/operators/{operator_id}/status"): lambda w, c: {"status": "break", "reason": f"by {c}"},
    ("post", "/api/v1/conversations/{conversation_id}/transfer"): lambda w, c: {"to_line_id": w.desk.line_id},
    ("post", "/api/v1/voice/pbx/{phone_channel_id}/calls"): lambda w, c: {
        "call_id": f"call-of-{c}",
        "dnis": MAIN_NUMBER,
    },
    ("post", "/api/v1/voice/pbx/{phone_channel_id}/results"): lambda w, c: {
        "call_id": w.pbx_call_id,
        "step_id": 0,
        "outcome": "waited",
    },
    ("post", "/api/v1/voice/pbx/{phone_channel_id}/events"): lambda w, c: {
        "event_id": f"recording-of-{c}",
        "call_id": w.pbx_call_id,
        "kind": "recording",
        "recording_url": "https://pbx.test/rec.wav",
    },
    ("post", "/api/v1/voice/sip/route"): lambda w, c: {
        "call_id": f"sip-call-of-{c}",
        "dnis": MAIN_NUMBER,
        "domain": "sip.test",
        "wait_s": 0,
    },
    ("post", "/api/v1/voice/sip/failure"): lambda w, c: {
        "call_id": w.pbx_call_id,
        "step_id": 0,
        "code": 408,
        "domain": "sip.test",
        "wait_s": 0,
    },
    ("post", "/api/v1/voice/sip/events"): lambda w, c: {"call_id": w.pbx_call_id, "kind": "answered"},
    ("post", "/api/v1/voice/calls"): lambda w, c: {"number": "+79160000077"},
    ("post", "/api/v1/voice/callbacks"): lambda w, c: {"channel_id": w.desk.channel_id, "phone": "+79160000078"},
    ("post", "/api/v1/conversations/{conversation_id}/notes"): lambda w, c: {"text": f"note of {c}"},
    ("post", "/api/v1/canned-responses"): lambda w, c: {"shortcut": f"hello-{c}", "title": "Hello", "text": "Hi!"},
    ("post", "/api/v1/contacts/{contact_id}/reveal"): lambda w, c: {"reason": f"{c} calls back"},
}


def _openapi(tmp_path: Path) -> dict[str, Any]:
    settings = load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'openapi.db'}")
    return create_app(build(settings), manage_lifecycle=False).openapi()


def test_openapi_declares_exactly_the_expected_matrix(tmp_path: Path) -> None:
    # given the published API description
    spec = _openapi(tmp_path)
    # then every operation declares its roles, with known role names only
    published: dict[str, dict[str, frozenset[str]]] = {}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert "x-roles" in operation, f"{method.upper()} {path} declares no x-roles"
            roles = operation["x-roles"]
            assert roles == sorted(roles), f"{method.upper()} {path}: x-roles not sorted"
            assert set(roles) <= set(CALLERS), f"{method.upper()} {path}: unknown role in {roles}"
            assert roles == ["anonymous"] or "anonymous" not in roles, f"{method.upper()} {path}: {roles}"
            published.setdefault(path, {})[method] = frozenset(roles)
    # and the set of (method, path) pairs and their roles are exactly the matrix of this file
    assert {(m, p) for p, ms in published.items() for m in ms} == set(ROUTES)
    assert published == EXPECTED


def test_every_route_with_a_body_has_a_minimal_body_here(tmp_path: Path) -> None:
    spec = _openapi(tmp_path)
    with_body = {(m, p) for p, ms in spec["paths"].items() for m, op in ms.items() if "requestBody" in op}
    assert with_body == set(BODIES)


@pytest.fixture
async def world(app_client: httpx.AsyncClient, desk: Desk, clock: ManualClock) -> World:
    posted = await app_client.post(
        "/api/v1/inbound",
        headers=desk.as_("integration"),
        json=inbound(desk.channel_id, "Secret order 42", phone="+79160000042", name="Hidden Customer"),
    )
    assert posted.status_code == 201, posted.text
    answer = posted.json()
    assert answer["lead_id"] is not None
    # the conversation is the operator's, so the operator's own writes are allowed by the use cases too
    assigned = await app_client.post(
        f"/api/v1/conversations/{answer['conversation_id']}/assign",
        headers=desk.as_("supervisor"),
        json={"operator_id": desk.operator_id},
    )
    assert assigned.status_code == 200, assigned.text
    chat = await app_client.post(
        "/api/v1/channels",
        headers=desk.as_("admin"),
        json={"kind": "webchat", "name": "Site chat", "line_id": desk.line_id},
    )
    assert chat.status_code == 201, chat.text
    token = VisitorTokens(INSECURE_DEV_KEY).issue("matrix-visitor-0001", 1_800_000_000)
    uploaded = await app_client.post(
        f"/webchat/{chat.json()['id']}/files",
        content=b"a note",
        headers={"content-type": "text/plain", "cookie": f"sb_visitor={token}"},
    )
    assert uploaded.status_code == 201, uploaded.text
    # the operator's upload of the same bytes, so the staff file route finds them by the same sha256
    mine = await app_client.post(
        f"/api/v1/conversations/{answer['conversation_id']}/uploads",
        headers=desk.as_("operator"),
        files={"file": ("note.txt", b"a note", "text/plain")},
    )
    assert mine.status_code == 201 and mine.json()["sha256"] == uploaded.json()["sha256"], mine.text
    spare = {}
    for caller in CALLERS:
        made = await app_client.post("/api/v1/contacts", headers=desk.as_("admin"), json={"name": f"Spare of {caller}"})
        spare[caller] = made.json()["id"]
    doomed = await app_client.post("/api/v1/contacts", headers=desk.as_("admin"), json={"name": "Merged away"})
    merged = await app_client.post(
        f"/api/v1/contacts/{spare['admin']}/merge",
        headers=desk.as_("admin"),
        json={"duplicate_id": doomed.json()["id"]},
    )
    assert merged.status_code == 200, merged.text
    # a phone channel (dialling out to a PBX that is not there) and a call ringing at the operator
    pbx = Pbx(app_client, await phone_channel(app_client, desk, originate_url="http://127.0.0.1:9/originate"), clock)
    await pbx.call("matrix-call", ani="+79160000044")
    rung = await pbx.event("matrix-call", "ringing", operator_id=desk.operator_id)
    canned = await app_client.post(
        "/api/v1/canned-responses", headers=desk.as_("admin"), json={"shortcut": "bye", "title": "Bye", "text": "Bye!"}
    )
    assert canned.status_code == 201, canned.text
    app_client.cookies.clear()
    return World(
        desk,
        answer["contact_id"],
        answer["conversation_id"],
        answer["lead_id"],
        chat.json()["id"],
        token,
        uploaded.json()["sha256"],
        spare,
        merged.json()["merge_id"],
        pbx,
        rung["call_id"],
        "matrix-call",
        canned.json()["id"],
    )


def _verdict(caller: str, allowed: frozenset[str], response: httpx.Response) -> str | None:
    """What is wrong with ``response`` for ``caller``, or None."""
    status, body_type = response.status_code, response.headers.get("content-type", "")
    if allowed == PUBLIC or caller in allowed:
        if status in (401, 403) or status >= 500:
            return f"allowed, got {status}: {response.text[:200]}"
        return None
    if caller == "anonymous":
        expected = {
            "type": "about:blank",
            "title": "Unauthenticated",
            "status": 401,
            "detail": "sign in or send an API token",
        }
        if status != 401 or body_type != PROBLEM or response.json() != expected:
            return f"expected the 401 problem, got {status} {body_type}: {response.text[:200]}"
        if response.headers.get("www-authenticate") != "Bearer":
            return "401 without 'WWW-Authenticate: Bearer'"
        return None
    expected = {
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
        "detail": f"the {caller} role may not do this",
    }
    if status != 403 or body_type != PROBLEM or response.json() != expected:
        return f"expected the 403 problem, got {status} {body_type}: {response.text[:200]}"
    return None


def _groups() -> dict[str, list[tuple[str, str]]]:
    """Routes by resource (one desk per group keeps the matrix fast); closing a conversation goes last."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for method, template in ROUTES:
        resource = template.removeprefix("/api/v1").strip("/").split("/")[0]
        resource = "ops" if resource in ("healthz", "readyz", "metrics") else resource
        groups.setdefault(resource, []).append((method, template))
    last = ("/close", "/transfer")  # these change the conversation, so they go after the routes that read it

    def order(route: tuple[str, str]) -> int:
        return next((i + 1 for i, end in enumerate(last) if route[1].endswith(end)), 0)

    return {name: sorted(routes, key=order) for name, routes in groups.items()}


GROUPS = _groups()


async def _call_as_everyone(client: httpx.AsyncClient, world: World, method: str, template: str) -> dict[str, str]:
    """Every caller sends a minimal valid request to a real object; returns what went wrong, by caller."""
    allowed = EXPECTED[template][method]
    failures: dict[str, str] = {}
    succeeded = []
    for caller in CALLERS:
        make_body = BODIES.get((method, template))
        body = make_body(world, caller) if make_body else ({} if method != "get" else None)
        client.cookies.clear()  # the desk's logins (and POST /auth/login) leave a session cookie behind
        path, headers = world.path(template), dict(world.desk.as_(caller))
        visitor = VISITOR_REQUESTS.get((method, template))
        if visitor is not None:
            request = visitor(world, caller)
            headers = {**headers, **request["headers"]}
            response = await client.request(method.upper(), path, headers=headers, content=request["content"])
        elif isinstance(body, Multipart):
            response = await client.request(method.upper(), path, headers=headers, data=body.data, files=body.files)
        else:
            content = None if body is None else json.dumps(body).encode()
            if (method, template) in SIGNED and content is not None:
                headers.update(world.pbx.headers(content))
            if (method, template) in SIP:
                headers[SECRET_HEADER] = SIP_SECRET
            if content is not None:
                headers["content-type"] = "application/json"
            response = await client.request(method.upper(), path, headers=headers, content=content)
        beyond = (method, template) in PBX_DEPENDENT and response.status_code == 502 and caller in allowed
        problem = None if beyond else _verdict(caller, allowed, response)
        if problem is not None:
            failures[f"{method.upper()} {template} as {caller}"] = problem
        if response.status_code in (401, 403):
            assert "Hidden Customer" not in response.text and "Secret order" not in response.text
        if (
            response.is_success
            or ((method, template) in STATE_DEPENDENT and response.status_code == 409)
            or ((method, template) in PROVIDER_CALLS and response.status_code == 404)
            or ((method, template) in UNSENT_REPORTS and response.status_code == 404)
            or ((method, template) in PBX_DEPENDENT and response.status_code == 502)
        ):
            succeeded.append(caller)
    if not succeeded:  # the minimal bodies and real ids must be good enough for someone allowed
        failures[f"{method.upper()} {template}"] = "no caller succeeded"
    return failures


def test_the_groups_cover_every_route() -> None:
    assert sorted(route for routes in GROUPS.values() for route in routes) == sorted(ROUTES)


@pytest.mark.parametrize("group", list(GROUPS))
async def test_every_caller_gets_what_the_matrix_says(app_client: httpx.AsyncClient, world: World, group: str) -> None:
    # given a desk with a contact, a conversation assigned to the operator and a lead
    failures: dict[str, str] = {}
    for method, template in GROUPS[group]:
        # when every caller calls every route of the group
        failures.update(await _call_as_everyone(app_client, world, method, template))
    # then anonymous callers get 401, roles outside the matrix 403 (problem+json, no data), the rest neither,
    # and at least one allowed caller succeeds on every route
    assert failures == {}


class _QuietLog:
    def exception(self, *args: object, **kwargs: object) -> None:
        pass


# --- 403 and 404 never tell what exists ---------------------------------------------------------------------


@dataclass
class Hidden:
    """A conversation on a line the operator ``olga`` is not a member of, and an id that does not exist."""

    conversation_id: int
    missing_id: int


@pytest.fixture
async def hidden(app_client: httpx.AsyncClient, desk: Desk) -> Hidden:
    admin = desk.as_("admin")
    line = await app_client.post(
        "/api/v1/lines", headers=admin, json={"name": "Support", "operator_ids": [desk.other_operator_id]}
    )
    assert line.status_code == 201, line.text
    channel = await app_client.post(
        "/api/v1/channels", headers=admin, json={"kind": "api", "name": "Support site", "line_id": line.json()["id"]}
    )
    assert channel.status_code == 201, channel.text
    posted = await app_client.post(
        "/api/v1/inbound",
        headers=desk.as_("integration"),
        json=inbound(channel.json()["id"], "Secret order 42", phone="+79160000043", name="Hidden Customer"),
    )
    assert posted.status_code == 201, posted.text
    conversation_id = posted.json()["conversation_id"]
    return Hidden(conversation_id, conversation_id + 1000)


def _not_found(response: httpx.Response, conversation_id: int) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json() == {
        "type": "about:blank",
        "title": "Not found",
        "status": 404,
        "detail": f"conversation {conversation_id} does not exist",
    }
    assert "Hidden Customer" not in response.text and "Secret order" not in response.text


async def test_operator_reading_a_conversation_of_another_line_gets_the_404_of_a_missing_one(
    app_client: httpx.AsyncClient, desk: Desk, hidden: Hidden
) -> None:
    for suffix in ("", "/messages"):
        # given a conversation on a line the operator does not work
        # when the operator asks for it, and for an id that does not exist
        hidden_answer = await app_client.get(
            f"/api/v1/conversations/{hidden.conversation_id}{suffix}", headers=desk.as_("operator")
        )
        missing_answer = await app_client.get(
            f"/api/v1/conversations/{hidden.missing_id}{suffix}", headers=desk.as_("operator")
        )
        # then both are the same 404 with no data, only the id asked for differs
        _not_found(hidden_answer, hidden.conversation_id)
        _not_found(missing_answer, hidden.missing_id)
        # and the member of that line, and a supervisor, do see it (so the 404 above is the access rule)
        for who in ("operator2", "supervisor"):
            seen = await app_client.get(
                f"/api/v1/conversations/{hidden.conversation_id}{suffix}", headers=desk.as_(who)
            )
            assert seen.status_code == 200, (who, suffix, seen.text)


async def test_operator_making_a_lead_from_a_hidden_conversation_gets_the_404_of_a_missing_one(
    app_client: httpx.AsyncClient, desk: Desk, hidden: Hidden, container: Container
) -> None:
    hidden_answer = await app_client.post(
        f"/api/v1/conversations/{hidden.conversation_id}/leads", headers=desk.as_("operator"), json={}
    )
    missing_answer = await app_client.post(
        f"/api/v1/conversations/{hidden.missing_id}/leads", headers=desk.as_("operator"), json={}
    )
    assert hidden_answer.status_code == missing_answer.status_code == 404
    assert set(hidden_answer.json()) == set(missing_answer.json())


async def test_operator_writing_to_a_hidden_conversation_gets_the_404_of_a_missing_one(
    app_client: httpx.AsyncClient, desk: Desk, hidden: Hidden
) -> None:
    answers = {}
    for action, body in (("replies", {"text": "hello"}), ("close", None)):
        hidden_answer = await app_client.post(
            f"/api/v1/conversations/{hidden.conversation_id}/{action}", headers=desk.as_("operator"), json=body
        )
        missing_answer = await app_client.post(
            f"/api/v1/conversations/{hidden.missing_id}/{action}", headers=desk.as_("operator"), json=body
        )
        answers[action] = (hidden_answer.status_code, missing_answer.status_code)
    assert answers == {"replies": (404, 404), "close": (404, 404)}


async def test_operator_listing_another_lines_conversations_gets_no_data(
    app_client: httpx.AsyncClient, desk: Desk, hidden: Hidden
) -> None:
    other_line = (
        await app_client.get(f"/api/v1/conversations/{hidden.conversation_id}", headers=desk.as_("supervisor"))
    ).json()["line_id"]
    answer = await app_client.get("/api/v1/conversations", params={"line_id": other_line}, headers=desk.as_("operator"))
    assert answer.status_code == 422
    assert answer.json() == {
        "type": "about:blank",
        "title": "Invalid input",
        "status": 422,
        "detail": "operators list their own conversations or one of their lines",
        "field": "line_id",
    }
    own_line = await app_client.get(
        "/api/v1/conversations", params={"line_id": desk.line_id}, headers=desk.as_("operator")
    )
    assert own_line.status_code == 200 and own_line.json() == []


async def test_forbidden_answer_is_the_same_for_a_real_and_a_missing_object(
    app_client: httpx.AsyncClient, world: World
) -> None:
    # the role check comes before any lookup, so a 403 cannot be used to probe ids
    real = await app_client.post(
        f"/api/v1/conversations/{world.conversation_id}/assign",
        headers=world.desk.as_("operator"),
        json={"operator_id": world.desk.operator_id},
    )
    missing = await app_client.post(
        f"/api/v1/conversations/{world.conversation_id + 1000}/assign",
        headers=world.desk.as_("operator"),
        json={"operator_id": world.desk.operator_id},
    )
    assert real.status_code == missing.status_code == 403
    assert (
        real.json()
        == missing.json()
        == {"type": "about:blank", "title": "Forbidden", "status": 403, "detail": "the operator role may not do this"}
    )


async def test_admin_token_without_user_asking_who_am_i_gets_no_500(
    app_client: httpx.AsyncClient, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(problems, "log", _QuietLog())  # the 500's traceback rendering takes seconds
    made = await app_client.post("/api/v1/tokens", headers=desk.as_("admin"), json={"name": "ops", "role": "admin"})
    assert made.status_code == 201, made.text
    transport = httpx.ASGITransport(app=app_client._transport.app, raise_app_exceptions=False)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test") as client:
        answer = await client.get("/api/v1/auth/me", headers={"authorization": f"Bearer {made.json()['token']}"})
    assert answer.status_code < 500, answer.text
