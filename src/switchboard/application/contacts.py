"""Contacts: search, the card with its identities, edits, and the one timeline across channels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from switchboard.application.access import Principal, require_role
from switchboard.application.context import Services
from switchboard.application.errors import ContactMerged, InvalidInput, NotFound, StateConflict
from switchboard.application.ports.storage import ContactQuery, UnitOfWork
from switchboard.domain.contacts import (
    Consent,
    Contact,
    ContactTier,
    CustomValue,
    check_fields,
    patch_custom_fields,
)
from switchboard.domain.errors import DomainError
from switchboard.domain.events import ContactCreated, ContactUpdated, IdentityAdded
from switchboard.domain.identity import Identity, IdentityKind, normalize_email, normalize_identity, normalize_phone
from switchboard.domain.operators import Role
from switchboard.domain.timeline import TimelineEntry

STAFF = (Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)
CONSENT_FIELDS = ("marketing_consent", "processing_consent")


@dataclass(frozen=True, slots=True)
class NewContact:
    name: str
    tier: ContactTier = ContactTier.REGULAR
    identities: tuple[tuple[IdentityKind, str], ...] = ()
    fields: Mapping[str, object] = field(default_factory=dict)


def _normalized(kind: IdentityKind, value: str, region: str) -> Identity:
    try:
        return normalize_identity(kind, value, region)
    except DomainError as error:
        raise InvalidInput(error.detail, field=f"identities.{kind.value}") from error


def checked_fields(fields: Mapping[str, object], now: datetime) -> dict[str, object]:
    """Profile fields from the outside, validated; a consent given as ``{granted, at?}`` is dated now when undated."""
    given = dict(fields)
    for name in CONSENT_FIELDS:
        answer = given.get(name)
        if isinstance(answer, Mapping):
            at = answer.get("at") or now
            given[name] = Consent(bool(answer.get("granted")), at) if isinstance(at, datetime) else answer
    try:
        return check_fields(given, now.date())
    except DomainError as error:
        raise InvalidInput(error.detail, field=error.field) from error


async def _check_references(uow: UnitOfWork, contact_id: int | None, fields: Mapping[str, object]) -> None:
    owner = fields.get("responsible_operator_id")
    if owner is not None and (not isinstance(owner, int) or await uow.users.get(owner) is None):
        raise InvalidInput(f"user {owner} does not exist", field="responsible_operator_id")
    external = fields.get("external_id")
    if isinstance(external, str):
        holder = await uow.contacts.find_by_external_id(external)
        if holder is not None and holder != contact_id:
            raise StateConflict(f"external id {external} belongs to contact {holder}", field="external_id")


async def create_contact(services: Services, principal: Principal, new: NewContact) -> Contact:
    require_role(principal, *STAFF)
    name = new.name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidInput("name must be 1 to 200 characters", field="name")
    identities = [_normalized(kind, value, services.default_region) for kind, value in new.identities]
    now = services.clock.now()
    profile = checked_fields(new.fields, now)
    for reserved in ("name", "tier"):
        profile.pop(reserved, None)
    if isinstance(profile.get("custom_fields"), dict):
        profile["custom_fields"] = _custom(profile["custom_fields"], {})
    async with services.uow() as uow:
        for identity in identities:
            if await uow.contacts.find_by_identity(identity) is not None:
                raise StateConflict(
                    f"{identity.kind.value} {identity.value} belongs to another contact", field="identities"
                )
        await _check_references(uow, None, profile)
        contact = await uow.contacts.add(name, new.tier, now, profile)
        for identity in identities:
            await uow.contacts.add_identity(contact.id, identity, now)
        contact.identities.extend(identities)
        uow.emit(ContactCreated(contact.id, None), now)
        await uow.commit()
        return contact


def _custom(patch: object, current: Mapping[str, CustomValue]) -> dict[str, CustomValue]:
    assert isinstance(patch, dict)
    try:
        return patch_custom_fields(current, patch)
    except DomainError as error:
        raise InvalidInput(error.detail, field=error.field) from error


def live(contact: Contact | None, contact_id: int) -> Contact:
    """The contact, or the problem that says it does not exist or where it was merged."""
    if contact is None:
        raise NotFound(f"contact {contact_id} does not exist")
    if contact.merged_into_id is not None:
        raise ContactMerged(contact_id, contact.merged_into_id)
    return contact


async def get_contact(services: Services, principal: Principal, contact_id: int) -> Contact:
    require_role(principal, *STAFF)
    async with services.uow(read_only=True) as uow:
        contact = await uow.contacts.get(contact_id)
    return live(contact, contact_id)


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
    """Edit the card; ``custom_fields`` is a merge patch (a null value removes that field), ``tags`` replaces."""
    require_role(principal, *STAFF)
    now = services.clock.now()
    checked = checked_fields(fields, now)
    async with services.uow() as uow:
        contact = live(await uow.contacts.get(contact_id), contact_id)
        await _check_references(uow, contact_id, checked)
        if "custom_fields" in checked:
            checked["custom_fields"] = _custom(checked["custom_fields"], contact.custom_fields)
        await uow.contacts.update(contact_id, checked, now)
        await uow.audit.add(
            now,
            "contact.update",
            "contact",
            contact_id,
            {"fields": sorted(checked)},
            principal.user_id,
            principal.token_id,
            principal.request_id,
        )
        uow.emit(ContactUpdated(contact_id, tuple(sorted(checked))), now)
        await uow.commit()
        updated = await uow.contacts.get(contact_id)
    assert updated is not None
    return updated


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
        # the contact is read only when the page is empty: a page proves it exists (and is not merged away)
        if not entries:
            live(await uow.contacts.get(contact_id), contact_id)
        return entries


async def add_identity(
    services: Services, principal: Principal, contact_id: int, kind: IdentityKind, value: str
) -> Contact:
    """Tie one more phone, email or messenger id to a contact; one identity never has two owners."""
    require_role(principal, *STAFF)
    identity = _normalized(kind, value, services.default_region)
    now = services.clock.now()
    async with services.uow() as uow:
        contact = live(await uow.contacts.get(contact_id), contact_id)
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
