"""Intake benchmark: API-channel messages through the real HTTP server, end to end.

N messages from M concurrent keep-alive clients go to ``POST /api/v1/inbound`` of a real
``switchboard serve`` subprocess on a fresh database (a temp SQLite file; a new
``sbbench_<random>`` PostgreSQL database, dropped at the end). Half of the senders are new phone
numbers (a contact, a conversation and a lead are created), half come from a pool of returning
senders (seeded by the warm-up), so every branch of ``receive_message`` is exercised.

After the timed run the database is checked directly: message rows == N (none lost, none
doubled), contacts/conversations/leads/events as expected, and every outbox row published.

The ceiling is measured in the same run: a bare ASGI hello-world on the same uvicorn, hit by the
same generator with the same requests, and a bare ``SELECT 1`` per backend.

    .venv/bin/python -m bench.intake                      # default: n=5000, 100 clients, both backends
    .venv/bin/python -m bench.intake --quick              # smoke test, < 30 s
    .venv/bin/python -m bench.intake --backends postgresql --pg-workers 2 --n 50000

stdout: one JSON line per figure; stderr: progress and a human table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script (``python bench/intake.py``): make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    VENV_BIN,
    CpuWindow,
    LoadResult,
    Server,
    build_request,
    database_name,
    emit,
    free_port,
    fresh_database,
    log,
    migrate,
    run,
    run_load,
    run_open_load,
    select_one_rate,
    switchboard_env,
    table,
    uvicorn_argv,
)

HOST = "127.0.0.1"
PATH = "/api/v1/inbound"
TARGETS = {"postgresql": 1500.0, "sqlite": 1000.0}
TARGET_P99_MS = 50.0
CPUS = os.cpu_count() or 1


@dataclass(frozen=True)
class Options:
    n: int
    clients: int
    backends: list[str]
    pg_workers: list[int]
    pool: int
    new_share: float
    select_seconds: float
    drain_timeout: float
    seed: int
    profile: bool = False
    rate: float | None = None  # the open loop's offered rate; None: each backend's target
    loops: tuple[str, ...] = ("closed", "open")  # closed: the most it takes; open: p99 at the offered rate
    ceilings: bool = True  # the hello-world and SELECT 1 ceilings
    repeat: int = 1  # runs of each intake configuration, each on a fresh database (median and range)


# --- the desk and the requests ------------------------------------------------------------------


async def given_desk(database_url: str) -> tuple[int, str]:
    """An admin, a line (leads for new contacts on), an API channel and an integration token."""
    from switchboard.application.access import Principal
    from switchboard.application.auth import create_api_token
    from switchboard.application.catalog import NewUser, create_line, create_user
    from switchboard.application.channels import create_channel
    from switchboard.bootstrap import build
    from switchboard.config import load_settings
    from switchboard.domain.channels import ChannelKind
    from switchboard.domain.lines import Line
    from switchboard.domain.operators import Role

    container = build(load_settings(database_url=database_url), fast_hashing=True)
    try:
        services = container.services
        admin = await create_user(services, None, NewUser("bench-admin", "Bench Admin", Role.ADMIN, "bench-password-1"))
        principal = Principal(Role.ADMIN, admin.id)
        line = await create_line(services, principal, Line(0, "Bench", create_lead_for_new_contact=True))
        channel = await create_channel(services, principal, ChannelKind.API, "Bench API", line.id, {})
        _, token = await create_api_token(services, None, "bench", Role.INTEGRATION)
    finally:
        await container.database.dispose()
    return channel.id, token


def pool_phone(i: int) -> str:
    return f"+7916{i:07d}"


def new_phone(i: int) -> str:
    return f"+7925{i:07d}"


def inbound_request(channel_id: int, token: str, external_id: str, phone: str, text: str) -> bytes:
    body = json.dumps(
        {
            "channel_id": channel_id,
            "external_id": external_id,
            "text": text,
            "sender": {"name": "Bench Client", "phone": phone},
        },
        ensure_ascii=False,
    ).encode()
    return build_request(
        "POST", PATH, body=body, headers={"authorization": f"Bearer {token}", "content-type": "application/json"}
    )


@dataclass(frozen=True)
class Plan:
    run_id: str
    warmup: list[bytes]
    measured: list[bytes]
    is_new: list[bool]

    @property
    def new_count(self) -> int:
        return sum(self.is_new)


def plan(channel_id: int, token: str, options: Options) -> Plan:
    rng = random.Random(options.seed)
    run_id = uuid.uuid4().hex[:8]
    text = "Здравствуйте! Где мой заказ №{}?"
    warmup = [
        inbound_request(channel_id, token, f"w-{run_id}-{i}", pool_phone(i), text.format(i))
        for i in range(options.pool)
    ]
    measured, is_new, fresh = [], [], 0
    for i in range(options.n):
        new = rng.random() < options.new_share
        phone = new_phone(fresh) if new else pool_phone(rng.randrange(options.pool))
        fresh += new
        measured.append(inbound_request(channel_id, token, f"m-{run_id}-{i}", phone, text.format(i)))
        is_new.append(new)
    return Plan(run_id, warmup, measured, is_new)


# --- checks after the run -----------------------------------------------------------------------


async def counts(database_url: str, run_id: str) -> dict[str, Any]:
    """Row counts straight from the database, and the measured run's stored external ids."""
    from sqlalchemy import text

    from switchboard.adapters.storage.database import Database

    database = Database(database_url)
    try:
        async with database.engine.connect() as c:
            ids = [
                row[0]
                for row in await c.execute(
                    text("SELECT external_id FROM messages WHERE external_id LIKE :p"), {"p": f"m-{run_id}-%"}
                )
            ]
            warm = (
                await c.execute(text("SELECT count(*) FROM messages WHERE external_id LIKE :p"), {"p": f"w-{run_id}-%"})
            ).scalar_one()

            async def one(sql: str) -> int:
                return int((await c.execute(text(sql))).scalar_one())

            return {
                "ids": ids,
                "warmup_rows": int(warm),
                "contacts": await one("SELECT count(*) FROM contacts"),
                "conversations": await one("SELECT count(*) FROM conversations"),
                "leads": await one("SELECT count(*) FROM leads"),
                "events": await one("SELECT count(*) FROM outbox"),
                "unpublished": await one("SELECT count(*) FROM outbox WHERE published_at IS NULL"),
            }
    finally:
        await database.dispose()


