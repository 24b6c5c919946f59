"""The statements a new call costs, counted on both databases so the hot path cannot quietly grow."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event

from switchboard.bootstrap import Container
from tests.support.clock import ManualClock
from tests.support.desk import Desk
from tests.support.pbx import Pbx, phone_channel

RELAY = ("SELECT outbox.", "UPDATE outbox ")  # the outbox relay's own reads and marks, not the call's


@contextmanager
def statements(container: Container) -> Iterator[list[str]]:
    """The first words (verb and table) of every statement a request sends, the relay's left out."""
    seen: list[str] = []

    def capture(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        text = " ".join(statement.split())
        if not text.startswith(RELAY):
            words = text.split(" ")
            seen.append(" ".join(words[:3]) if words[0] == "INSERT" else f"{words[0]} {_table(text)}")

    engine = container.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", capture)


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
