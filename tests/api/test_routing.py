"""Routing applied, through the HTTP API on both databases: offers, accepts, timers, restarts."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from switchboard.bootstrap import Container, build
from tests.support.clock import ManualClock
from tests.support.desk import Desk, inbound


@pytest.fixture
def routing_on() -> bool:
    return True


async def settle(container: Container) -> None:
    """Let committed events reach the router and its decisions' events leave, until nothing moves."""
    for _ in range(10):
        await container.relay.drain(2)
        await container.bus.drain()  # type: ignore[attr-defined]
        if not await container.outbox.unpublished(1):
            return
    raise AssertionError("routing did not settle")


async def set_line(client: httpx.AsyncClient, desk: Desk, **routing: Any) -> None:
    answer = await client.patch(f"/api/v1/lines/{desk.line_id}", headers=desk.as_("admin"), json={"routing": routing})
    assert answer.status_code == 200, answer.text


async def go(client: httpx.AsyncClient, desk: Desk, who: str, status: str = "available", reason: str = "") -> None:
    answer = await client.put("/api/v1/me/status", headers=desk.as_(who), json={"status": status, "reason": reason})
    assert answer.status_code == 200, answer.text


async def write(client: httpx.AsyncClient, desk: Desk, phone: str) -> int:
    answer = await client.post(
        "/api/v1/inbound", headers=desk.as_("integration"), json=inbound(desk.channel_id, phone=phone)
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["conversation_id"])


async def offers(client: httpx.AsyncClient, desk: Desk, who: str) -> list[int]:
    answer = await client.get("/api/v1/me/offers", headers=desk.as_(who))
    return [o["conversation_id"] for o in answer.json()]


async def conversation(client: httpx.AsyncClient, desk: Desk, conversation_id: int) -> dict[str, Any]:
    return dict((await client.get(f"/api/v1/conversations/{conversation_id}", headers=desk.as_("supervisor"))).json())


