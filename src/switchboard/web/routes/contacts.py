"""Contacts: search, the card, edits, and the timeline across channels."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from switchboard.application import contacts as uc
from switchboard.application.access import Principal
from switchboard.application.ports.storage import ContactQuery
from switchboard.application.privacy import shown, shown_entry
from switchboard.domain.channels import ChannelKind
from switchboard.domain.contacts import Contact
from switchboard.web.access import STAFF, allow, container, current_principal
from switchboard.web.schemas import (
    ContactIn,
    ContactOut,
    ContactPatch,
    IdentityIn,
    PathId,
    QueryId,
    TimelineEntryOut,
    TimelinePage,
)

router = APIRouter(tags=["contacts"])


def _card(principal: Principal, contact: Contact) -> ContactOut:
    """Operators get phones and emails masked; POST /contacts/{id}/reveal shows them, audited."""
    return ContactOut.of(shown(principal, contact))


@router.get("/contacts", response_model=list[ContactOut], **allow(*STAFF))
async def search(
    request: Request,
    phone: str | None = None,
    email: str | None = None,
    name: str | None = None,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=100_000),
    principal: Principal = Depends(current_principal),
) -> list[ContactOut]:
    """Find contacts by phone or email in any spelling, or by part of the name."""
    found = await uc.search_contacts(
        container(request).services, principal, ContactQuery(phone, email, name), limit, offset
    )
    return [_card(principal, c) for c in found]


@router.post("/contacts", response_model=ContactOut, status_code=201, **allow(*STAFF))
async def create(body: ContactIn, request: Request, principal: Principal = Depends(current_principal)) -> ContactOut:
    """A contact with its identities and any profile fields."""
    new = uc.NewContact(body.name, body.tier, tuple((i.kind, i.value) for i in body.identities), body.profile())
    return _card(principal, await uc.create_contact(container(request).services, principal, new))


@router.get("/contacts/{contact_id}", response_model=ContactOut, **allow(*STAFF))
async def card(contact_id: PathId, request: Request, principal: Principal = Depends(current_principal)) -> ContactOut:
    """The card: name, profile fields, identities. A merged contact answers 307 to its survivor."""
    return _card(principal, await uc.get_contact(container(request).services, principal, contact_id))


@router.patch("/contacts/{contact_id}", response_model=ContactOut, **allow(*STAFF))
async def edit(
    contact_id: PathId, body: ContactPatch, request: Request, principal: Principal = Depends(current_principal)
) -> ContactOut:
    """Edit profile fields: text is trimmed and a blank clears it; ``tags`` replaces, ``custom_fields`` merges."""
    fields = body.profile()
    return _card(principal, await uc.update_contact(container(request).services, principal, contact_id, fields))


@router.post("/contacts/{contact_id}/identities", response_model=ContactOut, status_code=201, **allow(*STAFF))
async def add_identity(
    contact_id: PathId, body: IdentityIn, request: Request, principal: Principal = Depends(current_principal)
) -> ContactOut:
    """Tie a phone, email or messenger id to the contact: their messages from it join this contact."""
    contact = await uc.add_identity(container(request).services, principal, contact_id, body.kind, body.value)
    return _card(principal, contact)


@router.get("/contacts/{contact_id}/timeline", response_model=TimelinePage, **allow(*STAFF))
async def timeline(
    contact_id: PathId,
    request: Request,
    limit: int = Query(50, ge=1, le=200),
    before_id: QueryId = None,
    channel: ChannelKind | None = None,
    principal: Principal = Depends(current_principal),
) -> TimelinePage:
    """Every conversation, message and lead of the contact in every channel, newest first."""
    entries = await uc.contact_timeline(
        container(request).services, principal, contact_id, limit, before_id, channel.value if channel else None
    )
    return TimelinePage(
        items=[TimelineEntryOut.of(shown_entry(principal, e)) for e in entries],
        next_before_id=entries[-1].id if len(entries) == limit else None,
    )
