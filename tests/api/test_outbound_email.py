"""Replies leave through the channel's connector: an email channel's SMTP relay and a fax gateway.

The relay is a real SMTP server on loopback (STARTTLS with a certificate made in the run, login
required); the customer's mail comes in through the email connector's inbound path. The delivery
worker runs inside the container, on the test's manual clock, so retries come due when the test
moves time forward.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email
import email.policy
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from switchboard.adapters.email.channels import EmailChannels
from switchboard.adapters.email.inbound import EmailInbound, Outcome
from switchboard.adapters.email.smtp_server import SmtpServer, SmtpServerSettings, password_authenticator
from switchboard.adapters.email.threads import reply_address, reply_secret
from switchboard.adapters.files import LocalFileStore
from switchboard.bootstrap import Container
from tests.adapters.email import mails
from tests.adapters.email.dovecot import PASSWORD as IMAP_PASSWORD
from tests.adapters.email.dovecot import Dovecot
from tests.adapters.email.test_smtp_server import Inbox
from tests.adapters.email.tls import Certificate, self_signed
from tests.support.clock import ManualClock
from tests.support.desk import Desk

USERS = {"desk": "relay-password-8841"}
CUSTOMER_MAIL = (
    b"From: Ann Petrova <ann@customer.example>\r\n"
    b"To: support@desk.example\r\n"
    b"Subject: Order 7 is late\r\n"
    b"Message-ID: <ann-1@customer.example>\r\n"
    b"Date: Mon, 04 Mar 2024 10:15:00 +0300\r\n"
    b"\r\n"
    b"Where is my order 7?\r\n"
)


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return self_signed(tmp_path)


@pytest.fixture
def relay_inbox() -> Inbox:
    return Inbox()


@pytest.fixture
async def relay(relay_inbox: Inbox, certificate: Certificate) -> AsyncIterator[SmtpServer]:
    """The company's submission server: STARTTLS and login required; accepts mail for customer.example."""
    settings = SmtpServerSettings(
        port=0,
        accept_domains=frozenset({"customer.example", "fax.example"}),
        starttls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=password_authenticator(USERS),
        auth_required=True,
    )
    async with SmtpServer(settings, relay_inbox.on_message) as server:
        yield server


def smtp_settings(port: int, certificate: Certificate) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "tls": "starttls",
        "username": "desk",
        "cert_bundle": str(certificate.cert_path),
        "timeout_seconds": 5,
    }


async def email_channel(client: httpx.AsyncClient, desk: Desk, smtp: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body = {
        "kind": "email",
        "name": "Support mailbox",
        "line_id": desk.line_id,
        "settings": {"addresses": ["support@desk.example"], "from_name": "Support", "smtp": smtp},
        "secrets": {"smtp_password": USERS["desk"]},
        **extra,
    }
    created = await client.post("/api/v1/channels", headers=desk.as_("admin"), json=body)
    assert created.status_code == 201, created.text
    return dict(created.json())


@pytest.fixture
def files_dir(tmp_path: Path) -> Path:
    return tmp_path / "files"


@pytest.fixture
def extra_settings(files_dir: Path) -> dict[str, object]:
    return {"files_dir": str(files_dir)}


async def mail_in(container: Container, raw: bytes, sender: str, recipient: str) -> Outcome:
    """A mail through the product's inbound path (what its SMTP server and IMAP poller call)."""
    channels = EmailChannels(container.services.default_region, reply_secret(container.settings.secret_key))
    async with container.services.uow(read_only=True) as uow:
        channels.load(await uow.channels.list())
    inbound = EmailInbound(
        container.services,
        LocalFileStore(container.settings.files_dir),
        channels.channel_for,
        fax_gateway_for=channels.fax_gateway_for,
        tokens_for=channels.tokens_for,
    )
    return await inbound.receive(raw, sender, [recipient])


async def customer_writes(container: Container, tmp_path: Path, raw: bytes = CUSTOMER_MAIL) -> int:
    outcome = await mail_in(container, raw, "ann@customer.example", "support@desk.example")
    assert outcome.kind == "message", outcome
    assert outcome.conversation_id is not None
    return outcome.conversation_id


async def operator_replies(client: httpx.AsyncClient, desk: Desk, conversation_id: int, **body: Any) -> dict[str, Any]:
    assigned = await client.post(
        f"/api/v1/conversations/{conversation_id}/assign",
        headers=desk.as_("supervisor"),
        json={"operator_id": desk.operator_id},
    )
    assert assigned.status_code == 200, assigned.text
    sent = await client.post(
        f"/api/v1/conversations/{conversation_id}/replies", headers=desk.as_("operator"), json=body
    )
    assert sent.status_code == 201, sent.text
    return dict(sent.json())


async def message_state_list(client: httpx.AsyncClient, desk: Desk, conversation_id: int) -> list[dict[str, Any]]:
    listed = await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=desk.as_("supervisor"))
    assert listed.status_code == 200, listed.text
    return list(reversed(listed.json()))


