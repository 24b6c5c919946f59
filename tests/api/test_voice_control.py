"""Call control's bad input, on both databases: unsigned and replayed requests, unknown calls, repeats,
events out of order, and a PBX that never reports the end of a call."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from switchboard.adapters.storage import tables as t
from switchboard.bootstrap import Container
from tests.api.test_routing import go, set_line, settle
from tests.api.test_voice import call_record
from tests.support.clock import ManualClock
from tests.support.desk import Desk
from tests.support.pbx import Pbx, phone_channel

PROBLEM = "application/problem+json"


@pytest.fixture
def routing_on() -> bool:
    return True


@pytest.fixture
def extra_settings() -> dict[str, object]:
    return {"voice_sweep_seconds": 0}


@pytest.fixture
async def pbx(app_client: httpx.AsyncClient, desk: Desk, clock: ManualClock, container: Container) -> Pbx:
    await settle(container)  # the desk's set-up rebuilds routing: let it finish before calls arrive
    return Pbx(app_client, await phone_channel(app_client, desk), clock)


async def count(container: Container, table: Any) -> int:
    async with container.database.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


def problem(answer: httpx.Response, status: int, detail: str, field: str | None = None) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body = answer.json()
    assert body["detail"] == detail
    assert body.get("field") == field


async def test_unsigned_wrongly_signed_and_stale_requests_are_refused_and_write_nothing(
    app_client: httpx.AsyncClient, pbx: Pbx, container: Container, clock: ManualClock
) -> None:
    payload = {"call_id": "c-1", "ani": "+79161234567", "dnis": "+74950000000"}
    url = f"/api/v1/voice/pbx/{pbx.channel_id}/calls"
    # unsigned
    unsigned = await app_client.post(url, json=payload)
    problem(unsigned, 401, "the request is not signed: send X-Switchboard-Timestamp and X-Switchboard-Signature")
    # signed with another secret
    forged = await pbx.post("calls", payload, secret="not-the-channel-secret-0000")
    problem(forged, 401, "the signature does not match")
    # a genuine request captured and replayed ten minutes later
    old = int(clock.now().timestamp()) - 600
    replayed = await pbx.post("calls", payload, timestamp=old)
    problem(
        replayed,
        401,
        "X-Switchboard-Timestamp is more than 300 seconds away from now: a replay or a wrong clock",
    )
    # a body changed after signing
    body = b'{"call_id": "c-1", "ani": "+79161234567", "dnis": "+74950000000"}'
    headers = pbx.headers(body)
    tampered = await app_client.post(url, content=body.replace(b"c-1", b"c-2"), headers=headers)
    problem(tampered, 401, "the signature does not match")
    # a channel that is not a phone channel
    elsewhere = await app_client.post(
        f"/api/v1/voice/pbx/{pbx.channel_id + 100}/calls", content=body, headers=pbx.headers(body)
    )
    problem(elsewhere, 401, f"channel {pbx.channel_id + 100} is not a phone channel with a call-control secret")
    assert await count(container, t.calls) == 0


async def test_a_repeated_new_call_inside_the_window_gets_the_same_step_and_one_record(
    app_client: httpx.AsyncClient, pbx: Pbx, container: Container
) -> None:
    first = await pbx.call("c-1")
    again = await pbx.call("c-1")
    assert again == first
    assert await count(container, t.calls) == 1
    assert await count(container, t.conversations) == 1
    # and a result for an old step gets the current step, changing nothing
    stale = await pbx.post("results", {"call_id": "c-1", "step_id": first["step_id"] - 1, "outcome": "waited"})
    assert stale.json() == first


async def test_events_for_unknown_calls_are_a_404_problem(app_client: httpx.AsyncClient, pbx: Pbx) -> None:
    answer = await pbx.send_event("never-started", "answered")
    problem(answer, 404, "call never-started is not known on this channel")
    result = await pbx.post("results", {"call_id": "never-started", "step_id": 1, "outcome": "done"})
    problem(result, 404, "call never-started is not known on this channel")


async def test_a_repeated_event_is_stored_once_and_changes_nothing(
    app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx, container: Container, clock: ManualClock
) -> None:
    await go(app_client, desk, "operator")
    await settle(container)
    await pbx.call("c-1")
    first = await pbx.event("c-1", "hangup", event_id="hup-1")
    clock.advance(seconds=5)
    again = await pbx.event("c-1", "hangup", event_id="hup-1")
    assert (first["applied"], first["duplicate"]) == (True, False)
    assert (again["applied"], again["duplicate"], again["detail"]) == (
        False,
        True,
        "a repeat of an event already received",
    )
    assert await count(container, t.call_events) == 1
    record = await call_record(app_client, desk, first["call_id"])
    assert record["ended_at"] == "2026-11-02T09:00:00Z"


async def test_malformed_call_control_input_names_the_field(pbx: Pbx) -> None:
    problem(
        await pbx.post("calls", {"call_id": "a b", "dnis": "+74950000000"}),
        422,
        "call_id must be 1 to 128 printable characters without spaces",
        "call_id",
    )
    problem(
        await pbx.post("calls", {"call_id": "c-9", "dnis": "hello"}),
        422,
        "dnis 'hello' is neither a phone number nor an internal number",
        "dnis",
    )
    problem(
        await pbx.post("calls", {"call_id": "c-9", "dnis": "+74957777777"}),
        404,
        f"channel {pbx.channel_id} does not answer +74957777777",
    )
    await pbx.call("c-1")
    bad_digits = await pbx.post("results", {"call_id": "c-1", "step_id": 1, "outcome": "digits", "digits": "12a"})
    problem(bad_digits, 422, "digits are up to 32 of 0-9, * and #", "digits")
    bad_kind = await pbx.send_event("c-1", "exploded")
    assert bad_kind.status_code == 422 and bad_kind.json()["field"] == "kind"
    no_url = await pbx.send_event("c-1", "recording")
    problem(no_url, 422, "a recording event needs an http(s) recording_url", "recording_url")


async def test_hang_up_before_answer_then_the_late_answer_corrects_the_record(
    app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx, container: Container, clock: ManualClock
) -> None:
    # given a call rung at olga
    await go(app_client, desk, "operator")
    await settle(container)
    await pbx.call("c-1")
    await settle(container)
    assert (await pbx.result("c-1", "waited"))["action"] == "connect"
    answered_at = clock.advance(seconds=4)
    # when the hang-up arrives first (the caller abandoned, as far as we know) ...
    clock.advance(seconds=60)
    hung = await pbx.event("c-1", "hangup")
    await settle(container)
    record = await call_record(app_client, desk, hung["call_id"])
    assert (record["disposition"], record["talk_s"]) == ("abandoned", None)
    callbacks = (await app_client.get("/api/v1/voice/callbacks", headers=desk.as_("supervisor"))).json()
    assert [(c["number"], c["reason"], c["status"]) for c in callbacks] == [("+79161234567", "abandoned", "open")]
    # ... and then the answer, stamped before the hang-up
    late = await pbx.event("c-1", "answered", operator_id=desk.operator_id, at=answered_at)
    # then the record is corrected: answered, talked a minute, and nobody needs to call back
    assert (late["applied"], late["detail"]) == (True, "corrected: answered before the hang-up")
    record = await call_record(app_client, desk, hung["call_id"])
    assert (record["disposition"], record["talk_s"], record["wait_s"]) == ("answered", 60.0, 4.0)
    assert (await app_client.get("/api/v1/voice/callbacks", headers=desk.as_("supervisor"))).json() == []
    # and a ringing event that turns up even later is stored and ignored
    later = await pbx.event("c-1", "ringing", operator_id=desk.operator_id)
    assert (later["applied"], later["detail"]) == (False, "the call is no longer waiting for an answer")


async def test_an_answer_after_the_offer_ran_out_still_gives_the_call_to_whoever_answered(
    app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx, container: Container, clock: ManualClock
) -> None:
    await set_line(app_client, desk, mode="strict_order", forwarding_timeout_s=10)
    await settle(container)  # a line change rebuilds routing: let it finish before calls arrive
    await go(app_client, desk, "operator")
    await go(app_client, desk, "operator2")
    await settle(container)
    await pbx.call("c-1")
    await settle(container)
    await pbx.result("c-1", "waited")
    # olga's offer runs out in routing (ivan is offered) just as she picks up
    clock.advance(seconds=11)
    await container.routing.router.fire_due()
    await settle(container)
    answered = await pbx.event("c-1", "answered", operator_id=desk.operator_id)
    await settle(container)
    record = await call_record(app_client, desk, answered["call_id"])
    conversation = (
        await app_client.get(f"/api/v1/conversations/{record['conversation_id']}", headers=desk.as_("supervisor"))
    ).json()
    assert (conversation["status"], conversation["assignee_id"]) == ("assigned", desk.operator_id)
    assert (await app_client.get("/api/v1/me/offers", headers=desk.as_("operator2"))).json() == []


async def test_a_call_the_pbx_never_ends_is_closed_by_the_timeout_and_marked(
    app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx, container: Container, clock: ManualClock
) -> None:
    # given a call waiting in the queue (nobody available), whose PBX then goes silent
    await pbx.call("c-1")
    await settle(container)
    quiet_from = clock.now()
    # when the sweep runs before and after two minutes of silence
    clock.advance(seconds=60)
    assert await container.call_control.close_expired() == 0
    clock.advance(seconds=61)
    assert await container.call_control.close_expired() == 1
    await settle(container)
    # then the call is closed at the moment it expired, marked, and missed; its conversation is closed too
    calls = (await app_client.get("/api/v1/voice/callbacks", headers=desk.as_("supervisor"))).json()
    record = await call_record(app_client, desk, calls[0]["call_id"])
    assert (record["status"], record["disposition"], record["timed_out"], record["end_reason"]) == (
        "ended",
        "missed",
        True,
        "timeout",
    )
    assert record["ended_at"] == (quiet_from + timedelta(seconds=120)).isoformat().replace("+00:00", "Z")
    conversation = (
        await app_client.get(f"/api/v1/conversations/{record['conversation_id']}", headers=desk.as_("supervisor"))
    ).json()
    assert conversation["status"] == "closed"
    # and a hang-up that finally arrives changes nothing
    late = await pbx.event("c-1", "hangup")
    assert (late["applied"], late["detail"]) == (False, "the call has already ended")
    assert await container.call_control.close_expired() == 0
