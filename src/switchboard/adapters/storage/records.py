"""Leads and the audit log in SQL."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage import direct
from switchboard.adapters.storage import tables as t
from switchboard.adapters.storage.conversations import source_from_row, source_values
from switchboard.domain.leads import Lead, LeadStatus
from switchboard.domain.source import Source


def lead_from_row(row: Any) -> Lead:
    return Lead(
        row.id,
        row.contact_id,
        row.title,
        LeadStatus(row.status),
        row.automatic,
        row.created_at,
        row.conversation_id,
        row.created_by,
        source_from_row(row),
    )


# built once: values given at execute time, so the statement is compiled once and reused (a call's hot path)


class SqlLeads:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def add(
        self,
        contact_id: int,
        conversation_id: int | None,
        title: str,
        automatic: bool,
        created_by: int | None,
        at: datetime,
        source: Source,
    ) -> Lead:
        values = {
            "contact_id": contact_id,
            "conversation_id": conversation_id,
            "title": title,
            "status": LeadStatus.NEW.value,
            "automatic": automatic,
            "created_by": created_by,
            "created_at": at,
            **source_values(source),
        }
        lead_id = await direct.add_row(self._c, t.leads, values)
        return Lead(lead_id, contact_id, title, LeadStatus.NEW, automatic, at, conversation_id, created_by, source)

    async def get(self, lead_id: int) -> Lead | None:
        row = (await self._c.execute(select(t.leads).where(t.leads.c.id == lead_id))).first()
        return lead_from_row(row) if row else None

    async def list(self, contact_id: int | None, status: LeadStatus | None, limit: int, offset: int) -> list[Lead]:
        statement = select(t.leads).order_by(t.leads.c.id.desc()).limit(limit).offset(offset)
        if contact_id is not None:
            statement = statement.where(t.leads.c.contact_id == contact_id)
        if status is not None:
            statement = statement.where(t.leads.c.status == status.value)
        return [lead_from_row(r) for r in await self._c.execute(statement)]

    async def set_status(self, lead_id: int, status: LeadStatus) -> None:
        await self._c.execute(update(t.leads).where(t.leads.c.id == lead_id).values(status=status.value))


class SqlAudit:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def add(
        self,
        at: datetime,
        action: str,
        entity: str,
        entity_id: int | None,
        detail: Mapping[str, Any],
        actor_user_id: int | None,
        actor_token_id: int | None,
        request_id: str | None,
    ) -> None:
        await self._c.execute(
            insert(t.audit_log).values(
                at=at,
                action=action,
                entity=entity,
                entity_id=entity_id,
                detail=dict(detail),
                actor_user_id=actor_user_id,
                actor_token_id=actor_token_id,
                request_id=request_id,
            )
        )
