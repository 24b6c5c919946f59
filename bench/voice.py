"""Voice benchmark: the call-control endpoint at a steady rate of new calls, and screen-pop latency.

1. **Call control.** New calls arrive at ``--rate`` per second (open loop: each request is sent
   at its scheduled time whatever the answers do, and its latency counts from that time, so a
   server falling behind shows up in the figures) at ``POST /api/v1/voice/pbx/{channel}/calls`` of
   a real ``switchboard serve`` subprocess (routing off, as in bench/intake.py; ``--routing`` turns it
   on). Each request is signed; the channel
   has an IVR (a switch on the dialled number: 10 % dial the VIP number and go to the VIP line,
   the rest to the main line). Half the callers are new numbers (contact, conversation and lead
   created), half return from a pool seeded by the warm-up. Decisions/s and p50/p99 are reported,
   and the stored calls are counted afterwards.
2. **Screen pop.** An operator's websocket is connected; for each of ``--pops`` calls the PBX
   reports "ringing at this operator" and the time until the operator's ``ScreenPop`` frame
   (the caller's card) arrives is measured, one at a time.

Ceilings, same run: a bare ASGI hello-world on the same uvicorn at the same paced rate (and the
same requests); a bare Starlette app that forwards a POST to a websocket (the transport floor of
a screen pop); ``SELECT 1`` round trips per backend.

    .venv/bin/python -m bench.voice                    # rate 200/s for 20 s, 300 pops, sqlite + postgresql
    .venv/bin/python -m bench.voice --quick            # smoke test
    .venv/bin/python -m bench.voice --backends postgresql --rate 300 --seconds 30
    .venv/bin/python -m bench.voice --backends postgresql --pg-workers 1,2 --repeat 2

``--pg-workers 2`` serves PostgreSQL with two worker processes and RabbitMQ as the bus (the scaled
deployment of docs/operations.md: a ringing event handled by one worker reaches an operator's
websocket on the other); the run's exchanges and queues are deleted afterwards.

stdout: one JSON line per figure; stderr: progress and a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    VENV_BIN,
    Connection,
    CpuWindow,
    Server,
    build_request,
    database_name,
    emit,
    free_port,
    fresh_database,
    log,
    migrate,
    percentile,
    run,
    select_one_rate,
    switchboard_env,
    table,
    uvicorn_argv,
)
from bench.intake import start_profiler, wait_published

HOST = "127.0.0.1"
SECRET = "bench-voice-secret-0123456789"
MAIN, VIP = "+74950000000", "+74950000001"
PASSWORD = "bench-password-1"
TARGET_P99_MS = 20.0
TARGET_POP_P99_MS = 100.0
CPUS = os.cpu_count() or 1


@dataclass(frozen=True)
class Options:
    rate: float
    seconds: float
    warmup_seconds: float
    connections: int
    pops: int
    backends: list[str]
    pool: int
    seed: int
    routing: bool
    profile: str = ""
    pg_workers: tuple[int, ...] = (1,)
    repeat: int = 1


# --- the desk -----------------------------------------------------------------------------------


async def given_desk(database_url: str) -> tuple[int, int]:
    """An admin, an operator (with a password, for the websocket), a main and a VIP line, a phone channel."""
    from switchboard.application.access import Principal
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
        admin = await create_user(services, None, NewUser("bench-admin", "Bench Admin", Role.ADMIN, PASSWORD))
        operator = await create_user(services, None, NewUser("bench-op", "Bench Operator", Role.OPERATOR, PASSWORD))
        principal = Principal(Role.ADMIN, admin.id)
        main = await create_line(services, principal, Line(0, "Bench", operator_ids=[operator.id]))
        vip = await create_line(services, principal, Line(0, "Bench VIP", operator_ids=[operator.id]))
        ivr = {
            "start": "by_number",
            "nodes": {
                "by_number": {"type": "switch", "on": "dnis", "cases": {VIP: "vip"}, "default": "queue"},
                "vip": {"type": "enqueue", "line_id": vip.id, "prompt": "vip.wav"},
                "queue": {"type": "enqueue", "prompt": "hold.wav"},
            },
        }
        settings = {"numbers": [MAIN, VIP], "secret": SECRET, "ivr": ivr}
        channel = await create_channel(services, principal, ChannelKind.PHONE, "Bench phone", main.id, settings)
    finally:
        await container.database.dispose()
    return channel.id, operator.id


def signed(path: str, payload: dict[str, Any]) -> bytes:
    from switchboard.domain.voice.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature

    body = json.dumps(payload).encode()
    stamp = str(int(time.time()))
    headers = {
        "content-type": "application/json",
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: signature(SECRET, stamp, body),
    }
    return build_request("POST", path, body=body, headers=headers)


@dataclass(frozen=True)
class Plan:
    run_id: str
    warmup: list[bytes]
    measured: list[bytes]


def plan(channel_id: int, options: Options) -> Plan:
    rng = random.Random(options.seed)
    run_id = uuid.uuid4().hex[:8]
    path = f"/api/v1/voice/pbx/{channel_id}/calls"

    def call(call_id: str, ani: str) -> bytes:
        dnis = VIP if rng.random() < 0.1 else MAIN
        return signed(path, {"call_id": call_id, "ani": ani, "dnis": dnis})

    warmup_n = int(options.rate * options.warmup_seconds)
    warmup = [call(f"w-{run_id}-{i}", f"+7916{i % options.pool:07d}") for i in range(warmup_n)]
    measured = []
    for i in range(int(options.rate * options.seconds)):
        ani = f"+7925{i:07d}" if rng.random() < 0.5 else f"+7916{rng.randrange(options.pool):07d}"
        measured.append(call(f"m-{run_id}-{i}", ani))
    return Plan(run_id, warmup, measured)


# --- the paced (open-loop) generator ------------------------------------------------------------


@dataclass
class Paced:
    latencies_ms: list[float]  # sorted, from each request's scheduled time
    statuses: dict[int, int]
    seconds: float
    late_starts: int  # requests that waited for a free connection

    @property
    def n(self) -> int:
        return len(self.latencies_ms)

    @property
    def errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if not 200 <= status < 300)


async def run_paced(port: int, requests: list[bytes], rate: float, connections: int) -> Paced:
    """Send request i at start + i / rate on a free keep-alive connection; latency counts from that moment."""
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await Connection.open(HOST, port))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    late = 0
    tasks = []

    async def one(request: bytes, due: float) -> None:
        nonlocal late
        if pool.empty():
            late += 1
        connection = await pool.get()
        try:
            status, _ = await connection.send(request)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status = 0
            connection = await Connection.open(HOST, port)
        latencies.append((time.perf_counter() - due) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
        pool.put_nowait(connection)

    started = time.perf_counter()
    for i, request in enumerate(requests):
        due = started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(request, due)))
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - started
    while not pool.empty():
        await pool.get_nowait().close()
    return Paced(sorted(latencies), statuses, seconds, late)


# --- checks -------------------------------------------------------------------------------------


async def stored_calls(database_url: str, run_id: str) -> dict[str, int]:
    from sqlalchemy import text

    from switchboard.adapters.storage.database import Database

    database = Database(database_url)
    try:
        async with database.engine.connect() as c:

            async def one(sql: str, **params: Any) -> int:
                return int((await c.execute(text(sql), params)).scalar_one())

            return {
                "calls": await one("SELECT count(*) FROM calls WHERE pbx_call_id LIKE :p", p=f"m-{run_id}-%"),
                "queued": await one(
                    "SELECT count(*) FROM calls WHERE pbx_call_id LIKE :p AND conversation_id IS NOT NULL",
                    p=f"m-{run_id}-%",
                ),
                "unpublished": await one("SELECT count(*) FROM outbox WHERE published_at IS NULL"),
            }
    finally:
        await database.dispose()


# --- screen pops ----------------------------------------------------------------------------------


async def login(port: int) -> str:
    connection = await Connection.open(HOST, port)
    try:
        body = json.dumps({"login": "bench-op", "password": PASSWORD}).encode()
        status, answer = await connection.send(
            build_request("POST", "/api/v1/auth/login", body=body, headers={"content-type": "application/json"})
        )
    finally:
        await connection.close()
    if status != 200:
        raise RuntimeError(f"login failed: {status} {answer[:200]!r}")
    return str(json.loads(answer)["token"])


async def measure_pops(port: int, channel_id: int, operator_id: int, count: int) -> list[float]:
    """Start ``count`` calls, then one at a time: ringing at the operator → their ScreenPop frame."""
    import websockets

    run_id = uuid.uuid4().hex[:8]
    connection = await Connection.open(HOST, port)
    latencies = []
    try:
        for i in range(count):
            body = {"call_id": f"pop-{run_id}-{i}", "ani": f"+7926{i:07d}", "dnis": MAIN}
            status, _ = await connection.send(signed(f"/api/v1/voice/pbx/{channel_id}/calls", body))
            assert status == 200, status
        token = await login(port)
        async with websockets.connect(f"ws://{HOST}:{port}/api/v1/ws?token={token}") as ws:
            assert json.loads(await ws.recv())["event"] == "ready"
            for i in range(count):
                event = {
                    "event_id": f"ring-{run_id}-{i}",
                    "call_id": f"pop-{run_id}-{i}",
                    "kind": "ringing",
                    "operator_id": operator_id,
                }
                request = signed(f"/api/v1/voice/pbx/{channel_id}/events", event)
                started = time.perf_counter()
                status, _ = await connection.send(request)
                assert status == 200, status
                while json.loads(await asyncio.wait_for(ws.recv(), 10))["event"] != "ScreenPop":
                    pass
                latencies.append((time.perf_counter() - started) * 1000)
    finally:
        await connection.close()
    return sorted(latencies)


async def ceiling_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The floor of a screen pop: a POST whose body is forwarded as-is to the connected websocket."""
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.websockets import WebSocket

    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] == "websocket":
        socket = WebSocket(scope, receive, send)
        await socket.accept()
        await socket.send_text('{"event": "ready"}')
        _SOCKETS.add(socket)
        try:
            while True:
                await socket.receive_text()
        except Exception:
            _SOCKETS.discard(socket)
        return
    request = Request(scope, receive)
    body = await request.body()
    for socket in list(_SOCKETS):
        await socket.send_text(json.dumps({"event": "ScreenPop", "data": body.decode()}))
    await Response('{"applied": true}', media_type="application/json")(scope, receive, send)


