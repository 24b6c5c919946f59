"""Yandex Messenger bot API (https://yandex.ru/dev/messenger/doc/ru/): a Yandex 360 organisation's bot as a channel.

Every call carries ``Authorization: OAuth <token>`` (secret ``oauth_token``, created with the bot
in the Yandex 360 admin console).

In: updates arrive either by webhook (setting ``mode: "webhook"``, the default) or by polling
(``mode: "polling"``: a worker calls ``poll`` with the offset it keeps; the API cannot do both at
once). The webhook body is the same ``{"updates": [...]}`` that ``getUpdates`` answers. Yandex does
not sign webhook calls, so ``connect`` registers our URL with a secret query parameter
(``?secret=…``, the channel's ``webhook_secret`` or one derived from the OAuth token and the channel
id) and ``webhook`` refuses a call without it (401, nothing stored). This is our assumption, not a
documented mechanism: Yandex is assumed to call the URL exactly as registered, query included.
An update becomes an ``InboundMessage``: text, forwarded messages' text, a file (``file``), images
(``images``: each picture as a list of sizes, the original is taken), fetched with ``getFile`` into
the file store under ``max_file_bytes``; a sticker is named in the text. Channel posts, messages from
bots and updates without content (button callbacks) are listed in ``ignored``. The sender is the
user's ``login`` (``id`` where there is no login). A private chat has no id of its own, so the
external message id is ``"user/<login>:<message_id>"`` there and ``"<chat id>:<message_id>"`` in a
group. Delivery is at least once: a repeat gives the same id, which the intake answers without
storing twice.

Out (``send``): ``messages/sendText`` (6000 characters a message; longer texts are split) with a
``payload_id`` per part, which Yandex uses to drop a repeated request, then ``sendImage``/``sendFile``
uploads. A private chat is addressed by ``login``, a group by ``chat_id``. Errors come as an HTTP
status with ``{"ok": false, "description": …}``: 429 and 5xx are retried (after ``Retry-After`` when
given), other 4xx fail the message with the description.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any
from urllib.parse import urlencode

import httpx

from switchboard.adapters.connectors.http import hmac_sha256_hex, new_client, same_secret
from switchboard.adapters.connectors.inbound_media import MediaUnavailable, Refused, fetch, refusal_notes, too_large
from switchboard.adapters.connectors.long_text import split_text
from switchboard.adapters.connectors.messengers import (
    Recent,
    api_base,
    chat_of,
    check_api_base,
    check_file_limit,
    failure,
    file_limit,
    identity_value,
    message_key,
    read_stored,
    request,
    require_secret,
    response_object,
    webhook_object,
)
from switchboard.application.errors import InvalidInput
from switchboard.application.intake import InboundMessage, Sender
from switchboard.application.ports.connectors import (
    ChannelConfig,
    OutboundFile,
    OutboundMessage,
    Receipt,
    SendFailed,
    WebhookRejected,
    WebhookRequest,
    WebhookResult,
)
from switchboard.application.ports.files import DEFAULT_MAX_FILE_BYTES, FileStore
from switchboard.domain.channels import ChannelKind
from switchboard.domain.conversation import Attachment
from switchboard.domain.identity import IdentityKind

log = logging.getLogger("switchboard.connectors.yandex")

PROVIDER = "Yandex Messenger"
API_BASE = "https://botapi.messenger.yandex.net"
MAX_TEXT = 6000
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
MODES = ("webhook", "polling")
POLL_INTERVAL_S = 5.0
SECRET_PARAMETER = "secret"  # noqa: S105 - a query parameter name
PRIVATE = "user/"  # the chat part of a private chat's message ids: "user/<login>"
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
_CONTENT = ("text", "file", "images", "sticker", "forwarded_messages")


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one ``getUpdates`` gave: messages to take in, and the offset to ask from next time.

    The worker stores the messages first and only then keeps ``next_offset``: the next call with it
    is what tells Yandex to forget these updates, so a crash in between loses nothing.
    """

    messages: Sequence[InboundMessage] = ()
    ignored: Sequence[str] = ()
    next_offset: int = 0
    updates: int = 0


