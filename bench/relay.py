"""The outbox relay's cost per event: numbering for the websocket's gap-free resume, against plain publish.

    .venv/bin/python -m bench.relay [--events 5000] [--batches 500,20,1] [--backends sqlite,postgresql]

Per backend and relay batch size, on a fresh database: E committed outbox rows, then the relay's
rounds until none is left. ``sequenced`` is the shipped round (the relay's turn: an advisory lock on
PostgreSQL, number the rows, publish, mark); ``plain`` is the ceiling measured in the same run: the
round without numbering or lock (read unpublished, publish, mark), as before the change. The bus is
the in-process one. Prints events/s and the process's CPU per event (less affected by other load).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime

from sqlalchemy import insert, update

from bench.common import emit, fresh_database, log, table
from switchboard.adapters.bus.memory import InMemoryBus
from switchboard.adapters.clock import SystemClock
from switchboard.adapters.storage import tables as t
from switchboard.adapters.storage.database import Database
from switchboard.adapters.storage.migrate import upgrade
from switchboard.adapters.storage.outbox import SqlOutboxStore
from switchboard.application.outbox import publish_pending


async def _fill(database: Database, events: int) -> None:
    rows = [{"name": "Bench", "payload": {"n": n}, "occurred_at": datetime.now(UTC)} for n in range(events)]
    async with database.engine.begin() as connection:
        await connection.execute(update(t.outbox).values(published_at=datetime.now(UTC)))
        await connection.execute(insert(t.outbox), rows)


async def _plain_round(store: SqlOutboxStore, bus: InMemoryBus, clock: SystemClock, batch: int) -> int:
    envelopes = await store.unpublished(batch)
    if envelopes:
        await bus.publish(envelopes)
        await store.mark_published([e.event_id for e in envelopes], clock.now())
    return len(envelopes)


async def _drain(kind: str, store: SqlOutboxStore, bus: InMemoryBus, batch: int) -> tuple[float, float]:
    clock = SystemClock()
    wall, cpu = time.perf_counter(), time.process_time()
    while True:
        if kind == "sequenced":
            sent = await publish_pending(store, bus, clock, batch)
        else:
            sent = await _plain_round(store, bus, clock, batch)
        if not sent:
            return time.perf_counter() - wall, time.process_time() - cpu


async def _backend(backend: str, events: int, batches: list[int]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    async with fresh_database(backend, "sbrelay") as url:
        database = Database(url, pool_size=5)
        await upgrade(database)
        store, bus = SqlOutboxStore(database), InMemoryBus()
        await bus.start()
        try:
            for batch in batches:
                for kind in ("plain", "sequenced"):
                    await _fill(database, events)
                    wall, cpu = await _drain(kind, store, bus, batch)
                    row = {
                        "backend": backend,
                        "batch": batch,
                        "round": kind,
                        "events": events,
                        "events_per_s": round(events / wall),
                        "cpu_us_per_event": round(cpu / events * 1e6, 1),
                        "wall_us_per_event": round(wall / events * 1e6, 1),
                    }
                    emit(row)
                    rows.append(row)
        finally:
            await bus.close()
            await database.dispose()
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--batches", default="500,20,1")
    parser.add_argument("--backends", default="sqlite,postgresql")
    options = parser.parse_args()
    batches = [int(b) for b in options.batches.split(",")]
    rows = []
    for backend in options.backends.split(","):
        rows += await _backend(backend, options.events, batches)
    columns = [
        ("backend", "backend"),
        ("batch", "batch"),
        ("round", "round"),
        ("events_per_s", "events/s"),
        ("cpu_us_per_event", "CPU µs/event"),
        ("wall_us_per_event", "wall µs/event"),
    ]
    log(table(rows, columns))


if __name__ == "__main__":
    asyncio.run(main())
