"""An inbound message, the answer intake gives for it, and the channel and line it goes to.

Shared by the one-message path (``intake``) and the group commit (``intake_batch``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from switchboard.application.context import Services
from switchboard.application.errors import InvalidInput, NotFound
from switchboard.application.ports.storage import UnitOfWork
from switchboard.domain.channels import Channel, ChannelKind
from switchboard.domain.conversation import Attachment
from switchboard.domain.identity import Identity, IdentityKind
from switchboard.domain.lines import Line
from switchboard.domain.source import Source


@dataclass(frozen=True, slots=True)
class Sender:
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    external_kind: IdentityKind | None = None
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class ThreadHint:
    """Which conversation a reply says it continues, as its channel read it (email).

    ``external_ids`` are the provider ids it answers, most specific first (In-Reply-To, then
    References newest first); ``conversation_id`` is the one its signed reply token names, already
    verified by the adapter. Intake tries them in that order, on the message's channel only.
    """

    external_ids: tuple[str, ...] = ()
    conversation_id: int | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    channel_id: int
    sender: Sender
    body: str
    external_id: str | None = None
    attachments: tuple[Attachment, ...] = ()
    source: Source = field(default_factory=Source)
    language: str | None = None
    thread: ThreadHint | None = None


@dataclass(frozen=True, slots=True)
class IntakeResult:
    contact_id: int
    conversation_id: int
    message_id: int
    contact_created: bool
    conversation_opened: bool
    lead_id: int | None
    lead_created: bool
    duplicate: bool


@dataclass(frozen=True, slots=True)
class Inbound:
    """A checked message waiting for its transaction: the sender's identities (strongest first) and
    the channel kind the caller may write into."""

    message: InboundMessage
    identities: list[Identity]
    kind: ChannelKind | None


async def route(
    services: Services, uow: UnitOfWork, channel_id: int, kind: ChannelKind | None, now: datetime
) -> tuple[Channel, Line]:
    found = await services.catalog.route(uow, channel_id, now)
    if found is None or not found[0].active:
        raise InvalidInput(f"channel {channel_id} does not exist or is switched off", field="channel_id")
    channel, line = found
    if kind is not None and channel.kind is not kind:
        raise InvalidInput(
            f"channel {channel.id} is a {channel.kind.value} channel, not {kind.value}", field="channel_id"
        )
    if line is None:
        raise NotFound(f"line {channel.line_id} of channel {channel.id} does not exist")
    return channel, line
