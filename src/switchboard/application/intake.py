"""The main path's first step: a message arrives, the customer is recognised, the request is stored.

Everything happens in one unit of work, so a failure leaves nothing behind; a repeated delivery
(same channel and external id) gives the same answer and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from switchboard.application.access import Principal, require_role
from switchboard.application.context import Services
from switchboard.application.errors import InvalidInput, NotFound
from switchboard.application.ports.storage import Conflict, NewMessage, UnitOfWork
from switchboard.domain.channels import Channel, ChannelKind
from switchboard.domain.contacts import Contact, ContactTier, display_name
from switchboard.domain.conversation import (
    Attachment,
    AuthorKind,
    Conversation,
    ConversationAction,
    ConversationStatus,
    DeliveryStatus,
    Direction,
)
from switchboard.domain.errors import DomainError
from switchboard.domain.events import (
    ContactCreated,
    ConversationOpened,
    ConversationReopened,
    IdentityAdded,
    LeadCreated,
    MessageReceived,
)
from switchboard.domain.identity import Identity, IdentityKind, normalize_identity
from switchboard.domain.leads import lead_title
from switchboard.domain.lines import Line
from switchboard.domain.operators import Role
from switchboard.domain.source import Source
from switchboard.domain.timeline import summarize

MAX_BODY = 64_000


@dataclass(frozen=True, slots=True)
class Sender:
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    external_kind: IdentityKind | None = None
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    channel_id: int
    sender: Sender
    body: str
    external_id: str | None = None
    attachments: tuple[Attachment, ...] = ()
    source: Source = field(default_factory=Source)


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


def check_inbound(message: InboundMessage, default_region: str) -> list[Identity]:
    """Validate untrusted input and return the sender's normalized identities, strongest first."""
    if not message.body.strip() and not message.attachments:
        raise InvalidInput("the message has neither text nor attachments", field="body")
    if len(message.body) > MAX_BODY:
        raise InvalidInput(f"the message is longer than {MAX_BODY} characters", field="body")
    sender = message.sender
    raw: list[tuple[IdentityKind, str]] = []
    if sender.phone:
        raw.append((IdentityKind.PHONE, sender.phone))
    if sender.email:
        raw.append((IdentityKind.EMAIL, sender.email))
    if sender.external_id:
        raw.append((sender.external_kind or IdentityKind.EXTERNAL, sender.external_id))
    if not raw:
        raise InvalidInput("the sender needs a phone, an email or an external id", field="sender")
    try:
        return [normalize_identity(kind, value, default_region) for kind, value in raw]
    except DomainError as error:
        raise InvalidInput(error.detail, field=f"sender.{error.field}" if error.field else "sender") from error


async def receive_message(
    services: Services, principal: Principal, message: InboundMessage, *, kind: ChannelKind | None = None
) -> IntakeResult:
    """Store one inbound message; retried once when a concurrent delivery won a uniqueness race.

    ``kind`` restricts which channels the caller may write into (the API channel passes ``api``).
    """
    require_role(principal, Role.INTEGRATION, Role.ADMIN)
    identities = check_inbound(message, services.default_region)
    try:
        return await _receive_once(services, message, identities, kind)
    except Conflict:
        return await _receive_once(services, message, identities, kind)


async def _receive_once(
    services: Services, message: InboundMessage, identities: list[Identity], kind: ChannelKind | None
) -> IntakeResult:
    now = services.clock.now()
    async with services.uow() as uow:
        channel = await uow.channels.get(message.channel_id)
        if channel is None or not channel.active:
            raise InvalidInput(f"channel {message.channel_id} does not exist or is switched off", field="channel_id")
        if kind is not None and channel.kind is not kind:
            raise InvalidInput(
                f"channel {channel.id} is a {channel.kind.value} channel, not {kind.value}", field="channel_id"
            )
        if message.external_id:
            earlier = await _earlier_delivery(uow, channel, message.external_id)
            if earlier is not None:
                return earlier
        line = await uow.lines.get(channel.line_id)
        if line is None:
            raise NotFound(f"line {channel.line_id} of channel {channel.id} does not exist")
        contact, contact_created = await _identify(uow, message.sender, identities, channel, now)
        conversation, opened = await _conversation_for(uow, contact, channel, line, message.source, now)
        stored = await uow.messages.add(
            NewMessage(
                conversation_id=conversation.id,
                channel_id=channel.id,
                direction=Direction.IN,
                author_kind=AuthorKind.CONTACT,
                author_id=contact.id,
                body=message.body,
                delivery_status=DeliveryStatus.RECEIVED,
                created_at=now,
                external_id=message.external_id,
                attachments=message.attachments,
            )
        )
        conversation.apply(ConversationAction.CUSTOMER_WROTE)
        conversation.last_message_at = now
        await uow.conversations.save(conversation)
        await uow.timeline.add(
            contact.id, "message", stored.id, now, summarize(message.body or "📎"), conversation.id, channel.kind
        )
        lead_id = None
        if contact_created and line.create_lead_for_new_contact:
            lead_id = await _automatic_lead(uow, contact, channel, conversation, now)
        uow.emit(
            MessageReceived(stored.id, conversation.id, contact.id, line.id, channel.id, conversation.assignee_id),
            now,
        )
        await uow.commit()
    return IntakeResult(
        contact.id, conversation.id, stored.id, contact_created, opened, lead_id, lead_id is not None, False
    )