class YandexConnector:
    kind: ChannelKind = ChannelKind.YANDEX
    secret_names: tuple[str, ...] = ("oauth_token", "webhook_secret")

    def __init__(self, files: FileStore, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._files = files
        self._client = new_client(transport)
        self._progress: Recent[tuple[int, ...]] = Recent()

    async def close(self) -> None:
        await self._client.aclose()

    # --- settings ----------------------------------------------------------------------------

    def check_settings(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        check_api_base(settings)
        check_file_limit(settings)
        mode = settings.get("mode", "webhook")
        if mode not in MODES:
            raise InvalidInput(f"mode must be one of {', '.join(MODES)}", field="settings.mode")
        poll_interval(settings)
        require_secret(secrets, "oauth_token")
        if secrets.get("webhook_secret"):  # optional: absent or empty means derived
            require_secret(secrets, "webhook_secret", _WEBHOOK_SECRET)

    def check_reply(self, config: ChannelConfig, message: OutboundMessage, now: datetime) -> None:
        if not message.body.strip() and not message.attachments:
            raise InvalidInput("a Yandex Messenger message needs text or an attachment", field="body")

    def poll_interval(self, config: ChannelConfig) -> float | None:
        """Seconds between ``getUpdates`` calls for a polled channel; None for a webhook channel."""
        return poll_interval(config.settings) if self.polling(config) else None

    def polling(self, config: ChannelConfig) -> bool:
        """Whether this channel's updates are to be polled (by the lead's worker) instead of pushed."""
        return config.settings.get("mode") == "polling"

    def webhook_secret(self, config: ChannelConfig) -> str | None:
        configured = config.secrets.get("webhook_secret")
        if configured:
            return configured
        token = config.secrets.get("oauth_token")
        return hmac_sha256_hex(token, f"switchboard:yandex-webhook:{config.id}".encode()) if token else None

    # --- set-up ------------------------------------------------------------------------------

    async def connect(self, config: ChannelConfig, public_url: str) -> str:
        """Point the bot's ``webhook_url`` at us (or clear it for polling); ``SendFailed`` with Yandex's reason."""
        if self.polling(config):
            await self._call(config, "POST", "/bot/v1/self/update/", json={"webhook_url": None})
            return "the bot's webhook is cleared: the channel polls getUpdates"
        secret = self.webhook_secret(config) or ""
        joiner = "&" if "?" in public_url else "?"
        url = f"{public_url}{joiner}{urlencode({SECRET_PARAMETER: secret})}"
        await self._call(config, "POST", "/bot/v1/self/update/", json={"webhook_url": url})
        return f"Yandex Messenger delivers the bot's messages to {public_url} (with the channel's secret in the query)"

    # --- in ----------------------------------------------------------------------------------

    async def webhook(self, config: ChannelConfig, request: WebhookRequest) -> WebhookResult:
        expected = self.webhook_secret(config)
        if expected is None:
            raise WebhookRejected("the channel has no OAuth token configured", status=503)
        if not same_secret(request.query.get(SECRET_PARAMETER), expected):
            raise WebhookRejected("wrong or missing secret in the webhook URL", status=401)
        body = webhook_object(request.body)
        updates = body.get("updates")
        if not isinstance(updates, list):
            raise WebhookRejected("the body has no updates list", status=400)
        try:
            messages, ignored = await self._updates(config, updates)
        except (MediaUnavailable, SendFailed) as error:
            raise WebhookRejected(f"{error}; deliver the updates again later", status=503) from None
        return WebhookResult(messages=messages, ignored=ignored)

    async def poll(self, config: ChannelConfig, offset: int = 0, limit: int = 100) -> PollResult:
        """One ``getUpdates`` from ``offset``; ``SendFailed`` when Yandex or a file is unreachable (none consumed)."""
        body = await self._call(
            config, "GET", "/bot/v1/messages/getUpdates/", params={"offset": offset, "limit": limit}
        )
        updates = body.get("updates")
        if not isinstance(updates, list):
            raise SendFailed("Yandex Messenger: getUpdates answered without updates", retryable=True)
        try:
            messages, ignored = await self._updates(config, updates)
        except MediaUnavailable as error:
            raise SendFailed(str(error), retryable=True) from None
        numbers = [u["update_id"] for u in updates if isinstance(u, dict) and isinstance(u.get("update_id"), int)]
        return PollResult(messages, ignored, max(numbers) + 1 if numbers else offset, len(updates))

    async def _updates(self, config: ChannelConfig, updates: list[Any]) -> tuple[list[InboundMessage], list[str]]:
        messages: list[InboundMessage] = []
        ignored: list[str] = []
        for update in updates:
            parsed = await self._inbound(config, update)
            if isinstance(parsed, str):
                number = update.get("update_id") if isinstance(update, dict) else None
                log.info("channel %s: Yandex Messenger update %s ignored: %s", config.id, number, parsed)
                ignored.append(parsed)
            else:
                messages.append(parsed)
        return messages, ignored

    async def _inbound(self, config: ChannelConfig, update: Any) -> InboundMessage | str:
        if not isinstance(update, dict):
            return "malformed: update is not an object"
        chat, sender, number = update.get("chat"), update.get("from"), update.get("message_id")
        if not isinstance(chat, dict) or not isinstance(sender, dict) or not isinstance(number, int):
            return "malformed: update without chat, from or message_id"
        if chat.get("type") == "channel":
            return "channel post"
        if sender.get("robot"):
            return "message from a bot"
        who = sender.get("login") or sender.get("id")
        if not who:
            return "malformed: sender without login or id"
        if not any(update.get(key) for key in _CONTENT):
            extra = sorted(set(update) - {"chat", "from", "message_id", "update_id", "timestamp"})
            return f"update without content ({', '.join(extra) or 'empty'})"
        attachments, refusals = await self._media(config, update)
        lines = [str(update.get("text") or ""), *_forwarded(update), _sticker(update), refusal_notes(refusals)]
        return InboundMessage(
            config.id,
            Sender(sender.get("display_name") or None, external_kind=IdentityKind.YANDEX, external_id=str(who)),
            "\n".join(line for line in lines if line),
            message_key(chat.get("id") or f"{PRIVATE}{who}", number),
            tuple(attachments),
        )

    async def _media(self, config: ChannelConfig, update: Mapping[str, Any]) -> tuple[list[Attachment], list[Refused]]:
        attachments: list[Attachment] = []
        refusals: list[Refused] = []
        limit = file_limit(config.settings, DEFAULT_MAX_FILE_BYTES)
        for file_id, name, size in _files_of(update):
            got = too_large(name, size, limit) or await fetch(
                self._client,
                self._files,
                f"{self._base(config)}/bot/v1/messages/getFile/",
                name=name,
                content_type=None,
                limit=limit,
                provider=PROVIDER,
                headers=self._auth(config),
                params={"file_id": file_id},
            )
            if isinstance(got, Refused):
                refusals.append(got)
            else:
                attachments.append(got)
        return attachments, refusals

    # --- out ---------------------------------------------------------------------------------

    async def send(self, config: ChannelConfig, message: OutboundMessage) -> Receipt:
        field_name, value, chat = _recipient(message)
        steps: list[Callable[[], Awaitable[int]]] = [
            partial(self._send_text, config, {field_name: value}, part, f"switchboard-{message.message_id}-{index}")
            for index, part in enumerate(split_text(message.body, MAX_TEXT))
        ]
        steps += [partial(self._send_file, config, {field_name: value}, file) for file in message.attachments]
        if not steps:
            raise SendFailed("the reply has neither text nor attachments", retryable=False)
        key = (config.id, message.message_id)
        done = list(self._progress.get(key) or ())
        for step in steps[len(done) :]:
            done.append(await step())
            self._progress.put(key, tuple(done))
        self._progress.forget(key)
        return Receipt(message_key(chat, done[0]))

    async def _send_text(self, config: ChannelConfig, to: dict[str, str], text: str, payload_id: str) -> int:
        body = await self._call(
            config, "POST", "/bot/v1/messages/sendText/", json={**to, "text": text, "payload_id": payload_id}
        )
        return _message_id(body)

    async def _send_file(self, config: ChannelConfig, to: dict[str, str], file: OutboundFile) -> int:
        attachment = file.attachment
        if not file.sha256 or not self._files.exists(file.sha256):
            raise SendFailed(f"attachment {attachment.name!r} is not in the file store", retryable=False)
        data = await asyncio.to_thread(read_stored, self._files, file.sha256)
        path, part = ("/bot/v1/messages/sendImage/", "image")
        if attachment.content_type not in IMAGE_TYPES:
            path, part = ("/bot/v1/messages/sendFile/", "document")
        upload = {part: (attachment.name, data, attachment.content_type)}
        return _message_id(await self._call(config, "POST", path, data=to, files=upload))

    # --- the API -----------------------------------------------------------------------------

    def _base(self, config: ChannelConfig) -> str:
        return api_base(config.settings, API_BASE)

    def _auth(self, config: ChannelConfig) -> dict[str, str]:
        return {"Authorization": f"OAuth {config.secret('oauth_token')}"}

    async def _call(self, config: ChannelConfig, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """One API call; the answer when ``ok``, else ``SendFailed`` with Yandex's ``description``."""
        url = f"{self._base(config)}{path}"
        response = await request(self._client, method, url, provider=PROVIDER, headers=self._auth(config), **kwargs)
        body = response_object(response)
        if response.is_success and body.get("ok") is True:
            return body
        reason = str(body.get("description") or response.reason_phrase or "request failed")
        raise failure(PROVIDER, response, f"{path.strip('/').rsplit('/', 1)[-1]}: {reason}")


# --- parsing helpers (pure) -------------------------------------------------------------------


def poll_interval(settings: Mapping[str, Any]) -> float:
    value = settings.get("poll_interval_seconds", POLL_INTERVAL_S)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 1 <= value <= 3600:
        raise InvalidInput(
            "poll_interval_seconds must be a number from 1 to 3600", field="settings.poll_interval_seconds"
        )
    return float(value)


def _files_of(update: Mapping[str, Any]) -> list[tuple[str, str, int | None]]:
    """(file_id, name, size) of the update's file and of each picture's original (its largest size)."""
    found: list[tuple[str, str, int | None]] = []
    document = update.get("file")
    if isinstance(document, dict) and document.get("id"):
        name = str(document.get("name") or f"file-{update.get('message_id')}")
        found.append((str(document["id"]), name, _size(document)))
    for index, picture in enumerate(update.get("images") or ()):
        variants = picture if isinstance(picture, list) else []
        sizes = [size for size in variants if isinstance(size, dict) and size.get("file_id")]
        if not sizes:
            continue
        original = max(sizes, key=lambda size: size.get("width", 0) * size.get("height", 0))
        name = str(original.get("name") or f"image-{update.get('message_id')}-{index + 1}.jpeg")
        found.append((str(original["file_id"]), name, _size(original)))
    return found


def _size(item: Mapping[str, Any]) -> int | None:
    size = item.get("size")
    return size if isinstance(size, int) else None


def _forwarded(update: Mapping[str, Any]) -> list[str]:
    lines = []
    for item in update.get("forwarded_messages") or ():
        if not isinstance(item, dict) or not item.get("text"):
            continue
        author = item["from"] if isinstance(item.get("from"), dict) else {}
        who = author.get("display_name") or author.get("login")
        lines.append(f"Forwarded from {who}: {item['text']}" if who else f"Forwarded: {item['text']}")
    return lines


def _sticker(update: Mapping[str, Any]) -> str:
    return "[sticker]" if update.get("sticker") else ""


def _recipient(message: OutboundMessage) -> tuple[str, str, str]:
    """(``login`` or ``chat_id``, its value, the chat part of the receipt's id)."""
    chat = chat_of(message.reply_to)
    if chat is not None and chat.startswith(PRIVATE):
        return "login", chat.removeprefix(PRIVATE), chat
    if chat is not None:
        return "chat_id", chat, chat
    login = identity_value(message.identities, IdentityKind.YANDEX)
    if login is None:
        raise SendFailed("the contact has no Yandex Messenger login to answer", retryable=False)
    return "login", login, f"{PRIVATE}{login}"


def _message_id(body: Mapping[str, Any]) -> int:
    number = body.get("message_id")
    if not isinstance(number, int):
        raise SendFailed("Yandex Messenger: the answer has no message_id", retryable=False)
    return number
