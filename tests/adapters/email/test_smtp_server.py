"""Inbound SMTP: a real SMTP client (stdlib smtplib) talks to our server on a free port."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from switchboard.adapters.email.smtp_server import SmtpServer, SmtpServerSettings
from tests.adapters.email import mails


@dataclass
class Inbox:
    received: list[tuple[bytes, str, list[str]]] = field(default_factory=list)
    failures_left: int = 0

    async def on_message(self, raw: bytes, envelope_from: str, rcpt_tos: list[str]) -> None:
        if self.failures_left > 0:
            self.failures_left -= 1
            raise RuntimeError("database is down")
        self.received.append((raw, envelope_from, rcpt_tos))


@pytest.fixture
async def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
async def server(inbox: Inbox) -> AsyncIterator[SmtpServer]:
    settings = SmtpServerSettings(
        host="127.0.0.1",
        port=0,
        accept_domains=frozenset({"desk.example"}),
        accept_addresses=frozenset({"fax@partner.example"}),
        max_message_bytes=4096,
    )
    async with SmtpServer(settings, inbox.on_message) as running:
        yield running


def _send(port: int, sender: str, recipients: list[str], raw: bytes, *, size_hint: bool = True) -> dict[str, object]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("client.example")
        if size_hint:
            return dict(client.sendmail(sender, recipients, raw))
        code, text = client.mail(sender)
        assert code == 250, text
        for recipient in recipients:
            client.rcpt(recipient)
        code, text = client.data(raw)
        if code != 250:
            raise smtplib.SMTPDataError(code, text)
        return {}


async def test_a_message_arrives_byte_for_byte(server: SmtpServer, inbox: Inbox) -> None:
    # Given a message with a line that starts with a dot (SMTP dot-stuffing) and 8-bit UTF-8
    raw = mails.plain("Hello").replace(b"\r\n\r\n", b"\r\nX-Note: .\r\n\r\n", 1) + "..dotted\r\nПривет\r\n".encode()
    # When a real SMTP client sends it to two of our addresses, one plus-addressed
    refused = await asyncio.to_thread(
        _send, server.port, "ann@example.com", ["support@desk.example", "support+c1.abc@desk.example"], raw
    )
    # Then the callback got exactly those bytes and the envelope
    assert refused == {}
    assert inbox.received == [(raw, "ann@example.com", ["support@desk.example", "support+c1.abc@desk.example"])]


async def test_configured_address_and_its_plus_variants_are_accepted(server: SmtpServer, inbox: Inbox) -> None:
    raw = mails.plain("fax")
    await asyncio.to_thread(_send, server.port, "gw@fax.example", ["Fax+1@Partner.Example"], raw)
    assert [rcpt for _, _, rcpt in inbox.received] == [["Fax+1@Partner.Example"]]


async def test_unknown_recipient_is_refused_with_550(server: SmtpServer, inbox: Inbox) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
        await asyncio.to_thread(_send, server.port, "ann@example.com", ["someone@elsewhere.example"], mails.plain("x"))
    assert caught.value.recipients == {
        "someone@elsewhere.example": (550, b"5.1.1 <someone@elsewhere.example>: recipient unknown")
    }
    assert inbox.received == []


async def test_a_mix_of_known_and_unknown_recipients_delivers_to_the_known(server: SmtpServer, inbox: Inbox) -> None:
    refused = await asyncio.to_thread(
        _send, server.port, "ann@example.com", ["nobody@other.example", "support@desk.example"], mails.plain("x")
    )
    assert refused == {"nobody@other.example": (550, b"5.1.1 <nobody@other.example>: recipient unknown")}
    assert [rcpt for _, _, rcpt in inbox.received] == [["support@desk.example"]]


async def test_oversize_message_is_refused_with_552(server: SmtpServer, inbox: Inbox) -> None:
    big = mails.plain("x" * 6000)
    # announced with SIZE= at MAIL FROM
    with pytest.raises(smtplib.SMTPSenderRefused) as announced:
        await asyncio.to_thread(_send, server.port, "ann@example.com", ["support@desk.example"], big)
    assert announced.value.smtp_code == 552
    # and not announced: refused after DATA
    with pytest.raises(smtplib.SMTPDataError) as sent:
        await asyncio.to_thread(_send, server.port, "ann@example.com", ["support@desk.example"], big, size_hint=False)
    assert sent.value.smtp_code == 552
    assert inbox.received == []


async def test_callback_failure_answers_451_and_the_retry_is_delivered(server: SmtpServer, inbox: Inbox) -> None:
    # Given storage that fails once
    inbox.failures_left = 1
    raw = mails.plain("keep me")
    # When the message is sent, the sender is told to retry later
    with pytest.raises(smtplib.SMTPDataError) as caught:
        await asyncio.to_thread(_send, server.port, "ann@example.com", ["support@desk.example"], raw)
    assert caught.value.smtp_code == 451
    assert caught.value.smtp_error == b"4.3.0 Temporary failure storing the message, please retry"
    assert inbox.received == []
    # And when it retries, the message is delivered
    await asyncio.to_thread(_send, server.port, "ann@example.com", ["support@desk.example"], raw)
    assert inbox.received == [(raw, "ann@example.com", ["support@desk.example"])]


async def test_bounces_arrive_with_an_empty_envelope_sender(server: SmtpServer, inbox: Inbox) -> None:
    await asyncio.to_thread(_send, server.port, "<>", ["support@desk.example"], mails.dsn())
    assert [(sender, rcpt) for _, sender, rcpt in inbox.received] == [("", ["support@desk.example"])]


def test_a_server_without_accepted_recipients_is_a_configuration_error() -> None:
    async def ignore(raw: bytes, sender: str, rcpt: list[str]) -> None:
        return None

    with pytest.raises(ValueError, match="at least one accepted domain or address"):
        SmtpServer(SmtpServerSettings(port=0), ignore)
