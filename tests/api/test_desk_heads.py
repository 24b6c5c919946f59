"""GET /desk/heads: the desk warms every conversation it holds (card, newest messages, notes) in one request."""

from __future__ import annotations

import httpx

from tests.support.desk import Desk, inbound

PROBLEM = "application/problem+json"


async def _assigned(client: httpx.AsyncClient, desk: Desk, phone: str, *texts: str) -> dict[str, int]:
    """A conversation from ``phone`` with ``texts`` from the customer, assigned to olga."""
    made: dict[str, int] = {}
    for text in texts:
        answer = await client.post(
            "/api/v1/inbound", headers=desk.as_("integration"), json=inbound(desk.channel_id, text, phone=phone)
        )
        assert answer.status_code == 201, answer.text
        made = answer.json()
    assigned = await client.post(
        f"/api/v1/conversations/{made['conversation_id']}/assign",
        headers=desk.as_("supervisor"),
        json={"operator_id": desk.operator_id},
    )
    assert assigned.status_code == 200, assigned.text
    return made


async def test_the_heads_of_several_conversations_come_in_one_answer_in_the_order_asked(
    app_client: httpx.AsyncClient, desk: Desk
) -> None:
    # given two of olga's conversations: one with three messages and a note, one with a single message
    first = await _assigned(app_client, desk, "+79161110001", "One", "Two", "Three")
    second = await _assigned(app_client, desk, "+79161110002", "Alone")
    note = await app_client.post(
        f"/api/v1/conversations/{first['conversation_id']}/notes", headers=desk.as_("supervisor"), json={"text": "VIP"}
    )
    assert note.status_code == 201, note.text
    # when olga asks for both (the second first), two messages each, with an id that does not exist in between
    ids = f"{second['conversation_id']},999999,{first['conversation_id']},{second['conversation_id']}"
    answer = await app_client.get("/api/v1/desk/heads", params={"ids": ids, "limit": 2}, headers=desk.as_("operator"))
    # then each conversation comes once, in the order asked, the unknown one left out
    assert answer.status_code == 200, answer.text
    heads = answer.json()
    assert [h["conversation"]["id"] for h in heads] == [second["conversation_id"], first["conversation_id"]]
    # with its newest messages first (as /messages), its notes, and whether older messages remain
    assert [[m["text"] for m in h["messages"]] for h in heads] == [["Alone"], ["Three", "Two"]]
    assert [[n["text"] for n in h["notes"]] for h in heads] == [[], ["VIP"]]
    assert [h["complete"] for h in heads] == [True, False]
    # and the card masked for the operator, as GET /contacts/{id} shows it to her
    assert [h["contact"]["id"] for h in heads] == [second["contact_id"], first["contact_id"]]
    assert [h["contact"]["identities"] for h in heads] == [
        [{"kind": "phone", "value": "+7916•••••02"}],
        [{"kind": "phone", "value": "+7916•••••01"}],
    ]
    card = await app_client.get(f"/api/v1/contacts/{first['contact_id']}", headers=desk.as_("operator"))
    assert heads[1]["contact"] == card.json()


async def test_conversations_the_caller_may_not_read_are_left_out(app_client: httpx.AsyncClient, desk: Desk) -> None:
    # given a conversation on a line olga is not on
    line = await app_client.post("/api/v1/lines", headers=desk.as_("admin"), json={"name": "Billing"})
    channel = await app_client.post(
        "/api/v1/channels",
        headers=desk.as_("admin"),
        json={"kind": "api", "name": "Billing API", "line_id": line.json()["id"]},
    )
    assert channel.status_code == 201, channel.text
    posted = await app_client.post(
        "/api/v1/inbound", headers=desk.as_("integration"), json=inbound(channel.json()["id"], "Invoice?")
    )
    conversation = posted.json()["conversation_id"]
    # when olga and the supervisor ask for its head
    olga = await app_client.get("/api/v1/desk/heads", params={"ids": conversation}, headers=desk.as_("operator"))
    boss = await app_client.get("/api/v1/desk/heads", params={"ids": conversation}, headers=desk.as_("supervisor"))
    # then olga gets nothing (as if it did not exist), the supervisor gets it with the card unmasked
    assert (olga.status_code, olga.json()) == (200, [])
    assert boss.status_code == 200, boss.text
    assert [h["conversation"]["id"] for h in boss.json()] == [conversation]
    assert boss.json()[0]["contact"]["identities"] == [{"kind": "phone", "value": "+79161234567"}]


async def test_no_ids_is_an_empty_answer(app_client: httpx.AsyncClient, desk: Desk) -> None:
    answer = await app_client.get("/api/v1/desk/heads", headers=desk.as_("operator"))
    assert (answer.status_code, answer.json()) == (200, [])


async def test_bad_ids_are_a_422_naming_the_parameter(app_client: httpx.AsyncClient, desk: Desk) -> None:
    # given ids that are not numbers, a zero, one past the databases' range, and too many at once
    cases = {
        "12,twelve": "ids are conversation ids separated by commas, e.g. 12,15,18",
        "12,0": "conversation ids are positive 64-bit numbers",
        f"12,{2**63}": "conversation ids are positive 64-bit numbers",
        ",".join(str(i) for i in range(1, 102)): "at most 100 conversations at once",
    }
    for ids, detail in cases.items():
        # when the desk asks with them
        answer = await app_client.get("/api/v1/desk/heads", params={"ids": ids}, headers=desk.as_("operator"))
        # then it is a problem naming ids
        assert (answer.status_code, answer.headers["content-type"]) == (422, PROBLEM), answer.text
        assert (answer.json()["field"], answer.json()["detail"]) == ("ids", detail)
    # and a page out of range names limit
    answer = await app_client.get("/api/v1/desk/heads", params={"ids": "1", "limit": 201}, headers=desk.as_("operator"))
    assert (answer.status_code, answer.json()["field"]) == (422, "limit")
