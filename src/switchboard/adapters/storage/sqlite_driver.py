"""SQLite through aiosqlite with one trip to its thread per statement.

SQLAlchemy's aiosqlite adapter makes four trips to aiosqlite's thread for a statement: create a
cursor, execute, fetch the rows, close the cursor. Each trip wakes that thread and then the event
loop again, and costs more CPU than SQLite's work on a short statement. This cursor does all four
in one function run in the thread and keeps the outcome (rows, description, row count, last row
id) on the event loop's side. Everything else (connections, transactions, server-side cursors,
errors) is SQLAlchemy's own aiosqlite dialect, unchanged: the engine gets this adapter as its
DBAPI module (``create_async_engine(..., module=one_call_dbapi())``).

A statement of a write transaction that already holds SQLite's write lock cannot wait for anyone:
no other writer can get in, and WAL readers never block. It runs on the event loop's thread, which
saves the two thread switches a trip costs (more CPU than the statement itself on a short one).
Everything that might wait stays on aiosqlite's thread: the first write of a transaction (it takes
the lock, and another process may hold it), the commit, reads outside a write transaction, pragmas,
DDL, and long ``executemany`` batches.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sized
from typing import Any, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

Outcome = tuple[Any, int, int | None, list[Any]]
INLINE_HEADS = frozenset({"INSERT", "UPDATE", "DELETE", "SELECT"})
INLINE_MANY = 64  # rows of an executemany that may run inline; a longer batch goes to the thread


def cannot_wait(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> bool:
    """Whether the statement is one of a write transaction that already holds the lock (see the module docstring).

    The sqlite3 module opens a transaction only before a write, so ``in_transaction`` means this
    connection has written and holds the lock until its commit or rollback."""
    if not connection.in_transaction:
        return False
    if many and not (isinstance(parameters, Sized) and len(parameters) <= INLINE_MANY):
        return False
    return operation.lstrip()[:6].upper() in INLINE_HEADS


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> Outcome:
    """In aiosqlite's thread: the whole statement, its rows read before the cursor closes."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def run_statement(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> list[Any]:
    """A statement run here and now (``adapters/storage/direct.py``): its rows."""
    return _run(connection, operation, parameters, many)[3]


class OneCallCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor with no aiosqlite cursor behind it: each execute is one call into the thread."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:  # no cursor to create in the thread
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._rows = collections.deque()
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        return  # the rows are already here and there is no cursor to close

    def close(self) -> None:
        self._rows.clear()

    async def _call(self, operation: str, parameters: Any, many: bool) -> None:
        connection = self._connection._conn
        async with self._adapt_connection._execute_mutex:
            if cannot_wait(connection, operation, parameters, many):
                outcome = _run(connection, operation, parameters, many)
            else:
                outcome = await self._connection._execute(_run, connection, operation, parameters, many)
        self._description, self._rowcount, self._lastrowid, rows = outcome
        self._rows = collections.deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> None:
        await self._call(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> None:
        await self._call(operation, seq_of_parameters, True)


class OneCallConnection(AsyncAdapt_aiosqlite_connection):
    """The one-call cursor's connection, whose close never waits for a thread that has gone.

    aiosqlite's ``close()`` ends by queueing a stop for its thread and waiting for the answer. After a
    ``stop()`` (SQLAlchemy's forced terminate, when a cancel lands in a connection's clean-up) that
    thread ends at the first stop, so a close queued behind it, or a second stop, waits forever."""

    __slots__ = ("_closing",)
    _cursor_cls = OneCallCursor

    def close(self) -> None:
        if self._connection._running:  # else stopped already: its thread closes the connection and ends
            super().close()

    async def _terminate_graceful_close(self) -> None:
        self._closing = True
        if self._connection._running:
            await self._connection.close()

    def _terminate_force_close(self) -> None:
        if not getattr(self, "_closing", False):  # a graceful close under way stops the thread itself
            super()._terminate_force_close()


class OneCallDbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneCallConnection:
        # statements of a transaction holding the lock run on the loop's thread (see cannot_wait)
        connection = aiosqlite.connect(*arg, **{**kw, "check_same_thread": False})
        connection._thread.daemon = True  # as SQLAlchemy's adapter does: a stuck thread must not hold up exit
        return OneCallConnection(self, cast(Any, await_(connection)))


def one_call_dbapi() -> OneCallDbapi:
    return OneCallDbapi(aiosqlite, sqlite3)
