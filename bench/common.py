"""Shared pieces for the benchmarks in ``bench/``.

* a minimal HTTP/1.1 keep-alive client on asyncio streams and a closed-loop load generator
  (M persistent connections, each sending its requests one after another) — cheap on CPU, so
  on a small machine the generator does not starve the server it measures;
* the ceiling: a bare ASGI hello-world (``hello_app``) served by the same uvicorn, and a bare
  database round trip (``SELECT 1``) through the same engine settings the application uses;
* running a server as a subprocess and waiting for it; CPU accounting from ``/proc``;
* fresh databases (a temp SQLite file, or ``sbbench_<random>`` on PostgreSQL, dropped at the end);
* one JSON line per figure (``emit``) and a short human table (``table``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PG_ADMIN_URL = os.environ.get("SWITCHBOARD_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- results ------------------------------------------------------------------------------------


def emit(record: dict[str, Any]) -> None:
    """One machine-readable line per figure."""
    print(json.dumps(record, ensure_ascii=False), flush=True)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """A plain text table: ``columns`` is (key, heading)."""
    cells = [[_cell(row.get(key)) for key, _ in columns] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, (_, h) in enumerate(columns)]
    line = "  ".join(h.ljust(w) for (_, h), w in zip(columns, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(out)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 100 else f"{value:.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


# --- a minimal HTTP/1.1 client ------------------------------------------------------------------


class HttpError(Exception):
    pass


def build_request(
    method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None, host: str = "127.0.0.1"
) -> bytes:
    """The bytes of one keep-alive HTTP/1.1 request (built ahead of the timed run)."""
    lines = [f"{method} {path} HTTP/1.1", f"host: {host}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connection:
    """One persistent connection; ``send`` writes a request and reads its whole response."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.closing = False  # the server said "connection: close"

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def send(self, request: bytes) -> tuple[int, bytes]:
        self._writer.write(request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = None
        chunked = False
        for raw in head.split(b"\r\n")[1:]:
            name, _, value = raw.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                self.closing = True
        if length is not None:
            return status, await self._reader.readexactly(length) if length else b""
        if chunked:
            return status, await self._read_chunked()
        raise HttpError("response without content-length or chunked body")

    async def _read_chunked(self) -> bytes:
        parts = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self._reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()


async def get(host: str, port: int, path: str) -> tuple[int, bytes]:
    connection = await Connection.open(host, port)
    try:
        return await connection.send(build_request("GET", path, host=host))
    finally:
        await connection.close()


# --- the load generator -------------------------------------------------------------------------


@dataclass
class LoadResult:
    n: int
    clients: int
    seconds: float
    latencies_ms: list[float]  # sorted
    statuses: Counter[int]
    by_index: list[int]  # status of each request (0: the connection broke)
    bodies: list[bytes | None]  # by request index, when kept
    generator_cpu_s: float

    @property
    def rate(self) -> float:
        return self.n / self.seconds if self.seconds else 0.0

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 99)

    @property
    def errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if not 200 <= status < 300)


async def run_load(
    host: str, port: int, requests: Sequence[bytes], clients: int, *, keep_bodies: bool = False
) -> LoadResult:
    """Send every request once over ``clients`` persistent connections, as fast as answers come.

    Closed loop: each connection sends its next request when the previous answer is in, so the
    latency is the server's time under that concurrency. Connections are opened before the clock
    starts. A connection that breaks is reopened and the request is counted with status 0.
    """
    n = len(requests)
    latencies: list[float] = [0.0] * n
    statuses: list[int] = [0] * n
    bodies: list[bytes | None] = [None] * n
    next_index = 0
    connections = [await Connection.open(host, port) for _ in range(min(clients, n) or 1)]

    async def client(connection: Connection) -> None:
        nonlocal next_index
        clock = time.perf_counter
        while next_index < n:
            i = next_index
            next_index += 1
            started = clock()
            try:
                status, body = await connection.send(requests[i])
            except (OSError, asyncio.IncompleteReadError, HttpError, ValueError):
                status, body = 0, b""
                connection.closing = True
            if connection.closing:
                await connection.close()
                connection = await Connection.open(host, port)
            latencies[i] = (clock() - started) * 1000
            statuses[i] = status
            if keep_bodies:
                bodies[i] = body
        await connection.close()

    cpu_before = _own_cpu()
    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in connections))
    seconds = time.perf_counter() - started
    return LoadResult(
        n, len(connections), seconds, sorted(latencies), Counter(statuses), statuses, bodies, _own_cpu() - cpu_before
    )


