"""Answering a customer in another of their channels ("reply in the customer's channel or switch channel").

The reply goes to the contact's open conversation in the chosen channel, or to a new one opened
and assigned at once to the operator of the original (no queue: the operator already has the
customer in hand). The original conversation gets an internal note pointing to the other one, so
whoever reads it later knows where the talk went on; ``ReplyMovedChannel`` records who did it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from switchboard.application.access import Principal
from switchboard.application.errors import InvalidInput, StateConflict
from switchboard.application.ports.storage import UnitOfWork
from switchboard.domain.channels import Channel
from switchboard.domain.conversation import Conversation, ConversationStatus
from switchboard.domain.events import ConversationAssigned, ConversationOpened, NoteAdded, ReplyMovedChannel
from switchboard.domain.reach import reaches
from switchboard.domain.source import Source
from switchboard.domain.timeline import summarize

FIELD = "channel_id"


@dataclass(frozen=True, slots=True)
class Switched:
    conversation: Conversation  # where the reply goes, locked for update
    channel: Channel
    created: bool


async def switch_to(
    uow: UnitOfWork, principal: Principal, origin: Conversation, channel_id: int, now: datetime
) -> Switched:
    """The conversation in ``channel_id`` that carries the reply, or InvalidInput naming ``channel_id``."""
    channel = await uow.channels.get(channel_id)
    if channel is None or not channel.active:
        raise InvalidInput(f"channel {channel_id} does not exist or is disabled", field=FIELD)
    contact = await uow.contacts.get(origin.contact_id)
    if contact is None or not reaches(channel.kind, contact.identities):
        raise InvalidInput(
            f"the customer has no identity that the {channel.kind.value} channel {channel.name!r} can write to",
            field=FIELD,
        )
    operator_id = origin.assignee_id if origin.assignee_id is not None else principal.user_id
    latest = await uow.conversations.find_latest(origin.contact_id, channel.id)
    if latest is not None and latest.status is not ConversationStatus.CLOSED:
        if latest.assignee_id != operator_id and not principal.supervises:
            where = "waits for routing" if latest.assignee_id is None else "is in someone else's hands"
            raise StateConflict(f"the customer's conversation {latest.id} in that channel {where}", field=FIELD)
        locked = await uow.conversations.get(latest.id, for_update=True)
        assert locked is not None
        return Switched(locked, channel, False)
    return Switched(await _open(uow, origin, channel, operator_id, now), channel, True)


async def _open(
    uow: UnitOfWork, origin: Conversation, channel: Channel, operator_id: int | None, now: datetime
) -> Conversation:
    conversation = await uow.conversations.add(
        origin.contact_id, channel.line_id, channel.id, ConversationStatus.NEW, now, Source(channel.id, channel.line_id)
    )
    if operator_id is not None:
        await uow.routing.move(
            conversation.id, (ConversationStatus.NEW,), ConversationStatus.ASSIGNED, now, assignee_id=operator_id
        )
    await uow.timeline.add(
        origin.contact_id, "conversation_opened", conversation.id, now, channel.name, conversation.id, channel.kind
    )
    uow.emit(ConversationOpened(conversation.id, origin.contact_id, channel.line_id, channel.id), now)
    if operator_id is not None:
        uow.emit(ConversationAssigned(conversation.id, operator_id, None, operator_id), now)  # routing relearns
    reloaded = await uow.conversations.get(conversation.id, for_update=True)
    assert reloaded is not None
    return reloaded


async def leave_trail(
    uow: UnitOfWork, principal: Principal, origin: Conversation, switched: Switched, message_id: int, now: datetime
) -> None:
    """The note in the original conversation and the event that records the switch."""
    target = switched.conversation
    body = f"Replied by {switched.channel.kind.value} ({switched.channel.name}) in conversation #{target.id}"
    note = await uow.notes.add(origin.id, principal.user_id, body, now)
    await uow.timeline.add(origin.contact_id, "note", note.id, now, summarize(body), origin.id)
    uow.emit(NoteAdded(note.id, origin.id, principal.user_id, origin.assignee_id), now)
    uow.emit(
        ReplyMovedChannel(origin.id, target.id, switched.channel.id, message_id, principal.user_id, switched.created),
        now,
    )
