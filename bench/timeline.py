"""Timeline benchmark: the contact card and the first timeline page, looked up by phone, on a big base.

A database the bench creates (and drops at the end; nothing else is touched) is loaded with
``--contacts`` contacts and ``--messages`` messages: COPY (binary) on PostgreSQL, ``executemany`` on
SQLite. Messages arrive in time order from contacts picked with a heavy tail (a few contacts write
a lot, most a little), grouped into conversations of up to 8 messages on 3 channels; every
conversation and message has its timeline entry, as intake writes them.

Then, in the same run, for phones picked by activity (the contact of a random message) and at
random (a random contact):

* **api**: the real API path through the ASGI app in process (an operator's session; the app is called
  directly with an ASGI scope, so an HTTP client library's own work is not counted):
  ``GET /api/v1/contacts?phone=…`` → ``GET /api/v1/contacts/{id}`` → ``GET /api/v1/contacts/{id}/timeline``;
* **sql**: the same repository calls without HTTP (search by phone, the card, the timeline page);
* **ceiling**: a bare primary-key read (``SELECT id FROM contacts WHERE id = …``) on the same engine;
* **plans**: EXPLAIN of every statement the lookup runs, captured as executed (PostgreSQL with
  ANALYZE and BUFFERS, for the busiest contact).

    .venv/bin/python -m bench.timeline --quick                           # 10k contacts / 100k messages, both
    .venv/bin/python -m bench.timeline --backends sqlite --contacts 100000 --messages 1000000
    .venv/bin/python -m bench.timeline --backends postgresql --contacts 1000000 --messages 10000000

stdout: one JSON line per figure; stderr: progress, the plans and a human table.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import itertools
import json
import os
import random
import re
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    CLOCK_TICKS,
    PG_ADMIN_URL,
    AsgiCaller,
    cmdline_cpu,
    database_name,
    emit,
    fresh_database,
    load_average,
    log,
    migrate,
    percentile,
    run,
    switchboard_settings,
    table,
)

TARGET_P99_MS = 10.0
CONVERSATION_LENGTH = 8  # messages per conversation before the next one opens
CHUNK = 100_000
START = datetime(2025, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=365)
PASSWORD = "bench-password-1"
CPU_MS: dict[int, float] = {}  # this process's CPU per lookup, by lookup function (robust on a shared machine)
DB_CPU_MS: dict[int, float] = {}  # the database's CPU per lookup: PostgreSQL backends, SQLite's worker thread
KEPT_PREFIX = "sbbench_timeline"
LOOKUP_TABLES = re.compile(r"\b(FROM|JOIN) (contacts|identities|timeline)\b")


@dataclass(frozen=True)
class Options:
    contacts: int
    messages: int
    backends: list[str]
    lookups: int
    warmup_s: float
    seed: int
    keep: bool = False
    drop_kept: bool = False


def phone(contact_id: int) -> str:
    return f"+7900{contact_id:07d}"


# --- the data -----------------------------------------------------------------------------------


@dataclass
class Base:
    """Ids of what the generator made; ``weights`` gives the heavy tail."""

    contacts: int
    messages: int
    channels: list[tuple[int, str]]  # (id, kind)
    line_id: int
    cumulative: list[float]
    conversations: int = 0
    timeline: int = 0
    busiest: int = 1
    busiest_messages: int = 0


def heavy_tail(contacts: int, rng: random.Random) -> list[float]:
    """Cumulative weights: Pareto(1.1) activity per contact, a few write a lot."""
    weights = [rng.paretovariate(1.1) for _ in range(contacts)]
    return list(itertools.accumulate(weights))


def contact_rows(base: Base, rng: random.Random) -> Iterator[list[tuple[Any, ...]]]:
    given = ["Анна", "Борис", "Вера", "Глеб", "Дарья", "Олег", "Мария", "Пётр", "John", "Emma"]
    family = ["Иванов", "Петрова", "Смирнов", "Кузнецова", "Попов", "Соколова", "Smith", "Brown"]
    for start in range(1, base.contacts + 1, CHUNK):
        chunk = []
        for i in range(start, min(start + CHUNK, base.contacts + 1)):
            name = f"{rng.choice(given)} {rng.choice(family)} {i}"
            at = START + SPAN * (i / base.contacts) / 2
            chunk.append((i, name, name.casefold().replace("ё", "е"), "regular", at, at))
        yield chunk


def identity_rows(base: Base) -> Iterator[list[tuple[Any, ...]]]:
    """A phone for every contact, an email for every third (ids: phones first, then emails)."""
    for start in range(1, base.contacts + 1, CHUNK):
        end = min(start + CHUNK, base.contacts + 1)
        yield [(i, i, "phone", phone(i), START) for i in range(start, end)]
    for start in range(3, base.contacts + 1, 3 * CHUNK):
        end = min(start + 3 * CHUNK, base.contacts + 1)
        yield [(base.contacts + i // 3, i, "email", f"c{i}@example.com", START) for i in range(start, end, 3)]


def activity_rows(base: Base, rng: random.Random) -> Iterator[tuple[list[Any], list[Any], list[Any]]]:
    """Chunks of (conversations, messages, timeline) in time order, conversations before their messages."""
    current = [0] * (base.contacts + 1)  # the contact's open conversation
    length = [0] * (base.contacts + 1)
    where: dict[int, tuple[int, str]] = {}  # conversation -> channel
    counts = [0] * (base.contacts + 1)
    population = range(1, base.contacts + 1)
    step = SPAN / max(base.messages, 1)
    message_id = conversation_id = timeline_id = 0
    for start in range(0, base.messages, CHUNK):
        size = min(CHUNK, base.messages - start)
        picked = rng.choices(population, cum_weights=base.cumulative, k=size)
        conversations, messages, entries = [], [], []
        for offset, contact in enumerate(picked):
            at = START + step * (start + offset)
            if current[contact] == 0 or length[contact] >= CONVERSATION_LENGTH:
                if current[contact]:
                    where.pop(current[contact], None)
                conversation_id += 1
                channel = base.channels[rng.randrange(len(base.channels))]
                current[contact], length[contact] = conversation_id, 0
                where[conversation_id] = channel
                conversations.append((conversation_id, contact, base.line_id, channel[0], "closed", at, at, at))
                timeline_id += 1
                entries.append((timeline_id, contact, "conversation_opened", conversation_id, conversation_id,
                                channel[1], at, "Bench"))  # fmt: skip
            conversation = current[contact]
            channel = where[conversation]
            length[contact] += 1
            counts[contact] += 1
            message_id += 1
            body = f"Сообщение {message_id}: где мой заказ?"
            messages.append((message_id, conversation, channel[0], "in", "contact", contact, body, "[]",
                             None, "received", at))  # fmt: skip
            timeline_id += 1
            entries.append((timeline_id, contact, "message", message_id, conversation, channel[1], at, body[:500]))
        yield conversations, messages, entries
    base.conversations, base.timeline = conversation_id, timeline_id
    base.busiest = max(range(1, base.contacts + 1), key=counts.__getitem__)
    base.busiest_messages = counts[base.busiest]


COLUMNS = {
    "contacts": ["id", "name", "search_name", "tier", "created_at", "updated_at"],
    "identities": ["id", "contact_id", "kind", "value", "created_at"],
    "conversations": [
        "id",
        "contact_id",
        "line_id",
        "channel_id",
        "status",
        "opened_at",
        "closed_at",
        "last_message_at",
    ],
    "messages": [
        "id",
        "conversation_id",
        "channel_id",
        "direction",
        "author_kind",
        "author_id",
        "body",
        "attachments",
        "external_id",
        "delivery_status",
        "created_at",
    ],
    "timeline": ["id", "contact_id", "kind", "ref_id", "conversation_id", "channel_kind", "occurred_at", "summary"],
}


def all_chunks(base: Base, rng: random.Random) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    for chunk in contact_rows(base, rng):
        yield "contacts", chunk
    for chunk in identity_rows(base):
        yield "identities", chunk
    for conversations, messages, entries in activity_rows(base, rng):
        yield "conversations", conversations
        yield "messages", messages
        yield "timeline", entries


async def load_postgresql(url: str, base: Base, rng: random.Random) -> dict[str, int]:
    """Binary COPY in one transaction; foreign keys are not re-checked for generated rows (replica role)."""
    import asyncpg

    from bench.common import _asyncpg_dsn

    rows: dict[str, int] = dict.fromkeys(COLUMNS, 0)
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        async with connection.transaction():
            await connection.execute("SET LOCAL session_replication_role = replica")
            # plain indexes (not primary keys or unique constraints) are built once at the end: much
            # faster than keeping them up to date row by row; the migration made them, so they are ours
            indexes = await connection.fetch(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY($1)"
                " AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                list(COLUMNS),
            )
            for index in indexes:
                await connection.execute(f'DROP INDEX "{index["indexname"]}"')
            for name, chunk in all_chunks(base, rng):
                if chunk:
                    await connection.copy_records_to_table(name, records=chunk, columns=COLUMNS[name])
                    rows[name] += len(chunk)
            await connection.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for index in indexes:
                await connection.execute(index["indexdef"])
        for name in COLUMNS:
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"  # noqa: S608 - our table names
            )
        await connection.execute("VACUUM ANALYZE")
        await connection.execute("CHECKPOINT")  # the load's writes are flushed before anything is timed
    finally:
        await connection.close()
    return rows


def _sqlite_value(value: Any) -> Any:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value


def load_sqlite(url: str, base: Base, rng: random.Random) -> dict[str, int]:
    from sqlalchemy.engine import make_url

    rows: dict[str, int] = dict.fromkeys(COLUMNS, 0)
    connection = sqlite3.connect(make_url(url).database or "")
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=OFF")
        for name, chunk in all_chunks(base, rng):
            columns = COLUMNS[name]
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - our table names
            connection.executemany(sql, ([_sqlite_value(v) for v in row] for row in chunk))
            rows[name] += len(chunk)
        connection.commit()
        connection.execute("ANALYZE")
    finally:
        connection.close()
    return rows


async def given_desk(url: str) -> tuple[int, list[tuple[int, str]]]:
    """A line, three channels and an operator to sign in as, made through the use cases."""
    from switchboard.application.access import Principal
    from switchboard.application.catalog import NewUser, create_line, create_user
    from switchboard.application.channels import create_channel
    from switchboard.bootstrap import build
    from switchboard.config import load_settings
    from switchboard.domain.channels import ChannelKind
    from switchboard.domain.lines import Line
    from switchboard.domain.operators import Role

    container = build(load_settings(database_url=url), fast_hashing=True)
    try:
        services = container.services
        admin = await create_user(services, None, NewUser("bench-admin", "Bench Admin", Role.ADMIN, PASSWORD))
        await create_user(services, None, NewUser("bench-operator", "Bench Operator", Role.OPERATOR, PASSWORD))
        principal = Principal(Role.ADMIN, admin.id)
        line = await create_line(services, principal, Line(0, "Bench"))
        channels = []
        for kind in (ChannelKind.API, ChannelKind.EMAIL, ChannelKind.TELEGRAM):
            secrets = {"bot_token": "1000:bench-token"} if kind is ChannelKind.TELEGRAM else None
            channel = await create_channel(services, principal, kind, f"Bench {kind.value}", line.id, {}, secrets)
            channels.append((channel.id, kind.value))
    finally:
        await container.database.dispose()
    return line.id, channels


# --- the measurements ---------------------------------------------------------------------------


def server_logging() -> None:
    """Logging as the server sets it up by default (JSON, info: an access line per request), the lines
    to /dev/null: their cost is counted, and they stay out of this program's JSON output."""
    import structlog

    from switchboard.logs import configure

    configure("json", "info")
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(open(os.devnull, "w")))  # noqa: SIM115 - for the run


