"""The durable delivery queue in SQL: a lease per claim, so a crashed worker's tasks come back by themselves."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage import tables as t
from switchboard.application.ports.storage import DeliveryTask

d = t.deliveries


class SqlDeliveries:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def add(self, message_id: int, channel_id: int, at: datetime, template: Mapping[str, Any] | None) -> None:
        await self._c.execute(
            insert(d).values(
                message_id=message_id,
                channel_id=channel_id,
                attempts=0,
                next_attempt_at=at,
                template=dict(template) if template is not None else None,
                created_at=at,
            )
        )

    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[DeliveryTask]:
        due = (
            select(d.c.message_id)
            .where(d.c.next_attempt_at <= now, or_(d.c.lease_until.is_(None), d.c.lease_until < now))
            .order_by(d.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = await self._c.execute(
            update(d)
            .where(d.c.message_id.in_(due.scalar_subquery()))
            .values(lease_until=lease_until)
            .returning(d.c.message_id, d.c.channel_id, d.c.attempts, d.c.created_at, d.c.template)
        )
        tasks = [DeliveryTask(r.message_id, r.channel_id, r.attempts, r.created_at, r.template) for r in rows]
        return sorted(tasks, key=lambda task: task.message_id)

    async def retry_at(self, message_id: int, attempts: int, at: datetime, error: str) -> None:
        await self._c.execute(
            update(d)
            .where(d.c.message_id == message_id)
            .values(attempts=attempts, next_attempt_at=at, lease_until=None, last_error=error[:1000])
        )

    async def remove(self, message_id: int) -> None:
        await self._c.execute(delete(d).where(d.c.message_id == message_id))

    async def waiting(self, channel_id: int) -> int:
        query = select(func.count()).select_from(d).where(d.c.channel_id == channel_id)
        return int((await self._c.execute(query)).scalar_one())
