"""Instructions per intake message and per new call, counted by valgrind: a CPU figure that does not drift.

On this machine the same code's CPU per message moves by ±20 % from one run to the next, and the same
Python work costs 40–65 % more when the thread idles between units (docs/benchmarks.md § What the
machine does to a figure). A change worth 5 % cannot be seen through that. Valgrind's ``cachegrind``
counts the instructions the process executes, which depend on the code and hardly on the machine.

Each workload runs in-process on SQLite (no sockets), in the app as ``switchboard serve`` runs it
(its lifespan: the outbox relay, the websocket hub, the bus consumers): ``intake`` posts to the API
channel through the ASGI app (waves of 100 concurrent requests, as ``bench.intake_asgi``), ``voice``
calls ``CallControl.start_call`` (32 at a time, as ``bench.voice_inprocess``); half the senders new.
Each is run twice, with ``--small`` and ``--large`` units on fresh copies of one prepared database;
the difference divided by the difference in units is the figure, so start-up (imports, migrations)
cancels out. Two runs of the same code differ by up to about 2.5 % (group commits and relay rounds
follow the clock, so batches are not quite the same).

``--against REV`` measures a git revision too (a temporary worktree on this checkout's ``.venv``), in
the same run: the A/B figure of a change. Two valgrind runs go at a time (``--jobs``); about 25× slower
than native, so a full A/B takes about five minutes.

    .venv/bin/python -m bench.instructions                          # intake and voice, this checkout
    .venv/bin/python -m bench.instructions --against HEAD~1 --workloads intake
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, VENV_BIN, emit, log, migrate, table

WORKLOADS = ("intake", "voice")
_IR = re.compile(r"I\s+refs:\s+([\d,]+)")


# --- the workloads, run inside valgrind ---------------------------------------------------------


@contextlib.asynccontextmanager
async def served(url: str) -> Any:
    """The app as ``switchboard serve`` runs it: its lifespan starts the container, the websocket hub
    and the visitors' hub (this process's listeners and bus consumers), routing off as in bench.intake."""
    from switchboard.bootstrap import build
    from switchboard.config import load_settings
    from switchboard.web.app import create_app

    settings = load_settings(database_url=url, bus_url="memory://", routing=False, voice_sweep_seconds=0)
    container = build(settings, fast_hashing=True)
    app = create_app(container)
    async with app.router.lifespan_context(app):
        yield app, container


async def intake(url: str, units: int, channel_id: int, token: str) -> None:
    from bench.intake_asgi import bodies, post

    requests = bodies(channel_id, "ir", units + 200)
    async with served(url) as (app, _):
        statuses = []
        for start in range(0, len(requests), 100):  # waves of 100: batches of the same size every run
            statuses += await asyncio.gather(*(post(app, token, body) for body in requests[start : start + 100]))
    failed = sum(1 for status in statuses if not 200 <= status < 300)
    if failed:
        raise SystemExit(f"intake: {failed} requests failed")


async def voice(url: str, units: int, channel_id: int, _token: str) -> None:
    from bench.voice import MAIN
    from switchboard.application.voice import NewCall

    rng = random.Random(20261123)
    pool = [f"+7916{rng.randrange(10**7):07d}" for _ in range(300)]
    gate = asyncio.Semaphore(32)
    async with served(url) as (_, container):

        async def one(i: int, tag: str) -> None:
            ani = pool[i % len(pool)] if i % 2 else f"+7925{rng.randrange(10**7):07d}"
            async with gate:
                await container.call_control.start_call(NewCall(f"{tag}{i}", ani, MAIN, channel_id))

        await asyncio.gather(*(one(i, "w") for i in range(300)))  # the returning pool, the caches
        await asyncio.gather(*(one(i, "t") for i in range(units)))


def run_workload(name: str, url: str, units: int, channel_id: int, token: str) -> None:
    from switchboard.logs import configure

    configure("json", "warning")
    asyncio.run({"intake": intake, "voice": voice}[name](url, units, channel_id, token))


# --- preparing databases and counting -----------------------------------------------------------


async def _desk(workload: str, url: str) -> tuple[int, str]:
    """The channel the workload writes to, and an integration token (intake)."""
    if workload == "intake":
        from bench.intake import given_desk as intake_desk

        return await intake_desk(url)
    from bench.voice import given_desk as voice_desk

    return (await voice_desk(url))[0], ""


def prepare(directory: Path, src: Path, workload: str) -> tuple[Path, tuple[int, str]]:
    """A migrated SQLite database with the workload's desk, made by the checkout measured."""
    path = directory / f"prepared-{workload}.db"
    argv = [str(VENV_BIN / "python"), "-m", "bench.instructions", "--prepare", "--workload", workload]
    subprocess.run([*argv, "--url", f"sqlite+aiosqlite:///{path}"], env=_env(src), cwd=ROOT, check=True)
    channel_id, token = json.loads(path.with_suffix(".json").read_text())
    return path, (channel_id, token)


