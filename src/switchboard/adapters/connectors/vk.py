"""VK community messages: the Callback API in (https://dev.vk.com/ru/api/callback/getting-started),
``messages.send`` out (https://dev.vk.com/ru/method/messages.send).

In (``webhook``): VK posts one JSON event per call. ``confirmation`` is answered with the
community's confirmation code (setting ``confirmation_code``) as plain text, which is how VK
checks the server. Every other event must carry the channel's secret key (secret ``secret``,
compared in constant time; wrong or missing → 401, nothing stored), and, when the setting
``group_id`` is given, that community's id (else 403). ``message_new`` becomes an
``InboundMessage``: text, photos (largest size), documents and voice messages fetched from their
URLs into the file store under ``max_file_bytes``, a location; stickers, videos, wall posts and
other attachments are named in the text. The sender is the VK user ``from_id`` (name looked up
once with ``users.get``). The external id is ``"<peer_id>:<id>"`` (``"<peer_id>:c<conversation_message_id>"``
in group chats, where a community bot gets no ``id``). Other event types are answered "ok" and
listed in ``ignored`` — VK retries any event not answered "ok".

Out (``send``): ``messages.send`` with ``peer_id``, ``message`` (over 4096 characters: several
messages) and ``random_id``, the number VK uses to drop a repeated send. It is derived from our
message id and the part (``message_id * 32 + part``, within int32), so a retried reply is not
delivered twice. VK checks it over the community's whole history: one community must not be
connected to two Switchboard databases, or the second one's replies would be dropped as repeats.
Files are uploaded (``photos.getMessagesUploadServer`` → upload → ``photos.saveMessagesPhoto``;
``docs.getMessagesUploadServer`` → upload → ``docs.save``) and attached to the last part; a file
that is not in our store but has a web address is sent as a link. VK answers errors with HTTP 200
and an ``error`` object: codes 6 (too many requests per second), 9 (flood control) and 10
(internal error) are retried, any other fails the message with VK's ``error_msg``.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from switchboard.adapters.connectors.http import new_client, same_secret
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

log = logging.getLogger("switchboard.connectors.vk")

PROVIDER = "VK"
API_BASE = "https://api.vk.com"
DEFAULT_VERSION = "5.199"
MAX_TEXT = 4096
MAX_PARTS = 32  # random_id = message_id * 32 + part; our bodies (64 000 characters) need at most 16
# error codes worth another try, with the wait VK implies: too many requests per second, flood control, internal error
RETRYABLE = {6: 1.0, 9: None, 10: None}
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
_VERSION = re.compile(r"^\d+\.\d+$")


class VkConnector:
    kind: ChannelKind = ChannelKind.VK
    secret_names: tuple[str, ...] = ("access_token", "secret")

    def __init__(self, files: FileStore, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._files = files
        self._client = new_client(transport)
        self._names: Recent[str] = Recent(4096)

    async def close(self) -> None:
        await self._client.aclose()

    # --- settings ----------------------------------------------------------------------------

    def check_settings(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        check_api_base(settings)
        check_file_limit(settings)
        code = settings.get("confirmation_code")
        if not isinstance(code, str) or not code.strip():
            raise InvalidInput(
                "confirmation_code (the string VK asks the server to return) is required",
                field="settings.confirmation_code",
            )
        group = settings.get("group_id")
        if group is not None and (not isinstance(group, int) or isinstance(group, bool) or group <= 0):
            raise InvalidInput("group_id must be the community's positive id", field="settings.group_id")
        version = settings.get("api_version")
        if version is not None and (not isinstance(version, str) or not _VERSION.match(version)):
            raise InvalidInput("api_version must look like 5.199", field="settings.api_version")
        require_secret(secrets, "access_token")
        require_secret(secrets, "secret")

    def check_reply(self, config: ChannelConfig, message: OutboundMessage, now: datetime) -> None:
        if not message.body.strip() and not message.attachments:
            raise InvalidInput("a VK message needs text or an attachment", field="body")

    # --- set-up ------------------------------------------------------------------------------

    async def connect(self, config: ChannelConfig, public_url: str) -> str:
        """Check the community token; the Callback API server itself is added in VK's community settings."""
        answer = await self._method(config, "groups.getById", {})
        groups = answer.get("groups") if isinstance(answer, dict) else answer
        group = groups[0] if isinstance(groups, list) and groups and isinstance(groups[0], dict) else {}
        expected = config.settings.get("group_id")
        if expected is not None and group.get("id") != expected:
            raise SendFailed(
                f"VK: the access token belongs to community {group.get('id')}, the channel says {expected}",
                retryable=False,
            )
        return (
            f"the access token works for the VK community {group.get('name', '?')} ({group.get('id', '?')}); "
            f"in its settings (Manage → API usage → Callback API) add the server {public_url} "
            f"with API version {self._version(config)} and the channel's secret key, and turn on message_new"
        )

    # --- in ----------------------------------------------------------------------------------

    async def webhook(self, config: ChannelConfig, request: WebhookRequest) -> WebhookResult:
        event = webhook_object(request.body)
        kind = event.get("type")
        if not isinstance(kind, str):
            raise WebhookRejected("the event has no type", status=400)
        expected_group = config.settings.get("group_id")
        if expected_group is not None and event.get("group_id") != expected_group:
            raise WebhookRejected(f"the event is for community {event.get('group_id')}, not this channel's", 403)
        if kind == "confirmation":
            return self._confirmation(config, event)
        self._check_secret(config, event.get("secret"))
        if kind != "message_new":
            return self._ignored(config, event, kind)
        try:
            parsed = await self._inbound(config, event.get("object"))
        except (MediaUnavailable, SendFailed) as error:
            raise WebhookRejected(f"{error}; deliver the event again later", status=503) from None
        if isinstance(parsed, str):
            return self._ignored(config, event, parsed)
        return WebhookResult(messages=(parsed,))

    def _confirmation(self, config: ChannelConfig, event: Mapping[str, Any]) -> WebhookResult:
        if event.get("secret") is not None:
            self._check_secret(config, event.get("secret"))
        code = config.settings.get("confirmation_code")
        if not code:
            raise WebhookRejected("the channel has no confirmation_code configured", status=503)
        return WebhookResult(reply_body=str(code).encode())

    def _check_secret(self, config: ChannelConfig, given: Any) -> None:
        expected = config.secrets.get("secret")
        if not expected:
            raise WebhookRejected("the channel has no secret key configured", status=503)
        if not same_secret(given if isinstance(given, str) else None, expected):
            raise WebhookRejected("wrong or missing secret", status=401)

    def _ignored(self, config: ChannelConfig, event: Mapping[str, Any], kind: str) -> WebhookResult:
        log.info("channel %s: VK event %s ignored: %s", config.id, event.get("event_id"), kind)
        return WebhookResult(ignored=(kind,))

    async def _inbound(self, config: ChannelConfig, payload: Any) -> InboundMessage | str:
        message = payload.get("message", payload) if isinstance(payload, dict) else None  # before 5.103: the message
        if not isinstance(message, dict):
            return "malformed: message_new without a message"
        sender, peer = message.get("from_id"), message.get("peer_id")
        if not isinstance(sender, int) or not isinstance(peer, int):
            return "malformed: message without from_id or peer_id"
        if message.get("out") == 1 or sender < 0:
            return "message sent by a community"
        number, in_chat = message.get("id") or 0, message.get("conversation_message_id")
        if not number and not isinstance(in_chat, int):
            return "malformed: message without id or conversation_message_id"
        attachments, refusals, notes = await self._attachments(config, message.get("attachments"))
        lines = [str(message.get("text") or ""), *notes, _place(message.get("geo")), *_forwarded(message)]
        body = "\n".join(line for line in [*lines, refusal_notes(refusals)] if line)
        if not body and not attachments:
            return "message without content"
        return InboundMessage(
            config.id,
            Sender(await self._name(config, sender), external_kind=IdentityKind.VK, external_id=str(sender)),
            body,
            message_key(peer, number) if number else message_key(peer, f"c{in_chat}"),
            tuple(attachments),
        )

    async def _attachments(
        self, config: ChannelConfig, items: Any
    ) -> tuple[list[Attachment], list[Refused], list[str]]:
        attachments: list[Attachment] = []
        refusals: list[Refused] = []
        notes: list[str] = []
        limit = file_limit(config.settings, DEFAULT_MAX_FILE_BYTES)
        for item in items if isinstance(items, list) else ():
            source = _file_of(item)
            if source is None:
                notes.append(_named(item))
                continue
            url, name, content_type, size = source
            got = too_large(name, size, limit) or await fetch(
                self._client, self._files, url, name=name, content_type=content_type, limit=limit, provider=PROVIDER
            )
            if isinstance(got, Refused):
                refusals.append(got)
            else:
                attachments.append(got)
        return attachments, refusals, notes

    async def _name(self, config: ChannelConfig, user_id: int) -> str | None:
        """The user's name from ``users.get``; a failed lookup costs only the name."""
        key = (config.id, user_id)
        known = self._names.get(key)
        if known is not None:
            return known or None
        try:
            users = await self._method(config, "users.get", {"user_ids": user_id})
        except SendFailed as error:
            log.warning("channel %s: VK users.get for %s failed: %s", config.id, user_id, error.reason)
            return None
        user = users[0] if isinstance(users, list) and users and isinstance(users[0], dict) else {}
        name = " ".join(str(user[key]) for key in ("first_name", "last_name") if user.get(key))
        self._names.put(key, name)
        return name or None

    # --- out ---------------------------------------------------------------------------------

    async def send(self, config: ChannelConfig, message: OutboundMessage) -> Receipt:
        peer = _peer_id(message)
        stored = [file for file in message.attachments if file.sha256 and self._files.exists(file.sha256)]
        links = [file.attachment.url for file in message.attachments if file not in stored and _is_web(file)]
        missing = [f.attachment.name for f in message.attachments if f not in stored and not _is_web(f)]
        if missing:
            raise SendFailed(f"attachment {missing[0]!r} is not in the file store", retryable=False)
        parts = split_text("\n".join(text for text in [message.body, *links] if text and text.strip()), MAX_TEXT)
        uploaded = [await self._upload(config, peer, file) for file in stored]
        if not parts and not uploaded:
            raise SendFailed("the reply has neither text nor attachments", retryable=False)
        if len(parts) > MAX_PARTS:
            raise SendFailed(f"the reply needs more than {MAX_PARTS} VK messages", retryable=False)
        first: int | None = None
        for index, part in enumerate(parts or [""]):
            params: dict[str, Any] = {"peer_id": peer, "random_id": random_id(message.message_id, index)}
            if part:
                params["message"] = part
            if uploaded and index == max(len(parts) - 1, 0):
                params["attachment"] = ",".join(uploaded)
            sent = _sent_id(await self._method(config, "messages.send", params))
            first = sent if first is None else first
        assert first is not None
        return Receipt(message_key(peer, first))

    async def _upload(self, config: ChannelConfig, peer: int, file: OutboundFile) -> str:
        """Upload one file from our store; its VK attachment id (``photo<owner>_<id>[_<key>]``, ``doc<owner>_<id>``)."""
        assert file.sha256 is not None
        data = await asyncio.to_thread(read_stored, self._files, file.sha256)
        attachment = file.attachment
        if attachment.content_type in PHOTO_TYPES:
            server = await self._method(config, "photos.getMessagesUploadServer", {"peer_id": peer})
            sent = await self._upload_to(server, "photo", attachment, data)
            saved = await self._method(
                config,
                "photos.saveMessagesPhoto",
                {"photo": sent.get("photo", ""), "server": sent.get("server", ""), "hash": sent.get("hash", "")},
            )
            photo = saved[0] if isinstance(saved, list) and saved and isinstance(saved[0], dict) else {}
            key = f"_{photo['access_key']}" if photo.get("access_key") else ""
            return _owned("photo", photo) + key
        server = await self._method(config, "docs.getMessagesUploadServer", {"type": "doc", "peer_id": peer})
        sent = await self._upload_to(server, "file", attachment, data)
        saved = await self._method(config, "docs.save", {"file": sent.get("file", ""), "title": attachment.name})
        return _owned("doc", saved.get("doc") if isinstance(saved, dict) else None)

    async def _upload_to(self, server: Any, field: str, attachment: Attachment, data: bytes) -> dict[str, Any]:
        url = server.get("upload_url") if isinstance(server, dict) else None
        if not isinstance(url, str):
            raise SendFailed("VK: no upload_url in the answer", retryable=False)
        upload = {field: (attachment.name, data, attachment.content_type)}
        response = await request(self._client, "POST", url, provider=PROVIDER, files=upload)
        body = response_object(response)
        if not response.is_success:
            raise failure(PROVIDER, response, f"upload of {attachment.name!r}")
        if body.get("error") or not body:
            raise SendFailed(
                f"VK: upload of {attachment.name!r} refused: {body.get('error', 'no answer')}", retryable=False
            )
        return body

    # --- the API -----------------------------------------------------------------------------

    def _version(self, config: ChannelConfig) -> str:
        return str(config.settings.get("api_version") or DEFAULT_VERSION)

    async def _method(self, config: ChannelConfig, name: str, params: Mapping[str, Any]) -> Any:
        """Call an API method (the token in the form body, never the URL); its ``response`` or ``SendFailed``."""
        data = {key: str(value) for key, value in params.items()}
        data |= {"access_token": config.secret("access_token"), "v": self._version(config)}
        url = f"{api_base(config.settings, API_BASE)}/method/{name}"
        response = await request(self._client, "POST", url, provider=PROVIDER, data=data)
        if not response.is_success:
            raise failure(PROVIDER, response, name)
        body = response_object(response)
        error = body.get("error")
        if isinstance(error, dict):
            code = error.get("error_code")
            reason = f"VK: {name}: error {code}: {error.get('error_msg', '')}".strip()
            if isinstance(code, int) and code in RETRYABLE:
                raise SendFailed(reason, retryable=True, retry_after=RETRYABLE[code])
            raise SendFailed(reason, retryable=False)
        if "response" not in body:
            raise SendFailed(f"VK: {name}: the answer has no response", retryable=False)
        return body["response"]


