"""Duplicate detection benchmark: time, precision and recall on generated contacts.

For each size, ``generate`` makes that many contacts with ground truth (typos, transliteration,
swapped names, missing fields, namesakes, families), then ``find_duplicates`` runs at the default
score with its batches of blocks scored by forked worker processes (``--workers``, default:
every CPU; see ``ForkMap``). Pairwise precision and recall are measured against the truth.

The ceiling, measured in the same run on the same records: iterating them and normalizing each
one (``profile_of``), with no blocking and no comparison — the least any search must spend.

    .venv/bin/python -m bench.dedupe                   # 10k, 100k and 1M
    .venv/bin/python -m bench.dedupe --quick           # 10k only
    .venv/bin/python -m bench.dedupe --sizes 50000 --workers 1

stdout: one JSON line per figure; stderr: progress and a human table.
"""

from __future__ import annotations

import argparse
import builtins
import gc
import multiprocessing
import os
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` and ``switchboard`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import emit, log, table
from switchboard.domain.matching import DEFAULT_MIN_SCORE, SearchStats, find_duplicates, profile_of
from switchboard.domain.matching.evaluation import quality
from switchboard.domain.matching.generate import generate

TARGET_SECONDS_1M = 600.0


class ForkMap:
    """A ``map`` for ``find_duplicates`` that runs the calls in ``workers`` forked processes.

    The items are kept in this process and the pool is forked after they exist, so the workers
    inherit them (copy-on-write) and only an item's index goes out and its result comes back.
    Process management stays here, in the benchmark; the domain only sees a ``map``.
    """

    _function: Any = None
    _items: list[Any] = []  # noqa: RUF012 - set in the parent before the fork, read in the children

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def __call__(self, function: Any, items: Any) -> Any:
        ForkMap._function, ForkMap._items = function, list(items)
        try:
            with multiprocessing.get_context("fork").Pool(self.workers) as pool:
                yield from pool.imap(_call_item, range(len(ForkMap._items)))
        finally:
            ForkMap._function, ForkMap._items = None, []


def _call_item(index: int) -> Any:
    return ForkMap._function(ForkMap._items[index])


def run_size(n: int, seed: int, min_score: float, workers: int) -> dict[str, Any]:
    started = time.perf_counter()
    generated = generate(n, random.Random(seed))
    generate_s = time.perf_counter() - started
    truth = generated.true_pairs()
    log(f"{n:,}: generated in {generate_s:.1f}s ({len(truth):,} true pairs)")

    gc.collect()
    started = time.perf_counter()
    profiles = [profile_of(person, index) for index, person in enumerate(generated.people)]
    ceiling_s = time.perf_counter() - started
    del profiles
    gc.collect()
    log(f"{n:,}: ceiling (iterate + normalize) {ceiling_s:.1f}s")

    stats = SearchStats()
    mapper = ForkMap(workers) if workers > 1 else builtins.map
    started = time.perf_counter()
    candidates = list(find_duplicates(generated.people, min_score, map=mapper, stats=stats))
    seconds = time.perf_counter() - started
    measured = quality(candidates, truth)
    log(f"{n:,}: search {seconds:.1f}s, {stats.pairs:,} pairs, P={measured.precision:.4f} R={measured.recall:.4f}")
    return {
        "bench": "dedupe",
        "people": n,
        "seconds": round(seconds, 2),
        "people_per_s": round(n / seconds),
        "ceiling_normalize_s": round(ceiling_s, 2),
        "generate_s": round(generate_s, 2),
        "min_score": min_score,
        "blocks": stats.blocks,
        "oversized_blocks": stats.oversized_blocks,
        "largest_block": stats.largest_block,
        "pairs_compared": stats.pairs,
        "candidate_pairs": stats.candidates,
        "true_pairs": measured.true,
        "correct_pairs": measured.correct,
        "precision": round(measured.precision, 5),
        "recall": round(measured.recall, 5),
        "workers": workers,
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "seed": seed,
        **({"target_s": TARGET_SECONDS_1M, "within_target": seconds <= TARGET_SECONDS_1M} if n >= 1_000_000 else {}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated numbers of contacts")
    parser.add_argument("--quick", action="store_true", help="10k contacts only")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="scoring processes (1: in-process)")
    parser.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE)
    parser.add_argument("--seed", type=int, default=20260501)
    options = parser.parse_args(argv)
    sizes = [10_000] if options.quick else [int(s) for s in options.sizes.split(",") if s.strip()]

    rows = []
    for n in sizes:
        row = run_size(n, options.seed, options.min_score, options.workers)
        emit(row)
        rows.append(row)
    columns = [
        ("people", "people"),
        ("seconds", "search s"),
        ("ceiling_normalize_s", "normalize s"),
        ("blocks", "blocks"),
        ("pairs_compared", "pairs"),
        ("candidate_pairs", "candidates"),
        ("precision", "precision"),
        ("recall", "recall"),
        ("max_rss_mb", "RSS MB"),
    ]
    log(table(rows, columns))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
