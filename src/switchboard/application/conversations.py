"""An operator's work on a conversation: reply, close; a supervisor's: assign."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from switchboard.application.access import Principal, require_handles, require_role
from switchboard.application.channel_switch import leave_trail, switch_to
from switchboard.application.channels import open_secrets
from switchboard.application.context import Services
from switchboard.application.errors import InvalidInput, NotFound, StateConflict
from switchboard.application.outbound import THREAD_DEPTH, outbound_message, template_data
from switchboard.application.ports.connectors import ChannelConfig, Connector, Template, delivers
from switchboard.application.ports.storage import ConversationQuery, NewMessage, UnitOfWork
from switchboard.application.uploads import attachments_of, checked_uploads
from switchboard.domain.channels import Channel
from switchboard.domain.conversation import (
    Attachment,
    AuthorKind,
    Conversation,
    ConversationAction,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Message,
)
from switchboard.domain.errors import InvalidTransition
from switchboard.domain.events import ConversationAssigned, ConversationClosed, ReplyQueued
from switchboard.domain.operators import Role
from switchboard.domain.reach import reachable
from switchboard.domain.timeline import summarize

MAX_REPLY = 64_000


@dataclass(frozen=True, slots=True)
class Reply:
    body: str
    attachments: tuple[Attachment, ...] = ()
    template: Template | None = None  # a provider-approved template (WhatsApp outside its 24-hour window)
    upload_ids: tuple[int, ...] = ()  # files the operator uploaded for this conversation
    channel_id: int | None = None  # another channel of the customer to answer in (None: the conversation's)


async def _load(uow: UnitOfWork, conversation_id: int, *, for_update: bool = False) -> Conversation:
    conversation = await uow.conversations.get(conversation_id, for_update=for_update)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    return conversation


async def check_reads(uow: UnitOfWork, principal: Principal, conversation: Conversation) -> None:
    """Supervisors read everything; an operator reads their own and their lines' conversations."""
    if principal.supervises or conversation.assignee_id == principal.user_id:
        return
    line = await uow.lines.get(conversation.line_id)
    if principal.role is Role.OPERATOR and line is not None and principal.user_id in line.operator_ids:
        return
    raise NotFound(f"conversation {conversation.id} does not exist")


def check_reply(reply: Reply) -> None:
    if not reply.body.strip() and not reply.attachments and not reply.upload_ids and reply.template is None:
        raise InvalidInput("the reply has neither text nor attachments", field="body")
    if len(reply.body) > MAX_REPLY:
        raise InvalidInput(f"the reply is longer than {MAX_REPLY} characters", field="body")


def _move(conversation: Conversation, action: ConversationAction) -> None:
    try:
        conversation.apply(action)
    except InvalidTransition as error:
        raise StateConflict(error.detail, field="status") from error


async def get_conversation(services: Services, principal: Principal, conversation_id: int) -> Conversation:
    require_role(principal, Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)
    async with services.uow(read_only=True) as uow:
        conversation = await _load(uow, conversation_id)
        await check_reads(uow, principal, conversation)
        return conversation


async def list_conversations(
    services: Services, principal: Principal, query: ConversationQuery, limit: int, before_id: int | None
) -> list[Conversation]:
    """Operators see only what is theirs unless they filter by a line they belong to."""
    require_role(principal, Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)
    async with services.uow(read_only=True) as uow:
        if principal.role is Role.OPERATOR and query.assignee_id != principal.user_id:
            line = await uow.lines.get(query.line_id) if query.line_id is not None else None
            if line is None or principal.user_id not in line.operator_ids:
                raise InvalidInput("operators list their own conversations or one of their lines", field="line_id")
        return await uow.conversations.list(query, limit, before_id)


async def list_messages(
    services: Services, principal: Principal, conversation_id: int, limit: int, before_id: int | None
) -> list[Message]:
    require_role(principal, Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)
    async with services.uow(read_only=True) as uow:
        conversation = await _load(uow, conversation_id)
        await check_reads(uow, principal, conversation)
        return await uow.messages.list(conversation_id, limit, before_id)


async def send_reply(services: Services, principal: Principal, conversation_id: int, reply: Reply) -> Message:
    """Store the operator's reply for its connector to deliver; the conversation waits for the customer.

    With ``reply.channel_id`` naming another channel of the customer, the reply goes to their
    conversation there (``channel_switch``) and the returned message says which one.
    """
    require_role(principal, Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)
    check_reply(reply)
    now = services.clock.now()
    async with services.uow() as uow:
        origin = await _load(uow, conversation_id, for_update=True)
        await check_reads(uow, principal, origin)
        require_handles(principal, origin)
        switched = None
        if reply.channel_id is not None and reply.channel_id != origin.channel_id:
            switched = await switch_to(uow, principal, origin, reply.channel_id, now)
        conversation = switched.conversation if switched else origin
        if conversation.status is ConversationStatus.CLOSED:
            raise StateConflict("the conversation is closed", field="status")
        if conversation.status in (ConversationStatus.ASSIGNED, ConversationStatus.WAITING):
            _move(conversation, ConversationAction.OPERATOR_REPLIED)
        channel = switched.channel if switched else await uow.channels.get(conversation.channel_id)
        uploads = await checked_uploads(uow, principal, origin.id, reply.upload_ids)
        reply = replace(reply, attachments=reply.attachments + attachments_of(uploads, channel, conversation.id))
        message = await _store_reply(services, uow, principal, conversation, channel, reply, now)
        await uow.uploads.mark_sent([u.id for u in uploads], message.id)
        if switched:
            await leave_trail(uow, principal, origin, switched, message.id, now)
        await uow.commit()
        return message


