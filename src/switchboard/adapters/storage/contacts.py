"""Contacts and their identities in SQL."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Select,
    bindparam,
    exists,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage import direct
from switchboard.adapters.storage import tables as t
from switchboard.application.ports.storage import ContactQuery
from switchboard.domain.channels import ChannelKind
from switchboard.domain.contacts import Consent, Contact, ContactTier
from switchboard.domain.identity import Identity, IdentityKind
from switchboard.domain.matching import Person
from switchboard.domain.matching.lookup import name_block

CONSENTS = ("marketing_consent", "processing_consent")
NAME_PARTS = frozenset({"name", "first_name", "middle_name", "last_name"})
PLAIN = (
    "first_name",
    "middle_name",
    "last_name",
    "birth_date",
    "company_name",
    "city",
    "address",
    "region",
    "postal_code",
    "country",
    "external_id",
    "time_zone",
    "responsible_operator_id",
    "company_id",
)
CANDIDATES_PER_KEY = 200


def searchable(name: str) -> str:
    """The form names are searched in: case-folded, ё as е."""
    return name.casefold().replace("ё", "е")


def like_pattern(name: str) -> str:
    """``%name%`` in the searchable form, LIKE's own characters escaped with a backslash."""
    return "%" + searchable(name).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def match_name(name: str | None, first: str | None, middle: str | None, last: str | None) -> str:
    """The matcher's name key, stored so a card finds transliterated and swapped namesakes by index."""
    return name_block(Person(0, first_name=first, last_name=last, middle_name=middle, full_name=name))[:200]


def _consent(granted: bool | None, at: datetime | None) -> Consent | None:
    return None if granted is None or at is None else Consent(granted, at)


def contact_from_row(row: Any, identities: list[Identity]) -> Contact:
    return Contact(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        tier=ContactTier(row.tier),
        identities=identities,
        preferred_channel=ChannelKind(row.preferred_channel) if row.preferred_channel else None,
        marketing_consent=_consent(row.marketing_consent, row.marketing_consent_at),
        processing_consent=_consent(row.processing_consent, row.processing_consent_at),
        tags=tuple(row.tags or ()),
        custom_fields=dict(row.custom_fields or {}),
        merged_into_id=row.merged_into_id,
        **{name: getattr(row, name) for name in PLAIN},
    )


def with_identities(contacts: FromClause) -> Select[Any]:
    """Contacts joined to their identities, one row per identity (NULLs for a contact without any):
    the card in one statement, not one for the contacts and one for their identities."""
    i = t.identities.c
    return select(contacts, i.kind.label("identity_kind"), i.value.label("identity_value")).select_from(
        contacts.outerjoin(t.identities, i.contact_id == contacts.c.id)
    )


@functools.cache
def search_statement(phone: bool, email: bool, name: bool) -> Select[Any]:
    """A page of live contacts with their identities, newest first, built once per kind of search:
    building it (a subquery proxies every contacts column) cost more CPU than running it."""
    c, i = t.contacts.c, t.identities.c
    conditions: list[ColumnElement[bool]] = [c.merged_into_id.is_(None)]
    for kind, wanted in ((IdentityKind.PHONE, phone), (IdentityKind.EMAIL, email)):
        if wanted:
            # IN, not a correlated EXISTS: SQLite would scan every contact (bench/timeline.py plans)
            owner = select(i.contact_id).where(i.kind == kind.value, i.value == bindparam(kind.value))
            conditions.append(c.id.in_(owner))
    if name:
        conditions.append(c.search_name.like(bindparam("name"), escape="\\"))
    limit, offset = bindparam("limit", type_=Integer), bindparam("offset", type_=Integer)
    page = select(t.contacts).where(*conditions).order_by(c.id.desc()).limit(limit).offset(offset).subquery("page")
    return with_identities(page).order_by(page.c.id.desc(), i.id)


