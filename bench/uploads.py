"""Operator uploads: what one file costs on its way in, and what a reply carrying five of them costs.

The app runs in process (``httpx.ASGITransport``, so the client's multipart encoding is counted too)
on a fresh database (a temp SQLite file, or ``sbbench_<random>`` on PostgreSQL, dropped afterwards)
and a temp file store. A desk with an operator, a conversation in her hands; then, per size,
``--count`` uploads of distinct PNG-headed files (``POST /api/v1/conversations/{id}/uploads``,
multipart: size/type checks, SHA-256, an fsync'd write, one row), and ``--count`` replies each
naming five fresh uploads (``POST …/replies`` with ``upload_ids``: ownership checks, the message,
marking the uploads sent). Routing, the relay and the delivery worker are off.

    .venv/bin/python -m bench.uploads                        # SQLite, 64 KiB and 1 MiB, 100 each
    .venv/bin/python -m bench.uploads --backend postgresql --count 200

stdout: one JSON line per figure (wall and this process's CPU per operation, p50/p99, load average).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from tests.support.desk import Desk, given_desk, inbound

from bench.common import emit, fresh_database, load_average, log, migrate, percentile, run, switchboard_settings
from switchboard.bootstrap import build
from switchboard.config import load_settings
from switchboard.logs import configure
from switchboard.web.app import create_app

PNG_HEAD = b"\x89PNG\r\n\x1a\n"


async def _conversation(client: httpx.AsyncClient, desk: Desk) -> int:
    posted = await client.post(
        "/api/v1/inbound", headers=desk.as_("integration"), json=inbound(desk.channel_id, "Hello", phone="+79160000101")
    )
    assert posted.status_code == 201, posted.text
    conversation_id = int(posted.json()["conversation_id"])
    assigned = await client.post(
        f"/api/v1/conversations/{conversation_id}/assign",
        headers=desk.as_("supervisor"),
        json={"operator_id": desk.operator_id},
    )
    assert assigned.status_code == 200, assigned.text
    return conversation_id


async def _upload(client: httpx.AsyncClient, desk: Desk, conversation_id: int, size: int) -> int:
    data = PNG_HEAD + os.urandom(size - len(PNG_HEAD))
    answer = await client.post(
        f"/api/v1/conversations/{conversation_id}/uploads",
        headers=desk.as_("operator"),
        files={"file": ("photo.png", data, "image/png")},
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def _figure(backend: str, what: str, walls: list[float], cpus: list[float], **extra: object) -> None:
    walls, cpus = sorted(walls), sorted(cpus)
    record = {
        "bench": "uploads",
        "backend": backend,
        "what": what,
        "count": len(walls),
        "wall_ms_p50": round(percentile(walls, 50) * 1000, 2),
        "wall_ms_p99": round(percentile(walls, 99) * 1000, 2),
        "cpu_ms_mean": round(sum(cpus) / len(cpus) * 1000, 2),  # this process, all threads (fsync, driver)
        "load_1m": load_average(),
        **extra,
    }
    emit(record)
    log(f"{what}: p50 {record['wall_ms_p50']} ms, p99 {record['wall_ms_p99']} ms, cpu {record['cpu_ms_mean']} ms")


async def _timed(call: object) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    await call  # type: ignore[misc]
    return time.perf_counter() - wall, time.process_time() - cpu


async def main(backend: str, count: int, sizes: list[int]) -> None:
    configure("json", "warning")  # the per-request log lines would be most of the work
    async with fresh_database(backend) as url:
        migrate(url)
        with tempfile.TemporaryDirectory() as files, switchboard_settings(url):
            settings = load_settings(files_dir=files, routing=False, body_limit_bytes=max(sizes) + 65_536)
            container = build(settings, fast_hashing=True)
            app = create_app(container, manage_lifecycle=False)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                desk = await given_desk(container.services, client)
                conversation_id = await _conversation(client, desk)
                for size in sizes:
                    timed = [await _timed(_upload(client, desk, conversation_id, size)) for _ in range(count)]
                    _figure(backend, "upload", [w for w, _ in timed], [c for _, c in timed], bytes=size)
                walls, cpus = [], []
                for index in range(count):
                    ids = [await _upload(client, desk, conversation_id, 4096) for _ in range(5)]
                    body = {"text": f"reply {index}", "upload_ids": ids}
                    path = f"/api/v1/conversations/{conversation_id}/replies"
                    wall, cpu = await _timed(client.post(path, headers=desk.as_("operator"), json=body))
                    walls.append(wall)
                    cpus.append(cpu)
                _figure(backend, "reply_with_5_uploads", walls, cpus)
            await container.database.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--sizes", type=int, nargs="+", default=[65_536, 1_048_576])
    options = parser.parse_args()
    run(main(options.backend, options.count, options.sizes))
