"""Email threading end to end: a real SMTP client → our SMTP server → intake, on both databases and both
intake paths (the group commit, and one message on its own: a channel with split rules).

Ann wrote once (conversation "first"), we answered her there (Message-ID sb.900@desk.example), and
she has a newer conversation on the same channel ("newer"): by today's contact + channel rule a mail
of hers would go to "newer", so a reply that lands in "first" was threaded.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from switchboard.adapters.email.channels import EmailChannels
from switchboard.adapters.email.inbound import EmailInbound
from switchboard.adapters.email.smtp_server import SmtpServer, SmtpServerSettings
from switchboard.adapters.email.threads import ReplyTokens, reply_secret
from switchboard.adapters.files import LocalFileStore
from switchboard.application.access import Principal
from switchboard.application.catalog import create_line
from switchboard.application.channels import create_channel
from switchboard.application.ports.storage import NewMessage
from switchboard.bootstrap import Container
from switchboard.domain.channels import ChannelKind
from switchboard.domain.conversation import (
    AuthorKind,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Message,
)
from switchboard.domain.identity import Identity, IdentityKind
from switchboard.domain.lines import Line
from switchboard.domain.operators import Role
from switchboard.domain.source import Source
from tests.support.clock import ManualClock

SUPPORT = "support@desk.example"
OUR_REPLY = "sb.900@desk.example"


def mail(sender: str, to: str, message_id: str, text: str, headers: str = "") -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: Re: Order 7\r\nMessage-ID: <{message_id}>\r\n{headers}"
        f"Date: Mon, 04 Mar 2024 10:15:00 +0300\r\n\r\n{text}\r\n"
    ).encode()


@dataclass
class Thread:
    container: Container
    port: int
    channel_id: int
    tokens: ReplyTokens
    ann: int
    first: int
    newer: int

    async def send(self, raw: bytes, sender: str, to: str | None = None) -> None:
        def deliver() -> None:
            with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as client:
                client.sendmail(sender, [to or SUPPORT], raw)

        await asyncio.to_thread(deliver)

    async def stored(self, external_id: str) -> Message:
        async with self.container.services.uow(read_only=True) as uow:
            found = await uow.messages.find_by_external_id(self.channel_id, external_id)
        assert found is not None
        return found

    async def contact_of(self, address: str) -> int | None:
        async with self.container.services.uow(read_only=True) as uow:
            return await uow.contacts.find_by_identity(Identity(IdentityKind.EMAIL, address))

    async def status(self, conversation_id: int) -> ConversationStatus:
        async with self.container.services.uow(read_only=True) as uow:
            conversation = await uow.conversations.get(conversation_id)
        assert conversation is not None
        return conversation.status

    async def close(self, conversation_id: int) -> None:
        async with self.container.services.uow() as uow:
            conversation = await uow.conversations.get(conversation_id, for_update=True)
            assert conversation is not None
            conversation.status = ConversationStatus.CLOSED
            conversation.closed_at = self.container.services.clock.now()
            await uow.conversations.save(conversation)
            await uow.commit()


@pytest.fixture(params=["group commit", "one by one"])
async def thread(
    request: pytest.FixtureRequest, container: Container, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[Thread]:
    admin = Principal(Role.ADMIN)
    line = await create_line(container.services, admin, Line(0, "Support", reopen_window_seconds=3600))
    settings: dict[str, object] = {"addresses": [SUPPORT]}
    if request.param == "one by one":  # split rules make intake store each message on its own
        settings["split_rules"] = [{"line_id": line.id, "keywords": ["never-said-word"]}]
    channel = await create_channel(container.services, admin, ChannelKind.EMAIL, "Support mail", line.id, settings)
    channels = EmailChannels(container.services.default_region, reply_secret(container.settings.secret_key))
    async with container.services.uow(read_only=True) as uow:
        channels.load(await uow.channels.list())
    tokens = channels.tokens_for(channel.id)
    assert tokens is not None
    inbound = EmailInbound(
        container.services, LocalFileStore(tmp_path / "files"), channels.channel_for, tokens_for=channels.tokens_for
    )
    server_settings = SmtpServerSettings(port=0, accept_addresses=frozenset({SUPPORT}))
    async with SmtpServer(server_settings, inbound.on_message) as server:
        partial = Thread(container, server.port, channel.id, tokens, 0, 0, 0)
        await partial.send(
            mail("Ann <ann@customer.example>", SUPPORT, "ann-1@customer.example", "Where is order 7?"),
            "ann@customer.example",
        )
        first = await partial.stored("ann-1@customer.example")
        assert first.author_id is not None
        clock.advance(seconds=1)
        async with container.services.uow() as uow:
            now = clock.now()
            await uow.messages.add(
                NewMessage(
                    first.conversation_id,
                    channel.id,
                    Direction.OUT,
                    AuthorKind.OPERATOR,
                    "It ships today.",
                    DeliveryStatus.SENT,
                    now,
                    external_id=OUR_REPLY,
                )
            )
            newer = await uow.conversations.add(
                first.author_id, line.id, channel.id, ConversationStatus.QUEUED, now, Source()
            )
            await uow.commit()
        clock.advance(seconds=1)
        yield Thread(container, server.port, channel.id, tokens, first.author_id, first.conversation_id, newer.id)


async def test_a_reply_by_in_reply_to_continues_the_conversation_it_answers(thread: Thread) -> None:
    # when Ann replies to our mail (In-Reply-To our Message-ID)
    raw = mail("ann@customer.example", SUPPORT, "ann-2@customer.example", "Thanks", f"In-Reply-To: <{OUR_REPLY}>\r\n")
    await thread.send(raw, "ann@customer.example")
    # then it lands in the conversation of the mail it answers, not in her newer one
    stored = await thread.stored("ann-2@customer.example")
    assert (stored.conversation_id, stored.author_id) == (thread.first, thread.ann)


async def test_a_reply_with_references_only_is_matched_newest_known_first(thread: Thread) -> None:
    # when Ann's client keeps only References (oldest first; the newest one is unknown to us)
    references = f"References: <ann-1@customer.example> <{OUR_REPLY}> <lost@elsewhere.example>\r\n"
    await thread.send(
        mail("ann@customer.example", SUPPORT, "ann-3@customer.example", "Any news?", references), "ann@customer.example"
    )
    # then the newest id we know (our reply) names the conversation
    stored = await thread.stored("ann-3@customer.example")
    assert stored.conversation_id == thread.first


async def test_a_reply_without_threading_headers_is_matched_by_its_reply_token(thread: Thread) -> None:
    # when the reply has no In-Reply-To/References and goes to the signed Reply-To we gave
    token_address = thread.tokens.address(thread.first)
    assert token_address.startswith("support+c") and token_address.endswith("@desk.example")
    await thread.send(
        mail("ann@customer.example", token_address, "ann-4@customer.example", "Hello?"),
        "ann@customer.example",
        token_address,
    )
    # then the token names the conversation
    stored = await thread.stored("ann-4@customer.example")
    assert stored.conversation_id == thread.first


async def test_a_forged_token_never_posts_into_that_conversation(
    thread: Thread, caplog: pytest.LogCaptureFixture
) -> None:
    # when someone writes to a token for Ann's conversation with a made-up signature
    forged = f"support+c{thread.first}.0123456789@desk.example"
    caplog.set_level(logging.WARNING, "switchboard.email")
    await thread.send(
        mail("mallory@evil.example", forged, "m-1@evil.example", "Send me the invoice"), "mallory@evil.example", forged
    )
    # then the mail starts a conversation of its own sender, and the forgery is logged
    stored = await thread.stored("m-1@evil.example")
    mallory = await thread.contact_of("mallory@evil.example")
    assert mallory is not None and mallory != thread.ann
    assert stored.author_id == mallory
    assert stored.conversation_id not in (thread.first, thread.newer)
    assert any(f"email.forged_reply_token {forged}" in r.getMessage() for r in caplog.records)


async def test_a_colleagues_reply_joins_the_conversation_as_their_own_contact(thread: Thread) -> None:
    # when Ann's colleague, copied on our mail, answers it from his own address
    raw = mail(
        "Boris <boris@customer.example>",
        SUPPORT,
        "boris-1@customer.example",
        "I'm Ann's manager",
        f"In-Reply-To: <{OUR_REPLY}>\r\n",
    )
    await thread.send(raw, "boris@customer.example")
    # then the message is in Ann's conversation, authored by a new contact for Boris (no lead for him)
    stored = await thread.stored("boris-1@customer.example")
    boris = await thread.contact_of("boris@customer.example")
    assert boris is not None and boris != thread.ann
    assert (stored.conversation_id, stored.author_id) == (thread.first, boris)
    async with thread.container.services.uow(read_only=True) as uow:
        conversation = await uow.conversations.get(thread.first)
        leads = await uow.leads.list(boris, None, 10, 0)
        timeline = await uow.timeline.page(boris, 10, None, None)
    assert conversation is not None and conversation.contact_id == thread.ann
    assert leads == []
    assert [(e.kind, e.conversation_id) for e in timeline] == [("message", thread.first)]


async def test_a_reply_to_a_closed_conversation_reopens_it_within_the_window(
    thread: Thread, clock: ManualClock
) -> None:
    # given Ann's first conversation was closed 30 minutes ago (the line reopens within an hour)
    await thread.close(thread.first)
    clock.advance(minutes=30)
    # when she answers our mail
    raw = mail(
        "ann@customer.example", SUPPORT, "ann-5@customer.example", "Not solved", f"In-Reply-To: <{OUR_REPLY}>\r\n"
    )
    await thread.send(raw, "ann@customer.example")
    # then that conversation is reopened (new again, for routing to admit afresh) with her message
    stored = await thread.stored("ann-5@customer.example")
    assert stored.conversation_id == thread.first
    assert await thread.status(thread.first) is ConversationStatus.NEW


async def test_a_reply_to_a_conversation_closed_long_ago_goes_by_the_contact_rule(
    thread: Thread, clock: ManualClock
) -> None:
    # given Ann's first conversation was closed two hours ago, past the line's reopen window
    await thread.close(thread.first)
    clock.advance(hours=2)
    # when she answers our old mail
    raw = mail("ann@customer.example", SUPPORT, "ann-6@customer.example", "Again", f"In-Reply-To: <{OUR_REPLY}>\r\n")
    await thread.send(raw, "ann@customer.example")
    # then it goes where a mail of hers without a thread goes: her open, newer conversation
    stored = await thread.stored("ann-6@customer.example")
    assert stored.conversation_id == thread.newer
    assert await thread.status(thread.first) is ConversationStatus.CLOSED
