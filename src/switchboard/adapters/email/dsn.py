"""RFC 3464 delivery status notifications: which message, which recipients, what happened."""

from __future__ import annotations

import re
from email import message_from_string, policy
from email.message import Message

from switchboard.adapters.email.errors import MalformedEmail
from switchboard.adapters.email.model import DeliveryAction, DeliveryReport, RecipientStatus

_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")


def message_ids(value: str | None) -> list[str]:
    """Message ids in a header value, without angle brackets, in order."""
    if not value:
        return []
    found = _MESSAGE_ID.findall(value)
    if found:
        return found
    bare = value.strip()
    return [bare] if bare and " " not in bare else []


def _typed_value(value: str | None) -> str:
    """'rfc822; user@example.com' → 'user@example.com'; 'dns; mx.example' → 'mx.example'."""
    if not value:
        return ""
    _, semicolon, rest = str(value).partition(";")
    return (rest if semicolon else value).strip()


def _status_blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    # Some parsers leave the body as text; it is a sequence of header blocks separated by blank lines.
    text = payload if isinstance(payload, str) else ""
    return [message_from_string(block.strip() + "\n", policy=policy.compat32) for block in re.split(r"\n\s*\n", text)]


def _original_message_id(report: Message) -> str | None:
    for part in report.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            inner = part.get_payload()
            inner_message = inner[0] if isinstance(inner, list) and inner else None
            if isinstance(inner_message, Message) and (ids := message_ids(str(inner_message.get("Message-ID", "")))):
                return ids[0]
        elif content_type == "text/rfc822-headers":
            raw = part.get_payload(decode=True)
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(part.get_payload())
            headers = message_from_string(text, policy=policy.compat32)
            if ids := message_ids(headers.get("Message-ID")):
                return ids[0]
    for name in ("In-Reply-To", "References"):
        if ids := message_ids(str(report.get(name, ""))):
            return ids[-1]
    return None


def parse_dsn(msg: Message) -> DeliveryReport | None:
    """The delivery report in a multipart/report; report-type=delivery-status, or None for other mail.

    Raises MalformedEmail when the message says it is a delivery report but carries no usable
    per-recipient status.
    """
    if msg.get_content_type() != "multipart/report":
        return None
    if str(msg.get_param("report-type", "")).lower() != "delivery-status":
        return None
    status_part = next((p for p in msg.walk() if p.get_content_type() == "message/delivery-status"), None)
    if status_part is None:
        raise MalformedEmail("delivery status notification has no message/delivery-status part")
    blocks = _status_blocks(status_part)
    if len(blocks) < 2:
        raise MalformedEmail("delivery status notification has no per-recipient fields")
    per_message, per_recipient = blocks[0], blocks[1:]
    recipients = tuple(_recipient(block) for block in per_recipient if block.keys())
    if not recipients:
        raise MalformedEmail("delivery status notification has no per-recipient fields")
    envelope_id = per_message.get("Original-Envelope-Id")
    return DeliveryReport(
        original_message_id=_original_message_id(msg),
        envelope_id=str(envelope_id).strip() if envelope_id else None,
        reporting_mta=_typed_value(per_message.get("Reporting-MTA")),
        recipients=recipients,
    )


def _recipient(block: Message) -> RecipientStatus:
    recipient = _typed_value(block.get("Final-Recipient")) or _typed_value(block.get("Original-Recipient"))
    action_text = str(block.get("Action", "")).strip().lower()
    if not recipient:
        raise MalformedEmail("delivery status notification names no Final-Recipient")
    try:
        action = DeliveryAction(action_text.split()[0] if action_text else "")
    except ValueError as error:
        raise MalformedEmail(f"delivery status for {recipient} has an unknown Action {action_text!r}") from error
    status = str(block.get("Status", "")).strip().split(" ")[0]
    diagnostic = " ".join(_typed_value(block.get("Diagnostic-Code")).split())
    return RecipientStatus(recipient=recipient, action=action, status=status, diagnostic=diagnostic)
