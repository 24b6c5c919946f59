"""Meta's Graph API as the WhatsApp, Messenger and Instagram connectors share it.

Meta signs every webhook the same way (``X-Hub-Signature-256: sha256=<hex>``, an HMAC-SHA256 of the
raw body with the app secret), checks a callback URL the same way (``hub.mode=subscribe`` with the
verify token, answered with ``hub.challenge``) and reports every API failure the same way: an
``error`` object whose ``code`` says more than the HTTP status (a rate limit may come as a 400).
So failures are classified here by code first: rate limits and transient errors are retried
later, everything else fails the message with Meta's own words.

The access token travels in the ``Authorization`` header, never in a URL, so it cannot end up in
an access log.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import timedelta
from typing import Any

import httpx

from switchboard.adapters.connectors.http import MAX_REASON, header, hmac_sha256_hex, retry_after_seconds, same_secret
from switchboard.application.delivery import DeliveryUpdate
from switchboard.application.errors import InvalidInput
from switchboard.application.intake import InboundMessage
from switchboard.application.ports.connectors import (
    ChannelConfig,
    SendFailed,
    WebhookRejected,
    WebhookRequest,
    WebhookResult,
)
from switchboard.application.ports.files import DEFAULT_MAX_FILE_BYTES, FileStore, FileTooLarge
from switchboard.domain.conversation import Attachment

DEFAULT_API_BASE = "https://graph.facebook.com/v25.0"
SECRET_NAMES = ("access_token", "app_secret", "verify_token")
SECRET_HELP = {
    "access_token": "a permanent (system user) access token with the messaging permissions",
    "app_secret": "the Meta app's secret (App settings > Basic), which signs every webhook",
    "verify_token": "any string you also type into the app's webhook settings",
}
# Graph error codes that mean "too many calls, try later" (application, user, page, account and
# WhatsApp throughput or pair limits); they may arrive with HTTP 400 as well as 429
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80007, 130429, 131056})
TRANSIENT_CODES = frozenset({1, 2})  # "unknown error" and "service temporarily unavailable"
DEFAULT_RATE_LIMIT_WAIT = 60.0
MAX_CHALLENGE = 512
CUSTOMER_WINDOW = timedelta(hours=24)
# extensions for the types messengers send, the same on every machine (mimetypes reads /etc/mime.types)
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/aac": ".aac",
    "audio/amr": ".amr",
    "audio/mp4": ".m4a",
    "video/mp4": ".mp4",
    "video/3gpp": ".3gp",
    "application/pdf": ".pdf",
}


def api_base(settings: Mapping[str, Any]) -> str:
    return str(settings.get("api_base") or DEFAULT_API_BASE).rstrip("/")


def max_file_bytes(settings: Mapping[str, Any]) -> int:
    value = settings.get("max_file_bytes")
    return value if isinstance(value, int) and value > 0 else DEFAULT_MAX_FILE_BYTES


def webhook_url(config: ChannelConfig, public_url: str) -> str:
    """The channel's callback URL: given whole, or built from the site's public address."""
    base = public_url.rstrip("/")
    return base if base.endswith("/webhook") else f"{base}/api/v1/channels/{config.id}/webhook"


# --- settings ---------------------------------------------------------------------------------


def check_graph_settings(settings: Mapping[str, Any], secrets: Mapping[str, str], id_name: str, what: str) -> None:
    """The settings every Graph channel needs: its own object id, the three secrets, optional overrides."""
    value = settings.get(id_name)
    if not isinstance(value, str) or not value.isdigit():
        raise InvalidInput(
            f"{id_name} is required: the {what}, digits in a string (Graph ids outgrow JSON numbers)",
            field=f"settings.{id_name}",
        )
    for name in SECRET_NAMES:
        if not secrets.get(name):
            raise InvalidInput(f"the secret {name} is required: {SECRET_HELP[name]}", field=f"secrets.{name}")
    base = settings.get("api_base")
    if base is not None and (not isinstance(base, str) or not base.startswith(("https://", "http://"))):
        raise InvalidInput("api_base must be an http(s) URL such as " + DEFAULT_API_BASE, field="settings.api_base")
    limit = settings.get("max_file_bytes")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0):
        raise InvalidInput("max_file_bytes must be a positive whole number of bytes", field="settings.max_file_bytes")


# --- webhooks ---------------------------------------------------------------------------------


def verify_handshake(config: ChannelConfig, request: WebhookRequest) -> WebhookResult:
    """Meta's callback check: echo ``hub.challenge`` when the verify token is ours, else 403."""
    expected = config.secrets.get("verify_token")
    mode = request.query.get("hub.mode")
    challenge = request.query.get("hub.challenge")
    if not expected or mode != "subscribe" or not same_secret(request.query.get("hub.verify_token"), expected):
        raise WebhookRejected("the verify token does not match this channel's", status=403)
    if not challenge or len(challenge) > MAX_CHALLENGE:
        raise WebhookRejected("hub.challenge is missing or too long", status=403)
    return WebhookResult(reply_body=challenge.encode(), reply_content_type="text/plain")


