"""Leads born from conversations, by the line's rule or by an operator's hand."""

from __future__ import annotations

from switchboard.application.access import Principal, require_role
from switchboard.application.context import Services
from switchboard.application.conversations import check_reads
from switchboard.application.errors import InvalidInput, NotFound
from switchboard.domain.events import LeadCreated
from switchboard.domain.leads import Lead, LeadStatus, lead_title
from switchboard.domain.operators import Role

STAFF = (Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)


async def create_lead_from_conversation(
    services: Services, principal: Principal, conversation_id: int, title: str | None
) -> Lead:
    require_role(principal, *STAFF)
    if title is not None and not 1 <= len(title.strip()) <= 200:
        raise InvalidInput("title must be 1 to 200 characters", field="title")
    now = services.clock.now()
    async with services.uow() as uow:
        conversation = await uow.conversations.get(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        await check_reads(uow, principal, conversation)
        contact = await uow.contacts.get(conversation.contact_id)
        channel = await uow.channels.get(conversation.channel_id)
        assert contact is not None and channel is not None
        lead = await uow.leads.add(
            contact.id,
            conversation.id,
            (title or "").strip() or lead_title(contact.name, channel.name),
            False,
            principal.user_id,
            now,
            conversation.source,
        )
        await uow.timeline.add(contact.id, "lead", lead.id, now, lead.title, conversation.id, channel.kind)
        uow.emit(LeadCreated(lead.id, contact.id, conversation.id, False), now)
        await uow.commit()
        return lead


async def list_leads(
    services: Services,
    principal: Principal,
    contact_id: int | None,
    status: LeadStatus | None,
    limit: int,
    offset: int,
) -> list[Lead]:
    require_role(principal, *STAFF)
    async with services.uow(read_only=True) as uow:
        return await uow.leads.list(contact_id, status, limit, offset)


async def get_lead(services: Services, principal: Principal, lead_id: int) -> Lead:
    require_role(principal, *STAFF)
    async with services.uow(read_only=True) as uow:
        lead = await uow.leads.get(lead_id)
    if lead is None:
        raise NotFound(f"lead {lead_id} does not exist")
    return lead


async def set_lead_status(services: Services, principal: Principal, lead_id: int, status: LeadStatus) -> Lead:
    require_role(principal, *STAFF)
    async with services.uow() as uow:
        lead = await uow.leads.get(lead_id)
        if lead is None:
            raise NotFound(f"lead {lead_id} does not exist")
        await uow.leads.set_status(lead_id, status)
        await uow.audit.add(
            services.clock.now(),
            "lead.status",
            "lead",
            lead_id,
            {"status": status.value},
            principal.user_id,
            principal.token_id,
            principal.request_id,
        )
        await uow.commit()
        lead.status = status
        return lead
