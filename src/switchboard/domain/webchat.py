"""The web chat channel's rules: the widget's settings, a visit's source, flood and typing limits, file checks.

Everything here is pure: time comes in as seconds, nothing is read or written. The web layer and the
use cases in ``application/webchat.py`` apply these rules to real sockets and storage.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from switchboard.domain.errors import DomainError
from switchboard.domain.source import UTM_FIELDS, Source

PRECHAT_FIELDS = ("name", "phone", "email")
DEFAULT_FILE_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
)
DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_TEXT = 4000
MAX_COMMENT = 2000
MAX_ATTACHMENTS = 5
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
SETTINGS_KEYS = frozenset({"prechat", "offline", "files", "rate", "allowed_origins", "title", "split_rules"})


class InvalidWidgetSettings(DomainError):
    """A web chat channel's settings that the widget cannot work with (``field`` names the setting)."""


@dataclass(frozen=True, slots=True)
class PrechatField:
    name: str
    required: bool


@dataclass(frozen=True, slots=True)
class WidgetSettings:
    """What one web chat channel asks of its visitors and allows them.

    ``prechat_fields`` are asked before the first message (empty: no pre-chat form); ``consent_required``
    makes the personal-data consent box mandatory whenever anything personal is given. Outside working
    hours the offline form asks for a way to answer (``offline_requires_contact``).
    """

    title: str = ""
    prechat_fields: tuple[PrechatField, ...] = (PrechatField("name", False), PrechatField("email", False))
    consent_required: bool = True
    offline_requires_contact: bool = True
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    file_types: tuple[str, ...] = DEFAULT_FILE_TYPES
    frames_per_second: float = 5.0
    burst: int = 20
    allowed_origins: tuple[str, ...] = ()  # empty: any site may embed the widget

    def origin_allowed(self, origin: str | None) -> bool:
        """Browsers send Origin on cross-site requests; no Origin (a server, a test client) is not a browser embed."""
        if not self.allowed_origins or origin is None:
            return True
        return origin.rstrip("/").lower() in self.allowed_origins

    def required(self, name: str) -> bool:
        return any(f.name == name and f.required for f in self.prechat_fields)


def widget_settings(settings: Mapping[str, Any]) -> WidgetSettings:
    """Read a web chat channel's settings; raise InvalidWidgetSettings naming the first bad field."""
    unknown = sorted(set(settings) - SETTINGS_KEYS)
    if unknown:
        raise InvalidWidgetSettings(f"{unknown[0]!r} is not a web chat setting", field=f"settings.{unknown[0]}")
    prechat = _table(settings, "prechat")
    offline = _table(settings, "offline")
    files = _table(settings, "files")
    rate = _table(settings, "rate")
    title = settings.get("title", "")
    if not isinstance(title, str) or len(title) > 100:
        raise InvalidWidgetSettings("must be a text of at most 100 characters", field="settings.title")
    defaults = WidgetSettings()
    return WidgetSettings(
        title=title,
        prechat_fields=_prechat_fields(prechat) if "fields" in prechat else defaults.prechat_fields,
        consent_required=_flag(prechat, "consent_required", True, "settings.prechat"),
        offline_requires_contact=_flag(offline, "requires_contact", True, "settings.offline"),
        max_file_bytes=_whole(files, "max_bytes", DEFAULT_MAX_FILE_BYTES, 1, 100 * 1024 * 1024, "settings.files"),
        file_types=_file_types(files),
        frames_per_second=float(_whole(rate, "frames_per_second", 5, 1, 100, "settings.rate")),
        burst=_whole(rate, "burst", 20, 1, 1000, "settings.rate"),
        allowed_origins=_origins(settings.get("allowed_origins", [])),
    )


def _table(settings: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = settings.get(name) or {}
    if not isinstance(value, Mapping):
        raise InvalidWidgetSettings("must be an object", field=f"settings.{name}")
    return value


def _flag(table: Mapping[str, Any], name: str, default: bool, prefix: str) -> bool:
    value = table.get(name, default)
    if not isinstance(value, bool):
        raise InvalidWidgetSettings("must be true or false", field=f"{prefix}.{name}")
    return value


def _whole(table: Mapping[str, Any], name: str, default: int, low: int, high: int, prefix: str) -> int:
    value = table.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidWidgetSettings(f"must be a whole number from {low} to {high}", field=f"{prefix}.{name}")
    return value


def _prechat_fields(prechat: Mapping[str, Any]) -> tuple[PrechatField, ...]:
    raw = prechat.get("fields")
    if not isinstance(raw, list):
        raise InvalidWidgetSettings(
            'must be a list such as [{"name": "email", "required": true}]', field="settings.prechat.fields"
        )
    found: list[PrechatField] = []
    for index, item in enumerate(raw):
        where = f"settings.prechat.fields.{index}"
        if not isinstance(item, Mapping) or item.get("name") not in PRECHAT_FIELDS:
            raise InvalidWidgetSettings(f"must name one of: {', '.join(PRECHAT_FIELDS)}", field=f"{where}.name")
        if any(f.name == item["name"] for f in found):
            raise InvalidWidgetSettings(f"{item['name']} is listed twice", field=f"{where}.name")
        found.append(PrechatField(str(item["name"]), _flag(item, "required", False, where)))
    return tuple(found)


def _file_types(files: Mapping[str, Any]) -> tuple[str, ...]:
    raw = files.get("types", list(DEFAULT_FILE_TYPES))
    if not isinstance(raw, list) or not all(isinstance(t, str) and _CONTENT_TYPE.match(t.lower()) for t in raw):
        raise InvalidWidgetSettings("must be a list of media types such as image/png", field="settings.files.types")
    if any(t.lower() in DANGEROUS_TYPES for t in raw):
        raise InvalidWidgetSettings(
            "HTML, SVG and scripts run in the browser of whoever opens them: not allowed", field="settings.files.types"
        )
    return tuple(t.lower() for t in raw)


def _origins(raw: object) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(o, str) and _ORIGIN.match(o.rstrip("/")) for o in raw):
        raise InvalidWidgetSettings(
            "must be a list of origins such as https://shop.example", field="settings.allowed_origins"
        )
    return tuple(o.rstrip("/").lower() for o in raw)


