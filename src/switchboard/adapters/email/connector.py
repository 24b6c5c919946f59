"""The email and fax connectors' outbound side: an operator's reply leaves through the channel's SMTP relay.

Inbound mail does not come by webhook: the SMTP server and the IMAP poller hand it to
``EmailInbound``. A reply is threaded (In-Reply-To the customer's last mail, References the
conversation's earlier ids) and gets a Message-ID derived from our message id (and signed, since a
reply to it threads into the conversation), so a repeated attempt after a crash carries the same id
and the recipient's server can tell it is the same mail.
Its Reply-To is the channel's address plus a signed token naming the conversation (unless the
channel sets ``reply_token: false``), for mail clients that drop the threading headers.
A fax reply is one PDF mailed to the gateway's address form for the customer's number (T.37).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import aiosmtplib

from switchboard.adapters.email.compose import (
    DEFAULT_FAX_FORM,
    OutgoingAttachment,
    OutgoingEmail,
    compose,
    compose_fax,
    reply_subject,
)
from switchboard.adapters.email.errors import ComposeError, SendError
from switchboard.adapters.email.model import Address
from switchboard.adapters.email.smtp_client import SmtpClientSettings, SmtpSender, TlsMode
from switchboard.adapters.email.threads import SIGNATURE_LENGTH, channel_tokens
from switchboard.application.errors import InvalidInput
from switchboard.application.ports.connectors import (
    ChannelConfig,
    OutboundMessage,
    Receipt,
    SendFailed,
    WebhookRejected,
    WebhookRequest,
    WebhookResult,
)
from switchboard.application.ports.files import FileStore, StoredFileNotFound
from switchboard.domain.channels import ChannelKind
from switchboard.domain.identity import IdentityKind


def smtp_settings(settings: Mapping[str, Any], secrets: Mapping[str, str]) -> SmtpClientSettings:
    smtp = settings.get("smtp")
    if not isinstance(smtp, dict) or not smtp.get("host"):
        raise InvalidInput("the channel needs settings.smtp.host to send mail", field="settings.smtp.host")
    try:
        tls = TlsMode(smtp.get("tls", "starttls"))
        port = int(smtp.get("port", 465 if tls is TlsMode.TLS else 587))
    except (ValueError, TypeError) as error:
        raise InvalidInput(f"settings.smtp: {error}", field="settings.smtp") from error
    if not 0 < port < 65536:
        raise InvalidInput("settings.smtp.port must be 1 to 65535", field="settings.smtp.port")
    username = smtp.get("username")
    if username and not secrets.get("smtp_password"):
        raise InvalidInput("settings.smtp.username needs the secret smtp_password", field="secrets.smtp_password")
    return SmtpClientSettings(
        host=str(smtp["host"]),
        port=port,
        tls=tls,
        username=str(username) if username else None,
        password=secrets.get("smtp_password"),
        timeout_seconds=float(smtp.get("timeout_seconds", 30.0)),
        validate_certs=bool(smtp.get("validate_certs", True)),
        cert_bundle=smtp.get("cert_bundle"),
    )


def sender_address(settings: Mapping[str, Any]) -> Address:
    addresses = settings.get("addresses") or []
    address = settings.get("from_address") or (addresses[0] if addresses else None)
    if not isinstance(address, str) or "@" not in address:
        raise InvalidInput(
            "the channel needs settings.from_address (or settings.addresses)", field="settings.from_address"
        )
    return Address(str(settings.get("from_name", "")), address)


def message_id_for(message_id: int, sender: Address, secret: bytes | None = None) -> str:
    """The same id for every attempt at one reply. With ``secret`` it carries a signature: intake threads
    a mail that answers it into its conversation, so a guessable id would let anyone post there."""
    domain = sender.address.rpartition("@")[2].lower()
    if secret is None:
        return f"sb.{message_id}@{domain}"
    signature = hmac.new(secret, f"message-id:{message_id}".encode(), hashlib.sha256).hexdigest()[:SIGNATURE_LENGTH]
    return f"sb.{message_id}.{signature}@{domain}"


class _SmtpConnector:
    """What the email and fax connectors share: settings, files, sending, no webhooks."""

    kind: ChannelKind
    secret_names: tuple[str, ...] = ("smtp_password", "imap_password")

    def __init__(self, files: FileStore, reply_secret: bytes | None = None) -> None:
        self._files = files
        self._reply_secret = reply_secret  # signs the Reply-To tokens (``threads.reply_secret``)

    def check_settings(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        """A channel may take mail in before it can send (no ``smtp`` yet); what is given must be right."""
        if "smtp" in settings:
            smtp_settings(settings, secrets)
            sender_address(settings)

    def _check_can_send(self, config: ChannelConfig) -> None:
        if "smtp" not in config.settings:
            raise InvalidInput("this channel has no SMTP relay to send through (settings.smtp)", field="channel")

    async def webhook(self, config: ChannelConfig, request: WebhookRequest) -> WebhookResult:
        raise WebhookRejected("mail arrives by SMTP or IMAP, not by webhook", status=404)

    async def connect(self, config: ChannelConfig, public_url: str) -> str:
        settings = smtp_settings(config.settings, config.secrets)
        client = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            use_tls=settings.tls is TlsMode.TLS,
            start_tls=settings.tls is TlsMode.STARTTLS,
            validate_certs=settings.validate_certs,
            timeout=settings.timeout_seconds,
        )
        try:
            await client.connect()
            if settings.username:
                await client.login(settings.username, settings.password or "")
            await client.quit()
        except Exception as error:
            raise SendFailed(f"SMTP {settings.host}:{settings.port}: {error}", retryable=True) from error
        return f"SMTP relay {settings.host}:{settings.port} accepted the connection" + (
            " and the login" if settings.username else ""
        )

    def _file(self, sha256: str | None, name: str) -> bytes:
        if sha256 is None:
            raise SendFailed(f"the attachment {name!r} is not in our file store", retryable=False)
        try:
            with self._files.open(sha256) as handle:
                return handle.read()
        except StoredFileNotFound as error:
            raise SendFailed(f"the attachment {name!r} is missing from the file store", retryable=False) from error

    async def _send(self, config: ChannelConfig, email: EmailMessage) -> Receipt:
        sender = SmtpSender(smtp_settings(config.settings, config.secrets))
        try:
            receipt = await sender.send(email)
        except SendError as error:
            raise SendFailed(f"SMTP: {error.detail}", retryable=error.temporary) from error
        if not receipt.accepted_recipients:
            raise SendFailed(f"SMTP: every recipient refused {receipt.refused_recipients}", retryable=False)
        assert receipt.message_id is not None
        return Receipt(receipt.message_id)


def _recipient(message: OutboundMessage, kind: IdentityKind, what: str) -> str:
    for identity in message.identities:
        if identity.kind is kind:
            return identity.value
    raise SendFailed(f"the contact has no {what} to send to", retryable=False)


class EmailConnector(_SmtpConnector):
    kind = ChannelKind.EMAIL

    def check_reply(self, config: ChannelConfig, message: OutboundMessage, now: datetime) -> None:
        self._check_can_send(config)
        if not any(i.kind is IdentityKind.EMAIL for i in message.identities):
            raise InvalidInput("the customer has no email address to reply to", field="body")

    async def send(self, config: ChannelConfig, message: OutboundMessage) -> Receipt:
        sender = sender_address(config.settings)
        to = _recipient(message, IdentityKind.EMAIL, "email address")
        attachments = tuple(
            OutgoingAttachment(f.attachment.name, f.attachment.content_type, self._file(f.sha256, f.attachment.name))
            for f in message.attachments
        )
        subject = reply_subject(message.subject) if message.subject else str(config.settings.get("subject", "Re:"))
        tokens = channel_tokens(config.settings, self._reply_secret)
        try:
            email = compose(
                OutgoingEmail(
                    sender=sender,
                    to=(Address("", to),),
                    subject=subject,
                    text=message.body,
                    in_reply_to=message.reply_to,
                    references=message.thread[-20:],
                    reply_to=tokens.address(message.conversation_id) if tokens else None,
                    attachments=attachments,
                    message_id=message_id_for(message.message_id, sender, self._reply_secret),
                )
            )
        except ComposeError as error:
            raise SendFailed(str(error), retryable=False) from error
        return await self._send(config, email)


class FaxConnector(_SmtpConnector):
    """Fax out through the Internet-fax gateway: ``settings.gateway.domain`` and ``address_form``."""

    kind = ChannelKind.FAX

    def check_settings(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        super().check_settings(settings, secrets)
        gateway = settings.get("gateway")
        if not isinstance(gateway, dict) or not gateway.get("domain"):
            raise InvalidInput("a fax channel needs settings.gateway.domain", field="settings.gateway.domain")

    def check_reply(self, config: ChannelConfig, message: OutboundMessage, now: datetime) -> None:
        self._check_can_send(config)
        if not any(f.attachment.content_type == "application/pdf" for f in message.attachments):
            raise InvalidInput("a fax reply needs a PDF attachment", field="attachments")
        if not any(i.kind is IdentityKind.PHONE for i in message.identities):
            raise InvalidInput("the customer has no fax number", field="body")

    async def send(self, config: ChannelConfig, message: OutboundMessage) -> Receipt:
        gateway = config.settings.get("gateway") or {}
        sender = sender_address(config.settings)
        pdf = next((f for f in message.attachments if f.attachment.content_type == "application/pdf"), None)
        if pdf is None:
            raise SendFailed("a fax reply needs a PDF attachment", retryable=False)
        try:
            email = compose_fax(
                sender=sender,
                number_e164=_recipient(message, IdentityKind.PHONE, "fax number"),
                gateway_domain=str(gateway.get("domain", "")),
                pdf=self._file(pdf.sha256, pdf.attachment.name),
                form=str(gateway.get("address_form", DEFAULT_FAX_FORM)),
                filename=pdf.attachment.name,
                cover_text=message.body,
                message_id=message_id_for(message.message_id, sender),
            )
        except ComposeError as error:
            raise SendFailed(str(error), retryable=False) from error
        return await self._send(config, email)
