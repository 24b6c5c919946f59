"""Email end to end: a real SMTP client → our SMTP server → the intake, on both databases."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from switchboard.adapters.email.inbound import EmailInbound
from switchboard.adapters.email.smtp_server import SmtpServer, SmtpServerSettings
from switchboard.adapters.files import LocalFileStore
from switchboard.adapters.storage import tables as t
from switchboard.application.access import Principal
from switchboard.application.catalog import create_line
from switchboard.application.channels import create_channel
from switchboard.application.ports.storage import NewMessage
from switchboard.bootstrap import Container
from switchboard.domain.channels import ChannelKind
from switchboard.domain.contacts import ContactTier
from switchboard.domain.conversation import AuthorKind, ConversationStatus, DeliveryStatus, Direction
from switchboard.domain.identity import Identity, IdentityKind
from switchboard.domain.lines import Line
from switchboard.domain.operators import Role
from switchboard.domain.source import Source
from tests.adapters.email import mails

SUPPORT = "support@desk.example"


class Desk:
    def __init__(self, container: Container, channel_id: int, port: int) -> None:
        self.container, self.channel_id, self.port = container, channel_id, port

    async def send(self, raw: bytes, *, sender: str = "ann@example.com", to: str = SUPPORT) -> None:
        def deliver() -> None:
            with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as client:
                client.sendmail(sender, [to], raw)

        await asyncio.to_thread(deliver)

    async def count(self, table: t.Table) -> int:
        async with self.container.database.engine.connect() as connection:
            return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


@pytest.fixture
async def desk(container: Container, tmp_path: Path) -> AsyncIterator[Desk]:
    admin = Principal(Role.ADMIN)
    line = await create_line(container.services, admin, Line(0, "Support"))
    channel = await create_channel(
        container.services, admin, ChannelKind.EMAIL, "Support mail", line.id, {"addresses": [SUPPORT]}
    )
    inbound = EmailInbound(
        container.services,
        LocalFileStore(tmp_path / "files"),
        lambda rcpts: channel.id if any(SUPPORT in r for r in rcpts) else None,
    )
    settings = SmtpServerSettings(port=0, accept_addresses=frozenset({SUPPORT}))
    async with SmtpServer(settings, inbound.on_message) as server:
        yield Desk(container, channel.id, server.port)


async def test_a_customer_mail_becomes_a_conversation_once(desk: Desk) -> None:
    # when a customer writes to the support address, twice the same message (a retrying sender)
    raw = mails.with_attachments([("order.pdf", "application/pdf", b"%PDF-1.4 order")])
    await desk.send(raw)
    await desk.send(raw)
    # then one contact with the email identity, one conversation, one message with the files kept
    async with desk.container.services.uow(read_only=True) as uow:
        contact_id = await uow.contacts.find_by_identity(Identity(IdentityKind.EMAIL, "ann@example.com"))
        assert contact_id is not None
        entries = await uow.timeline.page(contact_id, 10, None, None)
        message_entry = next(e for e in entries if e.kind == "message")
        messages = await uow.messages.list(message_entry.conversation_id or 0, 10, None)
    assert [(e.kind, e.channel_kind) for e in entries] == [
        ("lead", "email"),
        ("message", "email"),
        ("conversation_opened", "email"),
    ]
    assert len(messages) == 1
    assert [(a.name, a.content_type) for a in messages[0].attachments] == [
        ("original.eml", "message/rfc822"),
        ("order.pdf", "application/pdf"),
    ]
    assert all(a.url and a.url.startswith("file://") for a in messages[0].attachments)
    assert await desk.count(t.conversations) == 1


async def test_an_auto_reply_is_kept_out_of_routing(desk: Desk) -> None:
    await desk.send(mails.plain("I am on vacation", headers="Auto-Submitted: auto-replied\n"))
    assert (await desk.count(t.contacts), await desk.count(t.conversations), await desk.count(t.messages)) == (0, 0, 0)


async def test_a_bounce_fails_the_message_it_is_about(desk: Desk) -> None:
    # given a reply we sent with Message-ID <out-1@desk.example>
    container = desk.container
    async with container.services.uow() as uow:
        line = (await uow.lines.list())[0]
        now = container.services.clock.now()
        contact = await uow.contacts.add("Nobody", ContactTier.REGULAR, now)
        conversation = await uow.conversations.add(
            contact.id, line.id, desk.channel_id, ConversationStatus.WAITING, now, Source()
        )
        sent = await uow.messages.add(
            NewMessage(
                conversation.id,
                desk.channel_id,
                Direction.OUT,
                AuthorKind.OPERATOR,
                "Hello!",
                DeliveryStatus.SENT,
                container.services.clock.now(),
                external_id="out-1@desk.example",
            )
        )
        await uow.commit()
    # when the receiving server's bounce comes back, then the message is failed with the reason
    await desk.send(mails.dsn(), sender="")
    async with container.services.uow(read_only=True) as uow:
        stored = await uow.messages.find_by_external_id(desk.channel_id, "out-1@desk.example")
    assert stored is not None and stored.id == sent.id
    assert stored.delivery_status is DeliveryStatus.FAILED
    assert stored.error is not None and "5.1.1" in stored.error


async def test_mail_for_an_unknown_address_is_refused_by_the_server(desk: Desk) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        await desk.send(mails.plain("hi"), to="nobody@desk.example")
    assert await desk.count(t.messages) == 0
