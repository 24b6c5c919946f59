"""Values handed out by the email connector. Plain frozen dataclasses: no I/O, no framework."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

MIB = 1024 * 1024

# Extensions that run code when opened on a desktop; refused whatever content type the sender claims.
DEFAULT_FORBIDDEN_EXTENSIONS = frozenset(
    {
        "exe", "com", "bat", "cmd", "scr", "pif", "cpl", "msi", "msp", "msc", "dll", "sys", "vbs", "vbe", "js",
        "jse", "wsf", "wsh", "ps1", "psm1", "hta", "jar", "lnk", "reg", "inf", "scf", "apk", "app", "gadget",
        "iso", "img", "vhd", "vhdx", "xll",
    }
)  # fmt: skip
DEFAULT_FORBIDDEN_CONTENT_TYPES = frozenset(
    {
        "application/x-msdownload",
        "application/x-dosexec",
        "application/x-msdos-program",
        "application/x-ms-installer",
        "application/x-executable",
        "application/vnd.microsoft.portable-executable",
        "application/hta",
        "application/java-archive",
    }
)


@dataclass(frozen=True, slots=True)
class AttachmentLimits:
    """What the connector keeps. Anything else is listed in ``ParsedEmail.rejected_attachments``."""

    max_bytes: int = 10 * MIB
    max_total_bytes: int = 25 * MIB
    max_count: int = 50
    forbidden_extensions: frozenset[str] = DEFAULT_FORBIDDEN_EXTENSIONS
    forbidden_content_types: frozenset[str] = DEFAULT_FORBIDDEN_CONTENT_TYPES
    # When set, only these content types are kept (e.g. a fax channel: image/tiff, application/pdf).
    allowed_content_types: frozenset[str] | None = None
    # Refuse Windows/DOS executables by their "MZ" magic even when they are named "invoice.pdf".
    sniff_executables: bool = True


@dataclass(frozen=True, slots=True)
class Address:
    name: str
    address: str

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    content_type: str
    size: int
    data: bytes = field(repr=False)
    content_id: str | None = None
    inline: bool = False


class RejectionReason(StrEnum):
    TOO_LARGE = "too_large"
    TOTAL_TOO_LARGE = "total_too_large"
    TOO_MANY = "too_many"
    FORBIDDEN_TYPE = "forbidden_type"


@dataclass(frozen=True, slots=True)
class RejectedAttachment:
    name: str
    content_type: str
    size: int
    reason: RejectionReason
    detail: str


@dataclass(frozen=True, slots=True)
class CharsetProblem:
    """A part (or header) whose bytes did not decode cleanly; the text holds U+FFFD where they failed."""

    where: str
    charset: str
    detail: str


class DeliveryAction(StrEnum):
    """RFC 3464 §2.3.3 Action values."""

    FAILED = "failed"
    DELAYED = "delayed"
    DELIVERED = "delivered"
    RELAYED = "relayed"
    EXPANDED = "expanded"


@dataclass(frozen=True, slots=True)
class RecipientStatus:
    recipient: str
    action: DeliveryAction
    status: str
    diagnostic: str = ""


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A parsed RFC 3464 delivery status notification.

    ``original_message_id`` is the Message-ID of the message the report is about (from the returned
    message or headers, else the report's own In-Reply-To/References); ``None`` when the report does
    not say, which the caller reports as "a bounce for an unknown message".
    """

    original_message_id: str | None
    envelope_id: str | None
    reporting_mta: str
    recipients: tuple[RecipientStatus, ...]

    @property
    def action(self) -> DeliveryAction:
        """The worst outcome over the recipients: failed, then delayed, then delivered/relayed/expanded."""
        actions = {recipient.action for recipient in self.recipients}
        for worst in (DeliveryAction.FAILED, DeliveryAction.DELAYED, DeliveryAction.DELIVERED, DeliveryAction.RELAYED):
            if worst in actions:
                return worst
        return DeliveryAction.EXPANDED


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    """One inbound message, decoded.

    ``text`` is the whole plain body (from text/plain, else converted from HTML); ``visible_text`` is
    ``text`` with the quoted history trimmed, for the timeline. ``html`` is the sanitized HTML body.
    Message ids are kept without angle brackets.
    """

    from_: Address
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    subject: str
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    date: datetime | None
    text: str
    html: str | None
    visible_text: str
    attachments: tuple[Attachment, ...]
    rejected_attachments: tuple[RejectedAttachment, ...]
    charset_problems: tuple[CharsetProblem, ...]
    automatic_reason: str | None
    delivery_report: DeliveryReport | None
    defects: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    @property
    def is_automatic(self) -> bool:
        return self.automatic_reason is not None

    @property
    def has_charset_problems(self) -> bool:
        return bool(self.charset_problems)

    def header(self, name: str) -> str | None:
        """The first header of this name (case-insensitive), decoded, or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)
