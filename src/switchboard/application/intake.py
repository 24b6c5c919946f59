"""The main path's first step: a message arrives, the customer is recognised, the request is stored.

Everything happens in one unit of work, so a failure leaves nothing behind; a repeated delivery
(same channel and external id) gives the same answer and writes nothing.
"""

from __future__ import annotations

from datetime import datetime

from switchboard.application.access import Principal, require_role
from switchboard.application.context import Services
from switchboard.application.errors import InvalidInput
from switchboard.application.inbound import Inbound, InboundMessage, IntakeResult, Sender, route
from switchboard.application.intake_batch import Batch, write_batch
from switchboard.application.ports.storage import Conflict, NewMessage, UnitOfWork
from switchboard.application.thread_hints import Continuation, continuation, threaded_conversation
from switchboard.domain.channels import Channel, ChannelKind
from switchboard.domain.contacts import ContactTier, display_name
from switchboard.domain.conversation import (
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
from switchboard.domain.line_settings import split_rules
from switchboard.domain.lines import Line
from switchboard.domain.operators import Role
from switchboard.domain.routing.split import InboundFacts, choose_line
from switchboard.domain.source import Source
from switchboard.domain.timeline import summarize

MAX_BODY = 64_000

__all__ = ["InboundMessage", "IntakeResult", "Sender", "check_inbound", "receive_message"]


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
        field = error.field if error.field in ("phone", "email") else "external_id"
        raise InvalidInput(error.detail, field=f"sender.{field}") from error


async def receive_message(
    services: Services, principal: Principal, message: InboundMessage, *, kind: ChannelKind | None = None
) -> IntakeResult:
    """Store one inbound message.

    Messages that arrive together share one transaction (group commit, ``intake_batch``); the
    answer is the one storing them one after another would give. ``kind`` restricts which
    channels the caller may write into.
    """
    require_role(principal, Role.INTEGRATION, Role.ADMIN)
    identities = check_inbound(message, services.default_region)

    async def write(batch: Batch) -> None:
        await write_batch(services, batch, lambda inbound: receive_alone(services, inbound))

    return await services.intake_queue.submit(Inbound(message, identities, kind), write)


async def receive_alone(services: Services, inbound: Inbound) -> IntakeResult:
    """Store one message in its own transaction.

    The first try trusts the unique (channel, external id) constraint instead of reading first:
    a repeat or a concurrent twin makes it fail as a whole (Conflict), and the second try answers
    from what is stored.
    """
    message, identities, kind = inbound.message, inbound.identities, inbound.kind
    try:
        return await _receive_once(services, message, identities, kind, replay=False)
    except Conflict:
        return await _receive_once(services, message, identities, kind, replay=True)


async def _receive_once(
    services: Services,
    message: InboundMessage,
    identities: list[Identity],
    kind: ChannelKind | None,
    *,
    replay: bool,
) -> IntakeResult:
    now = services.clock.now()
    async with services.uow() as uow:
        channel, line = await route(services, uow, message.channel_id, kind, now)
        if replay and message.external_id:
            earlier = await _earlier_delivery(uow, channel, message.external_id)
            if earlier is not None:
                return earlier
        contact_id, created = await _identify(uow, message.sender, identities, channel, now)
        line = await _split(uow, channel, line, message, contact_id, now)
        conversation, opened = await _threaded(uow, contact_id, channel, line, message, now) or (
            await _conversation_for(uow, contact_id, channel, line, message.source, now)
        )
        stored = await uow.messages.add(
            NewMessage(
                conversation_id=conversation.id,
                channel_id=channel.id,
                direction=Direction.IN,
                author_kind=AuthorKind.CONTACT,
                author_id=contact_id,
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
            contact_id, "message", stored.id, now, summarize(message.body or "📎"), conversation.id, channel.kind
        )
        lead_id = None
        if created and opened and line.create_lead_for_new_contact:  # not for a newcomer joining a thread
            name = display_name(message.sender.name, identities[0])
            lead_id = await _automatic_lead(uow, contact_id, name, channel, conversation, now)
        uow.emit(
            MessageReceived(stored.id, conversation.id, contact_id, line.id, channel.id, conversation.assignee_id),
            now,
        )
        await uow.commit()
    return IntakeResult(contact_id, conversation.id, stored.id, created, opened, lead_id, lead_id is not None, False)


async def _split(
    uow: UnitOfWork, channel: Channel, line: Line, message: InboundMessage, contact_id: int, now: datetime
) -> Line:
    """The line this message's conversation belongs to: the channel's split rules, else the channel's line."""
    rules = split_rules(channel.settings)
    if not rules:
        return line
    segments: frozenset[str] = frozenset()
    if any(rule.segments for rule in rules):
        contact = await uow.contacts.get(contact_id)
        segments = frozenset({contact.tier.value}) if contact else frozenset()
    facts = InboundFacts(message.source.dialled_number or "", message.body, message.language or "", segments)
    chosen = int(choose_line(rules, facts, now.timestamp(), str(line.id)))
    if chosen == line.id:
        return line
    target = await uow.lines.get(chosen)
    return target if target is not None and target.active else line


async def _earlier_delivery(uow: UnitOfWork, channel: Channel, external_id: str) -> IntakeResult | None:
    """The answer given the first time this message came, or None if it is new.

    Everything one delivery created carries that delivery's instant, which is how the
    first answer is rebuilt exactly.
    """
    earlier = await uow.messages.find_by_external_id(channel.id, external_id)
    if earlier is None:
        return None
    conversation = await uow.conversations.get(earlier.conversation_id)
    author_id = earlier.author_id or (conversation.contact_id if conversation else None)  # a colleague in a thread
    contact = await uow.contacts.get(author_id) if author_id is not None else None
    while contact is not None and contact.merged_into_id is not None:  # the author merged since: the survivor
        contact = await uow.contacts.get(contact.merged_into_id)
    assert conversation is not None
    assert contact is not None
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
) -> tuple[int, bool]:
    """Exact identity match (strongest identity first), else a new contact; unowned identities join it."""
    owners = await uow.contacts.owners(identities)
    contact_id = next((owners[i] for i in identities if i in owners), None)
    created = contact_id is None
    if contact_id is None:
        contact = await uow.contacts.add(display_name(sender.name, identities[0]), ContactTier.REGULAR, now)
        contact_id = contact.id
        uow.emit(ContactCreated(contact_id, channel.id), now)
    for identity in identities:
        if identity not in owners:
            await uow.contacts.add_identity(contact_id, identity, now)
            if not created:
                uow.emit(IdentityAdded(contact_id, identity.kind.value), now)
    return contact_id, created


async def _threaded(
    uow: UnitOfWork, contact_id: int, channel: Channel, line: Line, message: InboundMessage, now: datetime
) -> tuple[Conversation, bool] | None:
    """The conversation the message's thread hint names, when it can still take the message."""
    threaded = await threaded_conversation(uow, channel, message.thread)
    if threaded is None:
        return None
    how = continuation(threaded, now, line.reopen_window_seconds)
    if how is Continuation.REOPEN:
        await _reopen(uow, threaded, contact_id, channel, now)
    return (threaded, False) if how is not None else None


async def _reopen(
    uow: UnitOfWork, conversation: Conversation, contact_id: int, channel: Channel, now: datetime
) -> None:
    conversation.apply(ConversationAction.REOPEN)
    conversation.closed_at = None
    await uow.timeline.add(
        contact_id, "conversation_reopened", conversation.id, now, channel.name, conversation.id, channel.kind
    )
    uow.emit(ConversationReopened(conversation.id, conversation.line_id), now)


async def _conversation_for(
    uow: UnitOfWork, contact_id: int, channel: Channel, line: Line, source: Source, now: datetime
) -> tuple[Conversation, bool]:
    """The open conversation of this contact on this channel, a recently closed one reopened, or a new one."""
    latest = await uow.conversations.find_latest(contact_id, channel.id)
    how = continuation(latest, now, line.reopen_window_seconds) if latest is not None else None
    if latest is not None and how is not None:
        if how is Continuation.REOPEN:
            await _reopen(uow, latest, contact_id, channel, now)
        return latest, False
    conversation = await uow.conversations.add(
        contact_id, line.id, channel.id, ConversationStatus.NEW, now, source.with_route(channel.id, line.id)
    )
    await uow.timeline.add(
        contact_id, "conversation_opened", conversation.id, now, channel.name, conversation.id, channel.kind
    )
    uow.emit(ConversationOpened(conversation.id, contact_id, line.id, channel.id), now)
    return conversation, True


async def _automatic_lead(
    uow: UnitOfWork, contact_id: int, name: str, channel: Channel, conversation: Conversation, now: datetime
) -> int:
    lead = await uow.leads.add(
        contact_id, conversation.id, lead_title(name, channel.name), True, None, now, conversation.source
    )
    await uow.timeline.add(contact_id, "lead", lead.id, now, lead.title, conversation.id, channel.kind)
    uow.emit(LeadCreated(lead.id, contact_id, conversation.id, True), now)
    return lead.id
