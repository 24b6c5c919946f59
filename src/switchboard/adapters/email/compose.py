"""Outgoing mail: an operator's reply (threaded, signed Reply-To, plain + HTML, attachments) and faxes.

Builds ``email.message.EmailMessage`` only; sending is ``smtp_client``'s job. Time and the unique part
of the Message-ID can be passed in, so a test gets the same bytes every run.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import format_datetime
from enum import StrEnum

from switchboard.adapters.email.errors import ComposeError
from switchboard.adapters.email.model import Address, ParsedEmail

MAX_REFERENCES = 20
DEFAULT_FAX_FORM = "FAX={number}@{domain}"
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|ответ|на|aw|sv)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class AutoSubmitted(StrEnum):
    """RFC 3834 Auto-Submitted values for mail no person wrote."""

    AUTO_REPLIED = "auto-replied"
    AUTO_GENERATED = "auto-generated"


@dataclass(frozen=True, slots=True)
class OutgoingAttachment:
    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    sender: Address
    to: tuple[Address, ...]
    subject: str
    text: str
    html: str | None = None
    cc: tuple[Address, ...] = ()
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    reply_to: str | None = None
    attachments: tuple[OutgoingAttachment, ...] = ()
    automatic: AutoSubmitted | None = None
    message_id: str | None = None
    date: datetime | None = None


def new_message_id(domain: str, unique: str | None = None) -> str:
    """A fresh Message-ID under our domain, without angle brackets."""
    if not domain or "@" in domain or any(c in domain for c in "<> \r\n"):
        raise ComposeError(f"{domain!r} is not a domain for a Message-ID")
    return f"{unique or uuid.uuid4().hex}@{domain.lower()}"


def reply_subject(subject: str) -> str:
    """'Hello' → 'Re: Hello'; 'RE: Re: Ответ: Hello' → 'Re: Hello'."""
    rest = _REPLY_PREFIX.sub("", _one_line(subject)).strip()
    return f"Re: {rest}" if rest else "Re:"


def chain_references(parent_references: Sequence[str], parent_message_id: str | None) -> tuple[str, ...]:
    """The parent's References plus its Message-ID; long chains keep the first and the newest (RFC 5322 §3.6.4)."""
    chain = list(dict.fromkeys([*parent_references, *([parent_message_id] if parent_message_id else [])]))
    if len(chain) > MAX_REFERENCES:
        chain = [chain[0], *chain[-(MAX_REFERENCES - 1) :]]
    return tuple(chain)


def _one_line(text: str) -> str:
    return " ".join(text.replace("\r", " ").replace("\n", " ").split())


def _header_address(address: Address) -> HeaderAddress:
    try:
        local, at, domain = address.address.strip().rpartition("@")
        if not at or not local or not domain:
            raise ValueError("no @")
        ascii_domain = domain.encode("idna").decode("ascii")
        return HeaderAddress(display_name=_one_line(address.name), username=local, domain=ascii_domain)
    except (ValueError, UnicodeError) as error:
        raise ComposeError(f"{address.address!r} is not a valid email address") from error


def _bracketed(message_id: str) -> str:
    return f"<{message_id.strip().strip('<>')}>"


def compose(email: OutgoingEmail) -> EmailMessage:
    """Build the message. The Message-ID is generated under the sender's domain when not given."""
    if not email.to:
        raise ComposeError("an email needs at least one recipient")
    sender = _header_address(email.sender)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = [_header_address(a) for a in email.to]
    if email.cc:
        msg["Cc"] = [_header_address(a) for a in email.cc]
    msg["Subject"] = _one_line(email.subject)
    msg["Date"] = format_datetime(email.date or datetime.now(UTC))
    msg["Message-ID"] = _bracketed(email.message_id or new_message_id(sender.domain))
    if email.in_reply_to:
        msg["In-Reply-To"] = _bracketed(email.in_reply_to)
    if email.references:
        msg["References"] = " ".join(_bracketed(ref) for ref in email.references)
    if email.reply_to:
        msg["Reply-To"] = _header_address(Address("", email.reply_to))
    if email.automatic is not None:
        msg["Auto-Submitted"] = email.automatic.value
        msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(email.text)
    if email.html is not None:
        msg.add_alternative(email.html, subtype="html")
    for attachment in email.attachments:
        maintype, slash, subtype = attachment.content_type.partition("/")
        if not slash:
            raise ComposeError(f"{attachment.content_type!r} is not a content type")
        msg.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.name)
    return msg


def compose_reply(
    parent: ParsedEmail,
    *,
    sender: Address,
    text: str,
    html: str | None = None,
    reply_to: str | None = None,
    attachments: Sequence[OutgoingAttachment] = (),
    automatic: AutoSubmitted | None = None,
    message_id: str | None = None,
    date: datetime | None = None,
) -> EmailMessage:
    """An answer to ``parent``: to its Reply-To (else From), 'Re: …', threaded by In-Reply-To/References."""
    return compose(
        OutgoingEmail(
            sender=sender,
            to=parent.reply_to or (parent.from_,),
            subject=reply_subject(parent.subject),
            text=text,
            html=html,
            in_reply_to=parent.message_id,
            references=chain_references(parent.references, parent.message_id),
            reply_to=reply_to,
            attachments=tuple(attachments),
            automatic=automatic,
            message_id=message_id,
            date=date,
        )
    )


# --- fax through an Internet-fax gateway (RFC 3192 addresses, T.37) --------------------------------


def fax_address(number_e164: str, gateway_domain: str, form: str = DEFAULT_FAX_FORM) -> str:
    """The gateway's address for a fax number: ``FAX=+74951234567@fax.example`` by default.

    ``form`` may use ``{number}`` (E.164 with +), ``{digits}`` (without +) and ``{domain}``.
    """
    number = number_e164.strip()
    if not _E164.match(number):
        raise ComposeError(f"{number_e164!r} is not a phone number in E.164")
    domain = gateway_domain.strip().lower()
    if not domain or "@" in domain or " " in domain:
        raise ComposeError(f"{gateway_domain!r} is not a domain")
    try:
        address = form.format(number=number, digits=number[1:], domain=domain)
    except (KeyError, IndexError, ValueError) as error:
        raise ComposeError(f"fax address form {form!r} is invalid: {error}") from error
    if address.count("@") != 1 or any(c in address for c in " <>\r\n"):
        raise ComposeError(f"fax address form {form!r} does not give an address")
    return address


def compose_fax(
    *,
    sender: Address,
    number_e164: str,
    gateway_domain: str,
    pdf: bytes,
    form: str = DEFAULT_FAX_FORM,
    filename: str = "fax.pdf",
    subject: str = "",
    cover_text: str = "",
    message_id: str | None = None,
    date: datetime | None = None,
) -> EmailMessage:
    """A fax for the gateway: one PDF attachment, addressed in the gateway's form."""
    if not pdf.startswith(b"%PDF-"):
        raise ComposeError("a fax must be a PDF document (it does not start with %PDF-)")
    address = fax_address(number_e164, gateway_domain, form)
    return compose(
        OutgoingEmail(
            sender=sender,
            to=(Address("", address),),
            subject=subject or f"Fax to {number_e164}",
            text=cover_text,
            attachments=(OutgoingAttachment(filename, "application/pdf", pdf),),
            message_id=message_id,
            date=date,
        )
    )
