"""The operator's files in replies, and replies in another of the customer's channels, on both databases.

Files are uploaded for a conversation (multipart), then named by id in a reply; a web chat visitor
fetches them through the chat's file route, an email customer gets them as MIME parts through a
real SMTP relay on loopback (the delivery worker runs in the container).
"""

from __future__ import annotations

# ruff: noqa: F811 - pytest fixtures imported from the neighbouring suites are parameters here
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from switchboard.adapters.email.smtp_server import SmtpServer
from switchboard.adapters.storage import tables
from switchboard.bootstrap import Container
from tests.adapters.email.test_smtp_server import Inbox
from tests.adapters.email.tls import Certificate
from tests.api.test_outbound_email import (  # noqa: F401 - fixtures
    certificate,
    email_channel,
    extra_settings,
    files_dir,
    parsed,
    relay,
    relay_inbox,
    smtp_settings,
    status_is,
)
from tests.api.test_webchat import Chat, chat, chat_settings  # noqa: F401 - fixtures
from tests.support.desk import Desk, inbound
from tests.support.widget import Widget

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def _upload(
    client: httpx.AsyncClient, desk: Desk, conversation_id: int, data: bytes, content_type: str, name: str, who: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/conversations/{conversation_id}/uploads",
        headers=desk.as_(who),
        files={"file": (name, data, content_type)},
    )


async def _assigned(client: httpx.AsyncClient, desk: Desk, conversation_id: int) -> None:
    answer = await client.post(
        f"/api/v1/conversations/{conversation_id}/assign",
        headers=desk.as_("supervisor"),
        json={"operator_id": desk.operator_id},
    )
    assert answer.status_code == 200, answer.text


async def _conversation(client: httpx.AsyncClient, desk: Desk, **sender: str) -> dict[str, int]:
    posted = await client.post(
        "/api/v1/inbound", headers=desk.as_("integration"), json=inbound(desk.channel_id, "Hello", **sender)
    )
    assert posted.status_code == 201, posted.text
    made: dict[str, int] = posted.json()
    await _assigned(client, desk, made["conversation_id"])
    return made


async def _count(container: Container, table: Any) -> int:
    async with container.database.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


async def _outbox(container: Container, name: str) -> list[dict[str, Any]]:
    async with container.database.engine.connect() as connection:
        rows = await connection.execute(
            select(tables.outbox.c.payload).where(tables.outbox.c.name == name).order_by(tables.outbox.c.id)
        )
        return [dict(r.payload) for r in rows]


# --- web chat ---------------------------------------------------------------------------------------------------


async def test_the_visitor_sees_and_downloads_the_operators_picture(chat: Chat) -> None:
    async with Widget(chat.host, chat.channel_id) as visitor:
        # given a visitor's conversation in olga's hands
        ack = await visitor.write("Какой у вас адрес?")
        conversation_id = ack["message"]["conversation_id"]
        await _assigned(chat.client, chat.desk, conversation_id)
        # when olga uploads a picture and sends it with a line of text
        uploaded = await _upload(chat.client, chat.desk, conversation_id, PNG, "image/png", "map.png", "operator")
        assert uploaded.status_code == 201, uploaded.text
        sha = uploaded.json()["sha256"]
        assert uploaded.json()["url"] == f"/api/v1/conversations/{conversation_id}/files/{sha}"
        sent = await chat.client.post(
            f"/api/v1/conversations/{conversation_id}/replies",
            headers=chat.desk.as_("operator"),
            json={"text": "Вот схема", "upload_ids": [uploaded.json()["id"]]},
        )
        assert sent.status_code == 201, sent.text
        await chat.settle()
        # then the widget shows the message with the picture, addressed by the chat's file route
        shown = (await visitor.next("message"))["message"]
    url = f"/webchat/{chat.channel_id}/files/{sha}"
    assert (shown["text"], shown["attachments"]) == (
        "Вот схема",
        [{"name": "map.png", "content_type": "image/png", "size": len(PNG), "url": url}],
    )
    # and the visitor downloads the very bytes; staff read them through the conversation
    async with httpx.AsyncClient() as client:
        served = await client.get(f"{chat.base}{url}")
    assert (served.status_code, served.content, served.headers["content-type"]) == (200, PNG, "image/png")
    staff = await chat.client.get(uploaded.json()["url"], headers=chat.desk.as_("operator"))
    assert (staff.status_code, staff.content) == (200, PNG)
    # and the timeline's message carries the same attachment
    (message,) = [m for m in await chat.messages(conversation_id) if m["direction"] == "out"]
    assert message["attachments"] == shown["attachments"]