async def test_evenly_four_operators_four_messages_one_each(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given four operators on the line, all available (the article's four managers)
    extra = []
    for login in ("anna", "petr"):
        made = await app_client.post(
            "/api/v1/operators",
            headers=desk.as_("admin"),
            json={"login": login, "name": login, "password": "correct-horse-1"},
        )
        extra.append(made.json()["id"])
    members = [desk.operator_id, desk.other_operator_id, *extra]
    await app_client.patch(
        f"/api/v1/lines/{desk.line_id}",
        headers=desk.as_("admin"),
        json={"operator_ids": members, "routing": {"mode": "evenly"}},
    )
    headers = {}
    for login in ("anna", "petr"):
        token = (
            await app_client.post("/api/v1/auth/login", json={"login": login, "password": "correct-horse-1"})
        ).json()
        headers[login] = {"authorization": f"Bearer {token['token']}"}
    app_client.cookies.clear()
    for who in ("operator", "operator2"):
        await go(app_client, desk, who)
    for login in ("anna", "petr"):
        await app_client.put("/api/v1/me/status", headers=headers[login], json={"status": "available"})
    await settle(container)
    # when four customers write
    written = [await write(app_client, desk, f"+7916000010{i}") for i in range(4)]
    await settle(container)
    # then each operator is offered exactly one of them
    rung = [await offers(app_client, desk, who) for who in ("operator", "operator2")]
    rung += [
        [o["conversation_id"] for o in (await app_client.get("/api/v1/me/offers", headers=headers[x])).json()]
        for x in ("anna", "petr")
    ]
    assert [len(r) for r in rung] == [1, 1, 1, 1]
    assert sorted(c for r in rung for c in r) == written


async def test_strict_order_forwards_after_the_timeout_and_accept_assigns(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    # given a strict-order line with a one-minute forwarding timeout: olga first, then ivan
    await set_line(app_client, desk, mode="strict_order", forwarding_timeout_s=60)
    await go(app_client, desk, "operator")
    await go(app_client, desk, "operator2")
    await settle(container)
    conversation_id = await write(app_client, desk, "+79160000201")
    await settle(container)
    assert await offers(app_client, desk, "operator") == [conversation_id]
    assert await offers(app_client, desk, "operator2") == []
    # when olga (at lunch) does not answer within the minute
    clock.advance(seconds=61)
    assert await container.routing.router.fire_due() >= 1
    await settle(container)
    # then the offer moves to ivan, and olga's late accept is refused
    assert await offers(app_client, desk, "operator") == []
    assert await offers(app_client, desk, "operator2") == [conversation_id]
    late = await app_client.post(f"/api/v1/conversations/{conversation_id}/accept", headers=desk.as_("operator"))
    assert late.status_code == 409
    taken = await app_client.post(f"/api/v1/conversations/{conversation_id}/accept", headers=desk.as_("operator2"))
    assert taken.status_code == 204
    await settle(container)
    state = await conversation(app_client, desk, conversation_id)
    assert (state["status"], state["assignee_id"]) == ("assigned", desk.other_operator_id)


async def test_broadcast_offers_everyone_and_exactly_one_accept_wins(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    await set_line(app_client, desk, mode="broadcast", forwarding_timeout_s=120)
    await go(app_client, desk, "operator")
    await go(app_client, desk, "operator2")
    await settle(container)
    conversation_id = await write(app_client, desk, "+79160000301")
    await settle(container)
    assert await offers(app_client, desk, "operator") == [conversation_id]
    assert await offers(app_client, desk, "operator2") == [conversation_id]
    # when both accept at the same moment
    answers = await asyncio.gather(
        *(
            app_client.post(f"/api/v1/conversations/{conversation_id}/accept", headers=desk.as_(who))
            for who in ("operator", "operator2")
        )
    )
    # then exactly one wins, the other offer is withdrawn at once
    assert sorted(a.status_code for a in answers) == [204, 409]
    winner = desk.operator_id if answers[0].status_code == 204 else desk.other_operator_id
    await settle(container)
    state = await conversation(app_client, desk, conversation_id)
    assert (state["status"], state["assignee_id"]) == ("assigned", winner)
    assert await offers(app_client, desk, "operator") == []
    assert await offers(app_client, desk, "operator2") == []


async def test_break_takes_an_operator_out_until_available_again(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    await set_line(app_client, desk, mode="evenly")
    await go(app_client, desk, "operator", "break", "lunch")
    await settle(container)
    conversation_id = await write(app_client, desk, "+79160000401")
    await settle(container)
    assert await offers(app_client, desk, "operator") == []
    assert (await conversation(app_client, desk, conversation_id))["status"] == "queued"
    await go(app_client, desk, "operator")
    await settle(container)
    assert await offers(app_client, desk, "operator") == [conversation_id]


async def test_missed_offers_pause_the_operator(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    await set_line(app_client, desk, mode="strict_order", forwarding_timeout_s=30, auto_pause_after_missed=1)
    await go(app_client, desk, "operator")
    await settle(container)
    await write(app_client, desk, "+79160000501")
    await settle(container)
    clock.advance(seconds=31)
    await container.routing.router.fire_due()
    await settle(container)
    me = (await app_client.get(f"/api/v1/operators/{desk.operator_id}", headers=desk.as_("supervisor"))).json()
    assert (me["status"], await offers(app_client, desk, "operator")) == ("break", [])


async def test_a_restart_rebuilds_routing_from_the_database_without_doubles(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    # given a conversation ringing at olga and another waiting (ivan offline)
    await set_line(app_client, desk, mode="strict_order", forwarding_timeout_s=60)
    await go(app_client, desk, "operator")
    await settle(container)
    first = await write(app_client, desk, "+79160000601")
    await settle(container)
    # when the service restarts on the same database
    restarted = build(container.settings, clock=clock, fast_hashing=True)
    await container.stop(drain_seconds=1)
    await restarted.start()
    try:
        await settle(restarted)
        # then the offer is the same one, not doubled, and the timer still forwards it on time
        async with restarted.services.uow(read_only=True) as uow:
            open_offers = await uow.routing.open_offers(conversation_id=first)
        assert [(o.operator_id, o.conversation_id) for o in open_offers] == [(desk.operator_id, first)]
        await go(app_client, desk, "operator2")  # the old app's requests still write the same database
        await settle(restarted)
        clock.advance(seconds=61)
        await restarted.routing.router.fire_due()
        await settle(restarted)
        async with restarted.services.uow(read_only=True) as uow:
            moved = await uow.routing.open_offers(conversation_id=first)
        assert [o.operator_id for o in moved] == [desk.other_operator_id]
    finally:
        await restarted.stop(drain_seconds=1)


async def test_invalid_routing_settings_are_refused_naming_the_field(app_client: httpx.AsyncClient, desk: Desk) -> None:
    answer = await app_client.patch(
        f"/api/v1/lines/{desk.line_id}", headers=desk.as_("admin"), json={"routing": {"mode": "loudest"}}
    )
    assert answer.status_code == 422
    assert answer.json()["field"] == "routing.mode"
    line = (await app_client.get(f"/api/v1/lines/{desk.line_id}", headers=desk.as_("admin"))).json()
    assert line["routing"] == {}


async def test_a_failed_write_rebuilds_the_engine_and_loses_nothing(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    from switchboard.application.ports.storage import StorageUnavailable
    from switchboard.application.routing.apply import Applier

    await set_line(app_client, desk, mode="evenly")
    await go(app_client, desk, "operator")
    await settle(container)
    # given the database fails while the first offer is being written
    original = Applier._Offer
    failures = [StorageUnavailable("connection lost")]

    async def flaky(self: Applier, decision: Any) -> None:
        if failures:
            raise failures.pop()
        await original(self, decision)

    monkeypatch.setattr(Applier, "_Offer", flaky)
    rebuilds = container.routing.router.rebuilds
    # when a customer writes, then the redelivered event finds a rebuilt engine and the offer is made once
    conversation_id = await write(app_client, desk, "+79160000701")
    await settle(container)
    assert container.routing.router.rebuilds == rebuilds + 1
    assert await offers(app_client, desk, "operator") == [conversation_id]
    async with container.services.uow(read_only=True) as uow:
        assert len(await uow.routing.open_offers(conversation_id=conversation_id)) == 1
