"""What idling between units of work does to their CPU cost on this machine.

A server at a steady rate below its maximum idles between requests; one at its maximum never does.
On this machine (a 2-core VM) the same Python work costs more CPU when the thread sleeps between
units than when it runs them back to back: the core is handed to someone else while we sleep, and
we come back to cold caches. So CPU per message in an open loop at a lower rate is higher than in a
closed loop, and a server that keeps up at 1,000 messages/s in a closed loop is busier than the
arithmetic says at 700/s in an open one (docs/benchmarks.md § What the machine does to a figure).

The unit is plain Python (JSON encoding into a dict, about 0.4 ms); each pause is run ``--rounds``
times, alternating, and the median is printed per pause.

    .venv/bin/python -m bench.idle_penalty
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import emit, load_average, log, table

PAUSES_MS = (0.0, 0.2, 1.0, 3.0)


def unit() -> dict[str, str]:
    return {str(i): json.dumps({"a": i, "b": [1, 2, 3], "c": "текст"}) for i in range(100)}


def cpu_per_unit(pause_s: float, units: int) -> float:
    """Microseconds of this thread's CPU per unit, with ``pause_s`` of sleep after each."""
    spent = 0.0
    for _ in range(units):
        started = time.thread_time()
        unit()
        spent += time.thread_time() - started
        if pause_s:
            time.sleep(pause_s)
    return spent / units * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=2000, help="units per measurement (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per pause, alternating (default 3)")
    options = parser.parse_args(argv)
    load = load_average()
    samples: dict[float, list[float]] = {pause: [] for pause in PAUSES_MS}
    for _ in range(options.rounds):
        for pause in PAUSES_MS:
            samples[pause].append(cpu_per_unit(pause / 1000, options.units))
    back_to_back = statistics.median(samples[0.0])
    records = []
    for pause, values in samples.items():
        median = statistics.median(values)
        record = {
            "bench": "idle_penalty",
            "pause_ms": pause,
            "cpu_us_per_unit": round(median, 1),
            "range_us": [round(min(values), 1), round(max(values), 1)],
            "against_back_to_back_pct": round((median / back_to_back - 1) * 100, 1),
            "load_1m_before": load,
        }
        emit(record)
        records.append(record)
    columns = [("pause_ms", "pause ms"), ("cpu_us_per_unit", "CPU µs per unit (median)")]
    log("\n" + table(records, [*columns, ("against_back_to_back_pct", "% over back to back")]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