def random_id(message_id: int, part: int) -> int:
    """VK's de-duplication number for one part of one of our messages: stable, distinct, within int32."""
    return (message_id * MAX_PARTS + part) % 2**31


# --- parsing helpers (pure) -------------------------------------------------------------------


def _file_of(item: Any) -> tuple[str, str, str | None, int | None] | None:
    """(url, name, content type, size) of a photo, document or voice message; None for anything else."""
    if not isinstance(item, dict):
        return None
    kind = item.get("type")
    body = item.get(kind) if isinstance(kind, str) else None
    if not isinstance(body, dict):
        return None
    if kind == "photo":
        sizes = [size for size in body.get("sizes") or () if isinstance(size, dict) and size.get("url")]
        if not sizes:
            return None
        largest = max(sizes, key=lambda size: size.get("width", 0) * size.get("height", 0))
        return largest["url"], f"photo{body.get('owner_id')}_{body.get('id')}.jpg", "image/jpeg", None
    if kind == "doc" and body.get("url"):
        title = str(body.get("title") or f"doc{body.get('id')}")
        extension = str(body.get("ext") or "")
        name = title if not extension or title.lower().endswith(f".{extension.lower()}") else f"{title}.{extension}"
        size = body.get("size") if isinstance(body.get("size"), int) else None
        return body["url"], name, mimetypes.guess_type(name)[0], size  # VK's file server does not say
    if kind == "audio_message":
        if body.get("link_ogg"):
            return body["link_ogg"], f"voice-{body.get('id')}.ogg", "audio/ogg", None
        if body.get("link_mp3"):
            return body["link_mp3"], f"voice-{body.get('id')}.mp3", "audio/mpeg", None
    return None