async def message_state(client: httpx.AsyncClient, desk: Desk, conversation_id: int, message_id: int) -> dict[str, Any]:
    listed = await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=desk.as_("supervisor"))
    assert listed.status_code == 200, listed.text
    return next(m for m in listed.json() if m["id"] == message_id)


async def until(predicate: Any, seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def status_is(client: httpx.AsyncClient, desk: Desk, conversation_id: int, message_id: int, status: str) -> None:
    async def reached() -> bool:
        return (await message_state(client, desk, conversation_id, message_id))["delivery_status"] == status

    await until(reached)


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


async def test_a_reply_reaches_the_customer_threaded_through_the_relay(
    app_client: httpx.AsyncClient,
    desk: Desk,
    container: Container,
    relay: SmtpServer,
    relay_inbox: Inbox,
    certificate: Certificate,
    tmp_path: Path,
) -> None:
    # given an email channel whose relay needs STARTTLS and a login, and a customer's mail
    await email_channel(app_client, desk, smtp_settings(relay.port, certificate))
    conversation_id = await customer_writes(container, tmp_path)

    # when the operator replies
    reply = await operator_replies(app_client, desk, conversation_id, text="It ships today.")
    assert reply["delivery_status"] == "queued"

    # then the relay gets one mail, threaded under the customer's, and the reply is marked sent with its id
    await status_is(app_client, desk, conversation_id, reply["id"], "sent")
    assert len(relay_inbox.received) == 1
    raw, _, recipients = relay_inbox.received[0]
    mail = parsed(raw)
    assert recipients == ["ann@customer.example"]
    assert mail["To"] == "ann@customer.example"
    assert mail["From"] == "Support <support@desk.example>"
    assert mail["In-Reply-To"] == "<ann-1@customer.example>"
    assert mail["References"] == "<ann-1@customer.example>"
    secret = reply_secret(container.settings.secret_key)  # replies that lose the headers still find the thread
    signature = hmac.new(secret, f"message-id:{reply['id']}".encode(), hashlib.sha256).hexdigest()[:10]
    assert mail["Message-ID"] == f"<sb.{reply['id']}.{signature}@desk.example>"  # not guessable
    assert mail["Reply-To"] == reply_address("support@desk.example", conversation_id, secret)
    assert mail.get_content().strip() == "It ships today."
    state = await message_state(app_client, desk, conversation_id, reply["id"])
    assert state["error"] is None
    channel = (await app_client.get("/api/v1/channels", headers=desk.as_("admin"))).json()[-1]
    assert channel["health"]["failing"] is False
    assert channel["health"]["last_success_at"] is not None
    assert channel["waiting"] == 0


async def test_answers_to_our_reply_thread_back_by_its_message_id_and_by_its_reply_to(
    app_client: httpx.AsyncClient,
    desk: Desk,
    container: Container,
    relay: SmtpServer,
    relay_inbox: Inbox,
    certificate: Certificate,
    tmp_path: Path,
) -> None:
    # given the operator answered Ann's mail and the relay took the reply
    await email_channel(app_client, desk, smtp_settings(relay.port, certificate))
    conversation_id = await customer_writes(container, tmp_path)
    reply = await operator_replies(app_client, desk, conversation_id, text="It ships today.")
    await status_is(app_client, desk, conversation_id, reply["id"], "sent")
    sent = parsed(relay_inbox.received[0][0])
    # when her colleague answers it from his own address, and Ann answers from home with a client that drops
    # the threading headers (neither address is the contact's: only the thread can place these mails)
    colleague = (
        f"From: Boris <boris@customer.example>\r\nTo: support@desk.example\r\nSubject: Re: Order 7\r\n"
        f"Message-ID: <boris-1@customer.example>\r\nIn-Reply-To: {sent['Message-ID']}\r\n\r\nAny news?\r\n"
    ).encode()
    bare = (
        f"From: ann@home.example\r\nTo: {sent['Reply-To']}\r\nSubject: thanks\r\n"
        f"Message-ID: <ann-2@customer.example>\r\n\r\nThanks!\r\n"
    ).encode()
    by_id = await mail_in(container, colleague, "boris@customer.example", "support@desk.example")
    by_token = await mail_in(container, bare, "ann@home.example", str(sent["Reply-To"]))
    # then both land in Ann's conversation
    assert (by_id.kind, by_id.conversation_id) == ("message", conversation_id)
    assert (by_token.kind, by_token.conversation_id) == ("message", conversation_id)


async def test_a_channel_can_switch_the_reply_token_off(
    app_client: httpx.AsyncClient,
    desk: Desk,
    container: Container,
    relay: SmtpServer,
    relay_inbox: Inbox,
    certificate: Certificate,
    tmp_path: Path,
) -> None:
    # given a channel whose settings say reply_token: false
    smtp = smtp_settings(relay.port, certificate)
    await email_channel(app_client, desk, smtp)
    switched = await app_client.patch(
        f"/api/v1/channels/{(await app_client.get('/api/v1/channels', headers=desk.as_('admin'))).json()[-1]['id']}",
        headers=desk.as_("admin"),
        json={"settings": {"addresses": ["support@desk.example"], "smtp": smtp, "reply_token": False}},
    )
    assert switched.status_code == 200, switched.text
    conversation_id = await customer_writes(container, tmp_path)
    # when the operator replies, then the mail goes threaded but without a Reply-To
    reply = await operator_replies(app_client, desk, conversation_id, text="Done.")
    await status_is(app_client, desk, conversation_id, reply["id"], "sent")
    mail = parsed(relay_inbox.received[0][0])
    assert mail["In-Reply-To"] == "<ann-1@customer.example>"
    assert mail["Reply-To"] is None


async def test_a_relay_outage_delays_the_reply_and_it_goes_when_the_relay_is_back(
    app_client: httpx.AsyncClient,
    desk: Desk,
    container: Container,
    relay_inbox: Inbox,
    certificate: Certificate,
    clock: ManualClock,
    tmp_path: Path,
) -> None:
    # given an email channel whose relay is down (nothing listens on its port yet)
    settings = SmtpServerSettings(
        port=0,
        accept_domains=frozenset({"customer.example"}),
        starttls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=password_authenticator(USERS),
        auth_required=True,
    )
    probe = SmtpServer(settings, relay_inbox.on_message)
    await probe.start()
    port = probe.port
    await probe.stop()
    await email_channel(app_client, desk, smtp_settings(port, certificate))
    conversation_id = await customer_writes(container, tmp_path)

    # when the operator replies during the outage
    reply = await operator_replies(app_client, desk, conversation_id, text="On its way.")

    # then the reply waits with the reason, and the channel shows the failure
    async def retrying() -> bool:
        state = await message_state(app_client, desk, conversation_id, reply["id"])
        return (state["error"] or "").startswith("attempt 1 failed, retrying: SMTP")

    await until(retrying)
    state = await message_state(app_client, desk, conversation_id, reply["id"])
    assert state["delivery_status"] == "queued"
    channel = (await app_client.get("/api/v1/channels", headers=desk.as_("admin"))).json()[-1]
    assert channel["health"]["failing"] is True
    assert channel["health"]["last_error"].startswith("SMTP")
    assert channel["waiting"] == 1

    # when the relay comes back on the same port and the retry comes due
    back = SmtpServer(dataclasses.replace(settings, port=port), relay_inbox.on_message)
    await back.start()
    try:
        clock.advance(minutes=1)
        container.delivery.wake()
        # then it is delivered once, and the channel is healthy again
        await status_is(app_client, desk, conversation_id, reply["id"], "sent")
    finally:
        await back.stop()
    assert len(relay_inbox.received) == 1
    channel = (await app_client.get("/api/v1/channels", headers=desk.as_("admin"))).json()[-1]
    assert channel["health"]["failing"] is False
    assert channel["waiting"] == 0


async def test_a_refused_recipient_fails_the_reply_with_the_reason(
    app_client: httpx.AsyncClient,
    desk: Desk,
    container: Container,
    relay: SmtpServer,
    relay_inbox: Inbox,
    certificate: Certificate,
    tmp_path: Path,
) -> None:
    # given a customer whose domain the relay refuses (550)
    await email_channel(app_client, desk, smtp_settings(relay.port, certificate))
    conversation_id = await customer_writes(
        container, tmp_path, CUSTOMER_MAIL.replace(b"ann@customer.example", b"bob@nowhere.example")
    )

    # when the operator replies
    reply = await operator_replies(app_client, desk, conversation_id, text="Hello Bob")

    # then the reply is failed at once (no retry can help) with the relay's answer, and nothing was sent
    await status_is(app_client, desk, conversation_id, reply["id"], "failed")
    state = await message_state(app_client, desk, conversation_id, reply["id"])
    assert state["error"].startswith("SMTP: all recipients refused: bob@nowhere.example 550")
    assert relay_inbox.received == []


async def test_a_wrong_relay_password_fails_without_retrying(
    app_client: httpx.AsyncClient,
    desk: Desk,
    container: Container,
    relay: SmtpServer,
    certificate: Certificate,
    tmp_path: Path,
) -> None:
    # given a channel whose stored password the relay rejects
    await email_channel(
        app_client, desk, smtp_settings(relay.port, certificate), secrets={"smtp_password": "wrong-password-1"}
    )
    conversation_id = await customer_writes(container, tmp_path)

    # when the operator replies, then the reply fails with the relay's 535
    reply = await operator_replies(app_client, desk, conversation_id, text="Hi")
    await status_is(app_client, desk, conversation_id, reply["id"], "failed")
    state = await message_state(app_client, desk, conversation_id, reply["id"])
    assert "535" in state["error"]


async def test_secrets_are_sealed_at_rest_shown_by_name_and_never_logged(
    app_client: httpx.AsyncClient,
    desk: Desk,
    container: Container,
    relay: SmtpServer,
    certificate: Certificate,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # given a channel created with a password
    created = await email_channel(app_client, desk, smtp_settings(relay.port, certificate))

    # then the API shows the secret's name only
    assert created["secrets"] == ["smtp_password"]
    shown = await app_client.get(f"/api/v1/channels/{created['id']}", headers=desk.as_("operator"))
    assert shown.json()["secrets"] == ["smtp_password"]
    assert USERS["desk"] not in shown.text

    # and the stored row holds no plaintext
    async with container.database.engine.connect() as connection:
        query = text("SELECT secrets FROM channels WHERE id = :id")
        row = (await connection.execute(query, {"id": created["id"]})).one()
        audit = (await connection.execute(text("SELECT detail FROM audit_log"))).all()
    assert row.secrets and USERS["desk"] not in row.secrets
    assert all(USERS["desk"] not in str(a.detail) for a in audit)

    # when the admin changes the password and removes nothing else
    changed = await app_client.patch(
        f"/api/v1/channels/{created['id']}",
        headers=desk.as_("admin"),
        json={"secrets": {"smtp_password": "another-password-9", "webhook_token": "tok-123456"}},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["secrets"] == ["smtp_password", "webhook_token"]
    removed = await app_client.patch(
        f"/api/v1/channels/{created['id']}", headers=desk.as_("admin"), json={"secrets": {"webhook_token": None}}
    )
    assert removed.json()["secrets"] == ["smtp_password"]
    assert all(
        secret not in record.getMessage()
        for record in caplog.records
        for secret in (USERS["desk"], "another-password-9", "tok-123456")
    )


async def test_channel_settings_a_connector_cannot_use_are_refused_with_the_field(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given SMTP settings with a login but no password, then a bad port, then a non-identifier secret name
    cases = [
        ({"smtp": {"host": "relay.example", "username": "desk"}}, {}, "secrets.smtp_password"),
        ({"smtp": {"host": "relay.example", "port": 70000}}, {}, "settings.smtp.port"),
        ({"addresses": ["a@desk.example"]}, {"bad name": "x"}, "secrets.bad name"),
    ]
    for settings, secrets, field in cases:
        answer = await app_client.post(
            "/api/v1/channels",
            headers=desk.as_("admin"),
            json={"kind": "email", "name": "Box", "line_id": desk.line_id, "settings": settings, "secrets": secrets},
        )
        # then a 422 problem names the field, and no channel was written
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == field
    listed = (await app_client.get("/api/v1/channels", headers=desk.as_("admin"))).json()
    assert [c["kind"] for c in listed] == ["api"]


async def test_a_channel_without_a_relay_refuses_a_reply_before_storing_it(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, tmp_path: Path
) -> None:
    # given an inbound-only email channel (no smtp settings)
    created = await app_client.post(
        "/api/v1/channels",
        headers=desk.as_("admin"),
        json={
            "kind": "email",
            "name": "Box",
            "line_id": desk.line_id,
            "settings": {"addresses": ["support@desk.example"]},
        },
    )
    assert created.status_code == 201, created.text
    conversation_id = await customer_writes(container, tmp_path)
    await app_client.post(
        f"/api/v1/conversations/{conversation_id}/assign",
        headers=desk.as_("supervisor"),
        json={"operator_id": desk.operator_id},
    )

    # when the operator replies, then the reply is refused and nothing is stored
    answer = await app_client.post(
        f"/api/v1/conversations/{conversation_id}/replies", headers=desk.as_("operator"), json={"text": "Hi"}
    )
    assert answer.status_code == 422, answer.text
    assert "no SMTP relay" in answer.json()["detail"]
    listed = await app_client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=desk.as_("operator"))
    assert [m["direction"] for m in listed.json()] == ["in"]


async def test_a_fax_in_and_a_fax_reply_out_through_the_gateway(
    app_client: httpx.AsyncClient,
    desk: Desk,
    container: Container,
    relay: SmtpServer,
    relay_inbox: Inbox,
    certificate: Certificate,
    files_dir: Path,
) -> None:
    # given a fax channel through the gateway fax.example
    created = await app_client.post(
        "/api/v1/channels",
        headers=desk.as_("admin"),
        json={
            "kind": "fax",
            "name": "Fax",
            "line_id": desk.line_id,
            "settings": {
                "addresses": ["fax@desk.example"],
                "smtp": smtp_settings(relay.port, certificate),
                "gateway": {"domain": "fax.example"},
            },
            "secrets": {"smtp_password": USERS["desk"]},
        },
    )
    assert created.status_code == 201, created.text

    # when the gateway mails a received fax (TIFF) from +7 495 123-45-67
    outcome = await mail_in(container, mails.fax_mail(), "FAX=+74951234567@fax.example", "fax@desk.example")

    # then it is a fax conversation of a contact known by that phone, with the document attached
    assert outcome.kind == "fax", outcome
    assert outcome.conversation_id is not None
    conversation = (
        await app_client.get(f"/api/v1/conversations/{outcome.conversation_id}", headers=desk.as_("supervisor"))
    ).json()
    contact = (
        await app_client.get(f"/api/v1/contacts/{conversation['contact_id']}", headers=desk.as_("supervisor"))
    ).json()
    assert {"kind": "phone", "value": "+74951234567"} in contact["identities"]
    first = (await message_state_list(app_client, desk, outcome.conversation_id))[0]
    assert [(a["name"], a["content_type"]) for a in first["attachments"]] == [("fax.tif", "image/tiff")]

    # when the operator replies with a PDF from the file store
    pdf = LocalFileStore(files_dir).put(mails.PDF_BYTES, "application/pdf", "invoice.pdf")
    reply = await operator_replies(
        app_client,
        desk,
        outcome.conversation_id,
        text="Invoice attached",
        attachments=[{"name": "invoice.pdf", "content_type": "application/pdf", "size": pdf.size, "url": pdf.url}],
    )

    # then the gateway's address for the number gets one mail carrying the PDF
    await status_is(app_client, desk, outcome.conversation_id, reply["id"], "sent")
    raw, _, recipients = relay_inbox.received[0]
    assert recipients == ["FAX=+74951234567@fax.example"]
    parts = list(parsed(raw).iter_attachments())
    assert [(p.get_filename(), p.get_content_type()) for p in parts] == [("invoice.pdf", "application/pdf")]
    assert parts[0].get_content() == mails.PDF_BYTES


async def test_a_fax_reply_without_a_pdf_is_refused(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, relay: SmtpServer, certificate: Certificate
) -> None:
    created = await app_client.post(
        "/api/v1/channels",
        headers=desk.as_("admin"),
        json={
            "kind": "fax",
            "name": "Fax",
            "line_id": desk.line_id,
            "settings": {"addresses": ["fax@desk.example"], "smtp": smtp_settings(relay.port, certificate)},
            "secrets": {"smtp_password": USERS["desk"]},
        },
    )
    # a fax channel needs its gateway
    assert created.status_code == 422
    assert created.json()["field"] == "settings.gateway.domain"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    server = Dovecot()
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_a_channel_with_a_mailbox_takes_mail_in_by_imap(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, dovecot: Dovecot
) -> None:
    # given an email channel that polls a real IMAP mailbox (its password sealed as a secret)
    created = await app_client.post(
        "/api/v1/channels",
        headers=desk.as_("admin"),
        json={
            "kind": "email",
            "name": "Mailbox",
            "line_id": desk.line_id,
            "settings": {
                "addresses": ["agent2@desk.example"],
                "imap": {"host": "127.0.0.1", "port": dovecot.port, "tls": "none", "username": "agent2"},
            },
            "secrets": {"imap_password": IMAP_PASSWORD},
        },
    )
    assert created.status_code == 201, created.text

    # when a customer's mail lands in the mailbox and the mail worker picks the channel up
    delivered = b"Return-Path: <ann@customer.example>\r\n" + CUSTOMER_MAIL
    await dovecot.deliver("agent2", delivered.replace(b"<ann-1@", f"<ann-{id(desk)}@".encode()))
    assert container.mail is not None
    await container.mail.refresh()

    # then it becomes a conversation of the contact with that address
    async def arrived() -> bool:
        listed = await app_client.get("/api/v1/conversations", headers=desk.as_("supervisor"))
        return any(c["channel_id"] == created.json()["id"] for c in listed.json())

    await until(arrived, 20.0)
    found = await app_client.get(
        "/api/v1/contacts", params={"email": "ann@customer.example"}, headers=desk.as_("admin")
    )
    assert [i["value"] for i in found.json()[0]["identities"]] == ["ann@customer.example"]
