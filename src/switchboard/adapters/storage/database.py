"""The database: one engine, SQLite pragmas, and the single writer SQLite needs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from switchboard.adapters.storage.sqlite_driver import one_call_dbapi
from switchboard.application.ports.bus import Envelope


def async_url(url: str) -> str:
    """Accept plain ``postgresql://`` and ``sqlite:///`` URLs and pick the async drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    """The same database for tools that are synchronous (Alembic offline, CLI checks)."""
    parsed = make_url(async_url(url))
    return parsed.set(drivername=parsed.get_backend_name()).render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Database:
    """Owns the engine; on SQLite it serialises writers so they never meet a locked database."""

    def __init__(self, url: str, *, pool_size: int = 20, echo: bool = False) -> None:
        self.url = async_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            _ensure_sqlite_dir(self.url)
            self.engine: AsyncEngine = create_async_engine(self.url, echo=echo, module=one_call_dbapi())
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_async_engine(
                self.url,
                echo=echo,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=False,
                pool_timeout=30,
                connect_args={"timeout": 5, "command_timeout": 15},
            )
        self.write_lock: asyncio.Lock | None = asyncio.Lock() if self.is_sqlite else None
        self._on_commit: list[Callable[[], None]] = []
        self._on_events: list[Callable[[list[Envelope]], None]] = []

    @contextlib.asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncConnection]:
        """A short write transaction outside a unit of work, behind SQLite's single writer."""
        async with contextlib.AsyncExitStack() as stack:
            if self.write_lock is not None:
                await stack.enter_async_context(self.write_lock)
            yield await stack.enter_async_context(self.engine.begin())

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` after every commit that wrote events (wakes the outbox relay)."""
        self._on_commit.append(callback)

    def on_events(self, callback: Callable[[list[Envelope]], None]) -> None:
        """Hand the events of every commit of this process to ``callback`` right after it (with their ids).

        A fast path for this server's own listeners (a screen pop); the outbox relay stays the
        durable one, so listeners see each event twice and dedupe by id.
        """
        self._on_events.append(callback)

    def off_events(self, callback: Callable[[list[Envelope]], None]) -> None:
        if callback in self._on_events:
            self._on_events.remove(callback)

    @property
    def wants_events(self) -> bool:
        return bool(self._on_events)

    def committed_events(self, envelopes: list[Envelope] | None = None) -> None:
        for callback in self._on_commit:
            callback()
        if envelopes:
            for listener in self._on_events:
                listener(envelopes)

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()


def _ensure_sqlite_dir(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