async def test_bad_files_and_bad_upload_ids_are_refused_naming_the_field_and_nothing_is_stored(
    chat: Chat, container: Container
) -> None:
    async with Widget(chat.host, chat.channel_id) as visitor:
        conversation_id = (await visitor.write("Привет"))["message"]["conversation_id"]
        other_id = (await _conversation(chat.client, chat.desk, phone="+79160000001"))["conversation_id"]
    client, desk = chat.client, chat.desk
    await _assigned(client, desk, conversation_id)
    # when files over the chat's limit, of a forbidden type, or not what they claim are uploaded
    too_big = await _upload(client, desk, conversation_id, b"x" * 200_001, "text/plain", "log.txt", "operator")
    html = await _upload(client, desk, conversation_id, b"<script>1</script>", "text/html", "a.html", "operator")
    fake = await _upload(client, desk, conversation_id, b"MZ\x90\x00", "image/png", "cat.png", "operator")
    not_hers = await _upload(client, desk, conversation_id, PNG, "image/png", "cat.png", "operator2")
    # then each is a problem naming the file (ivan does not handle the conversation: 403)
    assert [(r.status_code, r.json().get("field")) for r in (too_big, html, fake, not_hers)] == [
        (413, "file"),
        (415, "file"),
        (415, "file"),
        (403, None),
    ]
    assert too_big.json()["detail"] == "the file is 200001 bytes; replies take files up to 200000 bytes"
    assert await _count(container, tables.operator_uploads) == 0
    # given uploads of the supervisor's, of another conversation's, and one already sent
    supervisors = (await _upload(client, desk, conversation_id, PNG, "image/png", "s.png", "supervisor")).json()
    elsewhere = (await _upload(client, desk, other_id, PNG, "image/png", "e.png", "operator")).json()
    sent = (await _upload(client, desk, conversation_id, PNG, "image/png", "a.png", "operator")).json()
    first = await client.post(
        f"/api/v1/conversations/{conversation_id}/replies",
        headers=desk.as_("operator"),
        json={"upload_ids": [sent["id"]]},
    )
    assert first.status_code == 201, first.text
    before = await _count(container, tables.messages)
    # when olga names them in a reply
    answers = {}
    for case, upload_id in (
        ("unknown", 999_999),
        ("someone else's", supervisors["id"]),
        ("another conversation's", elsewhere["id"]),
        ("already sent", sent["id"]),
    ):
        answer = await client.post(
            f"/api/v1/conversations/{conversation_id}/replies",
            headers=desk.as_("operator"),
            json={"text": "see attached", "upload_ids": [upload_id]},
        )
        answers[case] = (
            answer.status_code,
            answer.headers["content-type"],
            answer.json()["field"],
            answer.json()["detail"],
        )
    # then each is refused naming upload_ids, and no message is stored
    problem = "application/problem+json"
    assert answers == {
        "unknown": (422, problem, "upload_ids", "upload 999999 does not exist"),
        "someone else's": (422, problem, "upload_ids", f"upload {supervisors['id']} was made by someone else"),
        "another conversation's": (
            422,
            problem,
            "upload_ids",
            f"upload {elsewhere['id']} was made for another conversation",
        ),
        "already sent": (422, problem, "upload_ids", f"upload {sent['id']} was already sent"),
    }
    assert await _count(container, tables.messages) == before


