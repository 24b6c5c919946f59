"""A PBX as the HTTP call control sees it: signed requests for new calls, step results and events."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from switchboard.domain.voice.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from tests.support.clock import ManualClock
from tests.support.desk import Desk

SECRET = "pbx-secret-0123456789abcdef"
MAIN_NUMBER = "+74950000000"
VIP_NUMBER = "+74950000001"


@dataclass
class Pbx:
    client: httpx.AsyncClient
    channel_id: int
    clock: ManualClock
    secret: str = SECRET
    events: int = 0
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)  # the last step of each call

    def headers(self, body: bytes, *, timestamp: int | None = None, secret: str | None = None) -> dict[str, str]:
        stamp = str(timestamp if timestamp is not None else int(self.clock.now().timestamp()))
        return {
            "content-type": "application/json",
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: signature(secret or self.secret, stamp, body),
        }

    async def post(self, what: str, payload: dict[str, Any], **signing: Any) -> httpx.Response:
        body = json.dumps(payload).encode()
        return await self.client.post(
            f"/api/v1/voice/pbx/{self.channel_id}/{what}", content=body, headers=self.headers(body, **signing)
        )

    async def call(self, call_id: str, ani: str | None = "+79161234567", dnis: str = MAIN_NUMBER) -> dict[str, Any]:
        answer = await self.post("calls", {"call_id": call_id, "ani": ani, "dnis": dnis})
        assert answer.status_code == 200, answer.text
        self.steps[call_id] = answer.json()
        return self.steps[call_id]

    async def result(self, call_id: str, outcome: str = "done", digits: str = "") -> dict[str, Any]:
        step_id = self.steps[call_id]["step_id"]
        answer = await self.post(
            "results", {"call_id": call_id, "step_id": step_id, "outcome": outcome, "digits": digits}
        )
        assert answer.status_code == 200, answer.text
        self.steps[call_id] = answer.json()
        return self.steps[call_id]

    async def event(self, call_id: str, kind: str, **fields: Any) -> dict[str, Any]:
        answer = await self.send_event(call_id, kind, **fields)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def send_event(self, call_id: str, kind: str, event_id: str | None = None, **fields: Any) -> httpx.Response:
        self.events += 1
        payload = {"event_id": event_id or f"ev-{self.events}", "call_id": call_id, "kind": kind, **fields}
        if "at" in payload and not isinstance(payload["at"], str):
            payload["at"] = payload["at"].isoformat()
        return await self.post("events", payload)


async def phone_channel(client: httpx.AsyncClient, desk: Desk, name: str = "Main number", **settings: Any) -> int:
    """A phone channel on the desk's line answering MAIN_NUMBER and VIP_NUMBER, signed with SECRET."""
    body = {
        "kind": "phone",
        "name": name,
        "line_id": desk.line_id,
        "settings": {
            "numbers": [MAIN_NUMBER, VIP_NUMBER],
            "secret": SECRET,
            "extensions": {
                str(desk.operator_id): "sip:olga@pbx.test",
                str(desk.other_operator_id): "sip:ivan@pbx.test",
            },
            **settings,
        },
    }
    answer = await client.post("/api/v1/channels", headers=desk.as_("admin"), json=body)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])
