"""Raw RFC 5322/MIME bytes → ``ParsedEmail``.

Lenient where mail in the wild is sloppy (unknown or wrong charsets are decoded with U+FFFD and
reported in ``charset_problems``; attachments over the limits are listed in
``rejected_attachments`` with a reason), strict where the message cannot be trusted at all
(no sender, broken multipart structure): those raise ``MalformedEmail`` and nothing is returned.
"""

from __future__ import annotations

import codecs
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import errors as email_errors
from email import policy
from email.header import decode_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import PurePosixPath

from switchboard.adapters.email.automatic import automatic_reason, is_automatic
from switchboard.adapters.email.dsn import message_ids, parse_dsn
from switchboard.adapters.email.errors import MalformedEmail
from switchboard.adapters.email.markup import html_to_text, sanitize_html
from switchboard.adapters.email.model import (
    Address,
    Attachment,
    AttachmentLimits,
    CharsetProblem,
    ParsedEmail,
    RejectedAttachment,
    RejectionReason,
)
from switchboard.adapters.email.quoting import trim_quoted

__all__ = ["is_automatic", "parse_dsn", "parse_message", "read_message"]

_FATAL_DEFECTS = (
    email_errors.NoBoundaryInMultipartDefect,
    email_errors.StartBoundaryNotFoundDefect,
    email_errors.MultipartInvariantViolationDefect,
)
_CHARSET_ALIASES = {
    "x-mac-cyrillic": "mac-cyrillic",
    "win-1251": "cp1251",
    "x-cp1251": "cp1251",
    "windows-1251-1": "cp1251",
    "cp-1251": "cp1251",
    "unicode-1-1-utf-7": "utf-7",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-unknown": "",
    "unknown-8bit": "",
}
_SKIPPED_PARTS = frozenset({"message/delivery-status", "text/rfc822-headers", "message/disposition-notification"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def read_message(raw: bytes) -> EmailMessage:
    """Parse bytes into a stdlib message, raising MalformedEmail for input that is not mail at all."""
    if not isinstance(raw, bytes | bytearray) or not bytes(raw).strip():
        raise MalformedEmail("the message is empty")
    try:
        msg = BytesParser(policy=policy.default).parsebytes(bytes(raw))
    except Exception as error:  # the stdlib parser raises little, but any failure here is malformed input
        raise MalformedEmail(f"the message cannot be parsed: {error}") from error
    if not isinstance(msg, EmailMessage):  # pragma: no cover - policy.default always builds EmailMessage
        raise MalformedEmail("the message cannot be parsed")
    for part in msg.walk():
        for defect in part.defects:
            if isinstance(defect, _FATAL_DEFECTS):
                name = type(defect).__name__.removesuffix("Defect")
                raise MalformedEmail(f"broken MIME structure in a {part.get_content_type()} part: {name}")
    return msg


@dataclass
class _Collector:
    limits: AttachmentLimits
    fallback_charset: str = "utf-8"
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    rejected: list[RejectedAttachment] = field(default_factory=list)
    problems: list[CharsetProblem] = field(default_factory=list)
    total: int = 0


def parse_message(
    raw: bytes, *, limits: AttachmentLimits | None = None, envelope_from: str | None = None
) -> ParsedEmail:
    """Decode one message. Raises MalformedEmail when it has no usable sender or a broken structure."""
    msg = read_message(raw)
    collector = _Collector(limits=limits or AttachmentLimits(), fallback_charset=_first_body_charset(msg))
    headers = tuple((name, _decode_header(str(value), collector, name)) for name, value in msg.raw_items())
    senders = _addresses(msg, "From", collector)
    if not senders or "@" not in senders[0].address:
        raise MalformedEmail("the message has no sender address in From")
    _walk(msg, collector, in_alternative=False)
    html = sanitize_html("\n".join(collector.html)) if collector.html else None
    text = _normalize_newlines("\n\n".join(collector.plain)).strip("\n") if collector.plain else ""
    if not text and collector.html:
        text = html_to_text("\n".join(collector.html))
    defects = tuple(
        f"{part.get_content_type()}: {type(defect).__name__}" for part in msg.walk() for defect in part.defects
    )
    date, date_defect = _date(msg)
    return ParsedEmail(
        from_=senders[0],
        to=tuple(_addresses(msg, "To", collector)),
        cc=tuple(_addresses(msg, "Cc", collector)),
        reply_to=tuple(_addresses(msg, "Reply-To", collector)),
        subject=next((value.strip() for name, value in headers if name.lower() == "subject"), ""),
        message_id=next(iter(message_ids(_raw_header(msg, "Message-ID"))), None),
        in_reply_to=next(iter(message_ids(_raw_header(msg, "In-Reply-To"))), None),
        references=tuple(message_ids(_raw_header(msg, "References"))),
        date=date,
        text=text,
        html=html,
        visible_text=trim_quoted(text) if text else "",
        attachments=tuple(collector.attachments),
        rejected_attachments=tuple(collector.rejected),
        charset_problems=tuple(dict.fromkeys(collector.problems)),
        automatic_reason=automatic_reason(msg, envelope_from),
        delivery_report=parse_dsn(msg),
        defects=defects + ((date_defect,) if date_defect else ()),
        headers=headers,
    )


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- headers -----------------------------------------------------------------------------------


def _raw_header(msg: Message, name: str) -> str | None:
    """The header's source text (unfolded), without the policy's parsing, which can raise."""
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            return re.sub(r"\r?\n[ \t]", " ", str(value)).strip()
    return None


def _has_surrogates(text: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in text)


def _decode_header(raw: str, collector: _Collector, where: str) -> str:
    """RFC 2047 encoded words decoded; raw 8-bit headers decoded as UTF-8, else as the body's charset."""
    raw = re.sub(r"\r?\n[ \t]", " ", raw)
    if _has_surrogates(raw):
        return _decode_bytes(raw.encode("ascii", "surrogateescape"), "utf-8", collector, f"header {where}")
    try:
        chunks = decode_header(raw)
    except Exception:  # a broken encoded word: keep the text as it came
        collector.problems.append(CharsetProblem(f"header {where}", "", "undecodable encoded word kept as is"))
        return raw
    decoded = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            decoded.append(chunk)
        else:
            decoded.append(_decode_bytes(chunk, charset or "us-ascii", collector, f"header {where}"))
    return "".join(decoded)


def _addresses(msg: Message, name: str, collector: _Collector) -> list[Address]:
    values = [str(value) for key, value in msg.raw_items() if key.lower() == name.lower()]
    if not values:
        return []
    found = []
    for display, address in getaddresses([re.sub(r"\r?\n[ \t]", " ", value) for value in values]):
        if not address and not display:
            continue
        decoded_name = _decode_header(display, collector, name).strip() if display else ""
        found.append(Address(name=decoded_name, address=address.strip()))
    return found


def _date(msg: Message) -> tuple[datetime | None, str | None]:
    raw = _raw_header(msg, "Date")
    if not raw:
        return None, None
    try:
        value = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None, f"unparseable Date {raw!r}"
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value), None


# --- bodies ------------------------------------------------------------------------------------


def _charset_name(declared: str) -> str | None:
    """A Python codec name for a declared charset, or None when unknown."""
    name = _CHARSET_ALIASES.get(declared.lower().strip(), declared.lower().strip())
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _decode_bytes(data: bytes, declared: str, collector: _Collector, where: str) -> str:
    codec = _charset_name(declared)
    if codec is None:
        fallback = collector.fallback_charset
        try:
            text = data.decode(fallback)
        except UnicodeDecodeError:
            text = data.decode(fallback, "replace")
        collector.problems.append(CharsetProblem(where, declared, f"unknown charset, decoded as {fallback}"))
        return text
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        pass
    if codec == "ascii":  # "us-ascii" declared (or defaulted) over 8-bit text: UTF-8 is the likely truth
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("utf-8", "replace")
        collector.problems.append(CharsetProblem(where, declared, "8-bit bytes in a us-ascii part"))
        return text
    collector.problems.append(CharsetProblem(where, declared, "invalid bytes for the charset replaced"))
    return data.decode(codec, "replace")


def _first_body_charset(msg: Message) -> str:
    for part in msg.walk():
        charset = part.get_content_charset()
        if charset and (codec := _charset_name(charset)) and codec != "ascii":
            return codec
    return "utf-8"


def _part_text(part: Message, collector: _Collector) -> str:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    return _decode_bytes(data, part.get_content_charset() or "us-ascii", collector, part.get_content_type())


def _walk(part: Message, collector: _Collector, *, in_alternative: bool) -> None:
    content_type = part.get_content_type()
    if content_type in _SKIPPED_PARTS:
        return
    if content_type.startswith("message/"):
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            data = inner[0].as_bytes(policy=policy.SMTP)
            _attach(collector, data, content_type, _filename(part) or "message.eml", part)
        return
    if part.is_multipart():
        children = part.get_payload()
        for child in children if isinstance(children, list) else []:
            if isinstance(child, Message):
                _walk(child, collector, in_alternative=content_type == "multipart/alternative")
        return
    filename = _filename(part)
    disposition = part.get_content_disposition()
    if disposition == "attachment" or filename:
        _attach(collector, _payload_bytes(part), content_type, filename, part)
    elif content_type == "text/plain":
        collector.plain.append(_part_text(part, collector))
    elif content_type == "text/html":
        collector.html.append(_part_text(part, collector))
    elif not (in_alternative and part.get_content_maintype() == "text" and content_type != "text/calendar"):
        _attach(collector, _payload_bytes(part), content_type, None, part)


def _payload_bytes(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # broken RFC 2231 parameters: treat as unnamed
        return None
    if not name:
        return None
    name = str(name)
    if _has_surrogates(name):
        name = name.encode("ascii", "surrogateescape").decode("utf-8", "replace")
    name = _CONTROL.sub("", name.replace("\\", "/")).rsplit("/", 1)[-1].strip().strip(".")
    return name[:255] or None


# --- attachments -------------------------------------------------------------------------------


def _attach(collector: _Collector, data: bytes, content_type: str, name: str | None, part: Message) -> None:
    number = len(collector.attachments) + len(collector.rejected) + 1
    name = name or f"attachment-{number}{mimetypes.guess_extension(content_type) or '.bin'}"
    size = len(data)
    refusal = _refusal(collector, data, content_type, name)
    if refusal is not None:
        reason, detail = refusal
        collector.rejected.append(RejectedAttachment(name, content_type, size, reason, detail))
        return
    content_id = part.get("Content-ID")
    collector.total += size
    collector.attachments.append(
        Attachment(
            name=name,
            content_type=content_type,
            size=size,
            data=data,
            content_id=str(content_id).strip().strip("<>") if content_id else None,
            inline=part.get_content_disposition() == "inline" or (content_id is not None and not _filename(part)),
        )
    )


def _refusal(collector: _Collector, data: bytes, content_type: str, name: str) -> tuple[RejectionReason, str] | None:
    limits = collector.limits
    extension = PurePosixPath(name.lower()).suffix.lstrip(".")
    if extension in limits.forbidden_extensions:
        return RejectionReason.FORBIDDEN_TYPE, f"files of type .{extension} are not accepted"
    if content_type in limits.forbidden_content_types:
        return RejectionReason.FORBIDDEN_TYPE, f"content type {content_type} is not accepted"
    if limits.sniff_executables and data[:2] == b"MZ":
        return RejectionReason.FORBIDDEN_TYPE, "the file is a Windows executable"
    if limits.allowed_content_types is not None and content_type not in limits.allowed_content_types:
        return RejectionReason.FORBIDDEN_TYPE, f"content type {content_type} is not among the accepted types"
    if len(data) > limits.max_bytes:
        return RejectionReason.TOO_LARGE, f"{len(data)} bytes exceeds the limit of {limits.max_bytes} bytes"
    if len(collector.attachments) >= limits.max_count:
        return RejectionReason.TOO_MANY, f"more than {limits.max_count} attachments"
    if collector.total + len(data) > limits.max_total_bytes:
        return RejectionReason.TOTAL_TOO_LARGE, f"attachments together exceed {limits.max_total_bytes} bytes"
    return None
