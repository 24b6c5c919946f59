"""The supervisor's floor: each line's queue now and its service level since the line's midnight."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tests.support.clock import ManualClock
from tests.support.desk import Desk, inbound

# 23:00 in Moscow on 1 November: the line's day ends in an hour
START = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


async def _write(client: httpx.AsyncClient, desk: Desk, phone: str) -> int:
    answer = await client.post(
        "/api/v1/inbound", headers=desk.as_("integration"), json=inbound(desk.channel_id, "Hello", phone=phone)
    )
    assert answer.status_code == 201, answer.text
    conversation_id: int = answer.json()["conversation_id"]
    return conversation_id


async def _pick(client: httpx.AsyncClient, desk: Desk, conversation_id: int) -> None:
    picked = await client.post(f"/api/v1/conversations/{conversation_id}/pick", headers=desk.as_("operator"))
    assert picked.status_code == 204, picked.text


async def _floor(client: httpx.AsyncClient, desk: Desk) -> dict[str, object]:
    answer = await client.get("/api/v1/floor", headers=desk.as_("supervisor"))
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def _queue(floor: dict[str, object]) -> dict[str, object]:
    (queue,) = floor["lines"]  # type: ignore[misc]
    return {k: v for k, v in queue.items() if k not in ("line_id", "name")}


async def test_queue_figures_count_today_in_the_lines_time_zone(
    app_client: httpx.AsyncClient, desk: Desk, clock: ManualClock
) -> None:
    # given a manual line with a 30 s answer target, and a conversation answered yesterday (Moscow time)
    edited = await app_client.patch(
        f"/api/v1/lines/{desk.line_id}",
        headers=desk.as_("admin"),
        json={"time_zone": "Europe/Moscow", "routing": {"mode": "manual", "service_level_s": 30}},
    )
    assert edited.status_code == 200, edited.text
    await _pick(app_client, desk, await _write(app_client, desk, "+79160000001"))
    clock.advance(hours=2)  # 01:00 on 2 November in Moscow
    # and three customers writing today: one picked after 20 s, one after 40 s, one still waiting
    first, second, third = [await _write(app_client, desk, f"+7916000001{n}") for n in range(3)]
    clock.advance(seconds=20)
    await _pick(app_client, desk, first)
    clock.advance(seconds=20)
    await _pick(app_client, desk, second)
    clock.advance(seconds=5)

    # when the supervisor looks at the floor
    floor = await _floor(app_client, desk)
    # then the queue holds one, waiting 45 s, and today's service level is 1 of 2 answered within 30 s
    assert _queue(floor) == {
        "waiting": 1,
        "longest_wait_s": 45.0,
        "service_level_s": 30.0,
        "service_level": 0.5,
        "answered_today": 2,
        "abandoned_today": 0,
    }
    conversations = {c["id"]: (c["status"], c["assignee_id"]) for c in floor["conversations"]}  # type: ignore[attr-defined]
    assert conversations[third] == ("new", None)
    assert conversations[first] == conversations[second] == ("assigned", desk.operator_id)

    # when the waiting customer's conversation is closed without an operator (they gave up)
    closed = await app_client.post(f"/api/v1/conversations/{third}/close", headers=desk.as_("supervisor"))
    assert closed.status_code == 200, closed.text
    # then it counts as abandoned against the service level, and the queue is empty
    assert _queue(await _floor(app_client, desk)) == {
        "waiting": 0,
        "longest_wait_s": None,
        "service_level_s": 30.0,
        "service_level": pytest.approx(1 / 3),
        "answered_today": 2,
        "abandoned_today": 1,
    }


async def test_operators_show_status_time_in_status_and_load(
    app_client: httpx.AsyncClient, desk: Desk, clock: ManualClock
) -> None:
    # given olga available since now with one conversation in hand, ivan never signed in
    went = await app_client.put("/api/v1/me/status", headers=desk.as_("operator"), json={"status": "available"})
    assert went.status_code == 200, went.text
    conversation = await _write(app_client, desk, "+79160000021")
    assigned = await app_client.post(
        f"/api/v1/conversations/{conversation}/assign",
        headers=desk.as_("supervisor"),
        json={"operator_id": desk.operator_id},
    )
    assert assigned.status_code == 200, assigned.text
    clock.advance(minutes=3)
    # and a break given to ivan by the supervisor
    forced = await app_client.put(
        f"/api/v1/operators/{desk.other_operator_id}/status",
        headers=desk.as_("supervisor"),
        json={"status": "break", "reason": "training"},
    )
    assert forced.status_code == 200, forced.text

    # when the supervisor looks at the floor
    floor = await _floor(app_client, desk)
    # then every active operator is there with status, reason, since, load and lines
    operators = {o["id"]: o for o in floor["operators"]}  # type: ignore[attr-defined]
    olga, ivan = operators[desk.operator_id], operators[desk.other_operator_id]
    assert (olga["status"], olga["logged_in"], olga["load"], olga["line_ids"]) == (
        "available",
        True,
        1,
        [desk.line_id],
    )
    assert datetime.fromisoformat(olga["since"]) == START
    assert (ivan["status"], ivan["reason"], ivan["load"]) == ("break", "training", 0)
    assert datetime.fromisoformat(ivan["since"]) == clock.now()
    # and a hand-assigned conversation counts as answered without an answer time (no service level yet)
    assert _queue(floor)["answered_today"] == 1 and _queue(floor)["service_level"] is None


async def test_a_service_level_target_outside_one_second_to_a_day_is_refused_naming_it(
    app_client: httpx.AsyncClient, desk: Desk
) -> None:
    answer = await app_client.patch(
        f"/api/v1/lines/{desk.line_id}", headers=desk.as_("admin"), json={"routing": {"service_level_s": 0}}
    )
    assert answer.status_code == 422
    assert answer.json()["field"] == "routing.service_level_s"
    assert answer.json()["detail"] == "routing.service_level_s: must be between 1 second and 24 hours"