# --- a visit's source ----------------------------------------------------------------------------------------


def visit_source(page: str | None, referrer: str | None, utm: Mapping[str, object] | None = None) -> Source:
    """Where the visitor came from: the page the widget runs on, the referrer, and UTM tags.

    Tags given explicitly win over the page address's query. Values are cut to the stored lengths
    (attribution is best effort; a long tag must not refuse a customer's message).
    """
    tags: dict[str, str] = {}
    if page:
        query = urlsplit(page).query
        tags.update({k: v for k, v in parse_qsl(query) if k in UTM_FIELDS and v})
    for key, value in (utm or {}).items():
        if key in UTM_FIELDS and isinstance(value, str) and value.strip():
            tags[key] = value.strip()
    return Source(
        utm_source=_cut(tags.get("utm_source"), 200),
        utm_medium=_cut(tags.get("utm_medium"), 200),
        utm_campaign=_cut(tags.get("utm_campaign"), 200),
        utm_term=_cut(tags.get("utm_term"), 200),
        utm_content=_cut(tags.get("utm_content"), 200),
        referrer=_cut(_web_address(referrer), 2000),
        landing_page=_cut(_web_address(page), 2000),
    )


def _web_address(value: str | None) -> str | None:
    """Only http(s) addresses are kept: a javascript: or data: URL is nobody's landing page."""
    if not value:
        return None
    return value.strip() if urlsplit(value.strip()).scheme in ("http", "https") else None


def _cut(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else None


# --- messages and ratings -------------------------------------------------------------------------------------


def check_client_id(client_id: object) -> str:
    """The widget's own id of a message, which makes a resend after a network loss a no-op."""
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        raise DomainError("client_id must be 8 to 64 letters, digits, '-' or '_'", field="client_id")
    return client_id


def message_key(visitor_id: str, client_id: str) -> str:
    """The message's external id in its channel: unique per visitor and client id."""
    return f"{visitor_id}:{client_id}"


def check_rating(score: object, comment: object) -> tuple[int, str]:
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise DomainError("score must be a whole number from 1 to 5", field="score")
    text = comment if isinstance(comment, str) else ""
    if comment is not None and not isinstance(comment, str):
        raise DomainError("comment must be a text", field="comment")
    if len(text) > MAX_COMMENT:
        raise DomainError(f"comment is longer than {MAX_COMMENT} characters", field="comment")
    return score, text.strip()


# --- files ----------------------------------------------------------------------------------------------------

DANGEROUS_TYPES = frozenset(
    {"text/html", "image/svg+xml", "application/xhtml+xml", "application/javascript", "text/javascript", "text/xml"}
)
_MAGIC: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}


class FileRefused(DomainError):
    """An attachment the channel does not take; ``status`` is the HTTP answer (413 too large, 415 wrong type)."""

    def __init__(self, detail: str, status: int) -> None:
        super().__init__(detail, field="file")
        self.status = status


def check_file(settings: WidgetSettings, content_type: str, size: int, head: bytes, limit: int) -> str:
    """The media type to store the file under, or FileRefused; ``limit`` is the tighter of channel and server."""
    media = content_type.split(";")[0].strip().lower()
    if size > limit:
        raise FileRefused(f"the file is {size} bytes; this chat takes files up to {limit} bytes", 413)
    if media not in settings.file_types or media in DANGEROUS_TYPES:
        allowed = ", ".join(settings.file_types)
        raise FileRefused(f"files of type {media or 'unknown'} are not accepted here; allowed: {allowed}", 415)
    if not content_matches(media, head):
        raise FileRefused(f"the file's content is not {media}", 415)
    return media


def content_matches(media: str, head: bytes) -> bool:
    """A declared image or PDF must start like one, so a renamed executable is not served as a picture."""
    if media == "image/webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if media == "text/plain":
        return b"\x00" not in head
    signatures = _MAGIC.get(media)
    return signatures is None or any(head.startswith(s) for s in signatures)


def safe_file_name(name: str | None) -> str:
    """A file name to show: no path, no control characters, at most 200 characters."""
    text = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if ch.isprintable()).strip()
    return text[:200] or "file"


# --- limits on a live socket ----------------------------------------------------------------------------------


@dataclass(slots=True)
class TokenBucket:
    """At most ``rate`` frames a second on average, ``burst`` at once; time comes in as seconds."""

    rate: float
    burst: int
    tokens: float = -1.0
    stamp: float = 0.0

    def take(self, now: float) -> bool:
        if self.tokens < 0:
            self.tokens, self.stamp = float(self.burst), now
        elapsed = max(0.0, now - self.stamp)
        self.tokens = min(float(self.burst), self.tokens + elapsed * self.rate)
        self.stamp = max(self.stamp, now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass(slots=True)
class Throttle:
    """Lets a key through at most once per ``interval`` seconds (typing notices)."""

    interval: float
    last: dict[str, float] = field(default_factory=dict)
    size: int = 10_000

    def allow(self, key: str, now: float) -> bool:
        previous = self.last.get(key)
        if previous is not None and now - previous < self.interval:
            return False
        if len(self.last) >= self.size:
            self.last.clear()
        self.last[key] = now
        return True
