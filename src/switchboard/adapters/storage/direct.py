"""Inserts run straight on the driver, inside a transaction that can take them at once.

SQLAlchemy's execution of a short statement (cache key, parameters, execution context, result) costs
about 120 µs of CPU on this machine, against about 25 µs for binding the values and SQLite's own
work, and about 150 µs more than asyncpg's own on PostgreSQL. The hot paths write several rows per
transaction (a new call: the contact, its number, the conversation, the lead, the timeline, the
call, the events), so that was about a fifth of a request's server CPU (docs/benchmarks.md § Voice,
eighth session).

``insert_ids`` and ``insert_rows`` run the statement SQLAlchemy would compile for these keys, with
the values bound by the same bind processors, and tell the engine's cursor-execute listeners (with
no cursor or context). A driver error is raised as SQLAlchemy raises it (``IntegrityError`` and the
rest), so the unit of work translates it the same way.

- SQLite: in a write transaction that holds the lock, on the loop's thread (see ``sqlite_driver``);
  several rows are one multi-row statement (64 rows at most; more are several).
- PostgreSQL: one row, in a transaction SQLAlchemy has begun, through the asyncpg adapter's own
  prepared-statement cache and error translation.

Anywhere else (a SQLite transaction that has not written yet and so may have to wait for the lock,
a PostgreSQL one not begun, several rows on PostgreSQL, a busy connection, a column default
SQLAlchemy would fill in) they return None and the caller takes SQLAlchemy's way: the same
statement, the same outcome.
"""

from __future__ import annotations

import operator
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage.sqlite_driver import OneCallConnection, run_statement

Processor = Callable[[Any], Any] | None
# A group commit's batch (up to 128 messages: their messages, timeline rows and events) goes in on the
# loop's thread: SQLite's own work is about 1.4 µs a row (an outbox row, measured in executemany). A
# longer one takes SQLAlchemy's way, to aiosqlite's thread.
INLINE_ROWS = 2048
CHUNK_ROWS = 64  # rows per multi-row INSERT … RETURNING (statement texts are cached per row count)


@dataclass(frozen=True)
class _Insert:
    sql: str
    keys: tuple[str, ...]  # the row's keys in the statement's order
    processors: tuple[Processor, ...]
    values: Callable[[Mapping[str, Any]], tuple[Any, ...]] = field(init=False, repr=False)
    processed: tuple[tuple[int, Callable[[Any], Any]], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # binding runs once per value of every hot row: the values in one C call, then only the
        # positions that have a processor (times, JSON, enums) go through Python
        getter = operator.itemgetter(*self.keys)
        object.__setattr__(self, "values", (lambda row: (getter(row),)) if len(self.keys) == 1 else getter)
        processed = tuple((i, p) for i, p in enumerate(self.processors) if p is not None)
        object.__setattr__(self, "processed", processed)


async def add_row(connection: AsyncConnection, table: Table, values: Mapping[str, Any]) -> int:
    """Insert one row; its id."""
    ids = await insert_ids(connection, table, [values])
    if ids is not None:
        return ids[0]
    return int((await connection.execute(_returning_id(table), dict(values))).scalar_one())


async def add_rows(connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows (all with the same keys), ids not wanted."""
    if rows and not await insert_rows(connection, table, rows):
        await connection.execute(insert(table), [dict(row) for row in rows])


@lru_cache(maxsize=64)
def _returning_id(table: Table) -> Any:
    return insert(table).returning(table.c.id)


async def insert_ids(connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]) -> list[int] | None:
    """Insert ``rows`` (all with the same keys) and return their ids in the rows' order; None: take SQLAlchemy's way."""
    if _is_asyncpg(connection):
        return await _insert_asyncpg(connection, table, rows, returning=True)
    return _insert(connection, table, rows, returning=True)


async def insert_rows(connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]) -> bool:
    """Insert ``rows`` (all with the same keys); False: take SQLAlchemy's way."""
    if _is_asyncpg(connection):
        return await _insert_asyncpg(connection, table, rows, returning=False) is not None
    return _insert(connection, table, rows, returning=False) is not None


def _is_asyncpg(connection: AsyncConnection) -> bool:
    sync = connection.sync_connection
    return sync is not None and sync.dialect.driver == "asyncpg"


async def _insert_asyncpg(
    connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]], *, returning: bool
) -> list[int] | None:
    """PostgreSQL: one row, in a transaction already begun, through the adapter's prepared statements."""
    sync = connection.sync_connection
    if sync is None or sync.closed or len(rows) != 1:
        return None
    adapted = sync.connection.dbapi_connection
    if getattr(adapted, "_transaction", None) is None or adapted._execute_mutex.locked():
        return None  # SQLAlchemy begins the transaction with its first statement; a busy connection waits its turn
    compiled = _compiled(table, tuple(rows[0]), returning, sync.dialect)
    if compiled is None:
        return None
    parameters = _bound(compiled, rows[0])
    listened = _before(sync, compiled.sql, parameters, many=False)
    async with adapted._execute_mutex:
        try:
            prepared, _ = await adapted._prepare(compiled.sql, sync.dialect._invalidate_schema_cache_asof)
            found = await prepared.fetch(*parameters)
        except Exception as error:
            try:
                adapted._handle_exception(error)  # raises the adapter's DBAPI error, as its cursor does
            except Exception as translated:
                raise DBAPIError.instance(
                    compiled.sql, parameters, translated, adapted.dbapi.Error, dialect=sync.dialect
                ) from error
            raise
    if listened:
        sync.dispatch.after_cursor_execute(sync, None, compiled.sql, parameters, None, False)
    return [int(found[0][0])] if returning else []


