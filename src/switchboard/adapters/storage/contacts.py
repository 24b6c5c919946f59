"""Contacts and their identities in SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage import tables as t
from switchboard.application.ports.storage import ContactQuery
from switchboard.domain.contacts import Contact, ContactTier
from switchboard.domain.identity import Identity, IdentityKind


def searchable(name: str) -> str:
    """The form names are searched in: case-folded, ё as е."""
    return name.casefold().replace("ё", "е")


def contact_from_row(row: Any, identities: list[Identity]) -> Contact:
    return Contact(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        tier=ContactTier(row.tier),
        company_id=row.company_id,
        time_zone=row.time_zone,
        responsible_operator_id=row.responsible_operator_id,
        identities=identities,
    )


class SqlContacts:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def add(self, name: str, tier: ContactTier, at: datetime) -> Contact:
        result = await self._c.execute(
            insert(t.contacts)
            .values(name=name, search_name=searchable(name), tier=tier.value, created_at=at, updated_at=at)
            .returning(t.contacts.c.id)
        )
        return Contact(id=result.scalar_one(), name=name, created_at=at, updated_at=at, tier=tier)

    async def get(self, contact_id: int) -> Contact | None:
        row = (await self._c.execute(select(t.contacts).where(t.contacts.c.id == contact_id))).first()
        if row is None:
            return None
        identities = await self._identities([contact_id])
        return contact_from_row(row, identities.get(contact_id, []))

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

    async def owners(self, identities: Sequence[Identity]) -> dict[Identity, int]:
        if not identities:
            return {}
        pairs = [(i.kind.value, i.value) for i in identities]
        rows = await self._c.execute(
            select(t.identities.c.kind, t.identities.c.value, t.identities.c.contact_id).where(
                tuple_(t.identities.c.kind, t.identities.c.value).in_(pairs)
            )
        )
        return {Identity(IdentityKind(r.kind), r.value): r.contact_id for r in rows}

    async def add_identity(self, contact_id: int, identity: Identity, at: datetime) -> None:
        await self._c.execute(
            insert(t.identities).values(
                contact_id=contact_id, kind=identity.kind.value, value=identity.value, created_at=at
            )
        )

    async def search(self, query: ContactQuery, limit: int, offset: int) -> list[Contact]:
        statement = select(t.contacts).order_by(t.contacts.c.id.desc()).limit(limit).offset(offset)
        conditions: list[ColumnElement[bool]] = []
        for kind, value in ((IdentityKind.PHONE, query.phone), (IdentityKind.EMAIL, query.email)):
            if value:
                # IN, not a correlated EXISTS: SQLite would scan every contact (bench/timeline.py plans)
                owner = select(t.identities.c.contact_id).where(
                    t.identities.c.kind == kind.value, t.identities.c.value == value
                )
                conditions.append(t.contacts.c.id.in_(owner))
        if query.name:
            pattern = "%" + searchable(query.name).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conditions.append(t.contacts.c.search_name.like(pattern, escape="\\"))
        if conditions:
            statement = statement.where(*conditions)
        rows = (await self._c.execute(statement)).all()
        identities = await self._identities([row.id for row in rows]) if rows else {}
        return [contact_from_row(row, identities.get(row.id, [])) for row in rows]

    async def batch(self, after_id: int, limit: int) -> list[Contact]:
        rows = (
            await self._c.execute(
                select(t.contacts).where(t.contacts.c.id > after_id).order_by(t.contacts.c.id).limit(limit)
            )
        ).all()
        identities = await self._identities([row.id for row in rows]) if rows else {}
        return [contact_from_row(row, identities.get(row.id, [])) for row in rows]

    async def update(self, contact_id: int, fields: Mapping[str, Any], at: datetime) -> None:
        values = dict(fields)
        if "name" in values:
            values["search_name"] = searchable(str(values["name"]))
        await self._c.execute(update(t.contacts).where(t.contacts.c.id == contact_id).values(**values, updated_at=at))

    async def is_new(self, contact_id: int) -> bool:
        result = await self._c.execute(select(exists().where(t.conversations.c.contact_id == contact_id)))
        return not result.scalar_one()
