"""Which process routes: one leader at a time, by a PostgreSQL advisory lock (SQLite has one process)."""

from __future__ import annotations

import contextlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage.database import Database

ROUTING_LOCK = 727_001  # an arbitrary, fixed advisory lock key for "the routing leader"
POLLING_LOCK = 727_002  # the process that polls channels (workers/polling.py)
# 727_003 is the outbox relay's turn (storage/outbox.py)


class LeaderLock:
    """Held on a dedicated connection; if the process dies, PostgreSQL releases it and another takes over."""

    def __init__(self, database: Database, key: int = ROUTING_LOCK) -> None:
        self._database = database
        self._key = key
        self._connection: AsyncConnection | None = None

    async def try_acquire(self) -> bool:
        if self._database.is_sqlite:
            return True
        if self._connection is not None:
            return True
        connection = await self._database.engine.connect()
        try:
            held = (await connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key})).scalar_one()
            await connection.commit()
        except Exception:
            await connection.close()
            raise
        if held:
            self._connection = connection
            return True
        await connection.close()
        return False

    async def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
                await self._connection.close()
            self._connection = None
