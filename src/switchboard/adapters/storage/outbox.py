"""The outbox as a store (relay, websocket resume) and the inbox that makes consumers idempotent.

Events are published in number order (``sequence``), and numbers become visible as a gap-free
prefix, which is what a websocket resuming "after N" needs.

PostgreSQL: ids come from a database sequence handed out at insert, so rows can commit out of id
order. The relay numbers rows itself as it publishes them: one relay at a time (an advisory lock)
gives the next numbers, in one transaction, to the committed rows it has not numbered yet.

SQLite: one writer at a time holds the database's lock from its first write to its commit, so a
row numbered as it is inserted is numbered in commit order. A trigger does it inside SQLite
(migration ``0012_outbox_numbering``), and the relay's round only reads: a write transaction less
per round, and no statement more per commit. A row left unnumbered (a database whose tables were
made without the migrations) is numbered by the relay as on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Update,
    any_,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage import tables as t
from switchboard.adapters.storage.columns import sqlite_time
from switchboard.adapters.storage.database import Database
from switchboard.application.ports.bus import Envelope

RELAY_LOCK = 727_003  # a fixed advisory lock key for "the relay publishing now" (others: storage/leader.py)


def envelope_from_row(row: Any) -> Envelope:
    return Envelope(row.id, row.name, row.occurred_at, dict(row.payload), row.sequence or 0)


def _numbering() -> Update:
    """One statement: the next numbers after the highest, in id order, to up to ``:limit`` unnumbered rows."""
    o, highest = t.outbox.c, t.outbox.alias("highest")
    top = select(func.coalesce(func.max(highest.c.sequence), 0)).scalar_subquery()
    fresh = (
        select(o.id, (top + func.row_number().over(order_by=o.id)).label("number"))
        .where(o.published_at.is_(None), o.sequence.is_(None))
        .order_by(o.id)
        .limit(bindparam("limit"))
        .subquery("fresh")
    )
    return update(t.outbox).where(o.id == fresh.c.id).values(sequence=fresh.c.number)


_NUMBERING = _numbering()
_LOCK = text("SELECT pg_advisory_lock(:k)")
_UNLOCK = text("SELECT pg_advisory_unlock(:k)")


# numbered rows only: SQLite sorts NULL first, and an unnumbered row must never go out
_UNMARKED = select(t.outbox).where(t.outbox.c.published_at.is_(None), t.outbox.c.sequence.is_not(None))


def _numbered_pg() -> Any:
    """PostgreSQL: number the next rows and return them with any numbered before and not yet marked
    (a relay that crashed after publishing), in number order, in one statement. The second part reads
    the snapshot from before the update, so the rows numbered now are not in it twice."""
    numbered = _numbering().returning(*t.outbox.c).cte("numbered")
    both = union_all(select(numbered), _UNMARKED).subquery("pending")
    return select(both).order_by(both.c.sequence).limit(bindparam("limit"))


_NUMBERED_PG = _numbered_pg()


def _last_sequence() -> Any:
    o = t.outbox.c
    first_unmarked = select(func.min(o.sequence)).where(o.published_at.is_(None)).scalar_subquery()
    highest = select(func.max(o.sequence)).scalar_subquery()
    return select(func.coalesce(first_unmarked - 1, highest, 0))


_LAST_SEQUENCE = _last_sequence()


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


_UNPUBLISHED = select(t.outbox).where(t.outbox.c.published_at.is_(None)).order_by(t.outbox.c.id)
# the same read in SQLite's own words, without SQLAlchemy's result rows and type processing per row
_UNPUBLISHED_SQLITE = (
    "SELECT id, name, payload, occurred_at, sequence FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT ?"
)


class SqlOutboxStore:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._turn = asyncio.Lock()  # one relay round at a time in this process (SQLite has no other lock)
        self._held: AsyncConnection | None = None  # PostgreSQL: the relay turn's locked connection

    @property
    def numbered_at_insert(self) -> bool:
        return self._db.is_sqlite

    @contextlib.asynccontextmanager
    async def relay_turn(self) -> AsyncIterator[None]:
        """One relay at a time numbers, publishes and marks (so the bus carries events in number order).

        On PostgreSQL a session advisory lock on one connection in autocommit, which the round's
        numbering and marking also use (each statement its own transaction, as the numbers must be
        committed before they are published): four round trips a round. A crashed node's lock goes
        with its connection; a connection whose unlock failed is closed, never pooled with the lock.
        """
        async with self._turn:
            if self._db.is_sqlite:
                yield
                return
            async with self._db.engine.connect() as pooled:
                connection = await pooled.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(_LOCK, {"k": RELAY_LOCK})
                self._held = connection
                try:
                    yield
                finally:
                    self._held = None
                    try:
                        await connection.execute(_UNLOCK, {"k": RELAY_LOCK})
                    except BaseException:
                        await connection.invalidate()
                        raise

    async def sequence_pending(self, limit: int) -> list[Envelope]:
        """Number the committed rows that have no number yet (oldest id first); the unpublished, in number order.

        Call it inside ``relay_turn``. A row numbered but not marked (a crash after publishing) keeps
        its number and comes first, so a republished event has the same number everywhere.
        """
        if self._held is not None:  # PostgreSQL, in a turn: number and read in one statement
            return [envelope_from_row(r) for r in await self._held.execute(_NUMBERED_PG, {"limit": limit})]
        pending = await self.unpublished(limit)  # SQLite: numbered at insert, so a read is enough
        if all(e.sequence for e in pending):
            return sorted(pending, key=lambda e: e.sequence)
        async with self._db.writing() as connection:  # rows another writer left unnumbered
            await connection.execute(_NUMBERING, {"limit": limit})
            pending = _UNMARKED.order_by(t.outbox.c.sequence).limit(limit)
            return [envelope_from_row(r) for r in await connection.execute(pending)]

    async def unpublished(self, limit: int) -> list[Envelope]:
        async with self._db.engine.connect() as connection:
            if self._db.is_sqlite:  # every relay round: the rows as tuples, made envelopes here
                rows = await connection.exec_driver_sql(_UNPUBLISHED_SQLITE, (limit,))
                return [Envelope(i, name, sqlite_time(at), json.loads(body), n or 0) for i, name, body, at, n in rows]
            return [envelope_from_row(r) for r in await connection.execute(_UNPUBLISHED.limit(limit))]

    async def mark_published(self, event_ids: Sequence[int], at: datetime) -> None:
        if not event_ids:
            return
        if self._db.is_sqlite:
            statement, ids = _MARK_SQLITE, json.dumps(list(event_ids))
        else:
            statement, ids = _MARK_PG, list(event_ids)
        if self._held is not None:
            await self._held.execute(statement, {"ids": ids, "at": at})
            return
        async with self._db.writing() as connection:
            await connection.execute(statement, {"ids": ids, "at": at})

    async def after(self, event_id: int, limit: int) -> list[Envelope]:
        statement = select(t.outbox).where(t.outbox.c.id > event_id).order_by(t.outbox.c.id).limit(limit)
        async with self._db.engine.connect() as connection:
            return [envelope_from_row(r) for r in await connection.execute(statement)]

    async def last_id(self) -> int:
        async with self._db.engine.connect() as connection:
            return int((await connection.execute(select(func.coalesce(func.max(t.outbox.c.id), 0)))).scalar_one())

    async def sequenced_after(self, sequence: int, limit: int) -> list[Envelope]:
        """Numbered events after ``sequence``, in number order: what a resuming websocket missed."""
        o = t.outbox.c
        statement = select(t.outbox).where(o.sequence > sequence).order_by(o.sequence).limit(limit)
        async with self._db.engine.connect() as connection:
            return [envelope_from_row(r) for r in await connection.execute(statement)]

    async def last_sequence(self) -> int:
        """The number below every event not yet marked published: every event after it reaches a
        websocket that joined the hub before asking (they are published after), none before it does."""
        async with self._db.engine.connect() as connection:
            return int((await connection.execute(_LAST_SEQUENCE)).scalar_one())

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