async def wait_published(database_url: str, timeout: float) -> tuple[int, float]:
    """Poll until the outbox is empty of unpublished rows; (unpublished left, seconds waited)."""
    from sqlalchemy import text

    from switchboard.adapters.storage.database import Database

    database = Database(database_url)
    started = time.perf_counter()
    try:
        while True:
            async with database.engine.connect() as c:
                left = int(
                    (await c.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))).scalar_one()
                )
            waited = time.perf_counter() - started
            if left == 0 or waited >= timeout:
                return left, waited
            await asyncio.sleep(0.1)
    finally:
        await database.dispose()


def wrong_answers(result: LoadResult, the_plan: Plan) -> int:
    """Accepted answers that contradict the plan: a new sender gets a new contact, conversation and lead,
    a returning one none of these."""
    wrong = 0
    for status, body, new in zip(result.by_index, result.bodies, the_plan.is_new, strict=True):
        if status != 201:
            continue
        try:
            answer = json.loads(body or b"")
        except ValueError:
            wrong += 1
            continue
        got = (answer.get("contact_created"), answer.get("conversation_opened"), answer.get("lead_created"))
        wrong += got != (new, new, new)
    return wrong


async def warm_up(port: int, requests: list[bytes], clients: int, server: Server) -> LoadResult:
    """Seed the returning senders; failed deliveries are retried (intake is idempotent by external id)."""
    first = await run_load(HOST, port, requests, clients)
    pending = [i for i, status in enumerate(first.by_index) if not 200 <= status < 300]
    for _ in range(5):
        if not pending:
            return first
        retry = await run_load(HOST, port, [requests[i] for i in pending], min(clients, 10))
        pending = [i for i, status in zip(pending, retry.by_index, strict=True) if not 200 <= status < 300]
    raise RuntimeError(f"warm-up: {len(pending)} messages never accepted\n{server.output()}")


# --- where the time goes (--profile) -------------------------------------------------------------

