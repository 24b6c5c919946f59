"""Server CPU per intake message in-process: the ASGI app called directly, lean inbound path on and off.

No sockets and no uvicorn, so what is left is the app: middleware, the inbound path (or FastAPI's
route), the use case, the group commit's SQL and the outbox relay. Requests go in waves of
``--wave`` concurrent ones, so every batch of the group commit has about the same size whatever the
machine's load, and CPU per message (``time.process_time``, the whole process with aiosqlite's or
asyncpg's work) compares across runs. Runs alternate (off, on, off, on, …) on one fresh database.

    .venv/bin/python -m bench.intake_asgi                       # SQLite, 3000 messages, 2 rounds
    .venv/bin/python -m bench.intake_asgi --backend postgresql --n 3000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import emit, fresh_database, log, migrate, run
from bench.intake import PATH, given_desk, new_phone, pool_phone


def scope_of(token: str, body: bytes) -> dict[str, Any]:
    headers = [
        (b"host", b"bench"),
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }


def bodies(channel_id: int, tag: str, n: int) -> list[bytes]:
    """Half new senders, half from a pool of 500 returning ones (as bench.intake)."""
    text = "Здравствуйте! Где мой заказ?"
    return [
        json.dumps(
            {
                "channel_id": channel_id,
                "external_id": f"{tag}-{i}",
                "text": text,
                "sender": {"name": "Bench Client", "phone": new_phone(i) if i % 2 else pool_phone(i % 500)},
            },
            ensure_ascii=False,
        ).encode()
        for i in range(n)
    ]


async def post(app: Any, token: str, body: bytes) -> int:
    delivered = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            await asyncio.sleep(3600)  # the client stays: no disconnect
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope_of(token, body), receive, send)
    return status


async def one_run(url: str, lean: bool, requests: list[bytes], wave: int, token: str) -> dict[str, Any]:
    from switchboard.bootstrap import build
    from switchboard.config import load_settings
    from switchboard.logs import configure
    from switchboard.web.app import create_app

    configure("json", "warning")
    container = build(load_settings(database_url=url, bus_url="memory://", routing=False))
    app = create_app(container, manage_lifecycle=False, lean_paths=lean)
    gc.freeze()  # as switchboard.asgi does: full collections would otherwise walk the app on every request burst
    await container.start()
    try:
        warm, timed = requests[:200], requests[200:]
        await asyncio.gather(*(post(app, token, b) for b in warm))
        statuses: list[int] = []
        wall, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(timed), wave):
            statuses += await asyncio.gather(*(post(app, token, b) for b in timed[start : start + wave]))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        await container.stop(drain_seconds=5)
    n = len(timed)
    return {
        "bench": "intake_asgi",
        "lean_path": lean,
        "n": n,
        "wave": wave,
        "cpu_ms_per_msg": round(cpu / n * 1000, 3),
        "msgs_per_s": round(n / wall, 1),
        "failed": sum(1 for s in statuses if not 200 <= s < 300),
        "load_1m": os.getloadavg()[0],
    }


async def main_async(backend: str, n: int, rounds: int, wave: int) -> list[dict[str, Any]]:
    records = []
    async with fresh_database(backend) as url:
        migrate(url)
        channel_id, token = await given_desk(url)
        for k in range(rounds):
            for lean in (False, True):
                requests = bodies(channel_id, f"r{k}-{int(lean)}", n + 200)
                record = {"backend": backend, **await one_run(url, lean, requests, wave, token)}
                log(
                    f"{backend} lean={lean}: {record['cpu_ms_per_msg']} ms CPU per message,"
                    f" {record['msgs_per_s']}/s, failed {record['failed']}, load {record['load_1m']:.1f}"
                )
                emit(record)
                records.append(record)
    return records


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.intake_asgi", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--wave", type=int, default=100, help="concurrent requests per wave (about a batch)")
    args = parser.parse_args()
    records = run(main_async(args.backend, args.n, args.rounds, args.wave))
    return 0 if all(r["failed"] == 0 for r in records) else 1


if __name__ == "__main__":
    raise SystemExit(main())
