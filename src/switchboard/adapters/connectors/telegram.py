"""Telegram Bot API (https://core.telegram.org/bots/api): a bot's private chats as a channel.

Set-up (``connect``): ``setWebhook`` with our URL and a ``secret_token``; Telegram then sends every
update with the ``X-Telegram-Bot-Api-Secret-Token`` header, compared in constant time. The token is
the channel's secret ``webhook_secret`` when one is configured, else derived from the bot token and
the channel id (HMAC-SHA256): stable across restarts and nodes without storing anything, and
unknowable without the bot token, which already grants everything.

In (``webhook``): one ``Update`` per call. A ``message`` becomes an ``InboundMessage``: its text or
caption, the largest size of a photo, a document, voice, audio, video, a location or venue, a
contact card. Media are fetched with ``getFile`` and the file URL into the file store under the
channel's ``max_file_bytes`` (default 20 MB, what the cloud Bot API lets a bot download); a file
over it is refused with a note in the message, and the message is still taken. A contact card
whose ``user_id`` is the sender's own (a "share my phone" button) gives the sender's phone, so the
customer joins the contact who calls or texts from that number; someone else's card stays text.
Edited messages, channel posts, callback queries and the rest are acknowledged and listed in
``ignored``. The external message id is ``"<chat id>:<message id>"``: a redelivered update gives the
same id, which the intake answers without storing twice.

Out (``send``): ``sendMessage`` (a text over 4096 UTF-16 units is split at paragraph, line or word
boundaries into several messages), then ``sendPhoto``/``sendDocument`` uploads from the file store.
The receipt is the first message's id. A 429 is retried after the body's
``parameters.retry_after``; a retried reply resumes after the parts already sent (remembered in
this process; after a restart between tries the first parts may repeat — Telegram has no
idempotency key).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

import httpx

from switchboard.adapters.connectors.http import hmac_sha256_hex, new_client, same_secret
from switchboard.adapters.connectors.inbound_media import (
    MediaUnavailable,
    Refused,
    content_type_of,
    fetch,
    refusal_notes,
    too_large,
)
from switchboard.adapters.connectors.long_text import split_text, utf16_length
from switchboard.adapters.connectors.messengers import (
    MIB,
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
from switchboard.application.ports.files import FileStore
from switchboard.domain.channels import ChannelKind
from switchboard.domain.conversation import Attachment
from switchboard.domain.errors import InvalidIdentity
from switchboard.domain.identity import IdentityKind, normalize_phone

log = logging.getLogger("switchboard.connectors.telegram")

PROVIDER = "Telegram"
API_BASE = "https://api.telegram.org"
SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 - a header name
MAX_TEXT = 4096
DEFAULT_FILE_LIMIT = 20 * MIB  # getFile: "bots can download files of up to 20MB in size"
MAX_UPLOAD = 50 * MIB  # "Bots can currently send files of any type of up to 50 MB in size"
MAX_PHOTO = 10 * MIB  # sendPhoto: "The photo must be at most 10 MB in size"
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
ALLOWED_UPDATES = ("message", "edited_message")
_BOT_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")

# Message fields that carry one file: (field, name prefix, extension, content type when not given)
_FILES = (
    ("document", "document", ".bin", None),
    ("voice", "voice", ".ogg", "audio/ogg"),
    ("audio", "audio", ".mp3", "audio/mpeg"),
    ("video", "video", ".mp4", "video/mp4"),
    ("video_note", "video-note", ".mp4", "video/mp4"),
    ("animation", "animation", ".mp4", "video/mp4"),
)
_CONTENT = ("text", "caption", "photo", "location", "venue", "contact", "sticker", *(f[0] for f in _FILES))


class TelegramConnector:
    kind: ChannelKind = ChannelKind.TELEGRAM
    secret_names: tuple[str, ...] = ("bot_token", "webhook_secret")

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
        require_secret(secrets, "bot_token", _BOT_TOKEN)
        if secrets.get("webhook_secret"):  # optional: absent or empty means derived
            require_secret(secrets, "webhook_secret", _WEBHOOK_SECRET)

    def check_reply(self, config: ChannelConfig, message: OutboundMessage, now: datetime) -> None:
        if not message.body.strip() and not message.attachments:
            raise InvalidInput("a Telegram message needs text or an attachment", field="body")
        for file in message.attachments:
            if file.attachment.size > MAX_UPLOAD:
                raise InvalidInput(
                    f"{file.attachment.name!r} is over Telegram's {MAX_UPLOAD // MIB} MB limit for bots",
                    field="attachments",
                )

    def webhook_secret(self, config: ChannelConfig) -> str | None:
        """The secret token Telegram sends back: the configured one, else derived from the bot token."""
        configured = config.secrets.get("webhook_secret")
        if configured:
            return configured
        token = config.secrets.get("bot_token")
        return hmac_sha256_hex(token, f"switchboard:telegram-webhook:{config.id}".encode()) if token else None

    # --- set-up ------------------------------------------------------------------------------

    async def connect(self, config: ChannelConfig, public_url: str) -> str:
        """Register our webhook with its secret token; raise ``SendFailed`` with Telegram's reason."""
        payload = {"url": public_url, "secret_token": self.webhook_secret(config), "allowed_updates": ALLOWED_UPDATES}
        await self._call(config, "setWebhook", json=payload)
        return f"Telegram delivers the bot's messages to {public_url} with the channel's secret token"

    # --- in ----------------------------------------------------------------------------------

    async def webhook(self, config: ChannelConfig, request: WebhookRequest) -> WebhookResult:
        expected = self.webhook_secret(config)
        if expected is None:
            raise WebhookRejected("the channel has no bot token configured", status=503)
        if not same_secret(request.headers.get(SECRET_HEADER), expected):
            raise WebhookRejected("wrong or missing X-Telegram-Bot-Api-Secret-Token", status=401)
        update = webhook_object(request.body)
        kind = next((key for key in update if key != "update_id"), "empty update")
        if kind != "message":
            return self._ignored(config, update, kind)
        try:
            parsed = await self._inbound(config, update["message"])
        except (MediaUnavailable, SendFailed) as error:
            raise WebhookRejected(f"{error}; deliver the update again later", status=503) from None
        if isinstance(parsed, str):
            return self._ignored(config, update, parsed)
        return WebhookResult(messages=(parsed,))

    def _ignored(self, config: ChannelConfig, update: Mapping[str, Any], kind: str) -> WebhookResult:
        log.info("channel %s: Telegram update %s ignored: %s", config.id, update.get("update_id"), kind)
        return WebhookResult(ignored=(kind,))

    async def _inbound(self, config: ChannelConfig, message: Any) -> InboundMessage | str:
        """The message as an ``InboundMessage``, or why it is ignored."""
        if not isinstance(message, dict):
            return "malformed: message is not an object"
        sender, chat, number = message.get("from"), message.get("chat"), message.get("message_id")
        if not isinstance(sender, dict) or not isinstance(chat, dict) or "id" not in sender or "id" not in chat:
            return "malformed: message without from.id or chat.id"
        if not isinstance(number, int):
            return "malformed: message without message_id"
        if sender.get("is_bot"):
            return "message from a bot"
        if not any(key in message for key in _CONTENT):
            return "message without supported content (a service message, poll, dice…)"
        attachments, refusals = await self._media(config, message)
        card, phone = _contact(message.get("contact"), sender["id"])
        lines = [message.get("text") or message.get("caption") or "", card, _place(message), _sticker(message)]
        body = "\n".join(line for line in [*lines, refusal_notes(refusals)] if line)
        return InboundMessage(
            config.id,
            Sender(_name(sender), phone=phone, external_kind=IdentityKind.TELEGRAM, external_id=str(sender["id"])),
            body,
            message_key(chat["id"], number),
            tuple(attachments),
            language=sender.get("language_code") or None,
        )

    async def _media(self, config: ChannelConfig, message: Mapping[str, Any]) -> tuple[list[Attachment], list[Refused]]:
        attachments: list[Attachment] = []
        refusals: list[Refused] = []
        for file_id, name, content_type, size in _files_of(message):
            got = await self._download(config, file_id, name, content_type, size)
            if isinstance(got, Refused):
                refusals.append(got)
            else:
                attachments.append(got)
        return attachments, refusals

    async def _download(
        self, config: ChannelConfig, file_id: str, name: str, content_type: str | None, size: int | None
    ) -> Attachment | Refused:
        limit = file_limit(config.settings, DEFAULT_FILE_LIMIT)
        early = too_large(name, size, limit)
        if early is not None:
            return early
        try:
            described = await self._call(config, "getFile", json={"file_id": file_id})
        except SendFailed as error:
            if error.retryable:
                raise MediaUnavailable(error.reason) from None
            return Refused(name, error.reason)
        path = described.get("file_path") if isinstance(described, dict) else None
        if not path:
            return Refused(name, "Telegram gave no file path")
        early = too_large(name, described.get("file_size"), limit)
        if early is not None:
            return early
        url = f"{self._base(config)}/file/bot{config.secret('bot_token')}/{path}"
        return await fetch(
            self._client, self._files, url, name=name, content_type=content_type, limit=limit, provider=PROVIDER
        )

    # --- out ---------------------------------------------------------------------------------

    async def send(self, config: ChannelConfig, message: OutboundMessage) -> Receipt:
        chat = _chat_id(message)
        steps: list[Callable[[], Awaitable[int]]] = [
            partial(self._send_text, config, chat, part) for part in split_text(message.body, MAX_TEXT, utf16_length)
        ]
        steps += [partial(self._send_file, config, chat, file) for file in message.attachments]
        if not steps:
            raise SendFailed("the reply has neither text nor attachments", retryable=False)
        key = (config.id, message.message_id)
        done = list(self._progress.get(key) or ())
        for step in steps[len(done) :]:
            done.append(await step())
            self._progress.put(key, tuple(done))
        self._progress.forget(key)
        return Receipt(message_key(chat, done[0]))

    async def _send_text(self, config: ChannelConfig, chat: int | str, text: str) -> int:
        result = await self._call(config, "sendMessage", json={"chat_id": chat, "text": text})
        return _message_id(result)

    async def _send_file(self, config: ChannelConfig, chat: int | str, file: OutboundFile) -> int:
        attachment = file.attachment
        is_photo = attachment.content_type in PHOTO_TYPES and attachment.size <= MAX_PHOTO
        method, field = ("sendPhoto", "photo") if is_photo else ("sendDocument", "document")
        if file.sha256 and self._files.exists(file.sha256):
            data = await asyncio.to_thread(read_stored, self._files, file.sha256)
            upload = {field: (attachment.name, data, attachment.content_type)}
            result = await self._call(config, method, data={"chat_id": str(chat)}, files=upload)
        elif attachment.url and attachment.url.startswith(("https://", "http://")):
            result = await self._call(config, method, json={"chat_id": chat, field: attachment.url})
        else:
            raise SendFailed(f"attachment {attachment.name!r} is not in the file store", retryable=False)
        return _message_id(result)

    # --- the API -----------------------------------------------------------------------------

    def _base(self, config: ChannelConfig) -> str:
        return api_base(config.settings, API_BASE)

    async def _call(self, config: ChannelConfig, method: str, **kwargs: Any) -> Any:
        """Call a Bot API method; its ``result``, or ``SendFailed`` with Telegram's ``description``."""
        url = f"{self._base(config)}/bot{config.secret('bot_token')}/{method}"
        response = await request(self._client, "POST", url, provider=PROVIDER, **kwargs)
        body = response_object(response)
        if response.is_success and body.get("ok") is True:
            return body.get("result")
        parameters = body.get("parameters")
        wait = parameters.get("retry_after") if isinstance(parameters, dict) else None
        reason = str(body.get("description") or response.reason_phrase or "request failed")
        raise failure(PROVIDER, response, f"{method}: {reason}", float(wait) if isinstance(wait, int | float) else None)


