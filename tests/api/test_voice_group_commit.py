"""New calls that arrive together: on SQLite they share one transaction (group commit); on both databases
each call's answer and rows are what starting the calls one after another would give, and a bad or
repeated call among them fails or repeats alone."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select

from switchboard.adapters.storage import tables as t
from switchboard.bootstrap import Container
from tests.api.test_voice_control import count, problem
from tests.support.clock import ManualClock
from tests.support.desk import Desk
from tests.support.pbx import MAIN_NUMBER, Pbx, phone_channel

SAME_NEW_NUMBER = "+79165550000"


async def test_calls_arriving_together_are_stored_as_if_one_after_another(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    # given a phone channel, and a returning caller already known
    pbx = Pbx(app_client, await phone_channel(app_client, desk), clock)
    await pbx.call("warm", ani="+79160000000")
    batches_before = container.call_control.start_batches
    # when twelve calls arrive at once: four from one new number, four from the returning caller, four new
    callers = [SAME_NEW_NUMBER] * 4 + ["+79160000000"] * 4 + [f"+7916555{i:04d}" for i in range(1, 5)]
    answers = await asyncio.gather(
        *(pbx.post("calls", {"call_id": f"c-{i}", "ani": a, "dnis": MAIN_NUMBER}) for i, a in enumerate(callers))
    )
    # then every call is queued with its own first step and conversation
    assert [a.status_code for a in answers] == [200] * 12
    assert {a.json()["action"] for a in answers} == {"enqueue"}
    assert await count(container, t.calls) == 13
    assert await count(container, t.conversations) == 13
    # and the new number that called four times is one contact with one lead, as if the calls came in turn
    async with container.database.engine.connect() as connection:
        owners = (
            (await connection.execute(select(t.calls.c.contact_id).where(t.calls.c.ani == SAME_NEW_NUMBER)))
            .scalars()
            .all()
        )
    assert len(owners) == 4 and len(set(owners)) == 1
    assert await count(container, t.contacts) == 1 + 1 + 4
    assert await count(container, t.leads) == 1 + 1 + 4
    # and on SQLite, where one writer works at a time anyway, they went in fewer transactions than calls
    written = container.call_control.start_batches - batches_before
    if container.database.is_sqlite:
        assert 1 <= written < 12
    else:
        assert written == 0  # PostgreSQL: each call its own transaction, overlapping the others


async def test_a_bad_or_repeated_call_among_them_fails_or_repeats_alone(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    # given a phone channel
    pbx = Pbx(app_client, await phone_channel(app_client, desk), clock)
    await pbx.call("warm", ani="+79160000000")
    # when, at once: good calls, one to a number the channel does not answer, and one call started twice
    requests = [
        {"call_id": "good-1", "ani": "+79161000001", "dnis": MAIN_NUMBER},
        {"call_id": "elsewhere", "ani": "+79161000002", "dnis": "+74959999999"},
        {"call_id": "twice", "ani": "+79161000003", "dnis": MAIN_NUMBER},
        {"call_id": "twice", "ani": "+79161000003", "dnis": MAIN_NUMBER},
        {"call_id": "good-2", "ani": "+79161000004", "dnis": MAIN_NUMBER},
    ]
    answers = await asyncio.gather(*(pbx.post("calls", body) for body in requests))
    # then the misdialled call is refused and wrote nothing, the repeat got the same step, the rest are queued
    problem(answers[1], 404, f"channel {pbx.channel_id} does not answer +74959999999")
    assert [answers[i].status_code for i in (0, 2, 3, 4)] == [200] * 4
    assert answers[2].json() == answers[3].json()
    assert await count(container, t.calls) == 1 + 3
    assert await count(container, t.conversations) == 1 + 3
    assert await count(container, t.contacts) == 1 + 3
    async with container.database.engine.connect() as connection:
        stored = set((await connection.execute(select(t.calls.c.pbx_call_id))).scalars())
    assert stored == {"warm", "good-1", "twice", "good-2"}
