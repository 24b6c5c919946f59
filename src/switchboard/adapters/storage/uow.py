"""The SQL unit of work: one connection, one transaction, events into the outbox at commit."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any, Self

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage import tables as t
from switchboard.adapters.storage.bulk import insert_rows, inserted_ids
from switchboard.adapters.storage.calls import SqlCallbacks, SqlCalls
from switchboard.adapters.storage.catalog import (
    SqlChannels,
    SqlLines,
    SqlTokens,
    SqlUsers,
)
from switchboard.adapters.storage.contacts import SqlContacts
from switchboard.adapters.storage.conversations import SqlConversations, SqlMessages, SqlTimeline
from switchboard.adapters.storage.database import Database
from switchboard.adapters.storage.deliveries import SqlDeliveries
from switchboard.adapters.storage.desk import SqlCannedResponses, SqlFloor, SqlNotes
from switchboard.adapters.storage.intake import SqlIntakeStore
from switchboard.adapters.storage.merges import SqlMerges, SqlSuggestions
from switchboard.adapters.storage.notices import SqlNotices
from switchboard.adapters.storage.records import SqlAudit, SqlLeads
from switchboard.adapters.storage.routing import SqlRouting
from switchboard.adapters.storage.uploads import SqlUploads
from switchboard.adapters.storage.webchat import SqlWebchat
from switchboard.application.ports.bus import Envelope
from switchboard.application.ports.storage import Conflict, StorageUnavailable
from switchboard.domain.events import Event

_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout, OSError, TimeoutError, ConnectionError)


RETRYABLE = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure
# connection exception, insufficient resources ("too many clients already"), shutting down
UNREACHABLE = ("08", "53", "57P")


def _sqlstate(error: BaseException) -> str | None:
    original = getattr(error, "orig", None)
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if code is None and original is not None:
        code = getattr(getattr(original, "__cause__", None), "sqlstate", None)
    return code if isinstance(code, str) else None


def translate(error: BaseException) -> BaseException | None:
    """Map a driver error to the port's vocabulary; None when it is not a storage matter."""
    code = _sqlstate(error)
    if isinstance(error, IntegrityError) or code in RETRYABLE:
        return Conflict(str(getattr(error, "orig", error)))
    if code is not None and code.startswith(UNREACHABLE):
        return StorageUnavailable(f"the database refused the connection ({code})")
    if isinstance(error, _UNAVAILABLE):
        return StorageUnavailable(type(error).__name__)
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return StorageUnavailable("connection lost")
    return None


class SqlUnitOfWork:
    def __init__(self, database: Database, *, read_only: bool = False) -> None:
        self._database = database
        self._read_only = read_only
        self._events: list[tuple[Event, datetime]] = []
        self._connection: AsyncConnection | None = None
        self._locked = False

    async def __aenter__(self) -> Self:
        lock = self._database.write_lock
        if lock is not None and not self._read_only:
            await lock.acquire()
            self._locked = True
        try:
            self._connection = await self._database.engine.connect()
            if self._read_only and not self._database.is_sqlite:
                # READ COMMITTED gives every statement its own snapshot anyway: BEGIN and ROLLBACK
                # around reads are two round trips that buy nothing
                await self._connection.execution_options(isolation_level="AUTOCOMMIT")
            else:
                await self._connection.begin()
        except BaseException as error:
            await self._release()
            mapped = translate(error)
            if mapped is not None:
                raise mapped from error
            raise
        self._bind(self._connection)
        return self

    def _bind(self, connection: AsyncConnection) -> None:
        self.contacts = SqlContacts(connection, self._database.is_sqlite)
        self.deliveries = SqlDeliveries(connection)
        self.notices = SqlNotices(connection)
        self.conversations = SqlConversations(connection, self._database.is_sqlite)
        self.messages = SqlMessages(connection)
        self.timeline = SqlTimeline(connection)
        self.leads = SqlLeads(connection)
        self.channels = SqlChannels(connection)
        self.lines = SqlLines(connection)
        self.users = SqlUsers(connection)
        self.tokens = SqlTokens(connection)
        self.audit = SqlAudit(connection)
        self.routing = SqlRouting(connection)
        self.webchat = SqlWebchat(connection, self._database.is_sqlite)
        self.merges = SqlMerges(connection)
        self.suggestions = SqlSuggestions(connection)
        self.calls = SqlCalls(connection, self._database.is_sqlite)
        self.callbacks = SqlCallbacks(connection, self._database.is_sqlite)
        self.notes = SqlNotes(connection)
        self.uploads = SqlUploads(connection)
        self.canned = SqlCannedResponses(connection)
        self.floor = SqlFloor(connection)
        self.intake = SqlIntakeStore(connection, self._database.is_sqlite)

    def emit(self, event: Event, at: datetime) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot emit events")
        self._events.append((event, at))

    async def commit(self) -> None:
        assert self._connection is not None
        envelopes: list[Envelope] = []
        if self._events:
            rows: list[dict[str, Any]] = [
                {"name": e.name, "payload": e.payload(), "conversation_id": e.conversation_ref, "occurred_at": at}
                for e, at in self._events
            ]
            unnest = not self._database.is_sqlite
            if self._database.wants_events:  # ids for this process's listeners (the screen pop's fast path)
                ids = await inserted_ids(self._connection, t.outbox, rows, unnest=unnest)
                envelopes = [
                    Envelope(i, r["name"], r["occurred_at"], r["payload"]) for i, r in zip(ids, rows, strict=True)
                ]
            else:
                await insert_rows(self._connection, t.outbox, rows, unnest=unnest)
        await self._connection.commit()
        had_events, self._events = bool(self._events), []
        if had_events:
            self._database.committed_events(envelopes)

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        try:
            if self._connection is not None and self._connection.in_transaction():
                await self._connection.rollback()
        except Exception:  # noqa: S110 - the connection is already broken; the original error matters
            pass
        finally:
            await self._release()
        if exc is not None:
            mapped = translate(exc)
            if mapped is not None:
                raise mapped from exc

    async def _release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # closing a dead connection may fail; nothing to keep
                await self._connection.close()
            self._connection = None
        if self._locked and self._database.write_lock is not None:
            self._database.write_lock.release()
            self._locked = False


class SqlUnitOfWorkFactory:
    def __init__(self, database: Database) -> None:
        self.database = database

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.database, read_only=read_only)

    @property
    def serial_writes(self) -> bool:
        return self.database.write_lock is not None
