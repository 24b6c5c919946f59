"""WhatsApp Business Cloud API: customers' messages in, operators' replies out, statuses onto the message.

The sender is a phone number (``from`` is the wa_id, the number without ``+``), so a customer who
writes in WhatsApp is the same contact as the one who calls or texts from that number. Media come
in as ids: their URL is asked of the Graph API and fetched with the token into the file store.

WhatsApp lets a business answer freely only within 24 hours of the customer's last message
(the customer service window); after that only an approved template may be sent, which
``check_reply`` enforces before the reply is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from switchboard.adapters.connectors.http import new_client
from switchboard.adapters.connectors.meta.graph import (
    CUSTOMER_WINDOW,
    SECRET_NAMES,
    Collected,
    Graph,
    bare_type,
    check_graph_settings,
    file_name,
    items,
    kept,
    max_file_bytes,
    media_note,
    obj,
    read_stored,
    receive,
    split_text,
    text_of,
    webhook_url,
)
from switchboard.application.delivery import DeliveryUpdate
from switchboard.application.errors import InvalidInput
from switchboard.application.intake import InboundMessage, Sender
from switchboard.application.ports.connectors import (
    ChannelConfig,
    OutboundFile,
    OutboundMessage,
    Receipt,
    SendFailed,
    Template,
    WebhookRejected,
    WebhookRequest,
    WebhookResult,
)
from switchboard.application.ports.files import FileStore, FileTooLarge
from switchboard.domain.channels import ChannelKind
from switchboard.domain.conversation import Attachment, DeliveryStatus
from switchboard.domain.identity import IdentityKind
from switchboard.domain.source import Source

PROVIDER = "WhatsApp"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
MEDIA_KINDS = frozenset({"image", "video", "audio", "document", "sticker"})
# what WhatsApp shows inline; any other type goes as a document
SEND_KINDS = {
    "image/jpeg": "image",
    "image/png": "image",
    "video/mp4": "video",
    "video/3gpp": "video",
    "audio/aac": "audio",
    "audio/amr": "audio",
    "audio/mpeg": "audio",
    "audio/mp4": "audio",
    "audio/ogg": "audio",
}
CAPTIONED = frozenset({"image", "video", "document"})
STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}
VALUE_KEYS = frozenset({"messaging_product", "metadata", "contacts", "messages", "statuses"})
WINDOW_REFUSAL = "outside WhatsApp's 24-hour customer service window: only an approved template message can be sent"


class WhatsAppConnector:
    """The ``Connector`` of ``kind: whatsapp`` channels (settings: ``phone_number_id``)."""

    kind = ChannelKind.WHATSAPP
    secret_names = SECRET_NAMES

    def __init__(self, files: FileStore, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._files = files
        self._client = new_client(transport)

    async def aclose(self) -> None:
        await self._client.aclose()

    # --- configuration ------------------------------------------------------------------------

    def check_settings(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        check_graph_settings(settings, secrets, "phone_number_id", "WhatsApp business phone number ID (API Setup)")

    def check_reply(self, config: ChannelConfig, message: OutboundMessage, now: datetime) -> None:
        """Outside the 24-hour window only a template goes; a template needs a name and a language."""
        if message.template is not None:
            _check_template(message.template)
            return
        last = message.last_inbound_at
        if last is None or now - last > CUSTOMER_WINDOW:
            raise InvalidInput(WINDOW_REFUSAL, field="template")

    async def connect(self, config: ChannelConfig, public_url: str) -> str:
        """Check the token against the phone number; say what Meta knows of it and where the webhook goes."""
        graph = Graph(self._client, config, PROVIDER)
        number = config.settings["phone_number_id"]
        info = await graph.request(
            "GET", number, params={"fields": "display_phone_number,verified_name,quality_rating"}
        )
        return (
            f"WhatsApp number {text_of(info.get('display_phone_number')) or number} "
            f"({text_of(info.get('verified_name')) or 'no verified name'}, "
            f"quality {text_of(info.get('quality_rating')) or 'unknown'}) answers to this token. "
            f"In the Meta app, WhatsApp > Configuration: callback URL {webhook_url(config, public_url)}, "
            "this channel's verify token, and subscribe the messages field."
        )

    # --- inbound ------------------------------------------------------------------------------

    async def webhook(self, config: ChannelConfig, request: WebhookRequest) -> WebhookResult:
        async def parse(payload: dict[str, Any]) -> WebhookResult:
            found = Collected()
            if payload.get("object") != "whatsapp_business_account":
                found.ignored.append(f"object {payload.get('object')!r}")
            else:
                for entry in items(payload.get("entry")):
                    for change in items(entry.get("changes")):
                        await self._change(config, change, found)
            return found.result()

        return await receive(config, request, parse)

    async def _change(self, config: ChannelConfig, change: dict[str, Any], found: Collected) -> None:
        field, value = change.get("field"), change.get("value")
        if field != "messages" or not isinstance(value, dict):
            found.ignored.append(f"field {field!r}")
            return
        metadata = obj(value.get("metadata"))
        number = str(metadata.get("phone_number_id") or "")
        if number != config.settings.get("phone_number_id"):
            found.ignored.append(f"messages of phone number id {number!r}, not this channel's")
            return
        names = {text_of(c.get("wa_id")): _profile_name(c) for c in items(value.get("contacts"))}
        display = text_of(metadata.get("display_phone_number"))
        source = Source(dialled_number="+" + display) if display.isdigit() else Source()
        for message in items(value.get("messages")):
            parsed = await self._message(config, message, names, source)
            if isinstance(parsed, InboundMessage):
                found.messages.append(parsed)
            else:
                found.ignored.append(parsed)
        for status in items(value.get("statuses")):
            update = _status(config, status)
            if isinstance(update, DeliveryUpdate):
                found.statuses.append(update)
            else:
                found.ignored.append(update)
        found.ignored.extend(f"value.{key}" for key in sorted(set(value) - VALUE_KEYS))

    async def _message(
        self, config: ChannelConfig, message: dict[str, Any], names: dict[str, str], source: Source
    ) -> InboundMessage | str:
        kind, wamid, sender = text_of(message.get("type")), text_of(message.get("id")), text_of(message.get("from"))
        if not wamid or not sender:
            return f"{kind or 'a'} message without id or sender"
        body: str | None
        attachments: tuple[Attachment, ...] = ()
        if kind in MEDIA_KINDS:
            body, attachments = await self._media_message(config, kind, message.get(kind))
        else:
            body = _plain_content(kind, message)
        if body is None or (not body.strip() and not attachments):
            return f"message type {kind or '?'}"
        return InboundMessage(config.id, _sender(sender, names.get(sender)), body, wamid, attachments, source)

    async def _media_message(
        self, config: ChannelConfig, kind: str, media: object
    ) -> tuple[str, tuple[Attachment, ...]]:
        if not isinstance(media, dict):
            return f"[{kind} without its media]", ()
        caption = text_of(media.get("caption")).strip()
        attachment, note = await self._fetch(config, kind, media)
        body = "\n".join(part for part in (caption, note) if part)
        return body, (attachment,) if attachment else ()

    async def _fetch(self, config: ChannelConfig, kind: str, media: dict[str, Any]) -> tuple[Attachment | None, str]:
        """Ask Graph for the media's URL, download it with the token, keep it; a note instead when it cannot be.

        A failure that may pass (timeout, 5xx, rate limit) refuses the whole webhook with 503, so Meta
        delivers it again later and the intake's dedupe keeps what was already taken in.
        """
        media_id = text_of(media.get("id"))
        if not media_id:
            return None, f"[{kind} without a media id]"
        limit = max_file_bytes(config.settings)
        try:
            graph = Graph(self._client, config, PROVIDER)
            info = await graph.request("GET", media_id)
            url = text_of(info.get("url"))
            if not url:
                raise SendFailed(f"{PROVIDER}: media {media_id} has no URL", retryable=False)
            size = info.get("file_size")
            if isinstance(size, int) and size > limit:
                raise FileTooLarge(size, limit)
            data, served_type = await graph.download(url, limit=limit, authorized=True)
            content_type = bare_type(text_of(media.get("mime_type")) or text_of(info.get("mime_type")) or served_type)
            name = file_name(text_of(media.get("filename")), f"{kind}-{media_id}", content_type)
            return kept(self._files, data, content_type, name), ""
        except FileTooLarge as error:
            return None, media_note(kind, error)
        except SendFailed as error:
            if error.retryable:
                raise WebhookRejected(f"{error.reason}; Meta will deliver the webhook again", status=503) from error
            return None, media_note(kind, error)

    # --- outbound -----------------------------------------------------------------------------

    async def send(self, config: ChannelConfig, message: OutboundMessage) -> Receipt:
        """POST /{phone_number_id}/messages, one message per text part or file; the first one's wamid is the receipt.

        Files are uploaded first (POST /{phone_number_id}/media), so a file that cannot go fails the
        reply before any part of it reached the customer.
        """
        graph = Graph(self._client, config, PROVIDER)
        number = str(config.settings["phone_number_id"])
        to = _recipient(message)
        if message.template is not None:
            payloads = [_envelope(to, "template", _template_body(message.template))]
        else:
            payloads = await self._reply_payloads(graph, number, to, message)
        ids = [await _post(graph, number, payload) for payload in payloads]
        return Receipt(ids[0])

    async def _reply_payloads(
        self, graph: Graph, number: str, to: str, message: OutboundMessage
    ) -> list[dict[str, Any]]:
        media = [(file, _send_kind(file), await self._media_ref(graph, number, file)) for file in message.attachments]
        body = message.body.strip()
        if len(media) == 1 and media[0][1] in CAPTIONED and len(body) <= CAPTION_LIMIT:
            file, kind, ref = media[0]
            return [_envelope(to, kind, _media_body(file, kind, ref, body))]
        payloads = [_envelope(to, "text", {"body": part}) for part in split_text(body, TEXT_LIMIT)]
        payloads += [_envelope(to, kind, _media_body(file, kind, ref, "")) for file, kind, ref in media]
        if not payloads:
            raise SendFailed("the reply has neither text nor attachments", retryable=False)
        return payloads

    async def _media_ref(self, graph: Graph, number: str, file: OutboundFile) -> dict[str, str]:
        """An uploaded media id for a file in our store, else a public https link, else a permanent failure."""
        attachment = file.attachment
        if file.sha256 and self._files.exists(file.sha256):
            answer = await graph.request(
                "POST",
                f"{number}/media",
                data={"messaging_product": "whatsapp", "type": attachment.content_type},
                files={"file": (attachment.name, read_stored(self._files, file.sha256), attachment.content_type)},
            )
            media_id = text_of(answer.get("id"))
            if not media_id:
                raise SendFailed(f"{PROVIDER}: the upload of {attachment.name!r} returned no media id", retryable=False)
            return {"id": media_id}
        if attachment.url and attachment.url.startswith("https://"):
            return {"link": attachment.url}
        raise SendFailed(
            f"attachment {attachment.name!r} is neither in the file store nor at an https URL", retryable=False
        )


# --- parsing helpers --------------------------------------------------------------------------


def _profile_name(contact: dict[str, Any]) -> str:
    profile = contact.get("profile")
    return text_of(profile.get("name")) if isinstance(profile, dict) else ""


def _sender(wa_id: str, name: str | None) -> Sender:
    """A wa_id is a phone number without ``+``: the phone identity that joins SMS, voice and fax."""
    if wa_id.isdigit():
        return Sender(name=name or None, phone="+" + wa_id)
    return Sender(name=name or None, external_kind=IdentityKind.EXTERNAL, external_id=f"whatsapp:{wa_id}")


def _plain_content(kind: str, message: dict[str, Any]) -> str | None:
    """The text of a message without media; None for a type we do not take in (reactions, orders, system…)."""
    part = message.get(kind)
    if kind == "text" and isinstance(part, dict):
        return text_of(part.get("body"))
    if kind == "location" and isinstance(part, dict):
        return _location(part)
    if kind == "contacts" and isinstance(part, list):
        return "\n".join(_contact_card(card) for card in items(part))
    if kind == "interactive" and isinstance(part, dict):
        reply = part.get(text_of(part.get("type")))
        if isinstance(reply, dict):
            return "\n".join(x for x in (text_of(reply.get("title")), text_of(reply.get("description"))) if x)
    if kind == "button" and isinstance(part, dict):
        return text_of(part.get("text")) or text_of(part.get("payload"))
    return None


def _location(place: dict[str, Any]) -> str:
    lines = [text_of(place.get("name")), text_of(place.get("address"))]
    latitude, longitude = place.get("latitude"), place.get("longitude")
    if isinstance(latitude, int | float) and isinstance(longitude, int | float):
        lines.append(f"📍 {latitude}, {longitude}")
    lines.append(text_of(place.get("url")))
    return "\n".join(line for line in lines if line)


def _contact_card(card: dict[str, Any]) -> str:
    name = card.get("name")
    title = text_of(name.get("formatted_name")) if isinstance(name, dict) else ""
    phones = [text_of(p.get("phone")) for p in items(card.get("phones"))]
    emails = [text_of(e.get("email")) for e in items(card.get("emails"))]
    details = ", ".join(x for x in (*phones, *emails) if x)
    return f"👤 {title or 'contact'}" + (f": {details}" if details else "")


def _status(config: ChannelConfig, status: dict[str, Any]) -> DeliveryUpdate | str:
    value, wamid = text_of(status.get("status")), text_of(status.get("id"))
    mapped = STATUSES.get(value)
    if mapped is None or not wamid:
        return f"status {value or '?'}"
    reason = _failure_reason(status.get("errors")) if mapped is DeliveryStatus.FAILED else None
    return DeliveryUpdate(config.id, wamid, mapped, reason)


def _failure_reason(errors: object) -> str:
    for error in items(errors):
        title = text_of(error.get("title")) or text_of(error.get("message"))
        data = error.get("error_data")
        details = text_of(data.get("details")) if isinstance(data, dict) else ""
        text = f"{title}: {details}" if details and details != title else title
        return f"{text} (code {error.get('code')})"
    return "WhatsApp reported the message failed"


# --- sending helpers --------------------------------------------------------------------------


def _check_template(template: Template) -> None:
    if not template.name.strip():
        raise InvalidInput("a template needs the name it was approved under", field="template.name")
    if not template.language.strip():
        raise InvalidInput("a template needs its language code, such as ru or en_US", field="template.language")


def _recipient(message: OutboundMessage) -> str:
    phone = next((i.value for i in message.identities if i.kind is IdentityKind.PHONE), None)
    if phone is None:
        raise SendFailed("the contact has no phone number to write to on WhatsApp", retryable=False)
    return phone.removeprefix("+")


def _envelope(to: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind, kind: body}


def _template_body(template: Template) -> dict[str, Any]:
    body: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    if template.parameters:
        parameters = [{"type": "text", "text": value} for value in template.parameters]
        body["components"] = [{"type": "body", "parameters": parameters}]
    return body


def _send_kind(file: OutboundFile) -> str:
    return SEND_KINDS.get(bare_type(file.attachment.content_type), "document")


def _media_body(file: OutboundFile, kind: str, ref: dict[str, str], caption: str) -> dict[str, Any]:
    body: dict[str, Any] = dict(ref)
    if caption:
        body["caption"] = caption
    if kind == "document":
        body["filename"] = file.attachment.name
    return body


async def _post(graph: Graph, number: str, payload: dict[str, Any]) -> str:
    answer = await graph.request("POST", f"{number}/messages", json=payload)
    sent = next(items(answer.get("messages")), {})
    wamid = text_of(sent.get("id"))
    if not wamid:
        raise SendFailed(f"{PROVIDER}: the answer carries no message id", retryable=False)
    return wamid
