"""Intake's group commit: the messages queued together are stored in one transaction, set-based.

The result is what storing them one after another, in queue order, would give: a sender seen
earlier in the batch is recognised (one contact per identity), a conversation opened earlier in
the batch is continued, every message gets its own instant, and events leave after the commit.
Each caller's message stays all-or-nothing: when the batch fails for a reason that is not the
database being down (a uniqueness race with another process, a bad row), nothing of it stays and
every message is stored again on its own, so one bad message fails alone.

Messages the batch does not take are stored on their own after it commits: a repeat of an
external id already stored or already in the batch (it gets the first delivery's answer), and
channels with split rules (the line depends on the contact's segment).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from switchboard.application.context import Services
from switchboard.application.errors import InvalidInput, NotFound
from switchboard.application.group_commit import Pending, together_or_alone
from switchboard.application.inbound import Inbound, IntakeResult, route
from switchboard.application.ports.storage import (
    NewLead,
    NewMessage,
    TimelineRow,
    UnitOfWork,
)
from switchboard.application.thread_hints import Continuation, continuation, hinted_ids
from switchboard.domain.channels import Channel
from switchboard.domain.contacts import ContactTier, display_name
from switchboard.domain.conversation import (
    AuthorKind,
    Conversation,
    ConversationAction,
    ConversationStatus,
    DeliveryStatus,
    Direction,
)
from switchboard.domain.events import (
    ContactCreated,
    ConversationOpened,
    ConversationReopened,
    IdentityAdded,
    LeadCreated,
    MessageReceived,
)
from switchboard.domain.identity import Identity
from switchboard.domain.leads import lead_title
from switchboard.domain.line_settings import split_rules
from switchboard.domain.lines import Line
from switchboard.domain.timeline import summarize

Single = Callable[[Inbound], Awaitable[IntakeResult]]
Batch = list[Pending[Inbound, IntakeResult]]
_TICK = timedelta(microseconds=1)


class _Contact:
    """A contact the batch writes to: known (id given) or created by the batch (id after insert)."""

    __slots__ = ("at", "id", "name")

    def __init__(self, contact_id: int, name: str = "", at: datetime | None = None) -> None:
        self.id = contact_id
        self.name = name
        self.at = at


@dataclass(slots=True)
class _Plan:
    """What storing one message does, decided in memory before anything is written."""

    pending: Pending[Inbound, IntakeResult]
    channel: Channel
    line: Line
    at: datetime
    contact: _Contact | None = None
    created: bool = False
    added: tuple[Identity, ...] = ()
    conversation: Conversation | None = None
    change: str | None = None  # "conversation_opened" | "conversation_reopened"
    message_id: int = 0
    lead_id: int | None = None


async def write_batch(services: Services, batch: Batch, single: Single) -> None:
    """Store a batch and answer every caller; ``single`` stores one message on its own."""
    await together_or_alone(batch, lambda together: _store(services, together), single)


async def _store(services: Services, batch: Batch) -> Batch:
    """One transaction for the batch; returns the messages left to store on their own."""
    async with services.uow() as uow:
        plans, later = await _admit(services, uow, batch)
        if plans:
            await _identify(uow, plans)
            await _converse(uow, plans)
            await _write(uow, plans)
            await uow.commit()
    for plan in plans:
        assert plan.contact is not None and plan.conversation is not None
        plan.pending.answer(
            IntakeResult(
                plan.contact.id,
                plan.conversation.id,
                plan.message_id,
                plan.created,
                plan.change == "conversation_opened",
                plan.lead_id,
                plan.lead_id is not None,
                False,
            )
        )
    return later


async def _admit(services: Services, uow: UnitOfWork, batch: Batch) -> tuple[list[_Plan], Batch]:
    """Each message's channel and line and instant; the ones the batch cannot take go to ``later``."""
    plans: list[_Plan] = []
    later: Batch = []
    keys: set[tuple[int, str]] = set()
    last: datetime | None = None
    for pending in batch:
        inbound = pending.item
        at = services.clock.now()
        if last is not None and at <= last:
            at = last + _TICK  # every message its own instant: a replay is rebuilt from it
        try:
            channel, line = await route(services, uow, inbound.message.channel_id, inbound.kind, at)
        except (InvalidInput, NotFound) as error:
            pending.fail(error)
            continue
        external_id = inbound.message.external_id
        key = (channel.id, external_id or "")
        if split_rules(channel.settings) or (external_id and key in keys):
            later.append(pending)
            continue
        if external_id:
            keys.add(key)
        last = at
        plans.append(_Plan(pending, channel, line, at))
    delivered = await uow.intake.delivered(sorted(keys))
    if delivered:
        later += [p.pending for p in plans if (p.channel.id, p.pending.item.message.external_id) in delivered]
        plans = [p for p in plans if (p.channel.id, p.pending.item.message.external_id) not in delivered]
    return plans, later