async def test_a_channel_that_carries_no_files_refuses_the_reply_before_storing_anything(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given a customer known by phone, in olga's hands, and an SMS channel (SMS carries text only)
    sms = await app_client.post(
        "/api/v1/channels",
        headers=desk.as_("admin"),
        json={
            "kind": "sms",
            "name": "SMS",
            "line_id": desk.line_id,
            "settings": {
                "provider": "twilio",
                "account_sid": "AC" + "0" * 32,
                "from": "+15005550006",
                "webhook_url": "https://desk.example/sms",
            },
            "secrets": {"auth_token": "twilio-token-0001"},
        },
    )
    assert sms.status_code == 201, sms.text
    origin = (await _conversation(app_client, desk, phone="+79160000002"))["conversation_id"]
    uploaded = await _upload(app_client, desk, origin, PDF, "application/pdf", "bill.pdf", "operator")
    assert uploaded.status_code == 201, uploaded.text
    conversations, messages = await _count(container, tables.conversations), await _count(container, tables.messages)
    # when olga sends the file by SMS
    answer = await app_client.post(
        f"/api/v1/conversations/{origin}/replies",
        headers=desk.as_("operator"),
        json={"text": "your bill", "upload_ids": [uploaded.json()["id"]], "channel_id": sms.json()["id"]},
    )
    # then the connector refuses it naming the field; no conversation is opened, no message stored, no note left
    assert (answer.status_code, answer.json()["field"]) == (422, "attachments"), answer.text
    assert answer.json()["detail"] == "an SMS carries text only: send the file by another channel"
    assert await _count(container, tables.conversations) == conversations
    assert await _count(container, tables.messages) == messages
    assert await _count(container, tables.notes) == 0
    async with container.services.uow(read_only=True) as uow:
        kept = await uow.uploads.get_many([uploaded.json()["id"]])
    assert kept[uploaded.json()["id"]].message_id is None


# --- email, and another channel ---------------------------------------------------------------------------------


async def test_a_reply_in_the_customers_email_carries_the_file_and_leaves_a_trail(
    app_client: httpx.AsyncClient,
    desk: Desk,
    container: Container,
    relay: SmtpServer,
    relay_inbox: Inbox,
    certificate: Certificate,
    tmp_path: Path,
) -> None:
    # given a customer known by phone and email who wrote through the site (an API channel), in olga's hands
    mail = await email_channel(app_client, desk, smtp_settings(relay.port, certificate))
    made = await _conversation(app_client, desk, phone="+79160000003", email="ann@customer.example", name="Ann")
    origin = made["conversation_id"]
    # when olga asks where she can answer
    listed = await app_client.get(f"/api/v1/conversations/{origin}/reply-channels", headers=desk.as_("operator"))
    # then the site's channel comes first, then the mailbox (her phone reaches no channel configured here)
    assert listed.status_code == 200, listed.text
    assert [(c["id"], c["kind"], c["current"]) for c in listed.json()] == [
        (desk.channel_id, "api", True),
        (mail["id"], "email", False),
    ]
    # when she uploads the bill and replies by email
    uploaded = await _upload(app_client, desk, origin, PDF, "application/pdf", "bill.pdf", "operator")
    assert uploaded.status_code == 201, uploaded.text
    sent = await app_client.post(
        f"/api/v1/conversations/{origin}/replies",
        headers=desk.as_("operator"),
        json={"text": "Your bill is attached.", "upload_ids": [uploaded.json()["id"]], "channel_id": mail["id"]},
    )
    assert sent.status_code == 201, sent.text
    moved_to = sent.json()["conversation_id"]
    # then the reply lives in a new email conversation of the same customer, in olga's hands, waiting for Ann
    assert moved_to != origin and sent.json()["channel_id"] == mail["id"]
    moved = (await app_client.get(f"/api/v1/conversations/{moved_to}", headers=desk.as_("operator"))).json()
    assert (moved["contact_id"], moved["assignee_id"], moved["status"]) == (
        made["contact_id"],
        desk.operator_id,
        "waiting",
    )
    # and the relay gets the mail with the PDF as a MIME part
    await status_is(app_client, desk, moved_to, sent.json()["id"], "sent")
    (raw, _, recipients) = relay_inbox.received[0]
    message = parsed(raw)
    parts = [(p.get_filename(), p.get_content_type(), p.get_content()) for p in message.iter_attachments()]
    assert recipients == ["ann@customer.example"]
    assert parts == [("bill.pdf", "application/pdf", PDF)]
    # and the original conversation keeps a note pointing there, and the switch is announced
    notes = await app_client.get(f"/api/v1/conversations/{origin}/notes", headers=desk.as_("operator"))
    assert [n["text"] for n in notes.json()] == [f"Replied by email (Support mailbox) in conversation #{moved_to}"]
    assert await _outbox(container, "ReplyMovedChannel") == [
        {
            "from_conversation_id": origin,
            "conversation_id": moved_to,
            "channel_id": mail["id"],
            "message_id": sent.json()["id"],
            "operator_id": desk.operator_id,
            "created": True,
        }
    ]
    # when she writes again by email, the same conversation carries it
    again = await app_client.post(
        f"/api/v1/conversations/{origin}/replies",
        headers=desk.as_("operator"),
        json={"text": "Anything else?", "channel_id": mail["id"]},
    )
    assert (again.status_code, again.json()["conversation_id"]) == (201, moved_to)
    assert [e["created"] for e in await _outbox(container, "ReplyMovedChannel")] == [True, False]


async def test_a_channel_the_customer_cannot_be_reached_in_is_refused_naming_the_field(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, relay: SmtpServer, certificate: Certificate
) -> None:
    # given a customer known by phone only, and a mailbox
    mail = await email_channel(app_client, desk, smtp_settings(relay.port, certificate))
    origin = (await _conversation(app_client, desk, phone="+79160000004"))["conversation_id"]
    listed = await app_client.get(f"/api/v1/conversations/{origin}/reply-channels", headers=desk.as_("operator"))
    assert [c["kind"] for c in listed.json()] == ["api"]
    conversations, messages = await _count(container, tables.conversations), await _count(container, tables.messages)
    # when olga tries to answer by email, or in a channel that does not exist
    answers = []
    for channel_id in (mail["id"], 999_999):
        answer = await app_client.post(
            f"/api/v1/conversations/{origin}/replies",
            headers=desk.as_("operator"),
            json={"text": "hello", "channel_id": channel_id},
        )
        answers.append((answer.status_code, answer.json()["field"], answer.json()["detail"]))
    # then both are refused naming channel_id, and nothing is opened or stored
    assert answers == [
        (422, "channel_id", "the customer has no identity that the email channel 'Support mailbox' can write to"),
        (422, "channel_id", "channel 999999 does not exist or is disabled"),
    ]
    assert await _count(container, tables.conversations) == conversations
    assert await _count(container, tables.messages) == messages
    assert await _outbox(container, "ReplyMovedChannel") == []


async def test_the_customers_conversation_in_a_colleagues_hands_is_not_taken_over(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, relay: SmtpServer, certificate: Certificate
) -> None:
    # given ivan answered a customer by email, so the email conversation is his
    mail = await email_channel(app_client, desk, smtp_settings(relay.port, certificate))
    posted = await app_client.post(
        "/api/v1/inbound",
        headers=desk.as_("integration"),
        json=inbound(desk.channel_id, "Hello", phone="+79160000005", email="bob@customer.example"),
    )
    origin = posted.json()["conversation_id"]
    for operator_id, who in ((desk.other_operator_id, "operator2"), (desk.operator_id, "operator")):
        assigned = await app_client.post(
            f"/api/v1/conversations/{origin}/assign", headers=desk.as_("supervisor"), json={"operator_id": operator_id}
        )
        assert assigned.status_code == 200, assigned.text
        # when he, then olga (the site's conversation handed to her), answer by email
        answer = await app_client.post(
            f"/api/v1/conversations/{origin}/replies",
            headers=desk.as_(who),
            json={"text": f"from {who}", "channel_id": mail["id"]},
        )
        if who == "operator2":
            assert answer.status_code == 201, answer.text
            his = answer.json()["conversation_id"]
    # then olga's reply is refused naming the field, and his conversation keeps his one message
    assert (answer.status_code, answer.json()["field"]) == (409, "channel_id")
    assert answer.json()["detail"] == f"the customer's conversation {his} in that channel is in someone else's hands"
    messages = await app_client.get(f"/api/v1/conversations/{his}/messages", headers=desk.as_("supervisor"))
    assert [m["text"] for m in messages.json()] == ["from operator2"]
