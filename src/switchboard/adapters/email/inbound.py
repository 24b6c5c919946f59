"""Mail that arrives for an email channel becomes a conversation message, through the same intake.

The SMTP server (or the IMAP poller) hands every message here before it answers 250; so a
failure here makes the sender retry, and nothing is lost. What is malformed is kept as a file
and reported instead of being retried forever. Automatic mail (auto-replies, bulk, bounces) never
enters routing: answering it would start a mail loop. Bounces set the delivery status of the
message they are about. A reply carries a thread hint (the ids it answers, a verified reply token)
so intake puts it in the conversation it continues.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from switchboard.adapters.email.errors import MalformedEmail, MalformedFax
from switchboard.adapters.email.fax import FaxGateway, recognise_fax
from switchboard.adapters.email.model import AttachmentLimits, DeliveryAction, ParsedEmail
from switchboard.adapters.email.parse import parse_message
from switchboard.adapters.email.threads import ReplyTokens, thread_hint
from switchboard.application.access import Principal
from switchboard.application.context import Services
from switchboard.application.delivery import DeliveryUpdate, record_delivery
from switchboard.application.errors import ApplicationError
from switchboard.application.intake import InboundMessage, Sender, receive_message
from switchboard.application.ports.files import FileStore
from switchboard.domain.conversation import Attachment, DeliveryStatus
from switchboard.domain.operators import Role

log = logging.getLogger("switchboard.email")
CONNECTOR = Principal(Role.INTEGRATION)
OUTCOMES = {
    DeliveryAction.FAILED: DeliveryStatus.FAILED,
    DeliveryAction.DELIVERED: DeliveryStatus.DELIVERED,
    DeliveryAction.RELAYED: DeliveryStatus.SENT,
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one inbound mail (for logs, metrics and tests)."""

    kind: str  # message | fax | automatic | bounce | unknown_bounce | malformed | refused
    detail: str = ""
    conversation_id: int | None = None


class EmailInbound:
    def __init__(
        self,
        services: Services,
        files: FileStore,
        channel_for: Callable[[list[str]], int | None],
        limits: AttachmentLimits | None = None,
        fax_gateway_for: Callable[[int], FaxGateway | None] = lambda _: None,
        tokens_for: Callable[[int], ReplyTokens | None] = lambda _: None,
    ) -> None:
        self._tokens_for = tokens_for
        self._services = services
        self._files = files
        self._channel_for = channel_for
        self._limits = limits or AttachmentLimits()
        self._fax_gateway_for = fax_gateway_for

    async def on_message(self, raw: bytes, envelope_from: str, rcpt_tos: list[str]) -> None:
        """The SMTP server's callback; raising means 451 (try later)."""
        outcome = await self.receive(raw, envelope_from, rcpt_tos)
        log.info("email.%s %s", outcome.kind, outcome.detail)

    async def receive(self, raw: bytes, envelope_from: str, rcpt_tos: list[str]) -> Outcome:
        channel_id = self._channel_for(rcpt_tos)
        original = self._files.put(raw, "message/rfc822", "original.eml")
        if channel_id is None:
            return Outcome("refused", f"no email channel for {', '.join(rcpt_tos)}; kept as {original.sha256}")
        try:
            parsed = parse_message(raw, limits=self._limits, envelope_from=envelope_from)
        except MalformedEmail as error:
            return Outcome("malformed", f"{error}; kept as {original.sha256}")
        if parsed.delivery_report is not None:
            return await self._bounce(channel_id, parsed)
        gateway = self._fax_gateway_for(channel_id)
        if gateway is not None:
            return await self._fax(channel_id, parsed, gateway, original.url)
        if parsed.is_automatic:
            return Outcome("automatic", f"{parsed.automatic_reason} from {parsed.from_.address}; not routed")
        return await self._message(channel_id, parsed, raw, original.url, rcpt_tos)

    async def _fax(self, channel_id: int, parsed: ParsedEmail, gateway: FaxGateway, original_url: str) -> Outcome:
        """A T.37 fax: the sender's number becomes a phone identity, the document the message's attachment."""
        try:
            fax = recognise_fax(parsed, gateway)
        except MalformedFax as error:
            return Outcome("malformed", f"{error}; kept as {original_url}")
        if fax is None:
            return Outcome("refused", f"mail from {parsed.from_.address} is not from the fax gateway")
        documents = []
        for document in fax.documents:
            stored = self._files.put(document.data, document.content_type, document.name)
            documents.append(Attachment(document.name, document.content_type, document.size, stored.url))
        message = InboundMessage(
            channel_id,
            Sender(phone=fax.fax_number),
            f"Fax from {fax.fax_number}" + (f": {parsed.subject}" if parsed.subject else ""),
            parsed.message_id or f"fax:{original_url.rsplit('/', 1)[-1]}",
            tuple(documents),
        )
        result = await receive_message(self._services, CONNECTOR, message)
        return Outcome("fax", f"conversation {result.conversation_id}", result.conversation_id)

    async def _bounce(self, channel_id: int, parsed: ParsedEmail) -> Outcome:
        report = parsed.delivery_report
        assert report is not None
        status = OUTCOMES.get(report.action)
        if report.original_message_id is None or status is None:
            return Outcome("unknown_bounce", f"{report.action.value}, no original message id")
        errors = "; ".join(f"{r.recipient}: {r.status} {r.diagnostic}".strip() for r in report.recipients)
        found = await record_delivery(
            self._services, DeliveryUpdate(channel_id, report.original_message_id, status, errors or None)
        )
        if found is None:
            return Outcome("unknown_bounce", f"about {report.original_message_id}, which we did not send")
        return Outcome("bounce", f"message {found} {status.value}")

    async def _message(
        self, channel_id: int, parsed: ParsedEmail, raw: bytes, original_url: str, rcpt_tos: list[str]
    ) -> Outcome:
        attachments = [Attachment("original.eml", "message/rfc822", len(raw), original_url)]
        for part in parsed.attachments:
            stored = self._files.put(part.data, part.content_type, part.name)
            attachments.append(Attachment(part.name, part.content_type, part.size, stored.url))
        notes = [f"attachment {r.name!r} refused: {r.reason.value}" for r in parsed.rejected_attachments]
        body = parsed.visible_text.strip()
        if parsed.subject and not body.startswith(parsed.subject):
            body = f"{parsed.subject}\n\n{body}".strip()
        if notes:
            body = f"{body}\n\n[{'; '.join(notes)}]"
        external_id = parsed.message_id or "sha256:" + hashlib.sha256(raw).hexdigest()
        message = InboundMessage(
            channel_id,
            Sender(parsed.from_.name or None, email=parsed.from_.address),
            body,
            external_id,
            tuple(attachments),
            thread=thread_hint(parsed, self._tokens_for(channel_id), rcpt_tos),
        )
        try:
            result = await receive_message(self._services, CONNECTOR, message)
        except ApplicationError as error:  # bad sender address and the like: kept, reported, not retried
            return Outcome("malformed", f"{error.detail}; kept as {original_url}")
        return Outcome("message", f"conversation {result.conversation_id}", result.conversation_id)
