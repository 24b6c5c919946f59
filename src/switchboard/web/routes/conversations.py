"""Conversations: the operator's work and the supervisor's hand."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from switchboard.application import conversations as uc
from switchboard.application.access import Principal
from switchboard.application.leads import create_lead_from_conversation
from switchboard.application.ports.connectors import Template
from switchboard.application.ports.storage import ConversationQuery
from switchboard.application.privacy import shown_lead
from switchboard.domain.conversation import Attachment, ConversationStatus
from switchboard.web.access import MANAGERS, STAFF, allow, container, current_principal
from switchboard.web.schemas import (
    AssignIn,
    ConversationOut,
    LeadFromConversationIn,
    LeadOut,
    MessageOut,
    PathId,
    QueryId,
    ReplyIn,
)

router = APIRouter(tags=["conversations"])


@router.get("/conversations", response_model=list[ConversationOut], **allow(*STAFF))
async def list_(
    request: Request,
    status: ConversationStatus | None = None,
    line_id: QueryId = None,
    assignee_id: QueryId = None,
    contact_id: QueryId = None,
    limit: int = Query(50, ge=1, le=200),
    before_id: QueryId = None,
    principal: Principal = Depends(current_principal),
) -> list[ConversationOut]:
    """Newest first. Operators list their own (assignee_id = their id) or one of their lines."""
    query = ConversationQuery(status, line_id, assignee_id, contact_id)
    found = await uc.list_conversations(container(request).services, principal, query, limit, before_id)
    return [ConversationOut.of(c) for c in found]


@router.get("/conversations/{conversation_id}", response_model=ConversationOut, **allow(*STAFF))
async def get(
    conversation_id: PathId, request: Request, principal: Principal = Depends(current_principal)
) -> ConversationOut:
    return ConversationOut.of(await uc.get_conversation(container(request).services, principal, conversation_id))


@router.get("/conversations/{conversation_id}/messages", response_model=list[MessageOut], **allow(*STAFF))
async def messages(
    conversation_id: PathId,
    request: Request,
    limit: int = Query(50, ge=1, le=200),
    before_id: QueryId = None,
    principal: Principal = Depends(current_principal),
) -> list[MessageOut]:
    """Newest first; pass the last id as before_id for older ones."""
    found = await uc.list_messages(container(request).services, principal, conversation_id, limit, before_id)
    return [MessageOut.of(m) for m in found]


@router.post("/conversations/{conversation_id}/replies", response_model=MessageOut, status_code=201, **allow(*STAFF))
async def reply(
    conversation_id: PathId, body: ReplyIn, request: Request, principal: Principal = Depends(current_principal)
) -> MessageOut:
    """Answer the customer in their channel (or another of theirs: ``channel_id``); queued for the connector.

    The message's ``conversation_id`` says where it went: another channel's conversation when switched.
    """
    attachments = tuple(Attachment(a.name, a.content_type, a.size, a.url) for a in body.attachments)
    message = await uc.send_reply(
        container(request).services,
        principal,
        conversation_id,
        uc.Reply(body.text, attachments, _template(body), tuple(body.upload_ids), body.channel_id),
    )
    return MessageOut.of(message)


@router.post("/conversations/{conversation_id}/close", response_model=ConversationOut, **allow(*STAFF))
async def close(
    conversation_id: PathId, request: Request, principal: Principal = Depends(current_principal)
) -> ConversationOut:
    return ConversationOut.of(await uc.close_conversation(container(request).services, principal, conversation_id))


@router.post("/conversations/{conversation_id}/assign", response_model=ConversationOut, **allow(*MANAGERS))
async def assign(
    conversation_id: PathId, body: AssignIn, request: Request, principal: Principal = Depends(current_principal)
) -> ConversationOut:
    conversation = await uc.assign_conversation(
        container(request).services, principal, conversation_id, body.operator_id
    )
    return ConversationOut.of(conversation)


@router.post("/conversations/{conversation_id}/leads", response_model=LeadOut, status_code=201, **allow(*STAFF))
async def make_lead(
    conversation_id: PathId,
    body: LeadFromConversationIn,
    request: Request,
    principal: Principal = Depends(current_principal),
) -> LeadOut:
    lead = await create_lead_from_conversation(container(request).services, principal, conversation_id, body.title)
    return LeadOut.of(shown_lead(principal, lead))


def _template(body: ReplyIn) -> Template | None:
    t = body.template
    return Template(t.name, t.language, tuple(t.parameters)) if t else None