async def _identify(uow: UnitOfWork, plans: list[_Plan]) -> None:
    """Exact identity match, strongest first, counting contacts created earlier in the batch."""
    wanted = list(dict.fromkeys(i for plan in plans for i in plan.pending.item.identities))
    found = await uow.contacts.owners(wanted)
    known = {contact_id: _Contact(contact_id) for contact_id in found.values()}  # one object per contact
    owners = {identity: known[contact_id] for identity, contact_id in found.items()}
    new: list[_Contact] = []
    links: list[tuple[_Contact, Identity, datetime]] = []
    for plan in plans:
        inbound = plan.pending.item
        contact = next((owners[i] for i in inbound.identities if i in owners), None)
        if contact is None:
            name = display_name(inbound.message.sender.name, inbound.identities[0])
            contact = _Contact(0, name, plan.at)
            new.append(contact)
            plan.created = True
        plan.added = tuple(i for i in inbound.identities if i not in owners)
        for identity in plan.added:
            owners[identity] = contact
            links.append((contact, identity, plan.at))
        plan.contact = contact
    ids = await uow.intake.add_contacts([(c.name, ContactTier.REGULAR, c.at or plans[0].at) for c in new])
    for contact, contact_id in zip(new, ids, strict=True):
        contact.id = contact_id
    await uow.intake.add_identities([(c.id, identity, at) for c, identity, at in links])


async def _converse(uow: UnitOfWork, plans: list[_Plan]) -> None:
    """The conversation a reply's thread hint names, else the open one per contact and channel, a recently
    closed one reopened, or a new one."""
    threads = _Threads(plans)
    pairs = sorted({(p.contact.id, p.channel.id) for p in plans if p.contact and not p.created})
    # contacts are stored by now: every plan's contact has its id
    known, by_id = await uow.intake.conversations(pairs, await threads.load(uow))
    current: dict[tuple[int, int], Conversation] = {}
    opened: list[Conversation] = []
    touched: dict[int, Conversation] = {}
    for plan in plans:
        assert plan.contact is not None
        key = (id(plan.contact), plan.channel.id)
        threaded = threads.conversation(plan, by_id)
        how = continuation(threaded, plan.at, plan.line.reopen_window_seconds) if threaded else None
        if threaded is None or how is None:
            threaded = None
            conversation = current.get(key) or known.get((plan.contact.id, plan.channel.id))
            how = continuation(conversation, plan.at, plan.line.reopen_window_seconds) if conversation else None
        else:
            conversation = threaded
        if conversation is None or how is None:
            conversation = _opened(plan)
            opened.append(conversation)
            plan.change = "conversation_opened"
        elif how is Continuation.REOPEN:
            conversation.apply(ConversationAction.REOPEN)
            conversation.closed_at = None
            plan.change = "conversation_reopened"
        conversation.apply(ConversationAction.CUSTOMER_WROTE)
        conversation.last_message_at = plan.at
        if threaded is None:  # a thread joined does not become the sender's own latest conversation
            current[key] = conversation
        threads.stored(plan, conversation)
        plan.conversation = conversation
        if conversation.id:
            touched[conversation.id] = conversation
    for conversation, conversation_id in zip(opened, await uow.intake.add_conversations(opened), strict=True):
        conversation.id = conversation_id
    await uow.intake.save_conversations(list(touched.values()))


def _opened(plan: _Plan) -> Conversation:
    assert plan.contact is not None
    source = plan.pending.item.message.source.with_route(plan.channel.id, plan.line.id)
    return Conversation(
        0, plan.contact.id, plan.line.id, plan.channel.id, ConversationStatus.NEW, plan.at, plan.at, source=source
    )


