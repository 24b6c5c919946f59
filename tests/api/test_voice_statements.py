"""The statements a new call costs, counted on both databases so the hot path cannot quietly grow."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from switchboard.bootstrap import Container
from tests.support.clock import ManualClock
from tests.support.desk import Desk
from tests.support.pbx import Pbx, phone_channel
from tests.support.statements import sent


@contextmanager
def statements(container: Container) -> Iterator[list[str]]:
    """The first words (verb and table) of every statement sent for the request under test: by this task
    (the in-process client runs the app in the caller's task) or by the group commit's writer that stores
    it on SQLite; not by the relay or other workers."""
    seen: list[str] = []
    owner = asyncio.current_task()

    def capture(statement: str, _context: Any) -> None:
        task = asyncio.current_task()
        if task is owner or (task is not None and task.get_name() == "group-commit"):
            text = " ".join(statement.split())
            words = text.split(" ")
            seen.append(" ".join(words[:3]) if words[0] == "INSERT" else f"{words[0]} {_table(text)}")

    with sent(container, capture):
        yield seen


def _table(text: str) -> str:
    return text.split(" FROM ", 1)[1].split(" ")[0] if " FROM " in text else text.split(" ")[1]


async def test_a_new_call_costs_a_fixed_handful_of_statements(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    # given a phone channel whose configuration is already in memory (one call made)
    pbx = Pbx(app_client, await phone_channel(app_client, desk), clock)
    await pbx.call("warm", ani="+79160000000")
    # when a number nobody knows calls, then calls again
    with statements(container) as first:
        await pbx.call("c-1", ani="+79161111111")
    with statements(container) as again:
        await pbx.call("c-2", ani="+79161111111")
    # then the first call looks the number up once and writes each row once: the contact and its
    # number, the conversation, the lead, both timeline entries together, the call, the events
    assert first == [
        "SELECT contacts",
        "INSERT INTO contacts",
        "INSERT INTO identities",
        "INSERT INTO conversations",
        "INSERT INTO leads",
        "INSERT INTO timeline",
        "INSERT INTO calls",
        "INSERT INTO outbox",
    ]
    # and the returning caller is found with its tier in the same single lookup; no lead this time
    assert again == [
        "SELECT contacts",
        "INSERT INTO conversations",
        "INSERT INTO timeline",
        "INSERT INTO calls",
        "INSERT INTO outbox",
    ]


async def test_a_ringing_event_reads_the_call_once_and_the_line_from_memory(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    # given a queued call on the channel's own line
    pbx = Pbx(app_client, await phone_channel(app_client, desk), clock)
    await pbx.call("c-1", ani="+79161111111")
    # when the PBX reports it ringing at olga
    with statements(container) as ringing:
        await pbx.event("c-1", "ringing", operator_id=desk.operator_id)
    # then: the call (locked), whether the event is a repeat, the operator; the line is the cached one
    assert ringing == [
        "SELECT calls",
        "SELECT call_events",
        "SELECT users",
        "UPDATE calls",
        "INSERT INTO call_events",
        "INSERT INTO outbox",
    ]