def verify_signature(config: ChannelConfig, request: WebhookRequest) -> None:
    """Constant-time check of ``X-Hub-Signature-256`` over the raw body; a missing secret is our fault (503)."""
    secret = config.secrets.get("app_secret")
    if not secret:
        raise WebhookRejected("the channel has no app_secret configured", status=503)
    given = header(request.headers, "x-hub-signature-256")
    if given is None or not given.startswith("sha256="):
        raise WebhookRejected("the X-Hub-Signature-256 header is missing", status=401)
    if not same_secret(given.removeprefix("sha256=").lower(), hmac_sha256_hex(secret, request.body)):
        raise WebhookRejected("the X-Hub-Signature-256 signature does not match", status=401)


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise WebhookRejected(f"the body is not JSON: {error}", status=400) from error
    if not isinstance(payload, dict):
        raise WebhookRejected("the body is not a JSON object", status=400)
    return payload


async def receive(
    config: ChannelConfig,
    request: WebhookRequest,
    parse: Callable[[dict[str, Any]], Awaitable[WebhookResult]],
) -> WebhookResult:
    """GET is the callback check; POST is trusted only once its signature holds, then parsed."""
    if request.method.upper() == "GET":
        return verify_handshake(config, request)
    if request.method.upper() != "POST":
        raise WebhookRejected(f"{request.method} is not a webhook method", status=405)
    verify_signature(config, request)
    return await parse(parse_json(request.body))


def items(value: object) -> Iterator[dict[str, Any]]:
    """The objects of a JSON list, skipping anything else: Meta adds fields, we must not crash on them."""
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


def obj(value: object) -> dict[str, Any]:
    """A JSON object, or an empty one when the field is missing or of another type."""
    return value if isinstance(value, dict) else {}


def text_of(value: object) -> str:
    return value if isinstance(value, str) else ""


# --- the API ----------------------------------------------------------------------------------