async def _store_reply(
    services: Services,
    uow: UnitOfWork,
    principal: Principal,
    conversation: Conversation,
    channel: Channel | None,
    reply: Reply,
    now: datetime,
) -> Message:
    """The message, its delivery task and its timeline entry, once the connector said it can carry it."""
    connector = services.connectors.get(channel.kind) if channel else None
    if connector is not None and channel is not None and not delivers(connector, channel.settings):
        connector = None  # an API channel without a webhook: the reply waits for the integration to read it
    if connector is not None and channel is not None:
        await _check_with_connector(services, uow, connector, channel, conversation, reply)
    body = reply.body or (template_text(reply.template) if reply.template else "")
    message = await uow.messages.add(
        NewMessage(
            conversation_id=conversation.id,
            channel_id=conversation.channel_id,
            direction=Direction.OUT,
            author_kind=AuthorKind.OPERATOR,
            author_id=principal.user_id,
            body=body,
            delivery_status=DeliveryStatus.QUEUED,
            created_at=now,
            attachments=reply.attachments,
        )
    )
    if connector is not None:
        await uow.deliveries.add(message.id, conversation.channel_id, now, template_data(reply.template))
    conversation.last_message_at = now
    await uow.conversations.save(conversation)
    await uow.timeline.add(
        conversation.contact_id,
        "message",
        message.id,
        now,
        summarize(body or "📎"),
        conversation.id,
        channel.kind if channel else None,
    )
    uow.emit(ReplyQueued(message.id, conversation.id, conversation.channel_id, principal.user_id or 0), now)
    return message


async def reply_channels(services: Services, principal: Principal, conversation_id: int) -> list[Channel]:
    """Where the operator may answer this customer: the conversation's channel first, then the others."""
    require_role(principal, Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)
    async with services.uow(read_only=True) as uow:
        conversation = await _load(uow, conversation_id)
        await check_reads(uow, principal, conversation)
        current = await uow.channels.get(conversation.channel_id)
        contact = await uow.contacts.get(conversation.contact_id)
        channels = await uow.channels.list()
    if current is None:
        return []
    sendable = [c for c in channels if services.connectors.get(c.kind) is not None]
    return reachable(current, sendable, contact.identities if contact else ())


def template_text(template: Template) -> str:
    """How a template reply reads in the timeline."""
    parameters = ", ".join(template.parameters)
    return f"[{template.name}/{template.language}] {parameters}".strip()


async def _check_with_connector(
    services: Services,
    uow: UnitOfWork,
    connector: Connector,
    channel: Channel,
    conversation: Conversation,
    reply: Reply,
) -> None:
    """Refuse now what the provider would refuse later (WhatsApp's 24-hour window, for one)."""
    contact = await uow.contacts.get(conversation.contact_id)
    history = await uow.messages.list(conversation.id, THREAD_DEPTH, None)
    draft = Message(
        0,
        conversation.id,
        channel.id,
        Direction.OUT,
        AuthorKind.OPERATOR,
        reply.body,
        DeliveryStatus.QUEUED,
        services.clock.now(),
        attachments=reply.attachments,
    )
    outbound = outbound_message(
        draft, conversation, history, tuple(contact.identities) if contact else (), reply.template
    )
    secrets = open_secrets(services, await uow.channels.sealed_secrets(channel.id))
    connector.check_reply(ChannelConfig(channel, secrets), outbound, services.clock.now())


async def close_conversation(services: Services, principal: Principal, conversation_id: int) -> Conversation:
    require_role(principal, Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)
    now = services.clock.now()
    async with services.uow() as uow:
        conversation = await _load(uow, conversation_id, for_update=True)
        await check_reads(uow, principal, conversation)
        require_handles(principal, conversation)
        _move(conversation, ConversationAction.CLOSE)
        conversation.closed_at = now
        await uow.conversations.save(conversation)
        await uow.timeline.add(
            conversation.contact_id, "conversation_closed", conversation.id, now, "closed", conversation.id
        )
        uow.emit(
            ConversationClosed(conversation.id, conversation.line_id, conversation.assignee_id, principal.user_id),
            now,
        )
        await uow.commit()
        return conversation


async def assign_conversation(
    services: Services, principal: Principal, conversation_id: int, operator_id: int
) -> Conversation:
    """A supervisor hands a conversation to an operator, whatever routing would have done."""
    require_role(principal, Role.ADMIN, Role.SUPERVISOR)
    now = services.clock.now()
    async with services.uow() as uow:
        conversation = await _load(uow, conversation_id, for_update=True)
        operator = await uow.users.get(operator_id)
        if operator is None or not operator.active or operator.role is not Role.OPERATOR:
            raise InvalidInput(f"user {operator_id} is not an active operator", field="operator_id")
        previous = conversation.assignee_id
        _move(conversation, ConversationAction.ASSIGN)
        conversation.assignee_id = operator.id
        await uow.conversations.save(conversation)
        await uow.audit.add(
            now,
            "conversation.assign",
            "conversation",
            conversation.id,
            {"operator_id": operator.id, "previous_operator_id": previous},
            principal.user_id,
            principal.token_id,
            principal.request_id,
        )
        uow.emit(ConversationAssigned(conversation.id, operator.id, previous, principal.user_id), now)
        await uow.commit()
        return conversation