class _Threads:
    """The conversations the batch's thread hints name: stored ones, and ones earlier in the batch."""

    def __init__(self, plans: list[_Plan]) -> None:
        self._plans = [p for p in plans if p.pending.item.message.thread is not None]
        self._answered: dict[tuple[int, str], int] = {}  # (channel, external id) → stored conversation id
        self._in_batch: dict[tuple[int, str], Conversation] = {}

    async def load(self, uow: UnitOfWork) -> list[int]:
        """Look the hinted ids up; returns the ids of the conversations to read (and lock)."""
        keys = sorted({(p.channel.id, e) for p in self._plans for e in hinted_ids(p.pending.item.message.thread)})
        self._answered = await uow.intake.answered_conversations(keys)
        hints = [p.pending.item.message.thread for p in self._plans]
        named = {h.conversation_id for h in hints if h is not None and h.conversation_id is not None}
        return sorted({*self._answered.values(), *named})

    def conversation(self, plan: _Plan, by_id: dict[int, Conversation]) -> Conversation | None:
        hint = plan.pending.item.message.thread
        if hint is None:
            return None
        for external_id in hinted_ids(hint):
            key = (plan.channel.id, external_id)
            if key in self._in_batch:
                return self._in_batch[key]
            if key in self._answered:
                return by_id.get(self._answered[key])
        named = by_id.get(hint.conversation_id) if hint.conversation_id is not None else None
        return named if named is not None and named.channel_id == plan.channel.id else None

    def stored(self, plan: _Plan, conversation: Conversation) -> None:
        """A later message in the batch may answer this one."""
        external_id = plan.pending.item.message.external_id
        if external_id:
            self._in_batch[(plan.channel.id, external_id)] = conversation


async def _write(uow: UnitOfWork, plans: list[_Plan]) -> None:
    """Messages, leads, the timeline in the order one-by-one storing would give, and the events."""
    ids = await uow.intake.add_messages([_message(plan) for plan in plans])
    for plan, message_id in zip(plans, ids, strict=True):
        plan.message_id = message_id
    with_lead = [
        p for p in plans if p.created and p.change == "conversation_opened" and p.line.create_lead_for_new_contact
    ]
    leads = [_lead(plan) for plan in with_lead]
    for plan, lead_id in zip(with_lead, await uow.intake.add_leads(leads), strict=True):
        plan.lead_id = lead_id
    titles = {plan.lead_id: lead.title for plan, lead in zip(with_lead, leads, strict=True)}
    rows: list[TimelineRow] = []
    for plan in plans:
        rows += _timeline(plan, titles)
        _emit(uow, plan)
    await uow.intake.add_timeline(rows)


def _message(plan: _Plan) -> NewMessage:
    assert plan.contact is not None and plan.conversation is not None
    message = plan.pending.item.message
    return NewMessage(
        conversation_id=plan.conversation.id,
        channel_id=plan.channel.id,
        direction=Direction.IN,
        author_kind=AuthorKind.CONTACT,
        author_id=plan.contact.id,
        body=message.body,
        delivery_status=DeliveryStatus.RECEIVED,
        created_at=plan.at,
        external_id=message.external_id,
        attachments=message.attachments,
    )


def _lead(plan: _Plan) -> NewLead:
    assert plan.contact is not None and plan.conversation is not None
    title = lead_title(plan.contact.name, plan.channel.name)
    return NewLead(plan.contact.id, plan.conversation.id, title, True, plan.at, plan.conversation.source)


def _timeline(plan: _Plan, titles: dict[int | None, str]) -> list[TimelineRow]:
    assert plan.contact is not None and plan.conversation is not None
    contact_id, conversation_id, kind = plan.contact.id, plan.conversation.id, plan.channel.kind
    rows = []
    if plan.change is not None:
        rows.append(
            TimelineRow(contact_id, plan.change, conversation_id, plan.at, plan.channel.name, conversation_id, kind)
        )
    body = plan.pending.item.message.body
    rows.append(
        TimelineRow(contact_id, "message", plan.message_id, plan.at, summarize(body or "📎"), conversation_id, kind)
    )
    if plan.lead_id is not None:
        rows.append(TimelineRow(contact_id, "lead", plan.lead_id, plan.at, titles[plan.lead_id], conversation_id, kind))
    return rows


def _emit(uow: UnitOfWork, plan: _Plan) -> None:
    assert plan.contact is not None and plan.conversation is not None
    contact_id, conversation, at = plan.contact.id, plan.conversation, plan.at
    if plan.created:
        uow.emit(ContactCreated(contact_id, plan.channel.id), at)
    else:
        for identity in plan.added:
            uow.emit(IdentityAdded(contact_id, identity.kind.value), at)
    if plan.change == "conversation_opened":
        uow.emit(ConversationOpened(conversation.id, contact_id, plan.line.id, plan.channel.id), at)
    elif plan.change == "conversation_reopened":
        uow.emit(ConversationReopened(conversation.id, conversation.line_id), at)
    if plan.lead_id is not None:
        uow.emit(LeadCreated(plan.lead_id, contact_id, conversation.id, True), at)
    uow.emit(
        MessageReceived(
            plan.message_id, conversation.id, contact_id, plan.line.id, plan.channel.id, conversation.assignee_id
        ),
        at,
    )