def count(src: Path, prepared: Path, desk: tuple[int, str], workload: str, units: int, tag: str) -> int:
    """Instructions of one run of ``workload`` with ``units``, on a fresh copy of the prepared database."""
    database = prepared.with_name(f"{tag}.db")
    shutil.copyfile(prepared, database)
    channel_id, token = desk
    argv = [
        "valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={database}.cg",
        str(VENV_BIN / "python"), "-m", "bench.instructions", "--workload", workload,
        "--url", f"sqlite+aiosqlite:///{database}", "--units", str(units),
        "--channel", str(channel_id), "--token", token,
    ]  # fmt: skip
    done = subprocess.run(argv, env=_env(src), cwd=ROOT, capture_output=True, text=True, check=False)
    found = _IR.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"{workload} under valgrind failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return int(found.group(1).replace(",", ""))


def _env(src: Path) -> dict[str, str]:
    """The measured checkout's ``switchboard``, this checkout's ``bench`` (the workloads stay the same)."""
    return {**os.environ, "PYTHONPATH": f"{src / 'src'}:{ROOT}"}


@contextlib.contextmanager
def checkout(revision: str | None) -> Iterator[Path]:
    """This checkout, or ``revision`` in a temporary worktree that uses this checkout's ``.venv``."""
    if revision is None:
        yield ROOT
        return
    directory = Path(tempfile.mkdtemp(prefix="sbbench-rev-"))
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(directory), revision], cwd=ROOT, check=True, capture_output=True
    )
    try:
        (directory / ".venv").symlink_to(ROOT / ".venv")
        yield directory
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(directory)], cwd=ROOT, check=False, capture_output=True
        )
        shutil.rmtree(directory, ignore_errors=True)


async def measure(
    sources: dict[str, Path], workloads: list[str], small: int, large: int, jobs: int
) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="sbbench-ir-") as temp:
        directory = Path(temp)
        prepared = {
            (label, workload): prepare(_own(directory, f"{label}-{workload}"), src, workload)
            for label, src in sources.items()
            for workload in workloads
        }
        gate = asyncio.Semaphore(jobs)

        async def one(label: str, workload: str, units: int) -> int:
            async with gate:
                path, desk = prepared[(label, workload)]
                tag = f"{label}-{workload}-{units}"
                return await asyncio.to_thread(count, sources[label], path, desk, workload, units, tag)

        plan = [(label, workload) for workload in workloads for label in sources]
        started = time.perf_counter()
        counts = await asyncio.gather(*(one(label, w, n) for label, w in plan for n in (small, large)))
    records = []
    for k, (label, workload) in enumerate(plan):
        low, high = counts[2 * k], counts[2 * k + 1]
        records.append(
            {
                "bench": "instructions",
                "code": label,
                "revision": _revision(sources[label]),
                "workload": workload,
                "unit": "message" if workload == "intake" else "call",
                "instructions_per_unit": round((high - low) / (large - small)),
                "small": small,
                "large": large,
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    return records


def _own(directory: Path, label: str) -> Path:
    path = directory / label
    path.mkdir()
    return path


def _revision(src: Path) -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=src, capture_output=True, text=True, check=False)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=src, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="intake, voice (comma-separated)")
    parser.add_argument("--against", default=None, help="a git revision measured too, in the same run")
    parser.add_argument("--small", type=int, default=100, help="units of the short run (default 100)")
    parser.add_argument("--large", type=int, default=1100, help="units of the long run (default 1100)")
    parser.add_argument("--jobs", type=int, default=2, help="valgrind runs at a time (default 2)")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--workload", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--units", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--channel", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--token", default="", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.prepare:  # in the checkout measured: its migrations, its desk
        migrate(options.url)
        desk = asyncio.run(_desk(options.workload, options.url))
        Path(options.url.removeprefix("sqlite+aiosqlite:///")).with_suffix(".json").write_text(json.dumps(desk))
        return 0
    if options.workload:
        run_workload(options.workload, options.url, options.units, options.channel, options.token)
        return 0
    if shutil.which("valgrind") is None:
        log("valgrind is not installed (apt-get install valgrind)")
        return 2
    workloads = [w.strip() for w in options.workloads.split(",") if w.strip()]
    unknown = sorted(set(workloads) - set(WORKLOADS))
    if unknown or options.large <= options.small:
        log(f"unknown workloads {unknown}" if unknown else "--large must be more than --small")
        return 2
    with checkout(options.against) as other:
        sources = {"this": ROOT} if options.against is None else {"base": other, "this": ROOT}
        records = asyncio.run(measure(sources, workloads, options.small, options.large, options.jobs))
    for record in records:
        emit(record)
    columns = [
        ("workload", "workload"),
        ("code", "code"),
        ("revision", "revision"),
        ("instructions_per_unit", "instructions per unit"),
        ("unit", "unit"),
    ]
    log("\n" + table(records, columns))
    if options.against is not None:
        for workload in workloads:
            base, this = (
                next(r for r in records if r["workload"] == workload and r["code"] == c) for c in ("base", "this")
            )
            change = (
                (this["instructions_per_unit"] - base["instructions_per_unit"]) / base["instructions_per_unit"] * 100
            )
            log(f"{workload}: {change:+.1f} % instructions per {this['unit']} against {options.against}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