async def _earlier_delivery(uow: UnitOfWork, channel: Channel, external_id: str) -> IntakeResult | None:
    """The answer given the first time this message came, or None if it is new.

    Everything one delivery created carries that delivery's instant, which is how the
    first answer is rebuilt exactly.
    """
    earlier = await uow.messages.find_by_external_id(channel.id, external_id)
    if earlier is None:
        return None
    conversation = await uow.conversations.get(earlier.conversation_id)
    contact = await uow.contacts.get(conversation.contact_id) if conversation else None
    assert conversation is not None and contact is not None
    at = earlier.created_at
    leads = await uow.leads.list(contact.id, None, 50, 0)
    lead = next((x for x in leads if x.conversation_id == conversation.id and x.automatic and x.created_at == at), None)
    return IntakeResult(
        contact.id,
        conversation.id,
        earlier.id,
        contact.created_at == at,
        conversation.opened_at == at,
        lead.id if lead else None,
        lead is not None,
        True,
    )


async def _identify(
    uow: UnitOfWork, sender: Sender, identities: list[Identity], channel: Channel, now: datetime
) -> tuple[Contact, bool]:
    """Exact identity match, else a new contact; identities not yet owned join the contact."""
    owners = [await uow.contacts.find_by_identity(identity) for identity in identities]
    contact_id = next((owner for owner in owners if owner is not None), None)
    created = contact_id is None
    if contact_id is None:
        contact = await uow.contacts.add(display_name(sender.name, identities[0]), ContactTier.REGULAR, now)
        uow.emit(ContactCreated(contact.id, channel.id), now)
    else:
        found = await uow.contacts.get(contact_id)
        assert found is not None
        contact = found
    for identity, owner in zip(identities, owners, strict=True):
        if owner is None:
            await uow.contacts.add_identity(contact.id, identity, now)
            contact.identities.append(identity)
            if not created:
                uow.emit(IdentityAdded(contact.id, identity.kind.value), now)
    return contact, created


async def _conversation_for(
    uow: UnitOfWork, contact: Contact, channel: Channel, line: Line, source: Source, now: datetime
) -> tuple[Conversation, bool]:
    """The open conversation of this contact on this channel, a recently closed one reopened, or a new one."""
    latest = await uow.conversations.find_latest(contact.id, channel.id)
    if latest is not None and latest.status is not ConversationStatus.CLOSED:
        return latest, False
    window = timedelta(seconds=line.reopen_window_seconds)
    if latest is not None and latest.closed_at is not None and now - latest.closed_at <= window:
        latest.apply(ConversationAction.REOPEN)
        latest.closed_at = None
        await uow.timeline.add(
            contact.id, "conversation_reopened", latest.id, now, channel.name, latest.id, channel.kind
        )
        uow.emit(ConversationReopened(latest.id, latest.line_id), now)
        return latest, False
    conversation = await uow.conversations.add(
        contact.id, line.id, channel.id, ConversationStatus.NEW, now, source.with_route(channel.id, line.id)
    )
    await uow.timeline.add(
        contact.id, "conversation_opened", conversation.id, now, f"{channel.name}", conversation.id, channel.kind
    )
    uow.emit(ConversationOpened(conversation.id, contact.id, line.id, channel.id), now)
    return conversation, True


async def _automatic_lead(
    uow: UnitOfWork, contact: Contact, channel: Channel, conversation: Conversation, now: datetime
) -> int:
    lead = await uow.leads.add(
        contact.id, conversation.id, lead_title(contact.name, channel.name), True, None, now, conversation.source
    )
    await uow.timeline.add(contact.id, "lead", lead.id, now, lead.title, conversation.id, channel.kind)
    uow.emit(LeadCreated(lead.id, contact.id, conversation.id, True), now)
    return lead.id
