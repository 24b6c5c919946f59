"""The one-call SQLite cursor answers exactly as SQLAlchemy's own aiosqlite adapter does.

Each case runs the same statements through an engine on the stock adapter and one on
``sqlite_driver`` and compares what the application can see: rows, row counts, last row ids,
column names, errors and what a rollback leaves.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from switchboard.adapters.storage import sqlite_driver
from switchboard.adapters.storage.database import Database
from switchboard.adapters.storage.sqlite_driver import OneCallCursor, one_call_dbapi

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(20), nullable=False, unique=True),
)

Case = Callable[[AsyncConnection], Awaitable[Any]]


@pytest.fixture
async def engines(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    stock = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'stock.db'}")
    one_call = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}", module=one_call_dbapi())
    for engine in (stock, one_call):
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
    yield stock, one_call
    for engine in (stock, one_call):
        await engine.dispose()


async def both(engines: tuple[AsyncEngine, AsyncEngine], case: Case) -> tuple[Any, Any]:
    outcomes = []
    for engine in engines:
        async with engine.connect() as connection:
            outcomes.append(await case(connection))
    return outcomes[0], outcomes[1]


async def test_the_engine_uses_the_one_call_cursor(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    async with engines[1].connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.dbapi_connection.cursor(), OneCallCursor)  # type: ignore[union-attr]


async def test_multi_row_insert_returning_gives_every_id(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    async def case(c: AsyncConnection) -> Any:
        result = await c.execute(insert(things).returning(things.c.id), [{"name": f"n{i}"} for i in range(250)])
        ids = sorted(row[0] for row in result)
        names = {row.id: row.name for row in await c.execute(select(things.c.id, things.c.name))}
        await c.commit()
        return [names[i] for i in ids]

    stock, one_call = await both(engines, case)
    assert one_call == stock == [f"n{i}" for i in range(250)]  # the ids, sorted, are the rows' in order


async def test_single_insert_reports_its_last_row_id_and_primary_key(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    async def case(c: AsyncConnection) -> Any:
        await c.execute(insert(things), [{"name": "a"}, {"name": "b"}])
        result = await c.execute(insert(things).values(name="c"))
        return result.inserted_primary_key, result.lastrowid

    stock, one_call = await both(engines, case)
    assert one_call == stock == ((3,), 3)


async def test_update_counts_the_rows_it_matched(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    async def case(c: AsyncConnection) -> Any:
        await c.execute(insert(things), [{"name": f"n{i}"} for i in range(5)])
        one = await c.execute(update(things).where(things.c.id <= 3).values(name=things.c.name + "x"))
        many = await c.execute(
            update(things).where(things.c.id == text(":k")).values(name=things.c.name + "z"),
            [{"k": 4}, {"k": 5}, {"k": 99}],
        )
        return one.rowcount, many.rowcount

    stock, one_call = await both(engines, case)
    assert one_call == stock == (3, 2)


async def test_select_rows_and_column_names(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    async def case(c: AsyncConnection) -> Any:
        await c.execute(insert(things), [{"name": "b"}, {"name": "a"}])
        result = await c.execute(select(things.c.name.label("label"), things.c.id).order_by(things.c.name))
        return list(result.keys()), [tuple(row) for row in result], (await c.execute(text("SELECT 1 WHERE 0"))).all()

    stock, one_call = await both(engines, case)
    assert one_call == stock == (["label", "id"], [("a", 2), ("b", 1)], [])


async def test_a_constraint_error_is_the_same_error_and_the_rollback_undoes_the_batch(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    async def case(c: AsyncConnection) -> Any:
        await c.execute(insert(things).values(name="kept"))
        await c.commit()
        with pytest.raises(IntegrityError) as raised:
            await c.execute(insert(things), [{"name": "new"}, {"name": "kept"}])
        await c.rollback()
        names = (await c.execute(select(things.c.name).order_by(things.c.id))).scalars().all()
        return type(raised.value.orig).__name__, names

    stock, one_call = await both(engines, case)
    assert one_call == stock == ("IntegrityError", ["kept"])


async def test_a_malformed_statement_is_an_operational_error(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    async def case(c: AsyncConnection) -> Any:
        with pytest.raises(OperationalError) as raised:
            await c.execute(text("SELEC nothing"))
        return str(raised.value.orig)

    stock, one_call = await both(engines, case)
    assert one_call == stock
    assert "syntax error" in one_call


async def test_streamed_results_still_work(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    async def case(c: AsyncConnection) -> Any:
        await c.execute(insert(things), [{"name": f"n{i:03}"} for i in range(120)])
        stream = await c.stream(select(things.c.name).order_by(things.c.id))
        return [name async for name in stream.scalars()]

    stock, one_call = await both(engines, case)
    assert one_call == stock
    assert len(one_call) == 120


# --- statements on the loop's thread -------------------------------------------------------------------------


async def test_statements_of_a_transaction_holding_the_lock_run_on_the_loops_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an engine whose statements say on which thread they ran
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'threads.db'}")
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    seen: list[tuple[str, bool]] = []
    run = sqlite_driver._run

    def recorded(connection: Any, operation: str, parameters: Any, many: bool) -> Any:
        seen.append((operation.split()[0], threading.current_thread() is threading.main_thread()))
        return run(connection, operation, parameters, many)

    monkeypatch.setattr(sqlite_driver, "_run", recorded)
    # when a transaction reads, writes first, then reads, updates and inserts short and long batches
    async with database.engine.begin() as connection:
        await connection.execute(select(things.c.id))
        await connection.execute(insert(things), {"name": "first"})
        await connection.execute(select(things.c.id))
        await connection.execute(update(things).values(name="renamed"))
        await connection.execute(insert(things), [{"name": f"s{i}"} for i in range(3)])
        await connection.execute(insert(things), [{"name": f"l{i}"} for i in range(sqlite_driver.INLINE_MANY + 1)])
    async with database.engine.connect() as connection:
        await connection.execute(select(things.c.id))
    await database.dispose()
    # then only those after the first write, short of a long batch, ran on the loop's thread
    on_loop = [loop for _, loop in seen]
    assert [head for head, _ in seen] == ["SELECT", "INSERT", "SELECT", "UPDATE", "INSERT", "INSERT", "SELECT"]
    assert on_loop == [False, False, True, True, True, False, False]


async def test_a_first_write_behind_another_process_lock_waits_off_the_loop(tmp_path: Path) -> None:
    # given another connection (as another process would) holding the write lock for 0.5 s
    path = tmp_path / "locked.db"
    database = Database(f"sqlite+aiosqlite:///{path}")
    async with database.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    release = asyncio.get_running_loop().call_later(0.5, holder.execute, "COMMIT")
    try:
        # when this process writes: its first write waits for the lock
        started = time.monotonic()
        async with database.engine.begin() as connection:
            await connection.execute(insert(things), {"name": "after the wait"})
            await connection.execute(update(things).values(name="then at once"))
        waited = time.monotonic() - started
    finally:
        release.cancel()
        ticker.cancel()
        holder.close()
        await database.dispose()
    # then it waited for the lock, and the event loop kept running meanwhile
    assert waited >= 0.45
    assert ticks >= 20


async def test_a_close_after_a_stop_does_not_wait_for_the_ended_thread(tmp_path: Path) -> None:
    # given a connection whose thread is busy, then told to stop (a forced terminate)
    from sqlalchemy.util.concurrency import greenlet_spawn

    connection = await greenlet_spawn(one_call_dbapi().connect, str(tmp_path / "stop.db"))
    busy, release = threading.Event(), threading.Event()
    connection._connection._tx.put_nowait((None, lambda: (busy.set(), release.wait(5))))
    busy.wait(5)
    await greenlet_spawn(connection._terminate_force_close)
    # when it is closed before the thread got to the stop, and the thread then goes on
    closing = asyncio.create_task(greenlet_spawn(connection.close))
    await asyncio.sleep(0.05)
    release.set()
    # then the close returns instead of waiting for an answer from the ended thread
    await asyncio.wait_for(closing, 2)
    connection._connection._thread.join(2)
    assert not connection._connection._thread.is_alive()