_SOCKETS: set[Any] = set()


async def measure_ceiling_pops(count: int) -> list[float]:
    import websockets

    port = free_port()
    server = Server(uvicorn_argv("bench.voice:ceiling_app", port), dict(os.environ), port)
    server.start()
    try:
        await asyncio.sleep(1.0)
        for _ in range(50):
            try:
                connection = await Connection.open(HOST, port)
                break
            except OSError:
                await asyncio.sleep(0.1)
        latencies = []
        async with websockets.connect(f"ws://{HOST}:{port}/ws") as ws:
            assert json.loads(await ws.recv())["event"] == "ready"
            for i in range(count):
                request = signed("/events", {"event_id": f"e{i}", "kind": "ringing"})
                started = time.perf_counter()
                await connection.send(request)
                while json.loads(await asyncio.wait_for(ws.recv(), 10))["event"] != "ScreenPop":
                    pass
                latencies.append((time.perf_counter() - started) * 1000)
        await connection.close()
    finally:
        server.stop()
    return sorted(latencies)


# --- one backend --------------------------------------------------------------------------------


AMQP_URL = os.environ.get("SWITCHBOARD_BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def _voice_env(url: str, routing: bool, namespace: str | None) -> dict[str, str]:
    env = switchboard_env(url)  # routing off unless asked: bench/routing_applied.py measures routing
    env["SWITCHBOARD_ROUTING"] = "true" if routing else "false"
    if namespace is not None:  # several workers: events reach every worker's websockets through RabbitMQ
        env["SWITCHBOARD_BUS_URL"] = AMQP_URL
        env["SWITCHBOARD_BUS_NAMESPACE"] = namespace
    return env


async def drop_namespace(namespace: str) -> None:
    """Delete what the run declared on RabbitMQ: the named queues and their dead letters, the exchanges."""
    import aio_pika

    from switchboard.adapters.bus.rabbitmq import RabbitMQBus
    from switchboard.workers import delivery, routing, voice

    names = RabbitMQBus(AMQP_URL, namespace=namespace)  # its naming only: never started
    connection = await aio_pika.connect(AMQP_URL)
    try:
        for queue in (voice.QUEUE, routing.QUEUE, delivery.NOTICES):
            for name in (names.queue_name(queue), names.dead_letter_queue_name(queue)):
                async with connection.channel() as channel:
                    await channel.queue_delete(name)
        for exchange in (names.exchange_name, names.dead_letter_exchange_name):
            async with connection.channel() as channel:
                await channel.exchange_delete(exchange)
    finally:
        await connection.close()


async def bench_voice(backend: str, options: Options, workers: int = 1, run: int = 1) -> list[dict[str, Any]]:
    namespace = f"sbbench-voice-{uuid.uuid4().hex[:8]}" if workers > 1 else None
    try:
        return await _bench_voice(backend, options, workers, run, namespace)
    finally:
        if namespace is not None:
            await drop_namespace(namespace)


async def _bench_voice(
    backend: str, options: Options, workers: int, run: int, namespace: str | None
) -> list[dict[str, Any]]:
    async with fresh_database(backend) as url:
        migrate(url)
        channel_id, operator_id = await given_desk(url)
        the_plan = plan(channel_id, options)
        port = free_port()
        argv = [str(VENV_BIN / "switchboard"), "serve", "--port", str(port), "--workers", str(workers)]
        server = Server(argv, _voice_env(url, options.routing, namespace), port)
        server.start()
        try:
            await server.wait_ready("/readyz", timeout=120)  # a loaded machine starts 2 workers slowly
            await run_paced(port, the_plan.warmup, options.rate, options.connections)
            db_name = database_name(url) if backend == "postgresql" else ""
            spy = start_profiler(server.pid, Path(options.profile)) if options.profile else None
            with CpuWindow(server.pid, db_name) as cpu:
                result = await run_paced(port, the_plan.measured, options.rate, options.connections)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=60)
            left, drain_s = await wait_published(url, 120.0)  # screen pops measured on a drained outbox
            stored = await stored_calls(url, the_plan.run_id)
            pops = await measure_pops(port, channel_id, operator_id, options.pops)
            if result.errors:
                log(f"{result.errors} requests failed; the server said:\n{server.output()[-3000:]}")
        finally:
            server.stop()
    n = len(the_plan.measured)
    control = {
        "bench": "voice",
        "kind": "call_control",
        "backend": backend,
        "workers": workers,
        "bus": "rabbitmq" if namespace else "memory",
        "run": run,
        "routing": options.routing,
        "rate_offered": options.rate,
        "n": n,
        "decisions_per_s": round(result.n / result.seconds, 1),
        "p50_ms": round(percentile(result.latencies_ms, 50), 2),
        "p99_ms": round(percentile(result.latencies_ms, 99), 2),
        "max_ms": round(result.latencies_ms[-1], 2),
        "waited_for_connection": result.late_starts,
        "failed": result.errors,
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
        "stored_calls": stored["calls"],
        "queued_calls": stored["queued"],
        "server_cpu_ms_per_call": round(cpu.result["server_cpu_s"] / n * 1000, 3),
        "calls_per_cpu_s": round(n / cpu.result["server_cpu_s"], 1) if cpu.result["server_cpu_s"] else None,
        "outbox_drain_s": round(drain_s, 1),
        "unpublished_after_drain": left,
        "db_cpu_ms_per_call": round(cpu.result["db_cpu_s"] / n * 1000, 3) if db_name else None,
        "server_cpu_pct": round(cpu.result["server_cpu_s"] / cpu.result["wall_s"] * 100, 1),
        "machine_cpu_pct": round(cpu.result["machine_cpu_s"] / cpu.result["wall_s"] / CPUS * 100, 1),
        "load_1m_before": cpu.result["load_1m"],
        "target_p99_ms": TARGET_P99_MS,
    }
    control["consistent"] = stored["calls"] == n - result.errors and stored["queued"] == stored["calls"]
    control["target_met"] = control["p99_ms"] <= TARGET_P99_MS and result.errors == 0 and control["consistent"]
    pop = {
        "bench": "voice",
        "kind": "screen_pop",
        "backend": backend,
        "workers": workers,
        "run": run,
        "n": len(pops),
        "p50_ms": round(percentile(pops, 50), 2),
        "p99_ms": round(percentile(pops, 99), 2),
        "max_ms": round(pops[-1], 2),
        "target_p99_ms": TARGET_POP_P99_MS,
        "target_met": percentile(pops, 99) <= TARGET_POP_P99_MS,
    }
    return [control, pop]


