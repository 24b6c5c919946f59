"""Who may change whom: supervisors edit operators, only admins touch supervisors, admins and roles."""

from __future__ import annotations

import httpx

from tests.support.desk import Desk


async def test_supervisor_edits_an_operator_but_not_an_admin(app_client: httpx.AsyncClient, desk: Desk) -> None:
    # when a supervisor changes an operator's capacity, it is saved
    changed = await app_client.patch(
        f"/api/v1/operators/{desk.operator_id}", headers=desk.as_("supervisor"), json={"capacity": {"chat": 3}}
    )
    assert changed.status_code == 200
    assert changed.json()["capacity"] == {"chat": 3}
    # and when they try to switch off an admin, it is refused and the admin stays active
    refused = await app_client.patch(
        f"/api/v1/operators/{desk.admin_id}", headers=desk.as_("supervisor"), json={"active": False}
    )
    assert refused.status_code == 403
    assert refused.json()["detail"] == "a supervisor edits operators only"
    admin = await app_client.get(f"/api/v1/operators/{desk.admin_id}", headers=desk.as_("admin"))
    assert admin.json()["active"] is True


async def test_only_an_admin_changes_roles(app_client: httpx.AsyncClient, desk: Desk) -> None:
    refused = await app_client.patch(
        f"/api/v1/operators/{desk.operator_id}", headers=desk.as_("supervisor"), json={"role": "supervisor"}
    )
    assert refused.status_code == 422
    assert refused.json()["field"] == "role"
    promoted = await app_client.patch(
        f"/api/v1/operators/{desk.operator_id}", headers=desk.as_("admin"), json={"role": "supervisor"}
    )
    assert promoted.json()["role"] == "supervisor"


async def test_a_process_that_does_not_route_says_so_when_asked_a_queue_position(
    app_client: httpx.AsyncClient, desk: Desk
) -> None:
    # given this test's service runs without routing (another process would lead it)
    made = await app_client.post(
        "/api/v1/inbound",
        headers=desk.as_("integration"),
        json={"channel_id": desk.channel_id, "text": "hi", "sender": {"phone": "+79161001400"}},
    )
    answer = await app_client.get(
        f"/api/v1/conversations/{made.json()['conversation_id']}/position", headers=desk.as_("integration")
    )
    assert (answer.status_code, answer.headers["retry-after"]) == (503, "1")
    assert answer.json()["detail"] == "this process does not lead routing"
