"""Admin-defined statuses: out of routing, or routed after everyone available."""

from __future__ import annotations

import httpx
import pytest

from switchboard.bootstrap import Container
from tests.api.test_routing import go, offers, set_line, settle, write
from tests.support.desk import Desk


@pytest.fixture
def routing_on() -> bool:
    return True


@pytest.fixture
def extra_settings() -> dict[str, object]:
    return {"custom_statuses": {"training": "out", "back office": "last"}}


async def test_the_desk_lists_every_status_with_its_effect(app_client: httpx.AsyncClient, desk: Desk) -> None:
    answer = await app_client.get("/api/v1/statuses", headers=desk.as_("operator"))
    assert answer.json() == {
        "available": "routed",
        "after_work": "out",
        "break": "out",
        "offline": "out",
        "training": "out",
        "back office": "last",
    }
    unknown = await app_client.put("/api/v1/me/status", headers=desk.as_("operator"), json={"status": "napping"})
    assert (unknown.status_code, unknown.json()["field"]) == (422, "status")


async def test_an_operator_in_a_last_status_gets_work_only_when_nobody_else_can(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given olga in "back office" (routed last) and ivan available, on an evenly line
    await set_line(app_client, desk, mode="evenly")
    await go(app_client, desk, "operator", "back office")
    await go(app_client, desk, "operator2")
    await settle(container)
    # when a customer writes, then ivan is offered it
    first = await write(app_client, desk, "+79160000801")
    await settle(container)
    assert (await offers(app_client, desk, "operator2"), await offers(app_client, desk, "operator")) == ([first], [])
    # and when ivan goes to training (out), the next one goes to olga after all
    await go(app_client, desk, "operator2", "training")
    await settle(container)
    second = await write(app_client, desk, "+79160000802")
    await settle(container)
    assert second in await offers(app_client, desk, "operator")