async def run_open_load(
    host: str, port: int, requests: Sequence[bytes], clients: int, rate: float, *, keep_bodies: bool = False
) -> LoadResult:
    """Send request i at ``i / rate`` seconds on whichever of ``clients`` connections is free (open loop).

    Latency counts from the moment the request was due, so waiting for a free connection or for a
    slow server is in it (no coordinated omission). This is how a p99 at a given arrival rate is
    measured; the closed loop of ``run_load`` measures the most a server can take, where by Little's
    law the mean latency is simply clients / rate.
    """
    n = len(requests)
    latencies: list[float] = [0.0] * n
    statuses: list[int] = [0] * n
    bodies: list[bytes | None] = [None] * n
    free: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(min(clients, n) or 1):
        free.put_nowait(await Connection.open(host, port))
    clock = time.perf_counter

    async def one(i: int, due: float) -> None:
        delay = due - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        connection = await free.get()
        try:
            status, body = await connection.send(requests[i])
        except (OSError, asyncio.IncompleteReadError, HttpError, ValueError):
            status, body = 0, b""
            connection.closing = True
        if connection.closing:
            await connection.close()
            connection = await Connection.open(host, port)
        free.put_nowait(connection)
        latencies[i] = (clock() - due) * 1000
        statuses[i] = status
        if keep_bodies:
            bodies[i] = body

    cpu_before = _own_cpu()
    started = clock()
    await asyncio.gather(*(one(i, started + i / rate) for i in range(n)))
    seconds = clock() - started
    while not free.empty():
        await free.get_nowait().close()
    return LoadResult(
        n, clients, seconds, sorted(latencies), Counter(statuses), statuses, bodies, _own_cpu() - cpu_before
    )


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when available (the generator's own CPU cost matters on a small machine)."""
    try:
        import uvloop

        return uvloop.new_event_loop()
    except ImportError:  # pragma: no cover
        return asyncio.new_event_loop()


def run(coroutine: Any) -> Any:
    loop = new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


# --- CPU accounting -----------------------------------------------------------------------------


def process_tree_cpu(root_pid: int) -> float:
    """User + system CPU seconds of a process and all its live descendants."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        times[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    total, stack = 0.0, [root_pid]
    while stack:
        pid = stack.pop()
        total += times.get(pid, 0.0)
        stack.extend(children.get(pid, []))
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def cmdline_cpu(needle: str) -> dict[int, float]:
    """CPU seconds of every process whose command line contains ``needle`` (PostgreSQL backends
    show their database name in their title)."""
    found: dict[int, float] = {}
    if not needle:
        return found
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if needle.encode() not in Path(f"/proc/{entry}/cmdline").read_bytes():
                continue
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(entry)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return found


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


@dataclass
class CpuWindow:
    """CPU used during a window: by the server tree, by the database backends serving ``db_name``
    (PostgreSQL), by the whole machine; the rest is other people's work on a shared machine."""

    server_pid: int
    db_name: str = ""
    _server: float = 0.0
    _db: dict[int, float] = field(default_factory=dict)
    _busy: float = 0.0
    _wall: float = 0.0
    result: dict[str, float] = field(default_factory=dict)

    def __enter__(self) -> CpuWindow:
        self._server = process_tree_cpu(self.server_pid)
        self._db = cmdline_cpu(self.db_name)
        self._busy, _ = machine_busy()
        self._wall = time.perf_counter()
        self.result["load_1m"] = load_average()
        return self

    def __exit__(self, *_: object) -> None:
        wall = time.perf_counter() - self._wall
        busy, _ = machine_busy()
        db = cmdline_cpu(self.db_name)
        self.result.update(
            {
                "wall_s": wall,
                "server_cpu_s": process_tree_cpu(self.server_pid) - self._server,
                "db_cpu_s": sum(cpu - self._db.get(pid, 0.0) for pid, cpu in db.items()),
                "machine_cpu_s": busy - self._busy,
            }
        )


# --- servers ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A server subprocess in its own session; stopped with SIGINT (graceful), then SIGKILL."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int, host: str = "127.0.0.1") -> None:
        self.argv, self.env, self.port, self.host = argv, env, port, host
        self.process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.argv, env=self.env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    async def wait_ready(self, path: str, timeout: float = 30.0) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.output()}")
            with contextlib.suppress(OSError, asyncio.IncompleteReadError, HttpError):
                status, _ = await get(self.host, self.port, path)
                if 200 <= status < 300:
                    return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout}s:\n{self.output()}")

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def uvicorn_argv(app: str, port: int, workers: int = 1) -> list[str]:
    """The same ``uvicorn.run`` call ``switchboard serve`` makes, for another ASGI app."""
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); import uvicorn; "
        f"uvicorn.run({app!r}, host='127.0.0.1', port={port}, workers={workers}, log_level='warning', "
        "proxy_headers=True, timeout_graceful_shutdown=15)"
    )
    return [str(VENV_BIN / "python"), "-c", code]


