"""CPU per statement: SQLite through SQLAlchemy's aiosqlite adapter and through ``sqlite_driver``, the
group commit's lookups on each backend, and a hot insert through SQLAlchemy and ``storage/direct.py``.

A statement's fixed cost (SQLAlchemy, the driver, the trip to aiosqlite's thread) is paid a dozen
times per group-commit batch, so it decides how much a small batch costs. Each figure is process
CPU (user + system) per call over a loop on one held connection, after a warm-up.

    .venv/bin/python -m bench.statements                       # sqlite and postgresql
    .venv/bin/python -m bench.statements --backends sqlite --n 5000
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import emit, fresh_database, log, migrate, run
from bench.intake import given_desk


def _record(backend: str, driver: str, what: str, cpu_us: float) -> dict[str, Any]:
    return {"bench": "statements", "backend": backend, "driver": driver, "what": what, "cpu_us": cpu_us}


async def per_call(call: Callable[[], Awaitable[Any]], n: int) -> float:
    """Microseconds of process CPU per call."""
    for _ in range(min(100, n)):
        await call()
    started = time.process_time()
    for _ in range(n):
        await call()
    return round((time.process_time() - started) / n * 1e6, 1)


async def drivers(url: str, n: int) -> list[dict[str, Any]]:
    """The same statements through the stock aiosqlite adapter and the one-call cursor."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from switchboard.adapters.storage.database import async_url
    from switchboard.adapters.storage.sqlite_driver import one_call_dbapi

    records = []
    for name, engine in (
        ("sqlalchemy aiosqlite", create_async_engine(async_url(url))),
        ("sqlite_driver (one call)", create_async_engine(async_url(url), module=one_call_dbapi())),
    ):
        async with engine.connect() as connection:
            for label, statement in (
                ("SELECT 1", text("SELECT 1")),
                ("SELECT a contact by id", text("SELECT id, name FROM contacts WHERE id = 1")),
            ):
                cpu = await per_call(lambda s=statement: connection.execute(s), n)  # type: ignore[misc]
                records.append(_record("sqlite", name, label, cpu))
        await engine.dispose()
    return records


async def lookups(backend: str, url: str, n: int) -> list[dict[str, Any]]:
    """The group commit's reads for a batch of one, through the application's storage."""
    from switchboard.bootstrap import build
    from switchboard.config import load_settings
    from switchboard.domain.identity import Identity, IdentityKind

    container = build(load_settings(database_url=url, bus_url="memory://", routing=False))
    wanted = [Identity(IdentityKind.PHONE, "+79161234567")]
    records = []
    try:
        async with container.services.uow() as uow:
            calls: dict[str, Callable[[], Awaitable[Any]]] = {
                "identities → contacts": lambda: uow.contacts.owners(wanted),
                "delivered messages": lambda: uow.intake.delivered([(1, "x")]),
                "newest conversations": lambda: uow.intake.conversations([(1, 1)], []),
            }
            for label, call in calls.items():
                cpu = await per_call(call, n)
                records.append(_record(backend, "app", label, cpu))
    finally:
        await container.database.dispose()
    return records


async def inserts(backend: str, url: str, n: int) -> list[dict[str, Any]]:
    """A one-row ``INSERT … RETURNING id`` of an outbox event in a write transaction that has written:
    through SQLAlchemy, and through ``adapters/storage/direct.py`` (SQLite runs it on the driver;
    PostgreSQL takes SQLAlchemy's way there too). Rolled back afterwards."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from switchboard.adapters.storage import direct
    from switchboard.adapters.storage import tables as t
    from switchboard.adapters.storage.database import Database

    database = Database(url)
    row = {"name": "ContactCreated", "payload": {"contact_id": 1}, "occurred_at": datetime.now(UTC)}
    statement = insert(t.outbox).returning(t.outbox.c.id)
    records = []
    try:
        async with database.engine.connect() as connection:
            await connection.begin()
            await connection.execute(statement, row)  # the first write takes SQLite's lock
            through = {
                "sqlalchemy": lambda: connection.execute(statement, row),
                "direct.add_row": lambda: direct.add_row(connection, t.outbox, row),
            }
            for label, call in through.items():
                cpu = await per_call(call, n)
                records.append(_record(backend, label, "INSERT outbox RETURNING id", cpu))
            await connection.rollback()
    finally:
        await database.dispose()
    return records


async def main_async(backends: list[str], n: int) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for backend in backends:
        async with fresh_database(backend) as url:
            migrate(url)
            await given_desk(url)
            if backend == "sqlite":
                records += await drivers(url, n)
            records += await lookups(backend, url, n)
            records += await inserts(backend, url, n)
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.statements", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--n", type=int, default=2000, help="calls per figure")
    args = parser.parse_args(argv)
    records = run(main_async([b.strip() for b in args.backends.split(",") if b.strip()], args.n))
    for r in records:
        emit(r)
        log(f"{r['backend']:<10} {r['driver']:<26} {r['what']:<24} {r['cpu_us']:>8.1f} µs CPU per call")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