async def bench_hello(requests: list[bytes], options: Options) -> dict[str, Any]:
    port = free_port()
    server = Server(uvicorn_argv("bench.common:hello_app", port), dict(os.environ), port)
    server.start()
    try:
        await server.wait_ready("/")
        result = await run_paced(port, requests, options.rate, options.connections)
    finally:
        server.stop()
    return {
        "bench": "voice",
        "kind": "asgi_hello",
        "backend": None,
        "rate_offered": options.rate,
        "n": result.n,
        "decisions_per_s": round(result.n / result.seconds, 1),
        "p50_ms": round(percentile(result.latencies_ms, 50), 2),
        "p99_ms": round(percentile(result.latencies_ms, 99), 2),
        "max_ms": round(result.latencies_ms[-1], 2),
        "failed": result.errors,
    }


async def main_async(options: Options) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []

    def keep(record: dict[str, Any]) -> None:
        records.append(record)
        emit(record)

    sample = plan(1, options).measured
    log(f"ceiling: asgi hello-world at {options.rate:.0f}/s …")
    keep(await bench_hello(sample, options))
    log("ceiling: POST → websocket forwarding …")
    floor = await measure_ceiling_pops(options.pops)
    keep(
        {
            "bench": "voice",
            "kind": "ws_forward",
            "n": len(floor),
            "p50_ms": round(percentile(floor, 50), 2),
            "p99_ms": round(percentile(floor, 99), 2),
            "max_ms": round(floor[-1], 2),
        }
    )
    for backend in options.backends:
        log(f"{backend}: SELECT 1 …")
        figures = await select_one_rate_for(backend)
        keep({"bench": "voice", "kind": "db_select1", "backend": backend, **figures})
        for workers in options.pg_workers if backend == "postgresql" else (1,):
            for k in range(1, options.repeat + 1):
                log(
                    f"{backend}, {workers} worker(s), run {k}: {options.rate:.0f} new calls/s for"
                    f" {options.seconds:.0f} s, then {options.pops} screen pops …"
                )
                for record in await bench_voice(backend, options, workers, k):
                    keep(record)
    return records


