"""Benchmark of the pure routing engine (no database, no bus).

    .venv/bin/python bench/routing.py [--quick]

Steady state of a saturated floor: every operator is full and conversations wait. Each
round is three events, each one routing decision: a conversation closes (the freed operator
is offered the best waiting conversation), the offer is accepted (assign), a new
conversation arrives (keep waiting, with its position and estimated wait). Mixed media,
skills, VIPs and DNIS priorities; every operator is on two of ten lines.

Prints one JSON object per figure on stdout, then a human summary on stderr. The ceiling is a
bare `heapq.heappush` + `heappop` pair on a heap of the same size, measured in the same run.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import json
import math
import random
import sys
import time
from dataclasses import dataclass

from switchboard.domain.routing import RoutingEngine
from switchboard.domain.routing.config import LineConfig, Member
from switchboard.domain.routing.decisions import Assign, Offer
from switchboard.domain.routing.events import (
    ConversationClosed,
    ConversationQueued,
    Event,
    OfferAccepted,
    OperatorLoggedIn,
)
from switchboard.domain.routing.model import Capacity, Media, Mode, OperatorProfile

LINES = 10
SKILL_SETS: tuple[frozenset[str], ...] = (
    frozenset(),
    frozenset(),
    frozenset({"en"}),
    frozenset({"de"}),
    frozenset({"billing"}),
)
MEDIA = (Media.CHAT, Media.CHAT, Media.CHAT, Media.EMAIL, Media.VOICE)
CAPACITY = Capacity(per_media={Media.VOICE: 1, Media.CHAT: 3, Media.EMAIL: 5}, total=5)


@dataclass
class Floor:
    engine: RoutingEngine
    rng: random.Random
    now: float = 1_700_000_000.0
    counter: int = 0

    def queue(self) -> ConversationQueued:
        self.counter += 1
        rng = self.rng
        return ConversationQueued(
            self.now,
            f"c{self.counter}",
            f"line{rng.randrange(LINES)}",
            rng.choice(MEDIA),
            vip=rng.random() < 0.05,
            dnis_priority=rng.choice((0, 0, 0, 1, 2)),
            skills=rng.choice(SKILL_SETS),
        )


def build(operators: int, waiting: int, seed: int) -> tuple[Floor, list[str]]:
    """A saturated floor with `waiting` conversations in the queues."""
    rng = random.Random(seed)
    names = [f"op{i}" for i in range(operators)]
    members: list[list[Member]] = [[] for _ in range(LINES)]
    for i, name in enumerate(names):
        skills = {s: rng.randint(1, 10) for s in ("en", "de", "billing") if rng.random() < 0.6}
        for line in {i % LINES, rng.randrange(LINES)}:
            members[line].append(Member(name, tier=1 + (rng.random() < 0.2), skills=skills))
    modes = (Mode.EVENLY, Mode.LONGEST_IDLE, Mode.ROUND_ROBIN, Mode.BEST_SKILL, Mode.STRICT_ORDER)
    lines = [
        LineConfig(f"line{i}", mode=modes[i % len(modes)], members=tuple(members[i]), priority=i % 3)
        for i in range(LINES)
    ]
    engine = RoutingEngine(lines, [OperatorProfile(n, CAPACITY) for n in names])
    floor = Floor(engine, rng)
    for name in names:
        engine.handle(OperatorLoggedIn(floor.now, name))
    assigned: list[str] = []
    while sum(line.waiting for line in engine.lines.values()) < waiting:
        for decision in engine.handle(floor.queue()):
            if isinstance(decision, Offer):
                accept(engine, decision, floor.now, assigned)
    return floor, assigned


def accept(engine: RoutingEngine, offer: Offer, at: float, assigned: list[str]) -> None:
    for decision in engine.handle(OfferAccepted(at, offer.conversation_id, offer.operator_ids[0])):
        if isinstance(decision, Assign):
            assigned.append(decision.conversation_id)


def timed(engine: RoutingEngine, event: Event, samples: list[int]) -> list[object]:
    start = time.perf_counter_ns()
    decisions = engine.handle(event)
    samples.append(time.perf_counter_ns() - start)
    return list(decisions)


def run(operators: int, waiting: int, rounds: int, seed: int = 7) -> dict[str, float]:
    floor, assigned = build(operators, waiting, seed)
    gc.collect()
    gc.freeze()  # long-lived floor state out of the collector's way, as a server would after warm-up
    engine, rng = floor.engine, floor.rng
    samples: list[int] = []
    for _ in range(rounds):
        floor.now += 0.01
        index = rng.randrange(len(assigned))
        assigned[index], assigned[-1] = assigned[-1], assigned[index]
        closed = assigned.pop()
        for decision in timed(engine, ConversationClosed(floor.now, closed), samples):
            if isinstance(decision, Offer):
                event = OfferAccepted(floor.now, decision.conversation_id, decision.operator_ids[0])
                for follow in timed(engine, event, samples):
                    if isinstance(follow, Assign):
                        assigned.append(follow.conversation_id)
        timed(engine, floor.queue(), samples)
    samples.sort()
    total_s = sum(samples) / 1e9
    return {
        "operators": operators,
        "waiting": waiting,
        "decisions": len(samples),
        "decisions_per_s": len(samples) / total_s,
        "mean_us": total_s / len(samples) * 1e6,
        "p50_us": samples[len(samples) // 2] / 1e3,
        "p99_us": samples[int(len(samples) * 0.99)] / 1e3,
        "max_us": samples[-1] / 1e3,
    }


def ceiling(size: int, rounds: int, seed: int = 7) -> dict[str, float]:
    """A bare heap push + pop pair on `size` entries shaped like queue entries."""
    rng = random.Random(seed)
    heap = [(rng.random() * 1e6, i, f"c{i}") for i in range(size)]
    heapq.heapify(heap)
    start = time.perf_counter_ns()
    for i in range(rounds):
        heapq.heappush(heap, (rng.random() * 1e6, size + i, "x"))
        heapq.heappop(heap)
    per_pair_us = (time.perf_counter_ns() - start) / rounds / 1e3
    return {"waiting": size, "heap_push_pop_us": per_pair_us}


def emit(figure: str, values: dict[str, float]) -> None:
    print(json.dumps({"figure": figure, **{k: round(v, 3) for k, v in values.items()}}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller floors, fewer rounds")
    args = parser.parse_args()
    rounds = 3_000 if args.quick else 20_000
    floors = [(1_000, 10_000)] if args.quick else [(1_000, 10_000), (10_000, 100_000)]
    curve = (100, 1_000, 10_000) if args.quick else (100, 1_000, 10_000, 100_000)
    summary: list[str] = []
    for operators, waiting in floors:
        result = run(operators, waiting, rounds)
        emit("engine", result)
        summary.append(
            f"{operators:>6} operators {waiting:>7} waiting: {result['decisions_per_s']:>9,.0f} decisions/s, "
            f"p50 {result['p50_us']:.1f} µs, p99 {result['p99_us']:.1f} µs"
        )
    base: float | None = None
    for waiting in curve:
        result = run(1_000, waiting, rounds)
        bare = ceiling(waiting, rounds * 3)
        base = base or result["mean_us"] / math.log2(waiting)
        ratio = result["mean_us"] / math.log2(waiting) / base
        emit("curve", {**result, "mean_per_log2n_relative": ratio, **bare})
        summary.append(
            f"curve  1000 operators {waiting:>7} waiting: {result['mean_us']:.1f} µs/decision, "
            f"(µs / log2 n) relative to n=100: {ratio:.2f}; ceiling heap push+pop {bare['heap_push_pop_us']:.2f} µs"
        )
    print("\n".join(summary), file=sys.stderr)


if __name__ == "__main__":
    main()
