"""The connector contract: what every channel's code does, whatever its medium.

A connector parses what its provider sends in (a webhook, a poll, a mail) into normalized
``InboundMessage`` s and ``DeliveryUpdate`` s, and sends an operator's reply out, returning a
``Receipt``. It never writes to storage itself: the application does, in one unit of work,
so a connector is tested against a local server that speaks its provider's API and nothing else.

Outbound sends are driven by the durable delivery queue (``application/outbound.py``): a
``SendFailed`` with ``retryable=True`` (a timeout, a 5xx, a 429) is tried again later with
backoff (``retry_after`` from the provider wins); ``retryable=False`` (a 4xx that will never
succeed) marks the message failed with the reason. A provider outage delays messages, never
drops them.

Connectors reach the network through an injectable client (httpx transport, SMTP host and
port from the channel's settings), so tests point them at local peers by base URL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from switchboard.domain.channels import Channel, ChannelKind
from switchboard.domain.conversation import Attachment, DeliveryStatus
from switchboard.domain.identity import Identity

if TYPE_CHECKING:  # the application's types, imported for annotations only: Services holds a registry
    from switchboard.application.delivery import DeliveryUpdate
    from switchboard.application.intake import InboundMessage


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """A channel as its connector sees it: public settings plus decrypted secrets (never logged)."""

    channel: Channel
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def id(self) -> int:
        return self.channel.id

    @property
    def settings(self) -> Mapping[str, Any]:
        return self.channel.settings

    def secret(self, name: str) -> str:
        """A required secret; a missing one is a configuration error the channel's health shows."""
        value = self.secrets.get(name)
        if not value:
            raise SendFailed(f"the channel has no secret {name!r} configured", retryable=False)
        return value


@dataclass(frozen=True, slots=True)
class OutboundFile:
    """An attachment to send: its metadata and where the file store keeps its bytes."""

    attachment: Attachment
    sha256: str | None = None  # set when the bytes are in our file store


@dataclass(frozen=True, slots=True)
class Template:
    """A provider-approved message template (WhatsApp outside its 24-hour window): name, language, parameters."""

    name: str
    language: str
    parameters: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One operator reply, with everything a connector needs to address it in the customer's channel."""

    message_id: int
    conversation_id: int
    contact_id: int
    body: str
    attachments: tuple[OutboundFile, ...] = ()
    identities: tuple[Identity, ...] = ()  # the contact's identities; the connector picks its own kind
    reply_to: str | None = None  # the provider's id of the last inbound message in the conversation
    subject: str | None = None  # the conversation's subject (email, fax)
    thread: tuple[str, ...] = ()  # earlier provider ids in the conversation, oldest first (email References)
    last_inbound_at: datetime | None = None  # when the customer last wrote in this conversation
    template: Template | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """The provider took the message: its id (for status callbacks) and how far it got."""

    external_id: str
    status: DeliveryStatus = DeliveryStatus.SENT


class SendFailed(Exception):
    """A send that did not go through; ``retryable`` says whether trying later can help."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


class WebhookRejected(Exception):
    """A webhook we must refuse (bad signature, wrong secret): answered with ``status`` and nothing stored."""

    def __init__(self, reason: str, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """What arrived at ``/api/v1/channels/{id}/webhook``, before anything trusts it."""

    method: str
    headers: Mapping[str, str]  # lower-cased names
    query: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class WebhookResult:
    """What a webhook meant: messages to take in, statuses to record, and what to answer the provider."""

    messages: Sequence[InboundMessage] = ()
    statuses: Sequence[DeliveryUpdate] = ()
    ignored: Sequence[str] = ()  # event types acknowledged and ignored (logged)
    reply_status: int = 200
    reply_body: bytes = b"ok"
    reply_content_type: str = "text/plain"


class Connector(Protocol):
    """The code of one medium. Registered by kind in a ``ConnectorRegistry``."""

    kind: ChannelKind
    secret_names: tuple[str, ...]  # which secrets the channel's settings carry (masked in the API)

    def check_settings(self, settings: Mapping[str, Any], secrets: Mapping[str, str]) -> None:
        """Raise ``InvalidInput`` naming the field when the channel cannot work with these settings."""
        ...

    def check_reply(self, config: ChannelConfig, message: OutboundMessage, now: datetime) -> None:
        """Refuse, before it is stored, a reply the provider will never accept (raise ``InvalidInput``).

        WhatsApp outside its 24-hour window without a template is the case in point; most
        connectors accept everything here.
        """
        ...

    async def send(self, config: ChannelConfig, message: OutboundMessage) -> Receipt:
        """Deliver one reply; raise ``SendFailed`` when it did not go through."""
        ...

    async def webhook(self, config: ChannelConfig, request: WebhookRequest) -> WebhookResult:
        """Verify and parse one webhook call; raise ``WebhookRejected`` when it is not genuine."""
        ...

    async def connect(self, config: ChannelConfig, public_url: str) -> str:
        """Set the provider up for this channel (register a webhook, test the credentials); say what was done."""
        ...


def delivers(connector: Connector, settings: Mapping[str, Any]) -> bool:
    """Whether this channel's replies go out through its connector.

    A connector may say no for some settings (``delivers(settings)``): an API channel without a
    ``webhook_url`` keeps its replies ``queued`` for the integration to read from the API.
    """
    check = getattr(connector, "delivers", None)
    return True if check is None else bool(check(settings))


@runtime_checkable
class Notifier(Protocol):
    """A connector that also tells an integration of what is not a reply (the API channel: a conversation closed)."""

    async def notify(self, config: ChannelConfig, kind: str, document: Mapping[str, Any]) -> None:
        """Deliver one notice; raise ``SendFailed`` when it did not go through."""
        ...


class ConnectorRegistry:
    """Connectors by channel kind; a kind without one keeps its replies queued."""

    def __init__(self, connectors: Sequence[Connector] = ()) -> None:
        self._by_kind: dict[ChannelKind, Connector] = {}
        for connector in connectors:
            self.register(connector)

    def register(self, connector: Connector) -> None:
        self._by_kind[connector.kind] = connector

    def get(self, kind: ChannelKind) -> Connector | None:
        return self._by_kind.get(kind)

    def kinds(self) -> frozenset[ChannelKind]:
        return frozenset(self._by_kind)

    async def close(self) -> None:
        """Close the connectors that hold connections (HTTP clients, sessions)."""
        for connector in self._by_kind.values():
            close = getattr(connector, "aclose", None) or getattr(connector, "close", None)
            if close is not None:
                await close()