def sample_phones(base: Base, options: Options, rng: random.Random) -> list[str]:
    """Half by activity (who writes gets looked up), half uniformly; the busiest contact once."""
    half = options.lookups // 2
    by_activity = rng.choices(range(1, base.contacts + 1), cum_weights=base.cumulative, k=half)
    uniform = [rng.randrange(1, base.contacts + 1) for _ in range(options.lookups - half)]
    picked = [*by_activity, *uniform, base.busiest]
    rng.shuffle(picked)
    return [phone(i) for i in picked]


def figures(kind: str, backend: str, base: Base, latencies: list[float], seconds: float, lookup: Any) -> dict[str, Any]:
    latencies.sort()
    return {
        "bench": "timeline",
        "kind": kind,
        "backend": backend,
        "contacts": base.contacts,
        "messages": base.messages,
        "n": len(latencies),
        "per_s": round(len(latencies) / seconds, 1) if seconds else None,
        "p50_ms": round(percentile(latencies, 50), 3),
        "p99_ms": round(percentile(latencies, 99), 3),
        "max_ms": round(latencies[-1], 3),
        "over_target_pct": round(sum(x > TARGET_P99_MS for x in latencies) / len(latencies) * 100, 2),
        "cpu_ms": round(CPU_MS.get(id(lookup), 0.0), 3),  # this process (Python, driver); not the database's
        "db_cpu_ms": round(DB_CPU_MS.get(id(lookup), 0.0), 3),  # PostgreSQL backends / SQLite's thread
        "load_1m": load_average(),
    }


