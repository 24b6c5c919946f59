"""A small desk for API tests: people of every role, a line, an API channel and an integration token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from switchboard.application.access import Principal
from switchboard.application.auth import create_api_token
from switchboard.application.catalog import NewUser, create_line, create_user
from switchboard.application.channels import create_channel
from switchboard.application.context import Services
from switchboard.domain.channels import ChannelKind
from switchboard.domain.lines import Line
from switchboard.domain.operators import Role

PASSWORD = "correct-horse-1"


@dataclass
class Desk:
    admin_id: int
    supervisor_id: int
    operator_id: int
    other_operator_id: int
    line_id: int
    channel_id: int
    headers: dict[str, dict[str, str]]  # role name -> Authorization header ("anonymous" -> {})

    def as_(self, who: str) -> dict[str, str]:
        return self.headers[who]


async def given_desk(services: Services, client: httpx.AsyncClient) -> Desk:
    ids = {}
    for login, role in (
        ("admin", Role.ADMIN),
        ("super", Role.SUPERVISOR),
        ("olga", Role.OPERATOR),
        ("ivan", Role.OPERATOR),
    ):
        ids[login] = (await create_user(services, None, NewUser(login, login.title(), role, PASSWORD))).id
    admin = Principal(Role.ADMIN, ids["admin"])
    line = await create_line(services, admin, Line(0, "Sales", operator_ids=[ids["olga"], ids["ivan"]]))
    channel = await create_channel(services, admin, ChannelKind.API, "Website", line.id, {})
    _, token = await create_api_token(services, None, "shop", Role.INTEGRATION)
    headers: dict[str, dict[str, str]] = {"anonymous": {}, "integration": {"authorization": f"Bearer {token}"}}
    for login, role in (("admin", "admin"), ("super", "supervisor"), ("olga", "operator"), ("ivan", "operator2")):
        answer = await client.post("/api/v1/auth/login", json={"login": login, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        headers[role] = {"authorization": f"Bearer {answer.json()['token']}"}
    client.cookies.clear()  # the logins' session cookies must not make "anonymous" someone
    return Desk(ids["admin"], ids["super"], ids["olga"], ids["ivan"], line.id, channel.id, headers)


async def taken_by_operator(
    client: httpx.AsyncClient, desk: Desk, channel_id: int, text: str, *, external_id: str
) -> dict[str, Any]:
    """The integration posts a customer's message and the supervisor gives the conversation to olga:
    what the inbound call answered."""
    taken = await client.post(
        "/api/v1/inbound", headers=desk.as_("integration"), json=inbound(channel_id, text, external_id=external_id)
    )
    assert taken.status_code == 201, taken.text
    assigned = await client.post(
        f"/api/v1/conversations/{taken.json()['conversation_id']}/assign",
        headers=desk.as_("supervisor"),
        json={"operator_id": desk.operator_id},
    )
    assert assigned.status_code == 200, assigned.text
    return dict(taken.json())


def inbound(
    channel_id: int, text: str = "Здравствуйте", *, external_id: str | None = None, **sender: str
) -> dict[str, object]:
    body: dict[str, object] = {"channel_id": channel_id, "text": text, "sender": sender or {"phone": "+79161234567"}}
    if external_id is not None:
        body["external_id"] = external_id
    return body