class Graph:
    """One channel's Graph API: its base URL and token, every failure classified once."""

    def __init__(self, client: httpx.AsyncClient, config: ChannelConfig, provider: str) -> None:
        self.client = client
        self.base = api_base(config.settings)
        self.provider = provider
        self._token = config.secret("access_token")

    def url(self, path: str) -> str:
        return path if path.startswith(("https://", "http://")) else f"{self.base}/{path.lstrip('/')}"

    async def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One API call; the JSON answer, or ``SendFailed`` saying why and whether to retry."""
        headers = {"authorization": f"Bearer {self._token}"}
        try:
            response = await self.client.request(method, self.url(path), headers=headers, **kwargs)
        except httpx.TimeoutException as error:
            raise SendFailed(f"{self.provider}: timed out ({type(error).__name__})", retryable=True) from error
        except httpx.TransportError as error:
            raise SendFailed(f"{self.provider}: cannot connect ({type(error).__name__})", retryable=True) from error
        if not response.is_success:
            raise graph_failure(response, self.provider)
        try:
            answer = response.json()
        except ValueError as error:
            raise SendFailed(f"{self.provider}: the answer is not JSON", retryable=False) from error
        if not isinstance(answer, dict):
            raise SendFailed(f"{self.provider}: the answer is not a JSON object", retryable=False)
        return answer

    async def download(self, url: str, *, limit: int, authorized: bool) -> tuple[bytes, str | None]:
        """Fetch a file, stopping as soon as it passes ``limit`` (``FileTooLarge``); bytes and content type."""
        headers = {"authorization": f"Bearer {self._token}"} if authorized else {}
        try:
            # CDN links may redirect; httpx drops the Authorization header when one leaves the origin
            async with self.client.stream("GET", url, headers=headers, follow_redirects=True) as response:
                if not response.is_success:
                    await response.aread()
                    raise graph_failure(response, self.provider)
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise FileTooLarge(int(declared), limit)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise FileTooLarge(size, limit)
                    chunks.append(chunk)
                return b"".join(chunks), response.headers.get("content-type")
        except httpx.TimeoutException as error:
            raise SendFailed(f"{self.provider}: download timed out", retryable=True) from error
        except httpx.TransportError as error:
            raise SendFailed(f"{self.provider}: cannot download ({type(error).__name__})", retryable=True) from error


def graph_failure(response: httpx.Response, provider: str) -> SendFailed:
    """What a Graph error means for a send: by its code first (rate limits come as 400 too), then HTTP status."""
    error = _error_object(response)
    code = error.get("code")
    message = text_of(error.get("message")) or response.reason_phrase or "error"
    data = error.get("error_data")
    details = text_of(data.get("details")) if isinstance(data, dict) else ""
    reason = f"{provider}: {message}"
    if details and details not in message:
        reason += f" — {details}"
    where = f"code {code}, HTTP {response.status_code}" if code is not None else f"HTTP {response.status_code}"
    reason = f"{reason} ({where})"[:MAX_REASON]
    status = response.status_code
    if code in RATE_LIMIT_CODES or status == 429:
        return SendFailed(reason, retryable=True, retry_after=rate_limit_wait(response))
    if status >= 500 or status == 408 or code in TRANSIENT_CODES or error.get("is_transient") is True:
        return SendFailed(reason, retryable=True, retry_after=retry_after_seconds(response))
    return SendFailed(reason, retryable=False)


def _error_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"message": response.text[:200]} if response.text else {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def rate_limit_wait(response: httpx.Response) -> float:
    """How long to wait: ``Retry-After``, else Meta's own estimate in its usage header (minutes), else a minute."""
    explicit = retry_after_seconds(response)
    if explicit is not None:
        return explicit
    minutes = _estimated_minutes(response.headers.get("x-business-use-case-usage"))
    return minutes * 60.0 if minutes else DEFAULT_RATE_LIMIT_WAIT


def _estimated_minutes(raw: str | None) -> float:
    if not raw:
        return 0.0
    try:
        usage = json.loads(raw)
    except ValueError:
        return 0.0
    found = [
        float(item["estimated_time_to_regain_access"])
        for entries in (usage.values() if isinstance(usage, dict) else ())
        for item in (entries if isinstance(entries, list) else ())
        if isinstance(item, dict) and isinstance(item.get("estimated_time_to_regain_access"), int | float)
    ]
    return max(found, default=0.0)


# --- files ------------------------------------------------------------------------------------


def read_stored(files: FileStore, sha256: str) -> bytes:
    with files.open(sha256) as handle:
        return handle.read()


def kept(files: FileStore, data: bytes, content_type: str, name: str) -> Attachment:
    stored = files.put(data, content_type, name)
    return Attachment(name, content_type, stored.size, stored.url)


def media_note(kind: str, error: SendFailed | FileTooLarge) -> str:
    reason = error.reason if isinstance(error, SendFailed) else str(error)
    return f"[{kind} not kept: {reason}]"


def split_text(text: str, limit: int) -> list[str]:
    """Cut a long text into parts the provider takes, at a line break or space where one is near."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = max(rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit))
        if cut < limit // 2:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


class Collected:
    """What one webhook call meant, gathered while its entries are read."""

    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []
        self.statuses: list[DeliveryUpdate] = []
        self.ignored: list[str] = []

    def result(self) -> WebhookResult:
        return WebhookResult(tuple(self.messages), tuple(self.statuses), tuple(self.ignored))


def file_name(raw: str, fallback: str, content_type: str) -> str:
    """A safe file name: the sender's own without any path, else ``fallback`` with the type's extension."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")[:200]
    if name:
        return name
    return fallback + (EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or "")


def bare_type(content_type: str | None) -> str:
    """``audio/ogg; codecs=opus`` → ``audio/ogg``; nothing → ``application/octet-stream``."""
    value = (content_type or "").split(";", 1)[0].strip().lower()
    return value or "application/octet-stream"
