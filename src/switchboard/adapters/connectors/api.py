"""The API channel's outbound push: an operator's reply POSTed, signed, to the integration's URL.

In: the integration posts what its customer wrote to ``POST /api/v1/inbound`` (no webhook here).

Out (``send``), only for a channel with ``settings.webhook_url``: one JSON document per reply,
``{"type": "message.created", "id": "message-<id>", ...}`` (see ``docs/api.md``), signed with the
channel's secret ``webhook_secret``: ``X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of
"<timestamp>." + body>`` and ``X-Switchboard-Timestamp: <Unix seconds>``, so the integration can
refuse a forged or replayed call. A 2xx is success; its JSON may carry ``external_id`` (the
integration's own id for the message, kept for ``POST /api/v1/inbound/status``). A timeout, a
refused connection, a 5xx, 408 or 429 is retried by the delivery queue (after ``Retry-After``
when given); any other 4xx fails the message with the integration's answer. A channel without a
URL keeps today's behaviour: replies wait, ``queued``, for the integration to read them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx

from switchboard.adapters.connectors.http import call, hmac_sha256_hex, new_client
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
from switchboard.domain.channels import ChannelKind

PROVIDER = "the integration"
SIGNATURE_HEADER = "X-Switchboard-Signature"
TIMESTAMP_HEADER = "X-Switchboard-Timestamp"
EVENT_HEADER = "X-Switchboard-Event"
MIN_SECRET = 16
MAX_EXTERNAL_ID = 200


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 over ``"<timestamp>." + body``: binding the time stops replays."""
    return "sha256=" + hmac_sha256_hex(secret, timestamp.encode() + b"." + body)


def message_document(config: ChannelConfig, message: OutboundMessage) -> dict[str, Any]:
    """What the integration receives for one reply (ids, text, attachments, who it is for)."""
    return {
        "type": "message.created",
        "id": f"message-{message.message_id}",
        "channel_id": config.id,
        "conversation_id": message.conversation_id,
        "contact_id": message.contact_id,
        "message_id": message.message_id,
        "text": message.body,
        "reply_to": message.reply_to,
        "attachments": [
            {"name": f.attachment.name, "content_type": f.attachment.content_type, "size": f.attachment.size}
            | ({"url": f.attachment.url} if f.attachment.url else {})
            for f in message.attachments
        ],
        "recipient": {"identities": [{"kind": i.kind.value, "value": i.value} for i in message.identities]},
    }


def external_id_of(response: httpx.Response) -> str:
    """The integration's own id for the message, when its answer names one (``{"external_id": "..."}``)."""
    try:
        answer = response.json()
    except ValueError:
        return ""
    value = answer.get("external_id") if isinstance(answer, dict) else None
    return str(value)[:MAX_EXTERNAL_ID] if isinstance(value, str | int) and str(value) else ""


class ApiConnector:
    kind: ChannelKind = ChannelKind.API
    secret_names: tuple[str, ...] = ("webhook_secret",)

    def __init__(
        self, transport: httpx.AsyncBaseTransport | None = None, *, now: Callable[[], float] = time.time
    ) -> None:
        self._client = new_client(transport)
        self._now = now  # Unix seconds for the timestamp header (the integration checks it is recent)

    async def close(self) -> None:
        await self._client.aclose()

    def delivers(self, settings: Mapping[str, Any]) -> bool:
        """Only a channel with a URL pushes; without one, replies wait for the integration to read them."""
        return bool(settings.get("webhook_url"))

    def check_settings(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        url = settings.get("webhook_url")
        if url is None:
            return
        try:
            parsed = httpx.URL(url) if isinstance(url, str) else None
        except httpx.InvalidURL:
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise InvalidInput("webhook_url must be an http(s) URL", field="settings.webhook_url")
        if len(secrets.get("webhook_secret", "")) < MIN_SECRET:
            raise InvalidInput(
                f"a channel that pushes needs a webhook_secret of at least {MIN_SECRET} characters to sign with",
                field="secrets.webhook_secret",
            )

    def check_reply(self, config: ChannelConfig, message: OutboundMessage, now: datetime) -> None:
        return None

    async def send(self, config: ChannelConfig, message: OutboundMessage) -> Receipt:
        response = await self._post(config, "message.created", message_document(config, message))
        return Receipt(external_id_of(response))

    async def notify(self, config: ChannelConfig, kind: str, document: Mapping[str, Any]) -> None:
        """A notice (``conversation.closed``), signed and answered as a reply is; its answer's body is not read."""
        await self._post(config, kind, dict(document))

    async def connect(self, config: ChannelConfig, public_url: str) -> str:
        """Send a signed ``ping`` so an admin sees at once whether the URL and the secret work."""
        url = config.settings.get("webhook_url")
        if not url:
            return "no webhook_url: replies wait for the integration to read them from the API"
        await self._post(config, "ping", {"type": "ping", "channel_id": config.id})
        return f"{url} answered the signed ping"

    async def webhook(self, config: ChannelConfig, request: WebhookRequest) -> WebhookResult:
        raise WebhookRejected("the API channel takes messages at /api/v1/inbound", status=404)

    async def _post(self, config: ChannelConfig, event: str, document: dict[str, Any]) -> httpx.Response:
        url = config.settings.get("webhook_url")
        if not url:
            raise SendFailed("the channel has no webhook_url any more", retryable=False)
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(self._now()))
        headers = {
            "content-type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(config.secret("webhook_secret"), timestamp, body),
            EVENT_HEADER: event,
        }
        return await call(self._client, "POST", str(url), provider=PROVIDER, content=body, headers=headers)