def _before(sync: Any, sql: str, parameters: Any, *, many: bool) -> bool:
    """Tell the engine's listeners, as a cursor execute would; whether any listens."""
    listened = bool(sync._has_events or sync.engine._has_events)
    if listened:
        sync.dispatch.before_cursor_execute(sync, None, sql, parameters, None, many)
    return listened


def _insert(
    connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]], *, returning: bool
) -> list[int] | None:
    if not rows or len(rows) > INLINE_ROWS:
        return None
    driver = _ready(connection)
    if driver is None:
        return None
    sync = connection.sync_connection
    assert sync is not None  # _ready saw its driver connection
    compiled = _compiled(table, tuple(rows[0]), returning, sync.dialect)
    if compiled is None:
        return None
    parameters = [_bound(compiled, row) for row in rows]
    if not returning:
        _execute(sync, driver, compiled.sql, parameters, many=True)
        return []
    if len(rows) == 1:
        return [_execute(sync, driver, compiled.sql, parameters[0], many=False)[0][0]]
    ids: list[int] = []
    size = _chunk_rows(driver, len(compiled.keys))
    for start in range(0, len(parameters), size):
        ids += _ids_of(sync, driver, compiled.sql, parameters[start : start + size])
    if len(ids) != len(rows):
        raise RuntimeError(f"{table.name}: {len(rows)} rows inserted, {len(ids)} ids returned")
    return ids


def _ids_of(sync: Any, driver: sqlite3.Connection, single: str, rows: list[tuple[Any, ...]]) -> list[int]:
    """One multi-row statement; one writer numbers a statement's rows in order (as in bulk.py), so the
    ids sorted are the rows' ids, and a later statement's ids are all larger."""
    flat = tuple(value for row in rows for value in row)
    returned = _execute(sync, driver, _rows_returning_id(single, len(rows)), flat, many=False)
    return sorted(int(row[0]) for row in returned)


def _chunk_rows(driver: sqlite3.Connection, columns: int) -> int:
    """Rows per multi-row statement: at most CHUNK_ROWS, within SQLite's limit on bound values."""
    return max(1, min(CHUNK_ROWS, driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // max(1, columns)))


@lru_cache(maxsize=1024)  # a text per table and row count up to CHUNK_ROWS
def _rows_returning_id(single: str, count: int) -> str:
    """``INSERT … VALUES (?, …) RETURNING id`` for ``count`` rows, from the one-row statement."""
    head, placeholders = single.split(" VALUES ", 1)
    row, tail = placeholders.split(") RETURNING ", 1)
    return f"{head} VALUES {', '.join([row + ')'] * count)} RETURNING {tail}"


def _ready(connection: AsyncConnection) -> sqlite3.Connection | None:
    """SQLite's connection, when a statement may run on it now: in a transaction holding the lock, idle."""
    sync = connection.sync_connection
    if sync is None or sync.dialect.name != "sqlite" or sync.closed:
        return None
    adapted = sync.connection.dbapi_connection
    if not isinstance(adapted, OneCallConnection) or adapted._execute_mutex.locked():
        return None
    driver: sqlite3.Connection = adapted._connection._conn
    return driver if driver.in_transaction else None


@lru_cache(maxsize=256)
def _compiled(table: Table, keys: tuple[str, ...], returning: bool, dialect: Dialect) -> _Insert | None:
    if any(column.default is not None for column in table.columns if column.name not in keys):
        return None  # a column default SQLAlchemy would fill in: its way
    statement = insert(table).returning(table.c.id) if returning else insert(table)
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    order = tuple(compiled.positiontup or ())
    if sorted(order) != sorted(keys):
        return None  # not one placeholder per value: SQLAlchemy's way
    processors: Mapping[str, Any] = compiled._bind_processors  # what SQLAlchemy itself binds these with
    return _Insert(str(compiled), order, tuple(processors.get(name) for name in order))


def _bound(compiled: _Insert, row: Mapping[str, Any]) -> tuple[Any, ...]:
    values = compiled.values(row)
    if not compiled.processed:
        return values
    bound = list(values)
    for position, processor in compiled.processed:
        bound[position] = processor(bound[position])
    return tuple(bound)


def _execute(sync: Any, driver: sqlite3.Connection, sql: str, parameters: Any, *, many: bool) -> list[Any]:
    listened = _before(sync, sql, parameters, many=many)
    try:
        rows = run_statement(driver, sql, parameters, many)
    except sqlite3.Error as error:
        raise DBAPIError.instance(sql, parameters, error, sqlite3.Error, dialect=sync.dialect) from error
    if listened:
        sync.dispatch.after_cursor_execute(sync, None, sql, parameters, None, many)
    return rows
