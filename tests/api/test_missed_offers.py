"""Missed offers: counted where routing decides the miss, persisted, listed, and reset as documented.

A miss is an offer let expire (a decline is an answer). The count is "in a row": an accept, going
available (or logging in) and the auto-pause it causes start it again. Both databases.
"""

from __future__ import annotations

import httpx
import pytest

import tests.api.test_routing as base
from switchboard.bootstrap import Container
from tests.api.test_routing_scenarios import fire
from tests.support.clock import ManualClock
from tests.support.desk import Desk

settle, set_line, go, write, offers = base.settle, base.set_line, base.go, base.write, base.offers


@pytest.fixture
def routing_on() -> bool:
    return True


async def missed_listed(client: httpx.AsyncClient, desk: Desk) -> tuple[int, int]:
    """Olga's count as the operators list and the floor view show it."""
    listed = (await client.get("/api/v1/operators", headers=desk.as_("supervisor"))).json()
    floor = (await client.get("/api/v1/floor", headers=desk.as_("supervisor"))).json()
    (in_list,) = [o["missed_offers"] for o in listed if o["id"] == desk.operator_id]
    (on_floor,) = [o["missed_offers"] for o in floor["operators"] if o["id"] == desk.operator_id]
    return in_list, on_floor


async def missed_events(container: Container) -> list[tuple[int, int]]:
    sent = await container.outbox.after(0, 1000)
    return [(e.payload["operator_id"], e.payload["missed"]) for e in sent if e.name == "OfferMissed"]


async def test_misses_are_counted_listed_announced_and_survive_a_rebuild(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    # given olga alone on a line that pauses after three misses in a row, and a customer's conversation ringing
    await set_line(app_client, desk, mode="strict_order", forwarding_timeout_s=30, auto_pause_after_missed=3)
    await go(app_client, desk, "operator")
    await settle(container)
    conversation_id = await write(app_client, desk, "+79163000001")
    await settle(container)
    # when she lets the offer expire twice
    assert await fire(container, clock, 31) >= 1
    assert await fire(container, clock, 31) >= 1
    # then two misses are listed, on the operators list and on the floor, each announced once
    assert await missed_listed(app_client, desk) == (2, 2)
    assert await missed_events(container) == [(desk.operator_id, 1), (desk.operator_id, 2)]
    assert await offers(app_client, desk, "operator") == [conversation_id]
    # when the engine is rebuilt from the database (a line saved) and she misses a third time
    await set_line(app_client, desk, mode="strict_order", forwarding_timeout_s=30, auto_pause_after_missed=3)
    await settle(container)
    assert await fire(container, clock, 31) >= 1
    # then the count survived the rebuild: she is paused, and the pause starts the count again
    me = (await app_client.get(f"/api/v1/operators/{desk.operator_id}", headers=desk.as_("supervisor"))).json()
    assert (me["status"], me["missed_offers"]) == ("break", 0)
    assert await missed_listed(app_client, desk) == (0, 0)
    assert await offers(app_client, desk, "operator") == []


async def test_an_accept_and_going_available_start_the_count_again(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    # given olga alone, without auto-pause, who let one offer expire
    await set_line(app_client, desk, mode="strict_order", forwarding_timeout_s=30)
    await go(app_client, desk, "operator")
    await settle(container)
    first = await write(app_client, desk, "+79163000002")
    await settle(container)
    assert await fire(container, clock, 31) >= 1
    assert await missed_listed(app_client, desk) == (1, 1)
    # when she accepts the offer that came back
    taken = await app_client.post(f"/api/v1/conversations/{first}/accept", headers=desk.as_("operator"))
    assert taken.status_code == 204, taken.text
    await settle(container)
    # then the run of misses is over
    assert await missed_listed(app_client, desk) == (0, 0)
    # when she misses the next one, takes a break and comes back available
    await write(app_client, desk, "+79163000003")
    await settle(container)
    assert await fire(container, clock, 31) >= 1
    assert await missed_listed(app_client, desk) == (1, 1)
    await go(app_client, desk, "operator", "break", "coffee")
    await settle(container)
    assert await missed_listed(app_client, desk) == (1, 1)  # a break alone forgives nothing
    await go(app_client, desk, "operator")
    await settle(container)
    # then she starts from zero
    assert await missed_listed(app_client, desk) == (0, 0)


async def test_a_decline_is_an_answer_not_a_miss(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given olga and ivan on a strict-order line, and a conversation ringing at olga
    await set_line(app_client, desk, mode="strict_order", forwarding_timeout_s=30, auto_pause_after_missed=1)
    await go(app_client, desk, "operator")
    await go(app_client, desk, "operator2")
    await settle(container)
    conversation_id = await write(app_client, desk, "+79163000004")
    await settle(container)
    # when she declines it
    declined = await app_client.post(f"/api/v1/conversations/{conversation_id}/decline", headers=desk.as_("operator"))
    assert declined.status_code == 204, declined.text
    await settle(container)
    # then nothing is counted and she is not paused
    assert await missed_listed(app_client, desk) == (0, 0)
    me = (await app_client.get(f"/api/v1/operators/{desk.operator_id}", headers=desk.as_("supervisor"))).json()
    assert me["status"] == "available"
    assert await missed_events(container) == []
