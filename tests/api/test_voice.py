"""Calls through the HTTP call control, on both databases: queue, offer, ring, answer, end, the record."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from switchboard.bootstrap import Container
from tests.api.test_routing import go, set_line, settle
from tests.support.clock import ManualClock
from tests.support.desk import Desk
from tests.support.pbx import MAIN_NUMBER, Pbx, phone_channel


@pytest.fixture
def routing_on() -> bool:
    return True


@pytest.fixture
def extra_settings() -> dict[str, object]:
    return {"voice_sweep_seconds": 0}  # the tests close forgotten calls themselves, at the time they choose


@pytest.fixture
async def pbx(app_client: httpx.AsyncClient, desk: Desk, clock: ManualClock, container: Container) -> Pbx:
    await settle(container)  # the desk's set-up rebuilds routing: let it finish before calls arrive
    return Pbx(app_client, await phone_channel(app_client, desk), clock)


async def call_record(client: httpx.AsyncClient, desk: Desk, call_id: int) -> dict[str, Any]:
    answer = await client.get(f"/api/v1/voice/calls/{call_id}", headers=desk.as_("supervisor"))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def operator(client: httpx.AsyncClient, desk: Desk, operator_id: int) -> dict[str, Any]:
    return dict((await client.get(f"/api/v1/operators/{operator_id}", headers=desk.as_("supervisor"))).json())


async def test_a_call_is_queued_rung_at_the_operator_answered_and_recorded(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock, pbx: Pbx
) -> None:
    # given a strict-order line with 30 s of after-call work and olga available
    await set_line(app_client, desk, mode="strict_order", wrap_up_s=30, forwarding_timeout_s=20)
    await settle(container)  # a line change rebuilds routing: let it finish before calls arrive
    await go(app_client, desk, "operator")
    await settle(container)
    # when a customer calls the main number (no IVR on the channel or the line)
    first = await pbx.call("pbx-1", ani="8 916 123-45-67")
    # then the PBX is told to hold the caller in the queue, and asks again after poll_after_s
    assert (first["action"], first["line_id"], first["poll_after_s"]) == ("enqueue", desk.line_id, 5.0)
    await settle(container)
    clock.advance(seconds=5)
    ring = await pbx.result("pbx-1", "waited")
    # and the call is put through to olga's phone for the rest of her offer's 20 s
    assert (ring["action"], ring["operator_id"], ring["target"], ring["timeout_s"]) == (
        "connect",
        desk.operator_id,
        "sip:olga@pbx.test",
        15.0,
    )
    # when her phone rings, she answers, and they talk 90 s
    ringing = await pbx.event("pbx-1", "ringing", operator_id=desk.operator_id)
    clock.advance(seconds=3)
    answered = await pbx.event("pbx-1", "answered", extension="sip:olga@pbx.test")
    assert (ringing["applied"], answered["applied"], answered["status"]) == (True, True, "talking")
    await settle(container)
    clock.advance(seconds=90)
    ended = await pbx.event("pbx-1", "hangup", cause="normal")
    await settle(container)
    # then the call's record has its times, wait, talk, after-call work and disposition
    record = await call_record(app_client, desk, ended["call_id"])
    assert {k: record[k] for k in ("direction", "ani", "dnis", "status", "disposition", "operator_id")} == {
        "direction": "in",
        "ani": "+79161234567",
        "dnis": MAIN_NUMBER,
        "status": "ended",
        "disposition": "answered",
        "operator_id": desk.operator_id,
    }
    assert (record["wait_s"], record["talk_s"], record["after_work_s"], record["missed_offers"]) == (8.0, 90.0, 30.0, 0)
    assert record["ivr_path"] == []  # no IVR: straight to the queue
    # and its conversation (on the phone channel, with the dialled number as its source) is closed
    conversation = (
        await app_client.get(f"/api/v1/conversations/{record['conversation_id']}", headers=desk.as_("supervisor"))
    ).json()
    assert (conversation["status"], conversation["assignee_id"]) == ("closed", desk.operator_id)
    assert conversation["source"]["dialled_number"] == MAIN_NUMBER
    # and olga is in after-call work, then available again when the line's 30 s are over
    assert (await operator(app_client, desk, desk.operator_id))["status"] == "after_work"
    clock.advance(seconds=31)
    await container.routing.router.fire_due()
    await settle(container)
    assert (await operator(app_client, desk, desk.operator_id))["status"] == "available"
    # and the contact's timeline shows the call
    timeline = (
        await app_client.get(f"/api/v1/contacts/{record['contact_id']}/timeline", headers=desk.as_("operator"))
    ).json()
    calls = [e for e in timeline["items"] if e["kind"] == "call"]
    assert [(e["ref_id"], e["summary"]) for e in calls] == [
        (record["id"], "inbound call from +79161234567: answered by Olga, talk 1:30")
    ]