async def select_one_rate_for(backend: str) -> dict[str, Any]:
    async with fresh_database(backend) as url:
        figures = await select_one_rate(url, 20, 2.0)
    return {k: round(v, 2) for k, v in figures.items()}


def summary(records: list[dict[str, Any]]) -> str:
    names = {
        "asgi_hello": "ASGI hello-world (paced)",
        "ws_forward": "POST → websocket floor",
        "db_select1": "SELECT 1 (20 concurrent)",
        "call_control": "call control: new calls",
        "screen_pop": "screen pop: ringing → card",
    }
    rows = []
    for r in records:
        rate = r.get("decisions_per_s", r.get("rate"))
        target = ""
        if "target_met" in r:
            target = ("met" if r["target_met"] else "missed") + f" (p99 ≤ {r['target_p99_ms']:.0f} ms)"
        cpu = f"{r['server_cpu_ms_per_call']:.2f}" if "server_cpu_ms_per_call" in r else ""
        rows.append(
            {
                "what": names[r["kind"]],
                "backend": r.get("backend") or "-",
                "workers": r.get("workers", ""),
                "run": r.get("run", ""),
                "n": r["n"],
                "rate": rate if rate is not None else "",
                "p50": r["p50_ms"],
                "p99": r["p99_ms"],
                "failed": r.get("failed", ""),
                "target": target,
                "cpu": cpu,
            }
        )
    columns = [
        ("what", "what"),
        ("backend", "backend"),
        ("workers", "workers"),
        ("run", "run"),
        ("n", "n"),
        ("rate", "per s"),
        ("p50", "p50 ms"),
        ("p99", "p99 ms"),
        ("failed", "failed"),
        ("target", "target"),
        ("cpu", "server CPU ms/call"),
    ]
    return table(rows, columns)


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.voice", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="new calls per second (default 200)")
    parser.add_argument("--seconds", type=float, default=None, help="timed run length (default 20; quick 3)")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections of the PBX (64)")
    parser.add_argument("--pops", type=int, default=None, help="screen pops measured (default 300; quick 30)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma list: sqlite, postgresql")
    parser.add_argument("--pool", type=int, default=500, help="returning callers, seeded by the warm-up")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--routing", action="store_true", help="route every queued call in the same server too")
    parser.add_argument("--quick", action="store_true", help="a small run for smoke testing")
    parser.add_argument("--profile", default="", help="record the server with py-spy (raw stacks) to this file")
    parser.add_argument(
        "--pg-workers", default="1", help="server worker counts on PostgreSQL, comma list; over 1 the bus is RabbitMQ"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each configuration (machine noise)")
    args = parser.parse_args(argv)
    return Options(
        rate=args.rate,
        seconds=args.seconds or (3.0 if args.quick else 20.0),
        warmup_seconds=1.0 if args.quick else 3.0,
        connections=args.connections,
        pops=args.pops or (30 if args.quick else 300),
        backends=[b.strip() for b in args.backends.split(",") if b.strip()],
        pool=args.pool,
        seed=args.seed,
        routing=args.routing,
        profile=args.profile,
        pg_workers=tuple(int(w) for w in args.pg_workers.split(",") if w.strip()),
        repeat=max(1, args.repeat),
    )


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    started = time.perf_counter()
    records = run(main_async(options))
    log("")
    log(summary(records))
    log(f"\n{CPUS} CPUs; took {time.perf_counter() - started:.0f} s")
    controls = [r for r in records if r["kind"] == "call_control"]
    return 0 if all(r["consistent"] for r in controls) else 1


if __name__ == "__main__":
    raise SystemExit(main())
