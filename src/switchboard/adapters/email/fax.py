"""Inbound fax through an Internet-fax gateway (ITU T.37 store-and-forward, RFC 3965/RFC 3192).

The gateway mails each received fax as a TIFF (or PDF) attachment from one of its domains. The
sender's fax number is read, by configurable rules in order, from the From local part
(``FAX=+74951234567@fax.example``, RFC 3192), from a header such as ``X-Fax-Number``, or from the
subject, and normalized to E.164 with the configured default region.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from switchboard.adapters.email.errors import MalformedFax
from switchboard.adapters.email.model import Attachment, ParsedEmail
from switchboard.domain.errors import InvalidIdentity
from switchboard.domain.identity import normalize_phone

FAX_CONTENT_TYPES = frozenset({"image/tiff", "image/tif", "image/x-tiff", "application/pdf"})
_MAGIC = (b"II*\x00", b"MM\x00*", b"%PDF-")
_LOCAL_PREFIX = re.compile(r"^(?:fax|tel|phone)\s*[=:_-]?\s*", re.IGNORECASE)
_NUMBER_CHARS = re.compile(r"^\+?[0-9().\s-]{6,25}$")


class NumberSource(StrEnum):
    FROM_LOCAL = "from_local"
    HEADER = "header"
    SUBJECT = "subject"


@dataclass(frozen=True, slots=True)
class FaxGateway:
    """One gateway's conventions. ``sender_domains`` match the From domain or any of its subdomains."""

    sender_domains: frozenset[str]
    number_sources: tuple[NumberSource, ...] = (NumberSource.FROM_LOCAL, NumberSource.HEADER, NumberSource.SUBJECT)
    number_headers: tuple[str, ...] = ("X-Fax-Number", "X-Fax-From", "X-Fax-Sender", "X-Sender-Fax")
    subject_pattern: str = r"(?:fax|факс)\D{0,30}?(?P<number>\+?[0-9][0-9().\s-]{5,24}[0-9])"
    default_region: str = "RU"

    def serves(self, address: str) -> str | None:
        """The configured domain this sender address belongs to, or None."""
        domain = address.rpartition("@")[2].lower().rstrip(".")
        for configured in self.sender_domains:
            wanted = configured.lower().lstrip("@").rstrip(".")
            if domain == wanted or domain.endswith(f".{wanted}"):
                return wanted
        return None


@dataclass(frozen=True, slots=True)
class InboundFax:
    fax_number: str
    documents: tuple[Attachment, ...]
    gateway_domain: str
    number_source: NumberSource


def is_fax_document(attachment: Attachment) -> bool:
    return attachment.content_type in FAX_CONTENT_TYPES or attachment.data.startswith(_MAGIC)


def normalize_fax_number(raw: str, default_region: str) -> str | None:
    """E.164 for a number as gateways write it ('+7 495 123-45-67', '74951234567', '84951234567'), or None."""
    text = _LOCAL_PREFIX.sub("", raw.strip()).split("/", 1)[0].strip()
    if not _NUMBER_CHARS.match(text):
        return None
    candidates = [text]
    digits = re.sub(r"\D", "", text)
    if not text.startswith("+") and len(digits) >= 10:
        candidates.append(f"+{digits}")
    for candidate in candidates:
        try:
            return normalize_phone(candidate, default_region)
        except InvalidIdentity:
            continue
    return None


def _number_from(parsed: ParsedEmail, source: NumberSource, gateway: FaxGateway) -> str | None:
    if source is NumberSource.FROM_LOCAL:
        return normalize_fax_number(parsed.from_.address.rpartition("@")[0], gateway.default_region)
    if source is NumberSource.HEADER:
        for name in gateway.number_headers:
            value = parsed.header(name)
            if value and (number := normalize_fax_number(value, gateway.default_region)):
                return number
        return None
    match = re.search(gateway.subject_pattern, parsed.subject, re.IGNORECASE)
    if match is None:
        return None
    return normalize_fax_number(match.group("number"), gateway.default_region)


def recognise_fax(parsed: ParsedEmail, gateways: FaxGateway | tuple[FaxGateway, ...]) -> InboundFax | None:
    """The fax in this email, or None when it is not from a configured gateway (or is a gateway report).

    Raises MalformedFax for gateway mail that has no TIFF/PDF document or no recognisable number.
    """
    for gateway in gateways if isinstance(gateways, tuple) else (gateways,):
        domain = gateway.serves(parsed.from_.address)
        if domain is None:
            continue
        if parsed.delivery_report is not None:
            return None
        documents = tuple(a for a in parsed.attachments if is_fax_document(a))
        if not documents:
            refused = [r for r in parsed.rejected_attachments if r.content_type in FAX_CONTENT_TYPES]
            if refused:
                raise MalformedFax(f"the fax document {refused[0].name} was refused: {refused[0].detail}")
            raise MalformedFax(f"mail from the fax gateway {domain} carries no TIFF or PDF document")
        for source in gateway.number_sources:
            number = _number_from(parsed, source, gateway)
            if number is not None:
                return InboundFax(number, documents, domain, source)
        raise MalformedFax(f"mail from the fax gateway {domain} names no recognisable sender fax number")
    return None
