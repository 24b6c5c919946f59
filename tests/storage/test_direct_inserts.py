"""Inserts run straight on the driver: the same rows, and only when they can run at once.

A duplicate written this way is the unit of work's conflict: ``tests/storage/test_repositories.py``
(``test_identity_belongs_to_one_contact``, whose second number goes directly on both databases)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from switchboard.adapters.storage import direct
from switchboard.adapters.storage import tables as t
from switchboard.bootstrap import Container
from tests.support.statements import sent

AT = datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=UTC)
EVENT = {"name": "ContactCreated", "payload": {"contact_id": 7, "note": "Ёлка ✓", "tags": [1, None]}, "occurred_at": AT}


@contextmanager
def executions(container: Container) -> Iterator[list[bool]]:
    """For each outbox insert sent, whether it went SQLAlchemy's way (an execution context) or directly (none)."""
    seen: list[bool] = []

    def hear(statement: str, context: Any) -> None:
        if statement.startswith("INSERT INTO outbox"):  # not the background workers' statements
            seen.append(context is not None)

    with sent(container, hear):
        yield seen


async def test_a_row_written_directly_reads_back_as_one_written_through_sqlalchemy(container: Container) -> None:
    await container.relay.stop()  # the outbox rows stay as written
    # given a write transaction
    async with container.database.writing() as connection:
        with executions(container) as seen:
            # when the same event is written through SQLAlchemy, then with the direct helpers (twice)
            first = (await connection.execute(insert(t.outbox).returning(t.outbox.c.id), EVENT)).scalar_one()
            second = await direct.add_row(connection, t.outbox, EVENT)
            ids = await direct.insert_ids(connection, t.outbox, [EVENT, EVENT])
    # then the one row went directly (SQLite: the transaction held the lock; PostgreSQL: it had begun),
    # and the two rows too on SQLite, as one statement; PostgreSQL leaves several rows to SQLAlchemy
    sqlite = container.database.is_sqlite
    assert seen == ([True, False, False] if sqlite else [True, False])
    assert ids == ([second + 1, second + 2] if sqlite else None)
    # and the rows read back the same: the time to the microsecond, aware; the JSON as given
    async with container.database.engine.connect() as connection:
        rows = (await connection.execute(select(t.outbox).order_by(t.outbox.c.id))).all()
    assert [r.id for r in rows] == [first, second, *(ids or [])]
    expected = ("ContactCreated", AT, EVENT["payload"], None)
    assert [(r.name, r.occurred_at, r.payload, r.conversation_id) for r in rows] == [expected] * len(rows)


async def test_a_transaction_that_has_not_written_goes_sqlalchemys_way(container: Container) -> None:
    await container.relay.stop()
    async with container.database.writing() as connection:
        # a first write may have to wait for another writer's lock (SQLite), or begins the transaction
        # (SQLAlchemy does that with its first statement on PostgreSQL): not run directly
        assert await direct.insert_ids(connection, t.outbox, [EVENT]) is None
        await connection.execute(insert(t.outbox), EVENT)
        # after it, one row runs directly; a batch over the inline limit does not
        assert await direct.insert_ids(connection, t.outbox, [EVENT]) is not None
        assert await direct.insert_rows(connection, t.outbox, [EVENT] * (direct.INLINE_ROWS + 1)) is False


async def test_a_batch_longer_than_one_statement_has_its_ids_in_the_rows_order(container: Container) -> None:
    await container.relay.stop()
    # given 150 events, each its own, in a write transaction that holds the lock
    events = [{**EVENT, "payload": {"n": n}} for n in range(150)]
    heard: list[str] = []
    async with container.database.writing() as connection:
        await connection.execute(insert(t.outbox), EVENT)
        with sent(container, lambda statement, context: heard.append(statement)):
            # when they are inserted with their ids wanted
            ids = await direct.insert_ids(connection, t.outbox, events)
    if not container.database.is_sqlite:
        assert ids is None  # several rows on PostgreSQL are SQLAlchemy's (unnest, storage/bulk.py)
        return
    # then SQLite took them in statements of 64, 64 and 22 rows, and each id is its own row's
    assert [statement.count("(?, ?, ?)") for statement in heard] == [64, 64, 22]
    assert ids is not None and ids == sorted(ids) and len(set(ids)) == 150
    async with container.database.engine.connect() as connection:
        rows = (await connection.execute(select(t.outbox.c.id, t.outbox.c.payload).where(t.outbox.c.id.in_(ids)))).all()
    assert {row.id: row.payload["n"] for row in rows} == {row_id: n for n, row_id in enumerate(ids)}
