"""The outbox as a store (relay, websocket resume) and the inbox that makes consumers idempotent."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, any_, bindparam, func, insert, literal_column, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from switchboard.adapters.storage import tables as t
from switchboard.adapters.storage.database import Database
from switchboard.application.ports.bus import Envelope


def envelope_from_row(row: Any) -> Envelope:
    return Envelope(row.id, row.name, row.occurred_at, dict(row.payload))


# One statement text whatever the batch size: an ``IN`` list is a new statement (and, on asyncpg, a
# new prepared statement) per length; the ids go as one array (PostgreSQL) or one JSON text (SQLite).
_MARK_PG = (
    update(t.outbox)
    .where(t.outbox.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger))))
    .values(published_at=bindparam("at"))
)
_MARK_SQLITE = (
    update(t.outbox)
    .where(t.outbox.c.id.in_(select(literal_column("value")).select_from(func.json_each(bindparam("ids")))))
    .values(published_at=bindparam("at"))
)


class SqlOutboxStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def unpublished(self, limit: int) -> list[Envelope]:
        statement = select(t.outbox).where(t.outbox.c.published_at.is_(None)).order_by(t.outbox.c.id).limit(limit)
        async with self._db.engine.connect() as connection:
            return [envelope_from_row(r) for r in await connection.execute(statement)]

    async def mark_published(self, event_ids: Sequence[int], at: datetime) -> None:
        if not event_ids:
            return
        if self._db.is_sqlite:
            statement, ids = _MARK_SQLITE, json.dumps(list(event_ids))
        else:
            statement, ids = _MARK_PG, list(event_ids)
        async with self._db.writing() as connection:
            await connection.execute(statement, {"ids": ids, "at": at})

    async def after(self, event_id: int, limit: int) -> list[Envelope]:
        statement = select(t.outbox).where(t.outbox.c.id > event_id).order_by(t.outbox.c.id).limit(limit)
        async with self._db.engine.connect() as connection:
            return [envelope_from_row(r) for r in await connection.execute(statement)]

    async def last_id(self) -> int:
        async with self._db.engine.connect() as connection:
            return int((await connection.execute(select(func.coalesce(func.max(t.outbox.c.id), 0)))).scalar_one())

    async def ping(self) -> bool:
        return await self._db.ping()


class SqlInbox:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def seen(self, consumer: str, event_id: int) -> bool:
        p = t.processed_events.c
        statement = select(p.event_id).where(p.consumer == consumer, p.event_id == event_id)
        async with self._db.engine.connect() as connection:
            return (await connection.execute(statement)).first() is not None

    async def first_time(self, consumer: str, event_id: int, at: datetime) -> bool:
        statement = insert(t.processed_events).values(consumer=consumer, event_id=event_id, processed_at=at)
        try:
            async with self._db.writing() as connection:
                await connection.execute(statement)
        except IntegrityError:
            return False
        return True
