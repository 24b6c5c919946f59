"""Contacts: search, the card with its identities, edits, and the one timeline across channels."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.application.access import Principal, require_role
from switchboard.application.context import Services
from switchboard.application.errors import InvalidInput, NotFound, StateConflict
from switchboard.application.ports.storage import ContactQuery
from switchboard.domain.calendar import valid_time_zone
from switchboard.domain.contacts import Contact, ContactTier
from switchboard.domain.errors import DomainError
from switchboard.domain.events import ContactCreated, ContactUpdated, IdentityAdded
from switchboard.domain.identity import Identity, IdentityKind, normalize_email, normalize_identity, normalize_phone
from switchboard.domain.operators import Role
from switchboard.domain.timeline import TimelineEntry

STAFF = (Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)
EDITABLE = frozenset({"name", "tier", "time_zone", "responsible_operator_id"})


@dataclass(frozen=True, slots=True)
class NewContact:
    name: str
    tier: ContactTier = ContactTier.REGULAR
    identities: tuple[tuple[IdentityKind, str], ...] = ()


def _normalized(kind: IdentityKind, value: str, region: str) -> Identity:
    try:
        return normalize_identity(kind, value, region)
    except DomainError as error:
        raise InvalidInput(error.detail, field=f"identities.{kind.value}") from error


async def create_contact(services: Services, principal: Principal, new: NewContact) -> Contact:
    require_role(principal, *STAFF)
    name = new.name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidInput("name must be 1 to 200 characters", field="name")
    identities = [_normalized(kind, value, services.default_region) for kind, value in new.identities]
    now = services.clock.now()
    async with services.uow() as uow:
        for identity in identities:
            if await uow.contacts.find_by_identity(identity) is not None:
                raise StateConflict(
                    f"{identity.kind.value} {identity.value} belongs to another contact", field="identities"
                )
        contact = await uow.contacts.add(name, new.tier, now)
        for identity in identities:
            await uow.contacts.add_identity(contact.id, identity, now)
        contact.identities.extend(identities)
        uow.emit(ContactCreated(contact.id, None), now)
        await uow.commit()
        return contact


async def get_contact(services: Services, principal: Principal, contact_id: int) -> Contact:
    require_role(principal, *STAFF)
    async with services.uow(read_only=True) as uow:
        contact = await uow.contacts.get(contact_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} does not exist")
    return contact


def check_contact_query(query: ContactQuery, region: str) -> ContactQuery:
    """Phones and emails are searched in their normalized form, so any spelling finds the contact."""
    try:
        phone = normalize_phone(query.phone, region) if query.phone else None
        email = normalize_email(query.email) if query.email else None
    except DomainError as error:
        raise InvalidInput(error.detail, field=error.field) from error
    name = query.name.strip() if query.name else None
    if name is not None and len(name) < 2:
        raise InvalidInput("name search needs at least 2 characters", field="name")
    return ContactQuery(phone=phone, email=email, name=name)


async def search_contacts(
    services: Services, principal: Principal, query: ContactQuery, limit: int, offset: int
) -> list[Contact]:
    require_role(principal, *STAFF)
    checked = check_contact_query(query, services.default_region)
    async with services.uow(read_only=True) as uow:
        return await uow.contacts.search(checked, limit, offset)


async def update_contact(
    services: Services, principal: Principal, contact_id: int, fields: dict[str, object]
) -> Contact:
    require_role(principal, *STAFF)
    unknown = set(fields) - EDITABLE
    if unknown:
        raise InvalidInput(f"fields cannot be edited: {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    if "name" in fields and not (isinstance(fields["name"], str) and 1 <= len(fields["name"].strip()) <= 200):
        raise InvalidInput("name must be 1 to 200 characters", field="name")
    _check_tier_and_zone(fields)
    now = services.clock.now()
    async with services.uow() as uow:
        if await uow.contacts.get(contact_id) is None:
            raise NotFound(f"contact {contact_id} does not exist")
        owner = fields.get("responsible_operator_id")
        if owner is not None and (not isinstance(owner, int) or await uow.users.get(owner) is None):
            raise InvalidInput(f"user {owner} does not exist", field="responsible_operator_id")
        await uow.contacts.update(contact_id, fields, now)
        await uow.audit.add(
            now,
            "contact.update",
            "contact",
            contact_id,
            {"fields": sorted(fields)},
            principal.user_id,
            principal.token_id,
            principal.request_id,
        )
        uow.emit(ContactUpdated(contact_id, tuple(sorted(fields))), now)
        await uow.commit()
        contact = await uow.contacts.get(contact_id)
    assert contact is not None
    return contact


def _check_tier_and_zone(fields: dict[str, object]) -> None:
    if "tier" in fields and fields["tier"] not in {tier.value for tier in ContactTier}:
        raise InvalidInput("tier must be regular or vip", field="tier")
    zone = fields.get("time_zone")
    if zone is not None and not (isinstance(zone, str) and valid_time_zone(zone)):
        raise InvalidInput(f"time zone {zone!r} is not an IANA zone", field="time_zone")


async def contact_timeline(
    services: Services,
    principal: Principal,
    contact_id: int,
    limit: int,
    before_id: int | None,
    channel_kind: str | None,
) -> list[TimelineEntry]:
    """Newest first; ``before_id`` is the cursor of the next page."""
    require_role(principal, *STAFF)
    async with services.uow(read_only=True) as uow:
        entries = await uow.timeline.page(contact_id, limit, before_id, channel_kind)
        # the contact is read only when the page is empty: a page proves it exists (two reads saved)
        if not entries and await uow.contacts.get(contact_id) is None:
            raise NotFound(f"contact {contact_id} does not exist")
        return entries


async def add_identity(
    services: Services, principal: Principal, contact_id: int, kind: IdentityKind, value: str
) -> Contact:
    """Tie one more phone, email or messenger id to a contact; one identity never has two owners."""
    require_role(principal, *STAFF)
    identity = _normalized(kind, value, services.default_region)
    now = services.clock.now()
    async with services.uow() as uow:
        contact = await uow.contacts.get(contact_id)
        if contact is None:
            raise NotFound(f"contact {contact_id} does not exist")
        owner = await uow.contacts.find_by_identity(identity)
        if owner == contact_id:
            return contact
        if owner is not None:
            raise StateConflict(f"{identity.kind.value} {identity.value} belongs to another contact", field="value")
        await uow.contacts.add_identity(contact_id, identity, now)
        await uow.audit.add(
            now,
            "contact.identity_add",
            "contact",
            contact_id,
            {"kind": identity.kind.value},
            principal.user_id,
            principal.token_id,
            principal.request_id,
        )
        uow.emit(IdentityAdded(contact_id, identity.kind.value), now)
        await uow.commit()
        contact.identities.append(identity)
        return contact