def _named(item: Any) -> str:
    """An attachment we do not fetch, named in the text so the operator knows it was there."""
    kind = item.get("type") if isinstance(item, dict) else None
    body = item.get(kind) if isinstance(kind, str) else None
    if kind == "link" and isinstance(body, dict) and body.get("url"):
        return f"[link {body['url']}]"
    return f"[{kind or 'attachment'}]"


def _place(geo: Any) -> str:
    point = geo.get("coordinates") if isinstance(geo, dict) else None
    if not isinstance(point, dict) or "latitude" not in point or "longitude" not in point:
        return ""
    return f"Location: {point['latitude']}, {point['longitude']}"


def _forwarded(message: Mapping[str, Any]) -> list[str]:
    items = message.get("fwd_messages")
    return [f"Forwarded: {item['text']}" for item in items or () if isinstance(item, dict) and item.get("text")]


def _peer_id(message: OutboundMessage) -> int:
    """The conversation of the customer's last message, else the user's private dialog (a user's id is its peer id)."""
    peer = chat_of(message.reply_to) or identity_value(message.identities, IdentityKind.VK)
    if peer is None or not peer.lstrip("-").isdigit():
        raise SendFailed("the contact has no VK dialog to answer in", retryable=False)
    return int(peer)


def _sent_id(answer: Any) -> int:
    if isinstance(answer, int):
        return answer
    if isinstance(answer, dict) and isinstance(answer.get("message_id"), int):
        return int(answer["message_id"])
    raise SendFailed("VK: messages.send answered without a message id", retryable=False)


def _owned(kind: str, item: Any) -> str:
    if not isinstance(item, dict) or "owner_id" not in item or "id" not in item:
        raise SendFailed(f"VK: saving the {kind} answered without its id", retryable=False)
    return f"{kind}{item['owner_id']}_{item['id']}"


def _is_web(file: OutboundFile) -> bool:
    return bool(file.attachment.url and file.attachment.url.startswith(("https://", "http://")))
