"""Many rows in one statement, with their ids in the rows' order: the group commits' and the outbox's inserts.

SQLite: one multi-row ``INSERT … RETURNING`` (SQLAlchemy's insertmanyvalues). Asking SQLAlchemy to
keep the parameters' order falls back to one statement per row there; it is not needed, because one
writer numbers the rows of one statement in order, so the returned ids, sorted, are the rows' ids.

PostgreSQL: ``INSERT … SELECT FROM unnest(one array per column)``, one statement text whatever the row
count. A multi-row ``VALUES`` list is a new text per batch size, so asyncpg prepares it again (a round
trip, and PostgreSQL parses and plans it) on most batches; asyncpg's executemany runs a statement
once per row.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, insert
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeDecorator

from switchboard.adapters.storage import direct
from switchboard.adapters.storage import tables as t

_PG = asyncpg_dialect()


async def inserted_ids(
    connection: AsyncConnection, table: Any, rows: list[dict[str, Any]], *, unnest: bool
) -> list[int]:
    """Insert ``rows`` (all with the same keys) in one statement; their ids, in the rows' order."""
    if not rows:
        return []
    if unnest:
        columns, arrays = as_arrays(table, rows)
        result = await connection.exec_driver_sql(unnest_insert(table.name, columns, True), arrays)
    else:
        direct_ids = await direct.insert_ids(connection, table, rows)
        if direct_ids is not None:
            return direct_ids
        result = await connection.execute(insert(table).returning(table.c.id), rows)
    ids = sorted(int(row[0]) for row in result)  # one writer numbers a statement's rows in order
    if len(ids) != len(rows):
        raise RuntimeError(f"{table.name}: {len(rows)} rows inserted, {len(ids)} ids returned")
    return ids


async def insert_rows(connection: AsyncConnection, table: Any, rows: list[dict[str, Any]], *, unnest: bool) -> None:
    """Insert ``rows`` in one statement (SQLite: executemany, one call into its thread)."""
    if not rows:
        return
    if unnest:
        columns, arrays = as_arrays(table, rows)
        await connection.exec_driver_sql(unnest_insert(table.name, columns, False), arrays)
    else:
        await direct.add_rows(connection, table, rows)


def _arrays(table_name: str, columns: tuple[str, ...]) -> str:
    """``$1::type[], $2::type[], …``: one typed array parameter per column."""
    table = t.metadata.tables[table_name]
    return ", ".join(f"${i}::{table.c[name].type.compile(dialect=_PG)}[]" for i, name in enumerate(columns, 1))


# The statements below are built from our own tables' and columns' names, never from input.


@lru_cache(maxsize=64)
def unnest_insert(table_name: str, columns: tuple[str, ...], ids: bool) -> str:
    """``INSERT … SELECT FROM unnest(one array per column)``. With ``ids``, rows go in ``ORDER BY``
    ordinality and take their ids from the sequence in that order, so the ids sorted are the rows' ids."""
    names = ", ".join(f'"{name}"' for name in columns)
    source = f"unnest({_arrays(table_name, columns)})"
    if ids:
        source += f" WITH ORDINALITY AS u({names}, n) ORDER BY n RETURNING id"
    else:
        source += f" AS u({names})"
    return f"INSERT INTO {table_name} ({names}) SELECT {names} FROM {source}"  # noqa: S608


@lru_cache(maxsize=64)
def unnest_update(table_name: str, columns: tuple[str, ...]) -> str:
    """``UPDATE … FROM unnest(…)`` by ``id`` (the first column): one statement for every row."""
    names = ", ".join(f'"{name}"' for name in columns)
    sets = ", ".join(f'"{name}" = u."{name}"' for name in columns[1:])
    source = f"unnest({_arrays(table_name, columns)}) AS u({names})"
    return f"UPDATE {table_name} SET {sets} FROM {source} WHERE {table_name}.id = u.id"  # noqa: S608


def as_arrays(table: Any, rows: list[dict[str, Any]]) -> tuple[tuple[str, ...], tuple[list[Any], ...]]:
    """The rows' column names and one array of bound values per column, for the ``unnest`` statements."""
    columns = tuple(rows[0])
    return columns, tuple(_column_values(table.c[name], [row[name] for row in rows]) for name in columns)


def _column_values(column: Any, values: list[Any]) -> list[Any]:
    """What SQLAlchemy's bind processing would send asyncpg for ``column``."""
    if isinstance(column.type, TypeDecorator):
        values = [column.type.process_bind_param(v, _PG) for v in values]
    if isinstance(column.type, JSON):
        values = [json.dumps(v) for v in values]  # the engine's serializer; JSON's None is 'null' as there
    return values
