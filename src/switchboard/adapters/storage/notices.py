"""The durable notice queue in SQL: claimed with a lease, as the delivery queue is (storage/deliveries.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage import tables as t
from switchboard.application.ports.storage import NoticeTask

n = t.notices


def _due(now: datetime) -> Select[tuple[int]]:
    """Notices whose next attempt has come that nobody holds (or whose holder's lease ran out)."""
    return select(n.c.id).where(n.c.next_attempt_at <= now, or_(n.c.lease_until.is_(None), n.c.lease_until < now))


class SqlNotices:
    def __init__(self, connection: AsyncConnection) -> None:
        self._c = connection

    async def add(self, event_id: int, channel_id: int, kind: str, document: Mapping[str, Any], at: datetime) -> bool:
        """False when this event's notice to this channel is queued already (a redelivered event)."""
        known = select(n.c.id).where(n.c.event_id == event_id, n.c.channel_id == channel_id)
        if (await self._c.execute(known)).first() is not None:
            return False
        values = {"event_id": event_id, "channel_id": channel_id, "kind": kind, "document": dict(document)}
        await self._c.execute(insert(n).values(**values, attempts=0, next_attempt_at=at, created_at=at))
        return True

    async def any_due(self, now: datetime) -> bool:
        return (await self._c.execute(_due(now).limit(1))).first() is not None

    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[NoticeTask]:
        due = _due(now).order_by(n.c.id).limit(limit).with_for_update(skip_locked=True)
        rows = await self._c.execute(
            update(n)
            .where(n.c.id.in_(due.scalar_subquery()))
            .values(lease_until=lease_until)
            .returning(n.c.id, n.c.channel_id, n.c.kind, n.c.document, n.c.attempts, n.c.created_at)
        )
        tasks = [NoticeTask(r.id, r.channel_id, r.kind, dict(r.document), r.attempts, r.created_at) for r in rows]
        return sorted(tasks, key=lambda task: task.id)

    async def retry_at(self, notice_id: int, attempts: int, at: datetime, error: str) -> None:
        await self._c.execute(
            update(n)
            .where(n.c.id == notice_id)
            .values(attempts=attempts, next_attempt_at=at, lease_until=None, last_error=error[:1000])
        )

    async def remove(self, notice_id: int) -> None:
        await self._c.execute(delete(n).where(n.c.id == notice_id))
