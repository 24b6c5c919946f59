"""Discrete-event simulation of a line, driving the real routing engine.

Poisson arrivals, exponential handle times, optional exponential patience (the customer
hangs up if not answered in time). Offers are accepted at once by the first operator
offered, so the figures measure the distribution mode and staffing, not reaction times.
Randomness comes only from `random.Random(seed)`: the same config gives the same result.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, replace
from typing import Any

from switchboard.domain.routing.config import MAX_FORWARDING_S, LineConfig, Member
from switchboard.domain.routing.decisions import (
    Assign,
    CancelTimer,
    KeepWaiting,
    MoveToLine,
    Offer,
    Refuse,
    RequestCallback,
    ScheduleTimer,
)
from switchboard.domain.routing.engine import RoutingEngine
from switchboard.domain.routing.events import (
    ConversationClosed,
    ConversationQueued,
    Event,
    OfferAccepted,
    OperatorLoggedIn,
    TimerFired,
)
from switchboard.domain.routing.model import Capacity, Media, Mode, OperatorProfile

LINE_ID = "simulated"


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    arrivals_per_interval: float
    interval_s: float
    handle_s: float
    operators: int
    threshold_s: float = 20.0
    horizon_s: float = 8 * 3600.0
    warmup_s: float = 1800.0
    patience_s: float | None = None
    mode: Mode = Mode.LONGEST_IDLE
    seed: int = 1
    line: LineConfig | None = None

    def problems(self) -> list[tuple[str, str]]:
        found = []
        for name in ("arrivals_per_interval", "interval_s", "handle_s", "horizon_s"):
            if getattr(self, name) <= 0:
                found.append((name, "must be > 0"))
        if self.operators < 1:
            found.append(("operators", "must be >= 1"))
        if self.threshold_s < 0 or self.warmup_s < 0:
            found.append(("threshold_s/warmup_s", "must be >= 0"))
        if self.patience_s is not None and self.patience_s <= 0:
            found.append(("patience_s", "must be > 0 or None"))
        if self.warmup_s >= self.horizon_s:
            found.append(("warmup_s", "must be shorter than horizon_s"))
        return found


@dataclass(frozen=True, slots=True)
class SimulationResult:
    mode: str
    arrivals: int
    answered: int
    abandoned: int
    service_level: float
    average_speed_of_answer_s: float
    abandonment_rate: float
    occupancy: float


class _Run:
    """One simulation: a clock, an event heap and the engine under test."""

    def __init__(self, config: SimulationConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.engine = RoutingEngine([_line(config)], _operators(config))
        self.heap: list[tuple[float, int, str, Any]] = []
        self.counter = 0
        self.timers: dict[str, int] = {}
        self.arrived: dict[str, float] = {}
        self.abandon_at: dict[str, float] = {}
        self.waits: list[float] = []
        self.busy = 0.0
        self.abandoned = 0
        self.counted = 0

    def push(self, at: float, kind: str, payload: Any) -> None:
        self.counter += 1
        heapq.heappush(self.heap, (at, self.counter, kind, payload))

    def run(self) -> SimulationResult:
        for i in range(self.config.operators):
            self.feed(OperatorLoggedIn(0.0, f"op{i}"))
        rate = self.config.arrivals_per_interval / self.config.interval_s
        self.push(self.rng.expovariate(rate), "arrival", 0)
        while self.heap:
            at, _, kind, payload = heapq.heappop(self.heap)
            self.step(at, kind, payload, rate)
        return self.result()

    def step(self, at: float, kind: str, payload: Any, rate: float) -> None:
        if kind == "arrival":
            if at < self.config.horizon_s:
                self.arrive(at, payload)
                self.push(at + self.rng.expovariate(rate), "arrival", payload + 1)
        elif kind == "timer":
            key, token = payload
            if self.timers.get(key) == token:
                del self.timers[key]
                self.feed(TimerFired(at, key))
        elif kind == "close":
            self.feed(ConversationClosed(at, payload))
        elif kind == "abandon" and payload in self.abandon_at:
            del self.abandon_at[payload]
            if self.counts(payload):
                self.abandoned += 1
            self.feed(ConversationClosed(at, payload))

    def arrive(self, at: float, number: int) -> None:
        conversation_id = f"c{number}"
        self.arrived[conversation_id] = at
        if self.counts(conversation_id):
            self.counted += 1
        self.feed(ConversationQueued(at, conversation_id, LINE_ID, Media.VOICE))

    def counts(self, conversation_id: str) -> bool:
        return self.arrived[conversation_id] >= self.config.warmup_s

    def feed(self, event: Event) -> None:
        pending = [event]
        while pending:
            current = pending.pop(0)
            for decision in self.engine.handle(current):
                follow = self.apply(decision, current.at)
                if follow is not None:
                    pending.append(follow)

    def apply(self, decision: object, at: float) -> Event | None:
        if isinstance(decision, Offer):
            return OfferAccepted(at, decision.conversation_id, decision.operator_ids[0])
        if isinstance(decision, Assign):
            self.assigned(decision.conversation_id, at)
        elif isinstance(decision, ScheduleTimer):
            self.counter += 1
            self.timers[decision.key] = self.counter
            heapq.heappush(self.heap, (decision.at, self.counter, "timer", (decision.key, self.counter)))
        elif isinstance(decision, CancelTimer):
            self.timers.pop(decision.key, None)
        elif isinstance(decision, KeepWaiting):
            self.maybe_abandon(decision.conversation_id, at)
        elif isinstance(decision, Refuse | RequestCallback | MoveToLine):
            self.abandon_at.pop(decision.conversation_id, None)
        return None

    def assigned(self, conversation_id: str, at: float) -> None:
        self.abandon_at.pop(conversation_id, None)
        handle = self.rng.expovariate(1.0 / self.config.handle_s)
        self.push(at + handle, "close", conversation_id)
        start, end = max(at, self.config.warmup_s), min(at + handle, self.config.horizon_s)
        self.busy += max(0.0, end - start)
        if self.counts(conversation_id):
            self.waits.append(at - self.arrived[conversation_id])

    def maybe_abandon(self, conversation_id: str, at: float) -> None:
        patience = self.config.patience_s
        if patience is not None and conversation_id not in self.abandon_at:
            when = self.arrived[conversation_id] + self.rng.expovariate(1.0 / patience)
            self.abandon_at[conversation_id] = max(when, at)
            self.push(max(when, at), "abandon", conversation_id)

    def result(self) -> SimulationResult:
        config, counted = self.config, max(self.counted, 1)
        within = sum(1 for w in self.waits if w <= config.threshold_s)
        window = config.operators * (config.horizon_s - config.warmup_s)
        return SimulationResult(
            mode=str(config.mode),
            arrivals=self.counted,
            answered=len(self.waits),
            abandoned=self.abandoned,
            service_level=within / counted,
            average_speed_of_answer_s=sum(self.waits) / len(self.waits) if self.waits else 0.0,
            abandonment_rate=self.abandoned / counted,
            occupancy=self.busy / window,
        )


def _line(config: SimulationConfig) -> LineConfig:
    members = tuple(Member(f"op{i}") for i in range(config.operators))
    base = config.line or LineConfig(LINE_ID, forwarding_timeout_s=MAX_FORWARDING_S)
    return replace(base, line_id=LINE_ID, mode=config.mode, members=members, calendar=None)


def _operators(config: SimulationConfig) -> list[OperatorProfile]:
    capacity = Capacity(per_media={Media.VOICE: 1}, total=1)
    return [OperatorProfile(f"op{i}", capacity) for i in range(config.operators)]


def simulate(config: SimulationConfig) -> SimulationResult:
    """Run the line for `horizon_s` (statistics after `warmup_s`) and measure it."""
    problems = config.problems()
    if problems:
        raise ValueError("; ".join(f"{f}: {m}" for f, m in problems))
    return _Run(config).run()
