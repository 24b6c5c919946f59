"""Facebook Messenger (and, through ``MessengerPlatform``, Instagram messaging): one Messenger Platform.

Both send ``entry[].messaging[]`` events: ``message`` (text and attachments by CDN URL), ``delivery``
and ``read`` receipts, and echoes of what the business itself sent (ignored: we stored those when we
sent them). A Messenger ``read`` carries only a watermark (a time, not a message id), so it cannot be
put on one message and is acknowledged and listed as ignored; a ``delivery`` names its message ids.

The sender is a page-scoped id (PSID, ``IdentityKind.FACEBOOK``), which means nothing outside this
Page: it does not join other channels' contacts by itself.

Messenger's standard messaging window is 24 hours from the person's last message. After it a reply
goes only with a message tag the channel is configured with (``settings.message_tag``):
``HUMAN_AGENT`` (what a contact center's operators are, up to 7 days; the app needs Meta's Human
Agent permission), or ``ACCOUNT_UPDATE``/``CONFIRMED_EVENT_UPDATE``/``POST_PURCHASE_UPDATE`` for
those uses only. Without a tag ``check_reply`` refuses the late reply before it is stored.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from switchboard.adapters.clock import SystemClock
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
from switchboard.application.ports.clock import Clock
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
from switchboard.application.ports.files import FileStore, FileTooLarge
from switchboard.domain.channels import ChannelKind
from switchboard.domain.conversation import Attachment, DeliveryStatus
from switchboard.domain.identity import IdentityKind

HUMAN_AGENT_WINDOW = timedelta(days=7)
DOWNLOADED = frozenset({"image", "video", "audio", "file"})
EVENT_KEYS = frozenset({"sender", "recipient", "timestamp"})
PAGE_FIELDS = "messages,message_deliveries,message_reads,message_echoes"


class MessengerPlatform:
    """What Messenger and Instagram share; a subclass names its kind, object, id setting and limits."""

    kind: ChannelKind
    secret_names = SECRET_NAMES
    provider: str
    object_name: str  # the webhook's "object"
    id_setting: str
    id_help: str
    identity: IdentityKind
    text_limit: int
    tags: frozenset[str]
    uploads: bool  # whether a file from our store can be sent as multipart ``filedata``

    def __init__(
        self, files: FileStore, transport: httpx.AsyncBaseTransport | None = None, *, clock: Clock | None = None
    ) -> None:
        self._files = files
        self._client = new_client(transport)
        self._clock = clock or SystemClock()

    async def aclose(self) -> None:
        await self._client.aclose()

    # --- configuration ------------------------------------------------------------------------

    def check_settings(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        check_graph_settings(settings, secrets, self.id_setting, self.id_help)
        tag = settings.get("message_tag")
        if tag is not None and tag not in self.tags:
            allowed = ", ".join(sorted(self.tags))
            raise InvalidInput(f"message_tag must be one of: {allowed}", field="settings.message_tag")

    def check_reply(self, config: ChannelConfig, message: OutboundMessage, now: datetime) -> None:
        """Inside 24 hours anything goes; later only with the channel's message tag (HUMAN_AGENT: 7 days).

        A platform that takes no uploads (Instagram) takes files only by a public https URL.
        """
        if not self.uploads:
            for file in message.attachments:
                if not (file.attachment.url or "").startswith("https://"):
                    raise InvalidInput(
                        f"{self.provider} takes attachment {file.attachment.name!r} only by a public https URL",
                        field="attachments",
                    )
        last = message.last_inbound_at
        age = None if last is None else now - last
        if age is not None and age <= CUSTOMER_WINDOW:
            return
        tag = config.settings.get("message_tag")
        if not tag:
            raise InvalidInput(
                f"outside {self.provider}'s 24-hour standard messaging window: only a message tag "
                "(settings.message_tag, such as HUMAN_AGENT) allows a later reply",
                field="message_tag",
            )
        if tag == "HUMAN_AGENT" and (age is None or age > HUMAN_AGENT_WINDOW):
            raise InvalidInput(
                "the HUMAN_AGENT tag allows a reply only within 7 days of the customer's last message",
                field="message_tag",
            )

    # --- inbound ------------------------------------------------------------------------------

    async def webhook(self, config: ChannelConfig, request: WebhookRequest) -> WebhookResult:
        async def parse(payload: dict[str, Any]) -> WebhookResult:
            found = Collected()
            if payload.get("object") != self.object_name:
                found.ignored.append(f"object {payload.get('object')!r}")
            else:
                for entry in items(payload.get("entry")):
                    await self._entry(config, entry, found)
            return found.result()

        return await receive(config, request, parse)

    async def _entry(self, config: ChannelConfig, entry: dict[str, Any], found: Collected) -> None:
        own = str(config.settings.get(self.id_setting))
        if str(entry.get("id")) != own:
            found.ignored.append(f"entry of {entry.get('id')!r}, not this channel's {self.id_setting}")
            return
        for event in items(entry.get("messaging")):
            await self._event(config, event, found)
        found.ignored.extend(f"field {change.get('field')!r}" for change in items(entry.get("changes")))
        found.ignored.extend("standby" for _ in items(entry.get("standby")))

    async def _event(self, config: ChannelConfig, event: dict[str, Any], found: Collected) -> None:
        if isinstance(event.get("message"), dict):
            parsed = await self._message(config, event)
            if isinstance(parsed, InboundMessage):
                found.messages.append(parsed)
            else:
                found.ignored.append(parsed)
        elif isinstance(event.get("delivery"), dict):
            listed = event["delivery"].get("mids")
            mids = [mid for mid in listed if isinstance(mid, str) and mid] if isinstance(listed, list) else []
            found.statuses.extend(DeliveryUpdate(config.id, mid, DeliveryStatus.DELIVERED) for mid in mids)
            if not mids:
                found.ignored.append("delivery watermark without message ids")
        elif isinstance(event.get("read"), dict):
            mid = text_of(event["read"].get("mid"))
            if mid:
                found.statuses.append(DeliveryUpdate(config.id, mid, DeliveryStatus.READ))
            else:
                found.ignored.append("read watermark without a message id")
        else:
            kinds = sorted(set(event) - EVENT_KEYS)
            found.ignored.append(f"event {', '.join(kinds) or '?'}")

    async def _message(self, config: ChannelConfig, event: dict[str, Any]) -> InboundMessage | str:
        message: dict[str, Any] = event["message"]
        if message.get("is_echo"):
            return "message echo"
        if message.get("is_deleted"):
            return "message deleted"
        sender = event.get("sender")
        sender_id = _id(sender.get("id")) if isinstance(sender, dict) else ""
        mid = text_of(message.get("mid"))
        if not sender_id or not mid:
            return "message without mid or sender"
        lines = [text_of(message.get("text")).strip()]
        attachments: list[Attachment] = []
        for index, item in enumerate(items(message.get("attachments"))):
            attachment, note = await self._attachment_in(config, item, f"{mid[-12:]}-{index}")
            if attachment is not None:
                attachments.append(attachment)
            lines.append(note)
        body = "\n".join(line for line in lines if line)
        if not body and not attachments:
            return "empty message"
        sender_of = Sender(external_kind=self.identity, external_id=sender_id)
        return InboundMessage(config.id, sender_of, body, mid, tuple(attachments))

    async def _attachment_in(
        self, config: ChannelConfig, item: dict[str, Any], suffix: str
    ) -> tuple[Attachment | None, str]:
        """Files are downloaded from their CDN URL (which expires); shares and links are kept as text."""
        kind = text_of(item.get("type")) or "attachment"
        payload = obj(item.get("payload"))
        url = text_of(payload.get("url"))
        if kind in DOWNLOADED and url:
            return await self._download(config, kind, url, suffix)
        title = text_of(payload.get("title")) or text_of(item.get("title"))
        if url:
            return None, f"{title or kind}: {url}"
        coordinates = obj(payload.get("coordinates"))
        if coordinates:
            return None, f"📍 {coordinates.get('lat')}, {coordinates.get('long')}"
        return None, f"[{kind}]"

    async def _download(self, config: ChannelConfig, kind: str, url: str, suffix: str) -> tuple[Attachment | None, str]:
        limit = max_file_bytes(config.settings)
        try:
            graph = Graph(self._client, config, self.provider)
            data, served_type = await graph.download(url, limit=limit, authorized=False)
            path = urlsplit(url).path
            content_type = bare_type(served_type or mimetypes.guess_type(path)[0])
            name = file_name(path if "." in path.rsplit("/", 1)[-1] else "", f"{kind}-{suffix}", content_type)
            return kept(self._files, data, content_type, name), ""
        except FileTooLarge as error:
            return None, media_note(kind, error)
        except SendFailed as error:
            if error.retryable:
                raise WebhookRejected(f"{error.reason}; Meta will deliver the webhook again", status=503) from error
            return None, media_note(kind, error)

    # --- outbound -----------------------------------------------------------------------------

    async def send(self, config: ChannelConfig, message: OutboundMessage) -> Receipt:
        """POST /me/messages: the text (in parts of the platform's limit), then each file; the first id is the receipt.

        Files are checked before anything is sent, so a file that cannot go fails the reply whole.
        """
        recipient = self._recipient(message)
        for file in message.attachments:
            self._sendable(file)
        graph = Graph(self._client, config, self.provider)
        envelope: dict[str, Any] = {"recipient": {"id": recipient}, **self._messaging_type(config, message)}
        ids = []
        for part in split_text(message.body, self.text_limit):
            ids.append(await _post(graph, self.provider, json={**envelope, "message": {"text": part}}))
        for file in message.attachments:
            ids.append(await self._send_file(graph, envelope, file))
        if not ids:
            raise SendFailed("the reply has neither text nor attachments", retryable=False)
        return Receipt(ids[0])

    def _recipient(self, message: OutboundMessage) -> str:
        found = next((i.value for i in message.identities if i.kind is self.identity), None)
        if found is None:
            raise SendFailed(f"the contact has no {self.provider} id to write to", retryable=False)
        return found

    def _messaging_type(self, config: ChannelConfig, message: OutboundMessage) -> dict[str, str]:
        """RESPONSE within 24 hours of the customer's message; later the channel's tag, when it has one."""
        tag = config.settings.get("message_tag")
        last = message.last_inbound_at
        if not tag or (last is not None and self._clock.now() - last <= CUSTOMER_WINDOW):
            return {"messaging_type": "RESPONSE"}
        return {"messaging_type": "MESSAGE_TAG", "tag": str(tag)}

    def _sendable(self, file: OutboundFile) -> None:
        if self.uploads and file.sha256 and self._files.exists(file.sha256):
            return
        url = file.attachment.url
        if not (url and url.startswith("https://")):
            where = "in the file store or " if self.uploads else ""
            raise SendFailed(
                f"{self.provider} takes attachment {file.attachment.name!r} only {where}by a public https URL",
                retryable=False,
            )

    async def _send_file(self, graph: Graph, envelope: dict[str, Any], file: OutboundFile) -> str:
        attachment = file.attachment
        kind = _attachment_kind(attachment.content_type)
        if self.uploads and file.sha256 and self._files.exists(file.sha256):
            form = {key: json.dumps(value) if isinstance(value, dict) else value for key, value in envelope.items()}
            form["message"] = json.dumps({"attachment": {"type": kind, "payload": {"is_reusable": False}}})
            data = read_stored(self._files, file.sha256)
            upload = {"filedata": (attachment.name, data, attachment.content_type)}
            return await _post(graph, self.provider, data=form, files=upload)
        payload = {"url": attachment.url, "is_reusable": False}
        return await _post(
            graph, self.provider, json={**envelope, "message": {"attachment": {"type": kind, "payload": payload}}}
        )

    # --- setup --------------------------------------------------------------------------------

    async def connect(self, config: ChannelConfig, public_url: str) -> str:
        graph = Graph(self._client, config, self.provider)
        own = str(config.settings[self.id_setting])
        page = await graph.request("GET", own, params={"fields": "id,name"})
        answer = await graph.request("POST", f"{own}/subscribed_apps", params={"subscribed_fields": PAGE_FIELDS})
        subscribed = "subscribed to" if answer.get("success") is True else "NOT subscribed to"
        return (
            f"Facebook Page {text_of(page.get('name')) or own} answers to this token and is {subscribed} "
            f"the app's {PAGE_FIELDS} webhooks. In the Meta app, Messenger > Settings > Webhooks: callback URL "
            f"{webhook_url(config, public_url)} with this channel's verify token."
        )


class MessengerConnector(MessengerPlatform):
    """The ``Connector`` of ``kind: facebook`` channels (settings: ``page_id``, optional ``message_tag``)."""

    kind = ChannelKind.FACEBOOK
    provider = "Messenger"
    object_name = "page"
    id_setting = "page_id"
    id_help = "Facebook Page ID (Page > About > Page transparency, or the Page's settings)"
    identity = IdentityKind.FACEBOOK
    text_limit = 2000
    tags = frozenset({"HUMAN_AGENT", "ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE"})
    uploads = True


def _id(value: object) -> str:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _attachment_kind(content_type: str) -> str:
    major = bare_type(content_type).split("/", 1)[0]
    return major if major in ("image", "video", "audio") else "file"


async def _post(graph: Graph, provider: str, **kwargs: Any) -> str:
    answer = await graph.request("POST", "me/messages", **kwargs)
    mid = text_of(answer.get("message_id"))
    if not mid:
        raise SendFailed(f"{provider}: the answer carries no message id", retryable=False)
    return mid
