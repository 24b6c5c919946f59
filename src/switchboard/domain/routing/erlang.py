"""Erlang C for an M/M/N queue, computed without factorials.

Erlang B by its recurrence B(0)=1, B(k)=A·B(k-1)/(k+A·B(k-1)) stays within [0, 1] at every
step, so it works for thousands of servers; Erlang C follows as N·B/(N − A·(1 − B)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_b(servers: int, traffic: float) -> float:
    """Blocking probability with `servers` and `traffic` Erlangs."""
    if servers < 0 or traffic < 0:
        raise ValueError("servers and traffic must be >= 0")
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = traffic * blocking / (k + traffic * blocking)
    return blocking


def erlang_c(servers: int, traffic: float) -> float:
    """Probability that an arrival waits (1.0 when the queue is unstable)."""
    if servers <= traffic:
        return 1.0
    blocking = erlang_b(servers, traffic)
    return servers * blocking / (servers - traffic * (1 - blocking))


def service_level(servers: int, traffic: float, handle_s: float, threshold_s: float) -> float:
    """Share answered within `threshold_s`."""
    if servers <= traffic:
        return 0.0
    waiting = erlang_c(servers, traffic)
    return 1.0 - waiting * math.exp(-(servers - traffic) * threshold_s / handle_s)


def average_speed_of_answer(servers: int, traffic: float, handle_s: float) -> float:
    if servers <= traffic:
        return math.inf
    return erlang_c(servers, traffic) * handle_s / (servers - traffic)


@dataclass(frozen=True, slots=True)
class ErlangFigures:
    traffic: float
    probability_of_wait: float
    service_level: float
    average_speed_of_answer_s: float
    occupancy: float


def erlang_figures(
    arrivals_per_interval: float, interval_s: float, handle_s: float, servers: int, threshold_s: float
) -> ErlangFigures:
    """The staffing figures for one interval: 100 calls / 1800 s, AHT 180 s, 14 operators …"""
    traffic = arrivals_per_interval / interval_s * handle_s
    return ErlangFigures(
        traffic=traffic,
        probability_of_wait=erlang_c(servers, traffic),
        service_level=service_level(servers, traffic, handle_s, threshold_s),
        average_speed_of_answer_s=average_speed_of_answer(servers, traffic, handle_s),
        occupancy=min(1.0, traffic / servers) if servers else 1.0,
    )
