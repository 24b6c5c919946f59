"""CPU per new call inside the process: ``CallControl.start_call`` without HTTP, on a fresh database.

The HTTP benchmark (``bench/voice.py``) measures the whole server under a paced load, which a busy
machine distorts; this one measures the call-control use case and its storage alone (the outbox
relay running, as in the server), as process CPU (user and system) per call. Half the callers are
new numbers, half return from a pool seeded by a warm-up, as in ``bench/voice.py``.

    .venv/bin/python -m bench.voice_inprocess                      # sqlite and postgresql, 2,000 calls
    .venv/bin/python -m bench.voice_inprocess --backends sqlite --calls 500
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import emit, fresh_database, load_average, migrate, run
from bench.voice import MAIN, given_desk


async def measure(backend: str, calls: int, concurrency: int) -> dict[str, object]:
    from switchboard.application.voice import NewCall
    from switchboard.bootstrap import build
    from switchboard.config import load_settings

    async with fresh_database(backend) as url:
        migrate(url)
        channel_id, _ = await given_desk(url)
        settings = load_settings(database_url=url, bus_url="memory://", routing=False, voice_sweep_seconds=0)
        container = build(settings, fast_hashing=True)
        await container.start()
        try:
            rng = random.Random(20261122)
            pool = [f"+7916{rng.randrange(10**7):07d}" for _ in range(300)]
            gate = asyncio.Semaphore(concurrency)

            async def one(i: int) -> None:
                ani = pool[i % len(pool)] if i % 2 else f"+7925{rng.randrange(10**7):07d}"
                async with gate:
                    await container.call_control.start_call(NewCall(f"c{i}-{time.time_ns()}", ani, MAIN, channel_id))

            await asyncio.gather(*(one(i) for i in range(600)))  # warm-up: the returning pool, the caches
            await asyncio.sleep(1.0)
            load, before, started = load_average(), os.times(), time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(calls)))
            await asyncio.sleep(0.5)  # the relay publishes what the last calls committed
            after, wall = os.times(), time.perf_counter() - started - 0.5
        finally:
            await container.stop()
    user, system = (after.user - before.user) / calls * 1000, (after.system - before.system) / calls * 1000
    return {
        "bench": "voice_inprocess",
        "backend": backend,
        "calls": calls,
        "cpu_ms_per_call": round(user + system, 3),
        "user_ms_per_call": round(user, 3),
        "system_ms_per_call": round(system, 3),
        "calls_per_s": round(calls / wall, 1),
        "load_1m_before": load,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.voice_inprocess", description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16, help="calls in flight at once (16)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        emit(run(measure(backend, args.calls, args.concurrency)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
