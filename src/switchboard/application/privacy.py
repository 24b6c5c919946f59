"""Who sees a customer's phone and email in full: supervisors and admins; operators on an audited reveal."""

from __future__ import annotations

from dataclasses import replace

from switchboard.application.access import Principal, require_role
from switchboard.application.context import Services
from switchboard.application.errors import NotFound
from switchboard.domain.contacts import Contact
from switchboard.domain.leads import Lead
from switchboard.domain.operators import Role
from switchboard.domain.privacy import DOT, mask_identity, mask_text
from switchboard.domain.timeline import TimelineEntry

MASKED_FOR = frozenset({Role.OPERATOR})


def masks_for(principal: Principal) -> bool:
    return principal.role in MASKED_FOR


def shown(principal: Principal, contact: Contact) -> Contact:
    """The contact as this caller may see it: identities masked for operators."""
    if not masks_for(principal):
        return contact
    masked = [mask_identity(i) for i in contact.identities]
    # an unknown customer is named by the phone or email they wrote from: that name is masked with it
    pairs = zip(contact.identities, masked, strict=True)
    name = next((m.value for i, m in pairs if i.value == contact.name), contact.name)
    # the street address locates a person as surely as a phone: the reveal shows it (the city stays)
    address = DOT * 3 if contact.address else contact.address
    return replace(contact, name=name, identities=masked, address=address)


def shown_lead(principal: Principal, lead: Lead) -> Lead:
    """A lead's title is made of the contact's name, which for an unknown customer is their phone or email."""
    return replace(lead, title=mask_text(lead.title)) if masks_for(principal) else lead


def shown_entry(principal: Principal, entry: TimelineEntry) -> TimelineEntry:
    """Timeline lines the system wrote (a lead's title) are masked; what the customer wrote is theirs to read."""
    if entry.kind != "lead" or not masks_for(principal):
        return entry
    return replace(entry, summary=mask_text(entry.summary))


async def reveal_contact(services: Services, principal: Principal, contact_id: int, reason: str) -> Contact:
    """The full identities, with an audit record of who looked, when and why."""
    require_role(principal, Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)
    now = services.clock.now()
    async with services.uow() as uow:
        contact = await uow.contacts.get(contact_id)
        if contact is None:
            raise NotFound(f"contact {contact_id} does not exist")
        await uow.audit.add(
            now,
            "contact.reveal",
            "contact",
            contact_id,
            {"kinds": sorted({i.kind.value for i in contact.identities}), "reason": reason},
            principal.user_id,
            principal.token_id,
            principal.request_id,
        )
        await uow.commit()
        return contact