CARD = (  # built once: the card is the hottest read
    with_identities(t.contacts).where(t.contacts.c.id == bindparam("id")).order_by(t.identities.c.id)
)
CARDS = (
    with_identities(t.contacts)
    .where(t.contacts.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(t.contacts.c.id, t.identities.c.id)
)


def grouped(rows: Iterable[Any]) -> list[Contact]:
    """Contacts from ``with_identities`` rows, in the rows' order (a contact's rows are adjacent)."""
    found: dict[int, tuple[Any, list[Identity]]] = {}
    for row in rows:
        _, identities = found.setdefault(row.id, (row, []))
        if row.identity_kind is not None:
            identities.append(Identity(IdentityKind(row.identity_kind), row.identity_value))
    return [contact_from_row(row, identities) for row, identities in found.values()]


def column_values(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Domain field values as the contacts table's columns."""
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name in CONSENTS:
            values[name] = value.granted if value is not None else None
            values[f"{name}_at"] = value.at if value is not None else None
        elif name == "tags":
            values[name] = list(value)
        elif name == "custom_fields":
            values[name] = dict(value)
        elif name in ("tier", "preferred_channel"):
            values[name] = value.value if value is not None else None
        else:
            values[name] = value
        if name == "name":
            values["search_name"] = searchable(str(value))
    return values


# built once (the hot path of a new call), values given at execute time: compiled once and reused
# the number's owner and tier in one statement
_OWNER_TIER = (
    select(t.contacts.c.id, t.contacts.c.tier)
    .join(t.identities, t.identities.c.contact_id == t.contacts.c.id)
    .where(t.identities.c.kind == bindparam("kind"), t.identities.c.value == bindparam("value"))
    .limit(1)
)


# PostgreSQL: the wanted pairs as two arrays joined against the unique index. A row-value ``IN`` list
# is a new statement per length (parsed and planned again) and PostgreSQL scans it slowly (~3 ms for
# 50 pairs against ~0.3 ms for this).
_OWNERS_PG = text(
    "SELECT i.kind, i.value, i.contact_id FROM identities AS i"
    " JOIN unnest(CAST(:kinds AS VARCHAR[]), CAST(:values AS VARCHAR[])) AS wanted(kind, value)"
    " ON i.kind = wanted.kind AND i.value = wanted.value"
)

# SQLite: the pairs as one JSON text, so the statement is the same text for any count (a row-value
# ``IN`` list is rendered and prepared anew on every call: ~330 µs against ~140 µs).
_OWNERS_SQLITE = text(
    "SELECT i.kind, i.value, i.contact_id FROM identities AS i JOIN json_each(:wanted) AS wanted"
    " ON i.kind = json_extract(wanted.value, '$[0]') AND i.value = json_extract(wanted.value, '$[1]')"
)


class SqlContacts:
    def __init__(self, connection: AsyncConnection, is_sqlite: bool = True) -> None:
        self._c = connection
        self._pg = not is_sqlite  # PostgreSQL: rows are locked (SQLite already has one writer); arrays for lookups

    async def add(self, name: str, tier: ContactTier, at: datetime, fields: Mapping[str, Any] | None = None) -> Contact:
        profile = dict(fields or {})
        values = column_values({**profile, "name": name, "tier": tier})
        values["match_name"] = match_name(
            name, profile.get("first_name"), profile.get("middle_name"), profile.get("last_name")
        )
        contact_id = await direct.add_row(self._c, t.contacts, {**values, "created_at": at, "updated_at": at})
        return Contact(id=contact_id, name=name, created_at=at, updated_at=at, tier=tier, **profile)

    async def get(self, contact_id: int) -> Contact | None:
        found = grouped(await self._c.execute(CARD, {"id": contact_id}))
        return found[0] if found else None

    async def get_many(self, contact_ids: Sequence[int]) -> list[Contact]:
        """The contacts with these ids that exist, in id order."""
        if not contact_ids:
            return []
        return grouped(await self._c.execute(CARDS, {"ids": list(contact_ids)}))

    async def lock(self, contact_ids: Sequence[int]) -> None:
        """Hold these contacts' rows until the commit (in id order, so two merges cannot deadlock)."""
        if self._pg and contact_ids:
            await self._c.execute(
                select(t.contacts.c.id)
                .where(t.contacts.c.id.in_(sorted(contact_ids)))
                .order_by(t.contacts.c.id)
                .with_for_update()
            )

    async def _identities(self, contact_ids: list[int]) -> dict[int, list[Identity]]:
        rows = await self._c.execute(
            select(t.identities.c.contact_id, t.identities.c.kind, t.identities.c.value)
            .where(t.identities.c.contact_id.in_(contact_ids))
            .order_by(t.identities.c.id)
        )
        found: dict[int, list[Identity]] = {}
        for row in rows:
            found.setdefault(row.contact_id, []).append(Identity(IdentityKind(row.kind), row.value))
        return found

    async def find_by_identity(self, identity: Identity) -> int | None:
        result = await self._c.execute(
            select(t.identities.c.contact_id).where(
                t.identities.c.kind == identity.kind.value, t.identities.c.value == identity.value
            )
        )
        return result.scalar_one_or_none()

    async def owner_tier(self, identity: Identity) -> tuple[int, ContactTier] | None:
        found = (await self._c.execute(_OWNER_TIER, {"kind": identity.kind.value, "value": identity.value})).first()
        return (found.id, ContactTier(found.tier)) if found else None

    async def find_by_external_id(self, external_id: str) -> int | None:
        result = await self._c.execute(select(t.contacts.c.id).where(t.contacts.c.external_id == external_id))
        return result.scalar_one_or_none()

    async def external_id_holders(self, external_ids: Sequence[str]) -> dict[str, int]:
        if not external_ids:
            return {}
        c = t.contacts.c
        rows = await self._c.execute(select(c.external_id, c.id).where(c.external_id.in_(list(external_ids))))
        return {row.external_id: row.id for row in rows}

    async def owners(self, identities: Sequence[Identity]) -> dict[Identity, int]:
        if not identities:
            return {}
        if self._pg:
            rows = await self._c.execute(
                _OWNERS_PG, {"kinds": [i.kind.value for i in identities], "values": [i.value for i in identities]}
            )
        else:
            wanted = json.dumps([[i.kind.value, i.value] for i in identities], ensure_ascii=False)
            rows = await self._c.execute(_OWNERS_SQLITE, {"wanted": wanted})
        return {Identity(IdentityKind(r.kind), r.value): r.contact_id for r in rows}

    async def add_identity(self, contact_id: int, identity: Identity, at: datetime) -> None:
        values = {"contact_id": contact_id, "kind": identity.kind.value, "value": identity.value, "created_at": at}
        await direct.add_rows(self._c, t.identities, [values])

    async def search(self, query: ContactQuery, limit: int, offset: int) -> list[Contact]:
        statement = search_statement(bool(query.phone), bool(query.email), bool(query.name))
        values: dict[str, object] = {"limit": limit, "offset": offset}
        if query.phone:
            values[IdentityKind.PHONE.value] = query.phone
        if query.email:
            values[IdentityKind.EMAIL.value] = query.email
        if query.name:
            values["name"] = like_pattern(query.name)
        return grouped(await self._c.execute(statement, values))

    async def batch(self, after_id: int, limit: int) -> list[Contact]:
        rows = (
            await self._c.execute(
                select(t.contacts)
                .where(t.contacts.c.id > after_id, t.contacts.c.merged_into_id.is_(None))
                .order_by(t.contacts.c.id)
                .limit(limit)
            )
        ).all()
        identities = await self._identities([row.id for row in rows]) if rows else {}
        return [contact_from_row(row, identities.get(row.id, [])) for row in rows]

    async def update(self, contact_id: int, fields: Mapping[str, Any], at: datetime) -> None:
        values = column_values(fields)
        await self._c.execute(update(t.contacts).where(t.contacts.c.id == contact_id).values(**values, updated_at=at))
        if NAME_PARTS & set(fields):
            await self._refresh_match_name(contact_id)

    async def _refresh_match_name(self, contact_id: int) -> None:
        c = t.contacts.c
        row = (
            await self._c.execute(select(c.name, c.first_name, c.middle_name, c.last_name).where(c.id == contact_id))
        ).one()
        key = match_name(row.name, row.first_name, row.middle_name, row.last_name)
        await self._c.execute(update(t.contacts).where(c.id == contact_id).values(match_name=key))

    async def set_merged_into(self, contact_id: int, survivor_id: int | None, at: datetime) -> None:
        await self._c.execute(
            update(t.contacts).where(t.contacts.c.id == contact_id).values(merged_into_id=survivor_id, updated_at=at)
        )

    async def candidates(self, contact: Contact, phones: Sequence[str]) -> list[int]:
        """Ids of live contacts that share the contact's name key or birth date, or own one of ``phones``."""
        c = t.contacts.c
        found: dict[int, None] = {}
        keys = await self._c.execute(select(c.match_name).where(c.id == contact.id))
        key = keys.scalar_one_or_none()
        for condition in (
            c.match_name == key if key else None,
            c.birth_date == contact.birth_date if contact.birth_date else None,
        ):
            if condition is None:
                continue
            rows = await self._c.execute(
                select(c.id)
                .where(condition, c.id != contact.id, c.merged_into_id.is_(None))
                .order_by(c.id.desc())
                .limit(CANDIDATES_PER_KEY)
            )
            found.update(dict.fromkeys(rows.scalars()))
        if phones:
            owners = await self.owners([Identity(IdentityKind.PHONE, phone) for phone in phones])
            found.update(dict.fromkeys(owner for owner in owners.values() if owner != contact.id))
        return list(found)

    async def is_new(self, contact_id: int) -> bool:
        result = await self._c.execute(select(exists().where(t.conversations.c.contact_id == contact_id)))
        return not result.scalar_one()
