"""The desk's API beyond replies: internal notes, canned responses, masked contacts with an audited reveal."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from switchboard.adapters.storage import tables
from switchboard.application.delivery import DeliveryUpdate, record_delivery
from switchboard.application.ports.storage import NewMessage
from switchboard.bootstrap import Container
from switchboard.domain.conversation import AuthorKind, DeliveryStatus, Direction
from tests.support.desk import Desk, inbound


async def _conversation(client: httpx.AsyncClient, desk: Desk, **sender: str) -> dict[str, int]:
    answer = await client.post(
        "/api/v1/inbound",
        headers=desk.as_("integration"),
        json=inbound(desk.channel_id, "Hello", **(sender or {"phone": "+79161234567"})),
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, int] = answer.json()
    return body


async def _outbox(container: Container, name: str) -> list[dict[str, object]]:
    async with container.database.engine.connect() as connection:
        rows = await connection.execute(
            select(tables.outbox.c.payload).where(tables.outbox.c.name == name).order_by(tables.outbox.c.id)
        )
        return [dict(r.payload) for r in rows]


# --- notes ------------------------------------------------------------------------------------------------


async def test_a_note_is_kept_for_colleagues_and_never_reaches_the_customer(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given a conversation on olga's line, assigned to her
    made = await _conversation(app_client, desk)
    conversation = made["conversation_id"]
    await app_client.post(
        f"/api/v1/conversations/{conversation}/assign",
        headers=desk.as_("supervisor"),
        json={"operator_id": desk.operator_id},
    )
    # when ivan (same line) and the supervisor leave notes
    first = await app_client.post(
        f"/api/v1/conversations/{conversation}/notes", headers=desk.as_("operator2"), json={"text": "VIP, be quick"}
    )
    second = await app_client.post(
        f"/api/v1/conversations/{conversation}/notes", headers=desk.as_("supervisor"), json={"text": "Refund OK"}
    )
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    # then olga reads both, oldest first, with their authors
    notes = await app_client.get(f"/api/v1/conversations/{conversation}/notes", headers=desk.as_("operator"))
    assert [(n["text"], n["author_id"]) for n in notes.json()] == [
        ("VIP, be quick", desk.other_operator_id),
        ("Refund OK", desk.supervisor_id),
    ]
    # and the customer's conversation holds no new message
    messages = await app_client.get(f"/api/v1/conversations/{conversation}/messages", headers=desk.as_("operator"))
    assert [m["text"] for m in messages.json()] == ["Hello"]
    # and olga's desk is told (NoteAdded names her as the assignee), and the contact's timeline shows the note
    announced = await _outbox(container, "NoteAdded")
    assert [(e["note_id"], e["assignee_id"]) for e in announced] == [
        (first.json()["id"], desk.operator_id),
        (second.json()["id"], desk.operator_id),
    ]
    timeline = await app_client.get(f"/api/v1/contacts/{made['contact_id']}/timeline", headers=desk.as_("operator"))
    assert [e["summary"] for e in timeline.json()["items"] if e["kind"] == "note"] == ["Refund OK", "VIP, be quick"]


async def test_an_empty_note_is_refused_naming_the_field_and_writes_nothing(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    conversation = (await _conversation(app_client, desk))["conversation_id"]
    answer = await app_client.post(
        f"/api/v1/conversations/{conversation}/notes", headers=desk.as_("operator"), json={"text": "   "}
    )
    assert answer.status_code == 422
    assert (answer.json()["field"], answer.json()["detail"]) == ("text", "the note is empty")
    assert await _outbox(container, "NoteAdded") == []


async def test_a_note_on_a_conversation_the_operator_cannot_read_is_the_404_of_a_missing_one(
    app_client: httpx.AsyncClient, desk: Desk
) -> None:
    # given a conversation on a line olga is not a member of
    admin = desk.as_("admin")
    line = await app_client.post("/api/v1/lines", headers=admin, json={"name": "Back office", "operator_ids": []})
    channel = await app_client.post(
        "/api/v1/channels", headers=admin, json={"kind": "api", "name": "Partners", "line_id": line.json()["id"]}
    )
    message = inbound(channel.json()["id"], "secret", phone="+79160000009")
    posted = await app_client.post("/api/v1/inbound", headers=desk.as_("integration"), json=message)
    hidden = posted.json()["conversation_id"]
    # when olga reads or writes its notes
    for method, body in (("GET", None), ("POST", {"text": "peek"})):
        answer = await app_client.request(
            method, f"/api/v1/conversations/{hidden}/notes", headers=desk.as_("operator"), json=body
        )
        # then it does not exist for her
        assert answer.status_code == 404, answer.text
        assert answer.json()["detail"] == f"conversation {hidden} does not exist"


# --- canned responses ----------------------------------------------------------------------------------------


async def test_supervisors_keep_canned_responses_and_operators_use_them(
    app_client: httpx.AsyncClient, desk: Desk
) -> None:
    # when the supervisor adds two answers
    for shortcut, title in (("delivery", "Delivery times"), ("apology", "We are sorry")):
        made = await app_client.post(
            "/api/v1/canned-responses",
            headers=desk.as_("supervisor"),
            json={"shortcut": shortcut, "title": title, "text": f"Text of {shortcut}"},
        )
        assert made.status_code == 201, made.text
    # then operators list them by shortcut
    listed = await app_client.get("/api/v1/canned-responses", headers=desk.as_("operator"))
    assert [(c["shortcut"], c["title"], c["text"]) for c in listed.json()] == [
        ("apology", "We are sorry", "Text of apology"),
        ("delivery", "Delivery times", "Text of delivery"),
    ]
    # and a taken or malformed shortcut is refused naming the field
    for shortcut, detail in (("delivery", "shortcut /delivery is taken"), ("two words", "shortcut: 1 to 40 letters")):
        refused = await app_client.post(
            "/api/v1/canned-responses",
            headers=desk.as_("admin"),
            json={"shortcut": shortcut, "title": "x", "text": "y"},
        )
        assert refused.status_code == 422
        assert refused.json()["field"] == "shortcut" and refused.json()["detail"].startswith(detail)
    # and a deleted one is gone (deleting it again: 404)
    first = listed.json()[0]["id"]
    assert (await app_client.delete(f"/api/v1/canned-responses/{first}", headers=desk.as_("admin"))).status_code == 204
    again = await app_client.delete(f"/api/v1/canned-responses/{first}", headers=desk.as_("admin"))
    assert again.status_code == 404
    left = await app_client.get("/api/v1/canned-responses", headers=desk.as_("operator"))
    assert [c["shortcut"] for c in left.json()] == ["delivery"]


# --- masked personal data --------------------------------------------------------------------------------------


async def test_operators_see_contacts_masked_and_a_reveal_is_audited(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given a customer known only by the phone and email they wrote from
    made = await _conversation(app_client, desk, phone="+79161234567", email="anna@mail.example")
    contact = made["contact_id"]
    # when an operator opens the card, or finds it by the full phone
    card = (await app_client.get(f"/api/v1/contacts/{contact}", headers=desk.as_("operator"))).json()
    found = (await app_client.get("/api/v1/contacts?phone=89161234567", headers=desk.as_("operator"))).json()
    # then phone and email are masked, and so is the name that is the phone
    masked = [{"kind": "phone", "value": "+7916•••••67"}, {"kind": "email", "value": "a•••@mail.example"}]
    assert card["identities"] == masked and card["name"] == "+7916•••••67"
    assert [c["identities"] for c in found] == [masked]
    # and so are the lead's title and its timeline line, which were made of that name
    leads = (await app_client.get(f"/api/v1/leads?contact_id={contact}", headers=desk.as_("operator"))).json()
    assert [lead["title"] for lead in leads] == ["+7916•••••67 — Website"]
    timeline = (await app_client.get(f"/api/v1/contacts/{contact}/timeline", headers=desk.as_("operator"))).json()
    assert [e["summary"] for e in timeline["items"] if e["kind"] == "lead"] == ["+7916•••••67 — Website"]
    # and the supervisor sees them in full
    full = (await app_client.get(f"/api/v1/contacts/{contact}", headers=desk.as_("supervisor"))).json()
    assert [i["value"] for i in full["identities"]] == ["+79161234567", "anna@mail.example"]

    # when the operator reveals the card, giving a reason
    revealed = await app_client.post(
        f"/api/v1/contacts/{contact}/reveal", headers=desk.as_("operator"), json={"reason": "call back"}
    )
    # then she gets the full values, and the audit log says who looked, at what and why
    assert revealed.status_code == 200, revealed.text
    assert revealed.json()["identities"] == full["identities"]
    async with container.database.engine.connect() as connection:
        rows = (
            await connection.execute(select(tables.audit_log).where(tables.audit_log.c.action == "contact.reveal"))
        ).all()
    assert [(r.actor_user_id, r.entity, r.entity_id, r.detail) for r in rows] == [
        (desk.operator_id, "contact", contact, {"kinds": ["email", "phone"], "reason": "call back"})
    ]


# --- delivery receipts reach the desk ------------------------------------------------------------------------


async def test_a_delivery_receipt_names_the_operator_holding_the_conversation(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given olga's reply, sent by a connector under an external id
    made = await _conversation(app_client, desk)
    await app_client.post(
        f"/api/v1/conversations/{made['conversation_id']}/assign",
        headers=desk.as_("supervisor"),
        json={"operator_id": desk.operator_id},
    )
    async with container.services.uow() as uow:
        sent = await uow.messages.add(
            NewMessage(
                made["conversation_id"],
                desk.channel_id,
                Direction.OUT,
                AuthorKind.OPERATOR,
                "On its way",
                DeliveryStatus.SENT,
                container.services.clock.now(),
                author_id=desk.operator_id,
                external_id="provider-77",
            )
        )
        await uow.commit()
    # when the provider reports it delivered
    await record_delivery(container.services, DeliveryUpdate(desk.channel_id, "provider-77", DeliveryStatus.DELIVERED))
    # then the event names olga, so her desk's websocket carries it (operators get events that name them)
    assert await _outbox(container, "MessageStatusChanged") == [
        {
            "message_id": sent.id,
            "conversation_id": made["conversation_id"],
            "status": "delivered",
            "assignee_id": desk.operator_id,
        }
    ]
