"""ACD for calls, on both databases: no answer moves on, position announcements, overflow, abandoned calls."""

from __future__ import annotations

import httpx
import pytest

from switchboard.bootstrap import Container
from tests.api.test_routing import go, set_line, settle
from tests.api.test_voice import call_record
from tests.support.clock import ManualClock
from tests.support.desk import Desk
from tests.support.pbx import Pbx, phone_channel


@pytest.fixture
def routing_on() -> bool:
    return True


@pytest.fixture
def extra_settings() -> dict[str, object]:
    return {"voice_sweep_seconds": 0}


@pytest.fixture
async def pbx(app_client: httpx.AsyncClient, desk: Desk, clock: ManualClock, container: Container) -> Pbx:
    await settle(container)  # the desk's set-up rebuilds routing: let it finish before calls arrive
    return Pbx(app_client, await phone_channel(app_client, desk, announce_every_s=30), clock)


async def offers(client: httpx.AsyncClient, desk: Desk, who: str) -> list[int]:
    return [o["conversation_id"] for o in (await client.get("/api/v1/me/offers", headers=desk.as_(who))).json()]


async def test_no_answer_at_an_operator_rings_the_next_and_counts_the_miss(
    app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx, container: Container, clock: ManualClock
) -> None:
    # given olga first, then ivan (strict order), both available
    await set_line(app_client, desk, mode="strict_order", forwarding_timeout_s=30, auto_pause_after_missed=1)
    await settle(container)  # a line change rebuilds routing: let it finish before calls arrive
    await go(app_client, desk, "operator")
    await go(app_client, desk, "operator2")
    await settle(container)
    await pbx.call("c-1")
    await settle(container)
    first = await pbx.result("c-1", "waited")
    assert (first["action"], first["operator_id"]) == ("connect", desk.operator_id)
    # when olga's phone rings out
    clock.advance(seconds=12)
    back = await pbx.result("c-1", "no_answer")
    # then the caller holds again while routing moves on, and the next poll rings ivan
    assert back["action"] == "enqueue"
    await settle(container)
    clock.advance(seconds=5)
    second = await pbx.result("c-1", "waited")
    assert (second["action"], second["operator_id"], second["target"]) == (
        "connect",
        desk.other_operator_id,
        "sip:ivan@pbx.test",
    )
    # and the miss counted: on the call, and in routing (olga paused after one miss)
    answered = await pbx.event("c-1", "answered", operator_id=desk.other_operator_id)
    record = await call_record(app_client, desk, answered["call_id"])
    assert record["missed_offers"] == 1
    olga = (await app_client.get(f"/api/v1/operators/{desk.operator_id}", headers=desk.as_("supervisor"))).json()
    assert olga["status"] == "break"


async def test_a_waiting_caller_hears_position_and_estimated_wait(
    app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx, container: Container, clock: ManualClock
) -> None:
    # given olga alone on the line, talking on a first call
    await go(app_client, desk, "operator")
    await settle(container)
    await pbx.call("c-1", ani="+79160000001")
    await settle(container)
    await pbx.result("c-1", "waited")
    await pbx.event("c-1", "answered", operator_id=desk.operator_id)
    await settle(container)
    # when two more callers wait behind her
    await pbx.call("c-2", ani="+79160000002")
    await pbx.call("c-3", ani="+79160000003")
    await settle(container)
    clock.advance(seconds=5)
    second = await pbx.result("c-2", "waited")
    third = await pbx.result("c-3", "waited")
    # then each is told their place and the estimate (position × 180 s ÷ one voice slot), in Russian by default
    assert (second["action"], second["position"], second["estimated_wait_s"]) == ("enqueue", 1, 180.0)
    assert (third["position"], third["estimated_wait_s"]) == (2, 360.0)
    assert third["prompts"] == ["Ваш номер в очереди: 2. Примерное время ожидания: 6 мин."]
    # and not again until 30 s later
    clock.advance(seconds=5)
    quiet = await pbx.result("c-3", "waited")
    assert (quiet["action"], quiet["position"], quiet["prompts"]) == ("enqueue", None, [])
    clock.advance(seconds=26)
    again = await pbx.result("c-3", "waited")
    assert again["position"] == 2


async def test_a_caller_waiting_past_the_maximum_is_promised_a_callback_and_let_go(
    app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx, container: Container, clock: ManualClock
) -> None:
    # given a line that sends callers waiting over a minute to a callback, due within 15 minutes
    await set_line(app_client, desk, limits={"max_wait_s": 60, "overflow": "callback"}, callback_sla_s=900)
    await settle(container)  # a line change rebuilds routing: let it finish before calls arrive
    await pbx.call("c-1")
    await settle(container)
    # when nobody takes the call for a minute
    clock.advance(seconds=61)
    await container.routing.router.fire_due()
    await settle(container)
    step = await pbx.result("c-1", "waited")
    # then the caller is told they will be called back, and the call ends
    assert (step["action"], step["prompts"]) == ("hangup", ["Мы перезвоним вам в ближайшее время."])
    ended = await pbx.event("c-1", "hangup")
    await settle(container)
    record = await call_record(app_client, desk, ended["call_id"])
    assert (record["disposition"], record["end_reason"], record["wait_s"]) == ("missed", "callback", 61.0)
    # and the number is on the line's callback list once, due by the line's SLA
    callbacks = (await app_client.get("/api/v1/voice/callbacks", headers=desk.as_("operator"))).json()
    assert [(c["number"], c["reason"], c["due_at"], c["call_id"]) for c in callbacks] == [
        ("+79161234567", "routing", "2026-11-02T09:16:01Z", record["id"])
    ]


async def test_a_full_queue_refuses_politely_and_the_missed_call_becomes_a_callback(
    app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx, container: Container, clock: ManualClock
) -> None:
    await set_line(app_client, desk, limits={"max_queue_length": 0})
    await settle(container)  # a line change rebuilds routing: let it finish before calls arrive
    await pbx.call("c-1")
    await settle(container)
    step = await pbx.result("c-1", "waited")
    assert (step["action"], step["prompts"]) == ("hangup", ["Все операторы заняты. Мы перезвоним вам."])
    ended = await pbx.event("c-1", "hangup")
    record = await call_record(app_client, desk, ended["call_id"])
    assert (record["disposition"], record["end_reason"]) == ("missed", "refused")
    callbacks = (await app_client.get("/api/v1/voice/callbacks", headers=desk.as_("supervisor"))).json()
    assert [(c["reason"], c["due_at"]) for c in callbacks] == [("missed", "2026-11-02T10:00:00Z")]


async def test_an_abandoned_call_is_recorded_and_called_back_once(
    app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx, container: Container, clock: ManualClock
) -> None:
    # given nobody available: the same customer calls twice and hangs up in the queue each time
    for call_id in ("c-1", "c-2"):
        await pbx.call(call_id)
        await settle(container)
        clock.advance(seconds=40)
        ended = await pbx.event(call_id, "hangup")
        await settle(container)
        record = await call_record(app_client, desk, ended["call_id"])
        assert (record["disposition"], record["wait_s"]) == ("abandoned", 40.0)
    # then the line has one callback for the number, not two
    callbacks = (await app_client.get("/api/v1/voice/callbacks", headers=desk.as_("supervisor"))).json()
    assert [(c["number"], c["reason"]) for c in callbacks] == [("+79161234567", "abandoned")]