# --- parsing helpers (pure) -------------------------------------------------------------------


def _name(user: Mapping[str, Any]) -> str | None:
    full = " ".join(str(user[key]).strip() for key in ("first_name", "last_name") if user.get(key))
    if full:
        return full
    return f"@{user['username']}" if user.get("username") else None


def _files_of(message: Mapping[str, Any]) -> list[tuple[str, str, str | None, int | None]]:
    """(file_id, name, content type, size) of each file the message carries; a photo by its largest size."""
    found: list[tuple[str, str, str | None, int | None]] = []
    sizes = [size for size in message.get("photo") or () if isinstance(size, dict) and size.get("file_id")]
    if sizes:
        largest = max(sizes, key=lambda size: (size.get("width", 0) * size.get("height", 0), size.get("file_size", 0)))
        name = f"photo-{largest.get('file_unique_id') or message.get('message_id')}.jpg"
        found.append((largest["file_id"], name, "image/jpeg", largest.get("file_size")))
    for field, prefix, extension, default_type in _FILES:
        item = message.get(field)
        if not isinstance(item, dict) or not item.get("file_id"):
            continue
        name = item.get("file_name") or f"{prefix}-{item.get('file_unique_id') or message.get('message_id')}{extension}"
        kind = item.get("mime_type") or default_type or content_type_of(name)
        found.append((item["file_id"], str(name), kind, item.get("file_size")))
    return found


