"""The routing race, forced: a conversation committed while the engine is rebuilt (a line was saved).

The rebuild reads the database, which may already hold a conversation whose opening event has not
reached the router. Before the fix the rebuild restored it as waiting, skipping admission (welcome,
please-wait, hours, limits), and its event was then ignored as "already being routed"; on a closed
line nothing ever offered it. The seam ``Router.rebuilding`` runs just before a rebuild reads, so
each test commits the conversation exactly there, with no sleeps. Both databases.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tests.api.test_routing as base
from switchboard.bootstrap import Container, build
from switchboard.config import load_settings
from switchboard.web.app import create_app
from tests.api.test_routing_scenarios import fire, messages
from tests.conftest import RUN, empty_tables
from tests.support.clock import ManualClock
from tests.support.desk import Desk, given_desk, inbound

settle, set_line, go, offers, conversation = base.settle, base.set_line, base.go, base.offers, base.conversation

WELCOMING: dict[str, Any] = {
    "mode": "evenly",
    "forwarding_timeout_s": 3600,
    "actions": {
        "welcome": "every_new_conversation",
        "please_wait_after_s": 60,
        "templates": {
            "welcome": {"ru": "Здравствуйте, {contact_name}!"},
            "please_wait": {"ru": "Пожалуйста, подождите."},
        },
    },
}
WELCOME = ("system", "Здравствуйте, Anna!")
PLEASE_WAIT = ("system", "Пожалуйста, подождите.")


@pytest.fixture
def routing_on() -> bool:
    return True


async def customer_writes(client: httpx.AsyncClient, desk: Desk, phone: str, name: str = "Anna") -> int:
    answer = await client.post(
        "/api/v1/inbound", headers=desk.as_("integration"), json=inbound(desk.channel_id, phone=phone, name=name)
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["conversation_id"])


def once_during_rebuild(action: Callable[[], Awaitable[int]], written: list[int]) -> Callable[[], Awaitable[None]]:
    """The hook: the first rebuild after it is set commits the conversation just before reading."""

    async def hook() -> None:
        if not written:
            written.append(await action())

    return hook


async def save_line_while_customer_writes(
    client: httpx.AsyncClient, desk: Desk, container: Container, phone: str, **routing: Any
) -> int:
    written: list[int] = []
    router = container.routing.router
    router.rebuilding = once_during_rebuild(lambda: customer_writes(client, desk, phone), written)
    rebuilds = router.rebuilds
    try:
        await set_line(client, desk, **routing)
        await settle(container)
    finally:
        router.rebuilding = None
    assert router.rebuilds > rebuilds and len(written) == 1, "the interleaving was not forced"
    return written[0]


async def test_a_conversation_committed_during_a_rebuild_is_welcomed_once_offered_and_timed(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    # given a welcoming line and olga available
    await set_line(app_client, desk, **WELCOMING)
    await go(app_client, desk, "operator")
    await settle(container)
    # when an admin saves the line and Anna's first message is committed as the engine is rebuilt
    conversation_id = await save_line_while_customer_writes(app_client, desk, container, "+79162000001", **WELCOMING)
    # then she is welcomed exactly once and offered to olga
    assert await messages(app_client, desk, conversation_id) == [("contact", "Здравствуйте"), WELCOME]
    assert await offers(app_client, desk, "operator") == [conversation_id]
    # and the please-wait timer of her admission runs
    assert await fire(container, clock, 61) >= 1
    assert (await messages(app_client, desk, conversation_id))[2:] == [PLEASE_WAIT]


async def test_a_conversation_committed_during_a_rebuild_off_hours_is_offered_when_the_line_opens(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    # given Monday 12:00 Moscow, a line opening at 14:00 that auto-replies when closed, and olga available
    closed: dict[str, Any] = {
        "mode": "evenly",
        "calendar": {"weekly": {"0": ["14:00-18:00"]}},
        "off_hours": {"action": "auto_reply"},
        "actions": {"templates": {"off_hours": {"ru": "Мы закрыты."}}},
    }
    await set_line(app_client, desk, **closed)
    await go(app_client, desk, "operator")
    await settle(container)
    # when the line is saved and a customer's message is committed as the engine is rebuilt
    conversation_id = await save_line_while_customer_writes(app_client, desk, container, "+79162000002", **closed)
    # then they get the off-hours reply, and nobody is offered it yet
    assert await messages(app_client, desk, conversation_id) == [("contact", "Здравствуйте"), ("system", "Мы закрыты.")]
    assert (await conversation(app_client, desk, conversation_id))["status"] == "queued"
    assert await offers(app_client, desk, "operator") == []
    # when the line opens and timers fire
    assert await fire(container, clock, 2 * 3600) >= 1
    # then the offer appears
    assert await offers(app_client, desk, "operator") == [conversation_id]


async def test_conversations_before_during_and_after_a_rebuild_are_each_admitted_once(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given a welcoming line, olga and ivan available
    await set_line(app_client, desk, **WELCOMING)
    await go(app_client, desk, "operator")
    await go(app_client, desk, "operator2")
    await settle(container)
    # when one customer writes just before the line is saved (its event is behind the save's), one while the
    # engine is rebuilt, and one after
    before = await customer_writes(app_client, desk, "+79162000003")
    during = await save_line_while_customer_writes(app_client, desk, container, "+79162000004", **WELCOMING)
    after = await customer_writes(app_client, desk, "+79162000005")
    await settle(container)
    # then each is welcomed exactly once and each is offered to exactly one operator
    for conversation_id in (before, during, after):
        assert await messages(app_client, desk, conversation_id) == [("contact", "Здравствуйте"), WELCOME]
    rung = await offers(app_client, desk, "operator") + await offers(app_client, desk, "operator2")
    assert sorted(rung) == sorted([before, during, after])


async def test_the_reopened_conversation_committed_during_a_rebuild_goes_to_its_last_operator_first(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given a sticky line reopening within a day, and ivan served customer A and now holds customer B
    sticky = {"mode": "evenly", "sticky_wait_s": 120}
    answer = await app_client.patch(
        f"/api/v1/lines/{desk.line_id}",
        headers=desk.as_("admin"),
        json={"reopen_window_seconds": 86_400, "routing": sticky},
    )
    assert answer.status_code == 200, answer.text
    await go(app_client, desk, "operator2")
    await settle(container)
    served = await customer_writes(app_client, desk, "+79162000006")
    await settle(container)
    for step in ("accept", "close"):
        done = await app_client.post(f"/api/v1/conversations/{served}/{step}", headers=desk.as_("operator2"))
        assert done.status_code in (200, 204), done.text
        await settle(container)
    holding = await customer_writes(app_client, desk, "+79162000007")
    await settle(container)
    taken = await app_client.post(f"/api/v1/conversations/{holding}/accept", headers=desk.as_("operator2"))
    assert taken.status_code == 204, taken.text
    # and olga is available and free
    await go(app_client, desk, "operator")
    await settle(container)
    # when the line is saved and customer A's new message reopens the conversation as the engine is rebuilt
    returning = await save_line_while_customer_writes(app_client, desk, container, "+79162000006", **sticky)
    # then the reopened conversation is offered to ivan, not to olga
    assert returning == served
    assert await offers(app_client, desk, "operator2") == [served]
    assert await offers(app_client, desk, "operator") == []


# --- the invariant, whatever the timing ------------------------------------------------------------------------

STEPS = ("write", "write_during_a_rebuild", "save_line", "settle")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.sampled_from(STEPS), min_size=1, max_size=6))
def test_whatever_the_timing_each_conversation_is_welcomed_once_and_offered(sqlite_url: str, steps: list[str]) -> None:
    """Property (SQLite: each example is a fresh desk): customers writing, lines saved and conversations
    committed during rebuilds, in any order, end with every conversation admitted once and ringing."""
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_whatever_the_timing(sqlite_url, steps))
    finally:
        loop.close()


async def _whatever_the_timing(url: str, steps: list[str]) -> None:
    options = {"bus_url": "memory://", "bus_namespace": f"p{RUN}", "db_pool_size": 5, "delivery": False}
    container = build(load_settings(database_url=url, routing=True, **options), clock=ManualClock(), fast_hashing=True)
    await empty_tables(container.database)
    await container.start()
    try:
        app = create_app(container, manage_lifecycle=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sb.test") as client:
            desk = await given_desk(container.services, client)
            await set_line(client, desk, **WELCOMING)
            await go(client, desk, "operator")
            await go(client, desk, "operator2")
            await settle(container)
            written: list[int] = []
            for n, step in enumerate(steps):
                phone = f"+7916400{n:04d}"
                if step == "write":
                    written.append(await customer_writes(client, desk, phone))
                elif step == "write_during_a_rebuild":
                    written.append(await save_line_while_customer_writes(client, desk, container, phone, **WELCOMING))
                elif step == "save_line":
                    await set_line(client, desk, **WELCOMING)
                else:
                    await settle(container)
            await settle(container)
            for conversation_id in written:
                assert await messages(client, desk, conversation_id) == [("contact", "Здравствуйте"), WELCOME]
            rung = await offers(client, desk, "operator") + await offers(client, desk, "operator2")
            assert sorted(rung) == sorted(written)
    finally:
        await container.stop(drain_seconds=1)