# Stacks of the event loop's thread are put in the first layer whose frame they contain (py-spy raw
# output, one stack per line). aiosqlite's driver threads are left out: py-spy cannot tell their
# waiting from their working on this machine; the server's total CPU is measured from /proc anyway.
LAYERS = (
    ("group commit: the batch's SQL and its rows", ("write_batch",)),
    ("outbox relay: publish and mark", ("OutboxRelay._run",)),
    ("intake use case: check, normalise, queue", ("receive_message",)),
    ("web: uvicorn, middleware, FastAPI, pydantic, auth", ("run_asgi",)),
)
REST = "event loop, sockets, the rest"


def start_profiler(pid: int, path: Path) -> subprocess.Popen[bytes] | None:
    spy = VENV_BIN / "py-spy"
    if not spy.exists():
        log("--profile: py-spy is not installed (make install); skipped")
        return None
    argv = [str(spy), "record", "-p", str(pid), "-s", "-r", "100", "-f", "raw", "-o", str(path), "-d", "3600"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_profiler(spy: subprocess.Popen[bytes] | None, path: Path) -> dict[str, float]:
    """Share of the server's sampled CPU per layer."""
    if spy is None:
        return {}
    spy.send_signal(signal.SIGINT)
    spy.wait(timeout=60)
    samples: dict[str, int] = dict.fromkeys([name for name, _ in LAYERS] + [REST], 0)
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if "_connection_worker_thread" in stack:
            continue
        layer = next((name for name, marks in LAYERS if any(m in stack for m in marks)), REST)
        samples[layer] += int(count)
    if os.environ.get("SBBENCH_KEEP_PROFILE"):
        log(f"py-spy raw stacks kept in {path}")
    else:
        path.unlink(missing_ok=True)
    total = sum(samples.values()) or 1
    return {name: round(n / total * 100, 1) for name, n in samples.items()}


# --- one configuration --------------------------------------------------------------------------


async def bench_intake(backend: str, workers: int, options: Options, rate: float | None) -> dict[str, Any]:
    """One run on a fresh database: closed loop when ``rate`` is None, else open loop at ``rate``."""
    async with fresh_database(backend) as url:
        migrate(url)
        channel_id, token = await given_desk(url)
        before = await counts(url, "none")
        the_plan = plan(channel_id, token, options)
        port = free_port()
        argv = [str(VENV_BIN / "switchboard"), "serve", "--port", str(port), "--workers", str(workers)]
        server = Server(argv, switchboard_env(url), port)
        server.start()
        try:
            await server.wait_ready("/readyz", timeout=120)  # a loaded machine starts 2 workers slowly
            await warm_up(port, the_plan.warmup, options.clients, server)
            db_name = database_name(url) if backend == "postgresql" else ""
            profile_path = Path(tempfile.gettempdir()) / f"sbbench-{the_plan.run_id}.pyspy"
            spy = start_profiler(server.pid, profile_path) if options.profile else None
            with CpuWindow(server.pid, db_name) as cpu:
                if rate:
                    result = await run_open_load(HOST, port, the_plan.measured, options.clients, rate, keep_bodies=True)
                else:
                    result = await run_load(HOST, port, the_plan.measured, options.clients, keep_bodies=True)
            layers = stop_profiler(spy, profile_path)
            unpublished, drain_s = await wait_published(url, options.drain_timeout)
            after = await counts(url, the_plan.run_id)
            if result.errors:
                log(f"{result.errors} requests failed; the server said:\n{server.output()[-3000:]}")
        finally:
            server.stop()
    index = {f"m-{the_plan.run_id}-{i}": i for i in range(options.n)}
    stored = {index[x] for x in after["ids"] if x in index}
    accepted = {i for i, status in enumerate(result.by_index) if 200 <= status < 300}
    new_stored = sum(the_plan.is_new[i] for i in stored)
    returning_stored = len(stored) - new_stored
    created = options.pool + new_stored  # contacts, conversations and leads each
    wall = cpu.result["wall_s"]
    record = {
        "bench": "intake",
        "kind": "intake",
        "backend": backend,
        "workers": workers,
        "clients": options.clients,
        "offered_per_s": rate,  # None: closed loop (as fast as answers come)
        "n": options.n,
        "msgs_per_s": round(result.rate, 1),
        "p50_ms": round(result.p50, 2),
        "p99_ms": round(result.p99, 2),
        "max_ms": round(result.latencies_ms[-1], 2),
        "lost": len(accepted - stored),  # answered 2xx but not in the database
        "doubled": len(after["ids"]) - len(set(after["ids"])),
        "unpublished": unpublished,
        "drain_s": round(drain_s, 2),
        "failed": result.errors,  # answered with an error (or the connection broke): the client knows
        "stored_unacked": len(stored - accepted),
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
        "wrong_answers": wrong_answers(result, the_plan),
        "new_senders": the_plan.new_count,
        "warmup_n": options.pool,
        "warmup_lost": options.pool - after["warmup_rows"],
        "contacts": after["contacts"],
        "contacts_expected": before["contacts"] + created,
        "leads": after["leads"],
        "leads_expected": before["leads"] + created,
        "conversations": after["conversations"],
        "conversations_expected": before["conversations"] + created,
        "events": after["events"],
        "events_expected": before["events"] + 4 * created + returning_stored,
        "seconds": round(result.seconds, 2),
        "server_cpu_ms_per_msg": round(cpu.result["server_cpu_s"] / options.n * 1000, 3),
        "server_cpu_pct": round(cpu.result["server_cpu_s"] / wall * 100, 1),
        "db_cpu_ms_per_msg": round(cpu.result["db_cpu_s"] / options.n * 1000, 3) if db_name else None,
        "generator_cpu_pct": round(result.generator_cpu_s / result.seconds * 100, 1),
        "machine_cpu_pct": round(cpu.result["machine_cpu_s"] / wall / CPUS * 100, 1),
        "others_cpu_pct": round(
            (cpu.result["machine_cpu_s"] - cpu.result["server_cpu_s"] - cpu.result["db_cpu_s"] - result.generator_cpu_s)
            / wall
            / CPUS
            * 100,
            1,
        ),
        "load_1m_before": cpu.result["load_1m"],
        "cpus": CPUS,
        "target_msgs_per_s": TARGETS[backend],
        "target_p99_ms": TARGET_P99_MS,
        "profile_pct": layers,  # --profile: share of the server's CPU samples per layer (py-spy)
    }
    record["consistent"] = (
        record["lost"] == 0
        and record["doubled"] == 0
        and record["unpublished"] == 0
        and record["wrong_answers"] == 0
        and record["warmup_lost"] == 0
        and all(record[k] == record[f"{k}_expected"] for k in ("contacts", "leads", "conversations", "events"))
    )
    record["target_met"] = verdict(record)
    return record


def verdict(record: dict[str, Any]) -> bool:
    """Closed loop: the rate target (its p99 is clients / rate by Little's law, not the server's doing).
    Open loop: p99 ≤ 50 ms while keeping up with the offered rate (within 2 %)."""
    sound = record["consistent"] and record["failed"] == 0
    if record["offered_per_s"] is None:
        return bool(sound and record["msgs_per_s"] >= record["target_msgs_per_s"])
    keeps_up = record["msgs_per_s"] >= 0.98 * record["offered_per_s"]
    return bool(sound and keeps_up and record["p99_ms"] <= TARGET_P99_MS)


async def bench_hello(workers: int, requests: list[bytes], clients: int) -> dict[str, Any]:
    """The ceiling: a raw ASGI hello-world on the same uvicorn, the same requests, the same generator."""
    port = free_port()
    server = Server(uvicorn_argv("bench.common:hello_app", port, workers), dict(os.environ), port)
    server.start()
    try:
        await server.wait_ready("/")
        await run_load(HOST, port, requests[: max(1, len(requests) // 10)], clients)
        with CpuWindow(server.pid) as cpu:
            result = await run_load(HOST, port, requests, clients)
    finally:
        server.stop()
    return {
        "bench": "intake",
        "kind": "asgi_hello",
        "backend": None,
        "workers": workers,
        "clients": clients,
        "n": len(requests),
        "requests_per_s": round(result.rate, 1),
        "p50_ms": round(result.p50, 2),
        "p99_ms": round(result.p99, 2),
        "max_ms": round(result.latencies_ms[-1], 2),
        "errors": result.errors,
        "server_cpu_pct": round(cpu.result["server_cpu_s"] / cpu.result["wall_s"] * 100, 1),
        "generator_cpu_pct": round(result.generator_cpu_s / result.seconds * 100, 1),
        "machine_cpu_pct": round(cpu.result["machine_cpu_s"] / cpu.result["wall_s"] / CPUS * 100, 1),
        "load_1m_before": cpu.result["load_1m"],
        "cpus": CPUS,
    }


async def bench_select_one(backend: str, options: Options) -> dict[str, Any]:
    async with fresh_database(backend) as url:
        figures = await select_one_rate(url, options.clients, options.select_seconds)
    return {
        "bench": "intake",
        "kind": "db_select1",
        "backend": backend,
        "workers": 1,
        "clients": options.clients,
        "n": figures["n"],
        "requests_per_s": round(figures["rate"], 1),
        "p50_ms": round(figures["p50_ms"], 2),
        "p99_ms": round(figures["p99_ms"], 2),
    }


# --- the run ------------------------------------------------------------------------------------


async def main_async(options: Options) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []

    def keep(record: dict[str, Any]) -> None:
        records.append(record)
        emit(record)

    # The ceiling's requests have the intake body shape (same sizes, same parsing work for uvicorn).
    hello_requests = plan(1, "sbt_" + "x" * 43, options).measured
    hello_workers = sorted({1, *(options.pg_workers if "postgresql" in options.backends else [])})
    for workers in hello_workers if options.ceilings else []:
        log(f"asgi hello-world, {workers} worker(s) …")
        keep(await bench_hello(workers, hello_requests, options.clients))
    for backend in options.backends:
        if options.ceilings:
            log(f"{backend}: SELECT 1 …")
            keep(await bench_select_one(backend, options))
        for workers in [1] if backend == "sqlite" else options.pg_workers:
            for loop in options.loops:
                rate = (options.rate or TARGETS[backend]) if loop == "open" else None
                how = f"open loop at {rate:.0f}/s" if rate else "closed loop"
                runs = []
                for k in range(1, options.repeat + 1):
                    log(
                        f"{backend}: intake, {workers} worker(s), {options.n} messages, {options.clients} clients,"
                        f" {how} (run {k} of {options.repeat}) …"
                    )
                    runs.append({**await bench_intake(backend, workers, options, rate), "run": k})
                    keep(runs[-1])
                if options.repeat > 1:
                    keep(median_of(runs))
    return records


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median run stands for the configuration (by rate in a closed loop, by p99 in an open one);
    the spread of all runs goes with it.

    This machine's runs of one configuration vary by ±20 % (two cores shared with the database and
    the disk's stalls), so one run is a sample, not the figure.
    """
    by = "p99_ms" if runs[0]["offered_per_s"] else "msgs_per_s"
    median = dict(sorted(runs, key=lambda r: r[by])[len(runs) // 2])
    ordered = sorted(runs, key=lambda r: r["msgs_per_s"])
    median["run"] = "median"
    median["runs"] = len(runs)
    median["msgs_per_s_range"] = [ordered[0]["msgs_per_s"], ordered[-1]["msgs_per_s"]]
    p99s = sorted(r["p99_ms"] for r in runs)
    median["p99_ms_range"] = [p99s[0], p99s[-1]]
    median["consistent"] = all(r["consistent"] for r in runs)
    median["target_met"] = verdict(median)
    return median


def summary(records: list[dict[str, Any]]) -> str:
    rows = []
    for r in records:
        what = {"asgi_hello": "ASGI hello-world", "db_select1": "SELECT 1", "intake": "intake"}[r["kind"]]
        if r["kind"] == "intake":
            what += f" open {r['offered_per_s']:.0f}/s" if r["offered_per_s"] else " closed"
            if r.get("run") == "median":
                low, high = r["msgs_per_s_range"]
                what += f" — median of {r['runs']} ({low:,.0f}–{high:,.0f}/s)"
            elif r.get("run") and len({x.get("run") for x in records}) > 2:
                what += f" #{r['run']}"
        rows.append(
            {
                "what": what,
                "backend": r.get("backend") or "-",
                "workers": r["workers"],
                "clients": r["clients"],
                "n": r["n"],
                "rate": r.get("msgs_per_s", r.get("requests_per_s")),
                "p50": r["p50_ms"],
                "p99": r["p99_ms"],
                "check": ("ok" if r["consistent"] else "FAILED") if r["kind"] == "intake" else "",
                "lost/doubled/unpub": (
                    f"{r['lost']}/{r['doubled']}/{r['unpublished']}" if r["kind"] == "intake" else ""
                ),
                "failed": r.get("failed", r.get("errors")),
                "target": target_text(r) if r["kind"] == "intake" else "",
                "cpu": (
                    f"srv {r['server_cpu_pct']:.0f}% gen {r['generator_cpu_pct']:.0f}% box {r['machine_cpu_pct']:.0f}%"
                    f" load {r['load_1m_before']:.1f}"
                    if "server_cpu_pct" in r
                    else ""
                ),
                "ms/msg": (
                    f"{r['server_cpu_ms_per_msg']:.2f}"
                    + (f" + db {r['db_cpu_ms_per_msg']:.2f}" if r.get("db_cpu_ms_per_msg") is not None else "")
                )
                if r["kind"] == "intake"
                else "",
            }
        )
    columns = [
        ("what", "what"),
        ("backend", "backend"),
        ("workers", "workers"),
        ("clients", "clients"),
        ("n", "n"),
        ("rate", "per s"),
        ("p50", "p50 ms"),
        ("p99", "p99 ms"),
        ("check", "check"),
        ("lost/doubled/unpub", "lost/dup/unpub"),
        ("failed", "failed"),
        ("target", "target"),
        ("ms/msg", "server CPU ms/msg"),
        ("cpu", "cpu during the run"),
    ]
    return table(rows, columns)


def target_text(r: dict[str, Any]) -> str:
    met = "met" if r["target_met"] else "missed"
    if r["offered_per_s"] is None:
        return f"{met} (≥{r['target_msgs_per_s']:.0f}/s)"
    return f"{met} (p99≤{TARGET_P99_MS:.0f} ms at {r['offered_per_s']:.0f}/s)"


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.intake", description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=None, help="messages in the timed run (default 5000; quick 200)")
    parser.add_argument("--clients", type=int, default=100, help="concurrent keep-alive clients (default 100)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma list: sqlite, postgresql")
    parser.add_argument("--pg-workers", default=None, help="server worker counts on PostgreSQL (default 1,2)")
    parser.add_argument("--pool", type=int, default=None, help="returning senders, seeded by the warm-up (1000)")
    parser.add_argument("--new-share", type=float, default=0.5, help="share of messages from new senders (0.5)")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--quick", action="store_true", help="a small run for smoke testing (< 30 s)")
    parser.add_argument(
        "--rate", type=float, default=None, help="open loop only, offering this many messages/s (p99 at that load)"
    )
    parser.add_argument(
        "--loops",
        default=None,
        help="closed (the most it takes), open (p99 at each backend's target rate), or closed,open (the default)",
    )
    parser.add_argument("--no-ceilings", action="store_true", help="skip the hello-world and SELECT 1 ceilings")
    parser.add_argument("--profile", action="store_true", help="sample the server with py-spy: CPU share per layer")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each intake configuration; the median run is the figure"
    )
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for backend in backends:
        if backend not in TARGETS:
            parser.error(f"unknown backend {backend!r}")
    pg_workers = args.pg_workers or ("1" if args.quick else "1,2")
    loops = tuple(x.strip() for x in (args.loops or ("open" if args.rate else "closed,open")).split(",") if x.strip())
    if not loops or set(loops) - {"closed", "open"}:
        parser.error("--loops: closed, open or closed,open")
    return Options(
        n=args.n or (200 if args.quick else 5_000),
        clients=args.clients,
        backends=backends,
        pg_workers=[int(w) for w in pg_workers.split(",")],
        pool=args.pool or (50 if args.quick else 1000),
        new_share=args.new_share,
        select_seconds=0.5 if args.quick else 2.0,
        drain_timeout=15.0,
        seed=args.seed,
        profile=args.profile,
        rate=args.rate,
        loops=loops,
        ceilings=not args.no_ceilings,
        repeat=max(1, args.repeat),
    )


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    started = time.perf_counter()
    records = run(main_async(options))
    log("")
    log(summary(records))
    for r in records:
        if r.get("profile_pct"):
            shares = ", ".join(f"{name} {pct}%" for name, pct in r["profile_pct"].items())
            log(f"where the server's CPU went ({r['backend']}, {r['workers']} worker(s)): {shares}")
    log(f"\n{CPUS} CPUs; took {time.perf_counter() - started:.0f} s")
    intake = [r for r in records if r["kind"] == "intake"]
    return 0 if all(r["consistent"] for r in intake) else 1


if __name__ == "__main__":
    raise SystemExit(main())