def database_cpu(backend: str, url: str) -> dict[int, float]:
    """CPU seconds so far of what executes the statements: the PostgreSQL backends serving the bench's
    database (their title names it), or on SQLite aiosqlite's worker threads in this process."""
    if backend == "postgresql":
        return cmdline_cpu(database_name(url))
    found = {}
    for thread in threading.enumerate():
        # aiosqlite's worker is a plain Thread named after its target function
        if "_connection_worker_thread" in thread.name and thread.native_id is not None:
            try:
                stat = Path(f"/proc/self/task/{thread.native_id}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            found[thread.native_id] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return found


async def timed(phones: list[str], lookup: Any, warmup_s: float, db_cpu: Any = dict) -> tuple[list[float], float]:
    """Run ``lookup`` once per phone, one at a time (latency, not throughput), after a warm-up."""
    deadline = time.perf_counter() + warmup_s
    for number in itertools.cycle(phones):
        if time.perf_counter() >= deadline:
            break
        await lookup(number)
    latencies = []
    db_before = db_cpu()
    started, cpu = time.perf_counter(), time.process_time()
    for number in phones:
        begun = time.perf_counter()
        await lookup(number)
        latencies.append((time.perf_counter() - begun) * 1000)
    CPU_MS[id(lookup)] = (time.process_time() - cpu) / len(phones) * 1000
    db_after = db_cpu()
    db_s = sum(value - db_before.get(key, 0.0) for key, value in db_after.items())
    DB_CPU_MS[id(lookup)] = db_s / len(phones) * 1000
    return latencies, time.perf_counter() - started


async def measure(url: str, backend: str, base: Base, options: Options, rng: random.Random) -> list[dict[str, Any]]:
    import httpx
    from sqlalchemy import text

    from switchboard.application.access import Principal
    from switchboard.application.contacts import contact_timeline, get_contact, search_contacts
    from switchboard.application.ports.storage import ContactQuery
    from switchboard.bootstrap import build
    from switchboard.config import load_settings
    from switchboard.domain.operators import Role
    from switchboard.web.app import create_app

    phones = sample_phones(base, options, rng)
    db_cpu = functools.partial(database_cpu, backend, url)
    server_logging()
    container = build(load_settings(database_url=url, routing=False, bus_url="memory://"), fast_hashing=True)
    records = []
    await container.start()
    try:
        app = create_app(container, manage_lifecycle=False)
        gc.collect()
        gc.freeze()  # as the server does once its app is built (switchboard/asgi.py)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            login = await client.post("/api/v1/auth/login", json={"login": "bench-operator", "password": PASSWORD})
            login.raise_for_status()
            token = login.json()["token"]
        caller = AsgiCaller(app, {"authorization": f"Bearer {token}"})
        known: dict[str, int] = {}

        async def api(number: str) -> None:
            status, body = await caller.get("/api/v1/contacts", urlencode({"phone": number}))
            contact_id = json.loads(body)[0]["id"]
            known[number] = contact_id
            card, _ = await caller.get(f"/api/v1/contacts/{contact_id}")
            page, _ = await caller.get(f"/api/v1/contacts/{contact_id}/timeline")
            if (status, card, page) != (200, 200, 200):
                raise RuntimeError(f"lookup of {number}: {status}, {card}, {page}")

        latencies, seconds = await timed(phones, api, options.warmup_s, db_cpu)
        records.append(figures("api_lookup", backend, base, latencies, seconds, api))

        async def api_channel(number: str) -> None:
            """The timeline's first page on one channel (a tab of the card)."""
            path = f"/api/v1/contacts/{known[number]}/timeline"
            status, _ = await caller.get(path, urlencode({"channel": base.channels[-1][1]}))
            if status != 200:
                raise RuntimeError(f"timeline of {known[number]}: {status}")

        latencies, seconds = await timed(phones, api_channel, options.warmup_s, db_cpu)
        records.append(figures("api_timeline_one_channel", backend, base, latencies, seconds, api_channel))

        services = container.services
        operator = Principal(Role.OPERATOR, 2)

        async def sql(number: str) -> None:
            found = await search_contacts(services, operator, ContactQuery(phone=number), 50, 0)
            await get_contact(services, operator, found[0].id)
            await contact_timeline(services, operator, found[0].id, 50, None, None)

        latencies, seconds = await timed(phones, sql, options.warmup_s, db_cpu)
        records.append(figures("sql_lookup", backend, base, latencies, seconds, sql))

        ids = [rng.randrange(1, base.contacts + 1) for _ in phones]
        engine = container.database.engine
        statement = text("SELECT id FROM contacts WHERE id = :id")

        async def ceiling(number: str) -> None:
            async with engine.connect() as connection:
                await connection.execute(statement, {"id": ids[hash(number) % len(ids)]})

        latencies, seconds = await timed(phones, ceiling, options.warmup_s, db_cpu)
        records.append(figures("ceiling_pk_read", backend, base, latencies, seconds, ceiling))

        async def hello(_number: str) -> None:
            """Three requests that do nothing (the lookup makes three): the web stack's own floor."""
            for _ in range(3):
                await caller.get("/healthz")

        latencies, seconds = await timed(phones, hello, options.warmup_s, db_cpu)
        records.append(figures("ceiling_hello_x3", backend, base, latencies, seconds, hello))
        records.append(await statements_per_lookup(container, backend, base, phones[:300], api))
        typical = rng.randrange(1, base.contacts + 1)
        channel = base.channels[-1][1]
        busiest_card = f"lookup of the busiest contact ({base.busiest_messages} messages)"
        records.append(
            await plans(
                container,
                backend,
                base,
                {
                    busiest_card: lambda: sql(phone(base.busiest)),
                    f"lookup of a random contact ({typical})": lambda: sql(phone(typical)),
                    f"the busiest contact's {channel} page": lambda: contact_timeline(
                        services, operator, base.busiest, 50, None, channel
                    ),
                },
            )
        )
    finally:
        await container.stop(drain_seconds=1)
    return records


async def statements_per_lookup(
    container: Any, backend: str, base: Base, phones: list[str], lookup: Any
) -> dict[str, Any]:
    """Statements per API lookup and the time spent waiting for them (execute to fetched, as the
    driver sees it: the database's work plus the round trip), in a separate pass with the hooks on."""
    from sqlalchemy import event

    count, waited, begun = 0, 0.0, 0.0

    def before(*_: Any) -> None:
        nonlocal begun
        begun = time.perf_counter()

    def after(*_: Any) -> None:
        nonlocal count, waited
        count += 1
        waited += time.perf_counter() - begun

    sync_engine = container.database.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", before)
    event.listen(sync_engine, "after_cursor_execute", after)
    try:
        for number in phones:
            await lookup(number)
    finally:
        event.remove(sync_engine, "before_cursor_execute", before)
        event.remove(sync_engine, "after_cursor_execute", after)
    return {
        "bench": "timeline",
        "kind": "statements",
        "backend": backend,
        "contacts": base.contacts,
        "messages": base.messages,
        "lookups": len(phones),
        "statements_per_lookup": round(count / len(phones), 2),
        "statement_ms_per_lookup": round(waited / len(phones) * 1000, 3),
    }


async def plans(container: Any, backend: str, base: Base, lookups: dict[str, Any]) -> dict[str, Any]:
    """EXPLAIN of every statement each lookup ran, captured as it was executed."""
    from sqlalchemy import event

    captured: list[tuple[str, str, Any]] = []
    who = ""

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        # the lookup's own reads: the app's workers (the outbox relay) run on the same engine meanwhile
        if statement.lstrip().upper().startswith("SELECT") and LOOKUP_TABLES.search(statement):
            captured.append((who, statement, parameters))

    sync_engine = container.database.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", capture)
    try:
        for who, lookup in lookups.items():  # noqa: B007 - ``who`` labels what ``capture`` sees
            await lookup()
    finally:
        event.remove(sync_engine, "before_cursor_execute", capture)
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if backend == "postgresql" else "EXPLAIN QUERY PLAN "
    explained = []
    async with container.database.engine.connect() as connection:
        for label, statement, parameters in captured:
            result = await connection.exec_driver_sql(prefix + statement, parameters)
            rows = [" | ".join(str(v) for v in row) for row in result]
            explained.append({"lookup": label, "sql": " ".join(statement.split()), "plan": rows})
    for item in explained:
        log(f"\n{backend}, {item['lookup']}:\n  {item['sql'][:300]}")
        for line in item["plan"]:
            log(f"      {line}")
    scans = [line for item in explained for line in item["plan"] if _full_scan(line, item["plan"])]
    return {
        "bench": "timeline",
        "kind": "plans",
        "backend": backend,
        "statements": explained,
        "full_scans": scans,
    }


def _full_scan(line: str, plan: list[str]) -> bool:
    """A sequential scan of a big table (PostgreSQL ``Seq Scan``, SQLite ``SCAN`` without an index);
    SQLite reading back its own subquery's few rows (``CO-ROUTINE page`` then ``SCAN page``) is not one."""
    if "Seq Scan on" in line:
        return True
    step = line.split(" | ")[-1]
    if not step.startswith("SCAN ") or "INDEX" in step:
        return False
    name = step.split()[1]
    return not any(other.split(" | ")[-1] in (f"CO-ROUTINE {name}", f"MATERIALIZE {name}") for other in plan)


# --- the run ------------------------------------------------------------------------------------


META = "bench_timeline_meta"  # a kept database's generator figures, written last: its presence means loaded


def kept_url(backend: str, options: Options) -> str:
    """Where ``--keep`` keeps the generated base: named by its size, so a rerun finds it."""
    from sqlalchemy.engine import make_url

    name = f"{KEPT_PREFIX}_{options.contacts}_{options.messages}"
    if backend == "sqlite":
        return f"sqlite:///{tempfile.gettempdir()}/{name}.db"
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _remove_files(name: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(name + suffix).unlink(missing_ok=True)


async def drop_kept(backend: str, url: str) -> None:
    """Remove a base ``--keep`` made (only names with the bench's own prefix)."""
    name = database_name(url)
    if not Path(name).name.startswith(KEPT_PREFIX):
        raise ValueError(f"not a kept timeline base: {name}")
    if backend == "sqlite":
        _remove_files(name)
        return
    import asyncpg

    from bench.common import _asyncpg_dsn

    admin = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def read_meta(url: str) -> dict[str, Any] | None:
    """The figures a complete kept base recorded, or None (absent, or its load did not finish)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.ext.asyncio import create_async_engine

    from switchboard.adapters.storage.database import async_url

    if url.startswith("sqlite") and not os.path.exists(database_name(url)):  # noqa: ASYNC240 - one stat
        return None
    if url.startswith("postgresql"):
        import asyncpg

        from bench.common import _asyncpg_dsn

        admin = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL))
        try:
            if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database_name(url)):
                return None
        finally:
            await admin.close()
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as connection:
            row = (await connection.execute(text(f"SELECT data FROM {META}"))).first()  # noqa: S608 - ours
    except DBAPIError:  # no table: the load did not finish
        return None
    finally:
        await engine.dispose()
    return json.loads(row[0]) if row else None


async def write_meta(url: str, meta: dict[str, Any]) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from switchboard.adapters.storage.database import async_url

    engine = create_async_engine(async_url(url))
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"CREATE TABLE {META} (data TEXT NOT NULL)"))
            insert = text(f"INSERT INTO {META} (data) VALUES (:data)")  # noqa: S608 - our table
            await connection.execute(insert, {"data": json.dumps(meta)})
    finally:
        await engine.dispose()


async def generate(backend: str, url: str, options: Options) -> dict[str, Any]:
    """Migrate, make the desk and load the base; the figures the measurement needs to pick phones."""
    rng = random.Random(options.seed)
    migrate(url)
    line_id, channels = await given_desk(url)
    base = Base(options.contacts, options.messages, channels, line_id, heavy_tail(options.contacts, rng))
    log(f"{backend}: loading {options.contacts:,} contacts and {options.messages:,} messages …")
    started = time.perf_counter()
    if backend == "postgresql":
        rows = await load_postgresql(url, base, rng)
    else:
        rows = await asyncio.to_thread(load_sqlite, url, base, rng)
    load_s = time.perf_counter() - started
    log(f"{backend}: loaded {sum(rows.values()):,} rows in {load_s:.0f} s {rows}")
    return {
        "bench": "timeline",
        "kind": "load",
        "backend": backend,
        "contacts": base.contacts,
        "messages": base.messages,
        "rows": rows,
        "seconds": round(load_s, 1),
        "rows_per_s": round(sum(rows.values()) / load_s),
        "busiest_contact_messages": base.busiest_messages,
        "busiest": base.busiest,
        "channels": channels,
        "line_id": line_id,
        "seed": options.seed,
    }


async def measure_base(backend: str, url: str, loaded: dict[str, Any], options: Options) -> list[dict[str, Any]]:
    # the heavy tail is the seed's first draw, so a kept base gets the same weights back
    cumulative = heavy_tail(loaded["contacts"], random.Random(loaded["seed"]))
    channels = [(int(i), str(kind)) for i, kind in loaded["channels"]]
    base = Base(loaded["contacts"], loaded["messages"], channels, loaded["line_id"], cumulative)
    base.busiest, base.busiest_messages = loaded["busiest"], loaded["busiest_contact_messages"]
    with switchboard_settings(url):
        return await measure(url, backend, base, options, random.Random(options.seed + 1))


async def bench_backend(backend: str, options: Options) -> list[dict[str, Any]]:
    if options.keep:
        url = kept_url(backend, options)
        loaded = await read_meta(url)
        if loaded is None or loaded["seed"] != options.seed:
            await drop_kept(backend, url)  # an unfinished load (or another seed) is started over
            if backend == "postgresql":
                await create_database(url)
            loaded = await generate(backend, url, options)
            await write_meta(url, loaded)
        else:
            log(f"{backend}: reusing the kept base {database_name(url)} (--drop-kept removes it)")
            migrate(url)  # a migration added since the load (an index) is built on the kept base
            loaded = {**loaded, "reused": True}
        return [loaded, *await measure_base(backend, url, loaded, options)]
    async with fresh_database(backend, prefix="sbtimeline") as url:
        loaded = await generate(backend, url, options)
        return [loaded, *await measure_base(backend, url, loaded, options)]


async def create_database(url: str) -> None:
    import asyncpg

    from bench.common import _asyncpg_dsn

    admin = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL))
    try:
        await admin.execute(f'CREATE DATABASE "{database_name(url)}"')
    finally:
        await admin.close()


MEASURED = ("api_lookup", "api_timeline_one_channel", "sql_lookup", "ceiling_pk_read", "ceiling_hello_x3")


def summary(records: list[dict[str, Any]]) -> str:
    rows = []
    for r in records:
        if r["kind"] in MEASURED:
            target = ""
            if r["kind"] == "api_lookup":
                target = "met" if r["p99_ms"] <= TARGET_P99_MS else f"missed (p99 ≤ {TARGET_P99_MS:.0f} ms)"
            rows.append({**r, "size": f"{r['contacts']:,} / {r['messages']:,}", "target": target})
    columns = [
        ("kind", "what"),
        ("backend", "backend"),
        ("size", "contacts / messages"),
        ("n", "n"),
        ("per_s", "per s"),
        ("p50_ms", "p50 ms"),
        ("p99_ms", "p99 ms"),
        ("max_ms", "max ms"),
        ("over_target_pct", "% > 10 ms"),
        ("cpu_ms", "bench CPU ms"),
        ("db_cpu_ms", "db CPU ms"),
        ("load_1m", "load"),
        ("target", "target"),
    ]
    lines = [table(rows, columns)]
    for r in records:
        if r["kind"] == "statements":
            lines.append(
                f"{r['backend']}: api_lookup runs {r['statements_per_lookup']} statements,"
                f" {r['statement_ms_per_lookup']} ms from execute to fetched per lookup"
            )
    return "\n".join(lines)


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.timeline", description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=None, help="contacts (default 1,000,000; quick 10,000)")
    parser.add_argument("--messages", type=int, default=None, help="messages (default 10,000,000; quick 100,000)")
    parser.add_argument("--backends", default=None, help="comma list: sqlite, postgresql (default postgresql)")
    parser.add_argument("--lookups", type=int, default=None, help="timed lookups per figure (default 2000)")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--quick", action="store_true", help="a small run for smoke testing (both backends)")
    parser.add_argument(
        "--keep",
        action="store_true",
        help=f"load once into {KEPT_PREFIX}_<contacts>_<messages> (a database, or a file in the temp folder)"
        " and reuse it on the next run with the same sizes instead of dropping it",
    )
    parser.add_argument("--drop-kept", action="store_true", help="remove the kept base of these sizes and exit")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in (args.backends or ("sqlite,postgresql" if args.quick else "postgresql")).split(",")]
    for backend in backends:
        if backend not in ("sqlite", "postgresql"):
            parser.error(f"unknown backend {backend!r}")
    return Options(
        contacts=args.contacts or (10_000 if args.quick else 1_000_000),
        messages=args.messages or (100_000 if args.quick else 10_000_000),
        backends=backends,
        lookups=args.lookups or (300 if args.quick else 2000),
        warmup_s=0.5 if args.quick else 3.0,
        seed=args.seed,
        keep=args.keep,
        drop_kept=args.drop_kept,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    if options.drop_kept:
        for backend in options.backends:
            url = kept_url(backend, options)
            run(drop_kept(backend, url))
            log(f"{backend}: dropped {database_name(url)}")
        return 0
    started = time.perf_counter()
    records: list[dict[str, Any]] = []
    for backend in options.backends:
        for record in run(bench_backend(backend, options)):
            records.append(record)
            emit(record)
    log("")
    log(summary(records))
    log(f"\ntook {time.perf_counter() - started:.0f} s")
    scans = [r for r in records if r["kind"] == "plans" and r["full_scans"]]
    for r in scans:
        log(f"{r['backend']}: full scans in the lookup's plans: {json.dumps(r['full_scans'], ensure_ascii=False)}")
    return 1 if scans else 0


if __name__ == "__main__":
    raise SystemExit(main())