async def hello_app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    """The ceiling: a raw ASGI callable that reads the body and answers a small JSON."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    body = b'{"status":"ok"}'
    await send(
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})


class AsgiCaller:
    """Calls an ASGI app in process with the least client work: a scope, one body message, the answer
    collected. Measures the app (middleware, routing, validation, the use case, the database), not an
    HTTP client library."""

    def __init__(self, app: Callable[..., Any], headers: dict[str, str] | None = None) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]

    async def get(self, path: str, query: str = "") -> tuple[int, bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"bench"), *self.headers],
            "client": ("127.0.0.1", 50000),
            "server": ("bench", 80),
            "state": {},
        }
        status = 0
        chunks: list[bytes] = []
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.Event().wait()  # the client never disconnects
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


# --- databases ----------------------------------------------------------------------------------


def _asyncpg_dsn(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_name(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).database or ""


@contextlib.asynccontextmanager
async def fresh_database(backend: str, prefix: str = "sbbench") -> AsyncIterator[str]:
    """A new empty database URL; removed afterwards (only what was created here is dropped)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as folder:
            yield f"sqlite:///{folder}/switchboard.db"
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r}")
    import asyncpg
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL))
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def switchboard_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.update(
        SWITCHBOARD_DATABASE_URL=database_url,
        SWITCHBOARD_LOG_LEVEL="warning",
        SWITCHBOARD_LOG_FORMAT="json",
        SWITCHBOARD_BUS_URL="memory://",
        SWITCHBOARD_ROUTING="false",  # intake alone; bench/routing_applied.py measures routing
    )
    return env


def migrate(database_url: str) -> None:
    subprocess.run(
        [str(VENV_BIN / "switchboard"), "migrate"],
        env=switchboard_env(database_url),
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


@contextlib.contextmanager
def switchboard_settings(database_url: str) -> Iterator[None]:
    """Environment for code in this process that calls ``load_settings()``."""
    saved = dict(os.environ)
    os.environ.update(switchboard_env(database_url))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


async def select_one_rate(database_url: str, clients: int, seconds: float = 2.0) -> dict[str, float]:
    """Bare database round trips (``SELECT 1``) through the application's engine settings."""
    from sqlalchemy import text

    from switchboard.adapters.storage.database import Database

    database = Database(database_url)
    latencies: list[float] = []
    try:
        async with database.engine.connect() as connection:  # open the first connection untimed
            await connection.execute(text("SELECT 1"))
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with database.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    finally:
        await database.dispose()
    latencies.sort()
    return {
        "rate": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "n": len(latencies),
    }