def _contact(card: Any, sender_id: Any) -> tuple[str, str | None]:
    """The card as text, and the phone when the card is the sender's own (``user_id`` is the sender)."""
    if not isinstance(card, dict) or not card.get("phone_number"):
        return "", None
    raw = str(card["phone_number"]).strip()
    phone = raw if raw.startswith("+") else f"+{raw}"
    name = " ".join(str(card[key]) for key in ("first_name", "last_name") if card.get(key))
    text = f"Contact: {name}, {phone}" if name else f"Contact: {phone}"
    if card.get("user_id") != sender_id:
        return text, None
    try:
        return text, normalize_phone(phone, "ZZ")
    except InvalidIdentity:
        return text, None


def _place(message: Mapping[str, Any]) -> str:
    venue = message.get("venue")
    location = venue.get("location") if isinstance(venue, dict) else message.get("location")
    if not isinstance(location, dict) or "latitude" not in location or "longitude" not in location:
        return ""
    point = f"{location['latitude']}, {location['longitude']}"
    if isinstance(venue, dict):
        return f"Venue: {venue.get('title', '')}, {venue.get('address', '')} ({point})"
    return f"Location: {point}"


def _sticker(message: Mapping[str, Any]) -> str:
    sticker = message.get("sticker")
    if not isinstance(sticker, dict):
        return ""
    return f"[sticker {sticker['emoji']}]" if sticker.get("emoji") else "[sticker]"


def _chat_id(message: OutboundMessage) -> int | str:
    """The chat of the customer's last message, else the contact's private chat (a user's id is its chat id)."""
    chat = chat_of(message.reply_to) or identity_value(message.identities, IdentityKind.TELEGRAM)
    if chat is None:
        raise SendFailed("the contact has no Telegram chat to answer in", retryable=False)
    return int(chat) if chat.lstrip("-").isdigit() else chat


def _message_id(result: Any) -> int:
    if not isinstance(result, dict) or not isinstance(result.get("message_id"), int):
        raise SendFailed("Telegram: the answer has no message_id", retryable=False)
    return int(result["message_id"])
