"""Outbound SMTP against a local aiosmtpd server started by the test: STARTTLS with a self-signed
certificate made in the run (via `cryptography`), implicit TLS, login, and the sorting of failures."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from switchboard.adapters.email.compose import OutgoingEmail, compose
from switchboard.adapters.email.errors import PermanentSendError, TemporarySendError
from switchboard.adapters.email.model import Address, AttachmentLimits
from switchboard.adapters.email.parse import parse_message
from switchboard.adapters.email.smtp_client import SendReceipt, SmtpClientSettings, SmtpSender, TlsMode
from switchboard.adapters.email.smtp_server import SmtpServer, SmtpServerSettings, password_authenticator
from tests.adapters.email.test_smtp_server import Inbox
from tests.adapters.email.tls import Certificate, self_signed

USERS = {"desk": "s3cret-pass"}


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return self_signed(tmp_path)


@pytest.fixture
async def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
async def relay(inbox: Inbox, certificate: Certificate) -> AsyncIterator[SmtpServer]:
    """A submission server: STARTTLS required, login required."""
    settings = SmtpServerSettings(
        port=0,
        accept_domains=frozenset({"customer.example"}),
        starttls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=password_authenticator(USERS),
        auth_required=True,
    )
    async with SmtpServer(settings, inbox.on_message) as server:
        yield server


def _message(to: str = "ann@customer.example") -> EmailMessage:
    return compose(
        OutgoingEmail(
            sender=Address("Support", "support@desk.example"),
            to=(Address("Ann", to),),
            subject="Re: Order 7",
            text="Ships today.",
            html="<p>Ships today.</p>",
            message_id="out-7@desk.example",
            date=datetime(2024, 3, 4, 12, 0, tzinfo=UTC),
        )
    )


def _sender(port: int, certificate: Certificate | None, **overrides: object) -> SmtpSender:
    settings: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "tls": TlsMode.STARTTLS,
        "username": "desk",
        "password": USERS["desk"],
        "timeout_seconds": 5.0,
        "cert_bundle": str(certificate.cert_path) if certificate else None,
    }
    settings.update(overrides)
    return SmtpSender(SmtpClientSettings(**settings))  # type: ignore[arg-type]


async def test_starttls_and_login_deliver_the_message(
    relay: SmtpServer, inbox: Inbox, certificate: Certificate
) -> None:
    # When we send through a relay that requires STARTTLS and login
    receipt = await _sender(relay.port, certificate).send(_message())
    # Then the relay accepted it for the recipient
    assert receipt == SendReceipt(
        message_id="out-7@desk.example",
        accepted_recipients=("ann@customer.example",),
        refused_recipients=(),
        response=receipt.response,
    )
    assert receipt.response.startswith("2.0.0")
    # And the relay holds the message as we composed it
    [(raw, envelope_from, rcpt_tos)] = inbox.received
    assert (envelope_from, rcpt_tos) == ("support@desk.example", ["ann@customer.example"])
    parsed = parse_message(raw, limits=AttachmentLimits())
    assert (parsed.message_id, parsed.subject, parsed.text) == ("out-7@desk.example", "Re: Order 7", "Ships today.")


async def test_wrong_password_is_permanent_535(relay: SmtpServer, inbox: Inbox, certificate: Certificate) -> None:
    with pytest.raises(PermanentSendError) as caught:
        await _sender(relay.port, certificate, password="wrong").send(_message())
    assert caught.value.code == 535
    assert caught.value.temporary is False
    assert inbox.received == []


async def test_untrusted_certificate_is_permanent(relay: SmtpServer, inbox: Inbox) -> None:
    with pytest.raises(PermanentSendError, match="TLS certificate is not trusted"):
        await _sender(relay.port, None).send(_message())
    assert inbox.received == []


async def test_refused_recipient_is_permanent_550_and_partial_refusal_is_reported(
    relay: SmtpServer, inbox: Inbox, certificate: Certificate
) -> None:
    sender = _sender(relay.port, certificate)
    with pytest.raises(PermanentSendError) as caught:
        await sender.send(_message("ann@nowhere.example"))
    assert (caught.value.code, caught.value.text) == (550, "5.1.1 <ann@nowhere.example>: recipient unknown")

    receipt = await sender.send(_message(), recipients=["ann@customer.example", "bob@nowhere.example"])
    assert receipt.accepted_recipients == ("ann@customer.example",)
    refusal = ("bob@nowhere.example", 550, "5.1.1 <bob@nowhere.example>: recipient unknown")
    assert receipt.refused_recipients == (refusal,)
    assert [rcpt for _, _, rcpt in inbox.received] == [["ann@customer.example"]]


async def test_451_from_the_server_is_temporary(relay: SmtpServer, inbox: Inbox, certificate: Certificate) -> None:
    inbox.failures_left = 1
    with pytest.raises(TemporarySendError) as caught:
        await _sender(relay.port, certificate).send(_message())
    assert caught.value.code == 451
    assert caught.value.temporary is True


async def test_implicit_tls(inbox: Inbox, certificate: Certificate) -> None:
    settings = SmtpServerSettings(
        port=0,
        accept_domains=frozenset({"customer.example"}),
        implicit_tls_context=certificate.server_context(),
        authenticator=password_authenticator(USERS),
        auth_required=True,
    )
    async with SmtpServer(settings, inbox.on_message) as server:
        receipt = await _sender(server.port, certificate, tls=TlsMode.TLS).send(_message())
    assert receipt.accepted_recipients == ("ann@customer.example",)
    assert len(inbox.received) == 1


async def test_plain_smtp_without_login(inbox: Inbox) -> None:
    settings = SmtpServerSettings(port=0, accept_domains=frozenset({"customer.example"}))
    async with SmtpServer(settings, inbox.on_message) as server:
        sender = _sender(server.port, None, tls=TlsMode.NONE, username=None, password=None)
        receipt = await sender.send(_message())
        # asking for STARTTLS from a server that does not offer it is a configuration error
        with pytest.raises(PermanentSendError, match="does not support"):
            await _sender(server.port, None, username=None, password=None).send(_message())
    assert receipt.accepted_recipients == ("ann@customer.example",)


async def test_connection_refused_is_temporary() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TemporarySendError) as caught:
        await _sender(port, None, tls=TlsMode.NONE).send(_message())
    assert caught.value.code is None
