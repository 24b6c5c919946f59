"""Erlang C figures and the simulator driving the real engine."""

from __future__ import annotations

import math

import pytest

from switchboard.domain.routing.erlang import erlang_b, erlang_c, erlang_figures
from switchboard.domain.routing.model import Mode
from switchboard.domain.routing.simulation import SimulationConfig, simulate


def test_erlang_c_reference_case() -> None:
    """100 calls per 30 minutes, AHT 180 s, 14 operators: 88.8 % answered within 20 s."""
    figures = erlang_figures(100, 1800, 180, 14, 20)

    assert figures.traffic == pytest.approx(10.0)
    assert figures.probability_of_wait == pytest.approx(0.1741, abs=1e-4)
    assert figures.service_level == pytest.approx(0.888, abs=5e-4)
    assert figures.average_speed_of_answer_s == pytest.approx(7.84, abs=0.01)


def test_erlang_is_stable_for_large_centres() -> None:
    assert 0.0 < erlang_c(2000, 1950.0) < 1.0
    assert 0.0 < erlang_b(5000, 4990.0) < 0.05
    assert math.isfinite(erlang_c(5000, 4900.0))
    assert erlang_c(5000, 4900.0) < 1.0
    assert erlang_c(10, 10.0) == 1.0


def test_erlang_b_small_case_by_hand() -> None:
    """B(2, 1) = (1/2) / (1 + 1 + 1/2) = 0.2."""
    assert erlang_b(2, 1.0) == pytest.approx(0.2)


def test_simulator_agrees_with_erlang_c_under_longest_idle() -> None:
    config = SimulationConfig(100, 1800, 180, 14, threshold_s=20, horizon_s=1_500_000, seed=1)

    result = simulate(config)

    expected = erlang_figures(100, 1800, 180, 14, 20)
    assert result.arrivals > 80_000
    assert abs(result.service_level - expected.service_level) < 0.015
    assert result.occupancy == pytest.approx(expected.occupancy, abs=0.01)
    assert result.abandoned == 0


def test_patience_causes_abandonment_and_is_reproducible() -> None:
    config = SimulationConfig(120, 1800, 180, 12, horizon_s=60_000, patience_s=60, seed=3, mode=Mode.EVENLY)

    first, second = simulate(config), simulate(config)

    assert first == second
    assert 0.0 < first.abandonment_rate < 0.5
    assert first.answered + first.abandoned == first.arrivals


def test_bad_simulation_input_is_rejected_with_the_field() -> None:
    with pytest.raises(ValueError, match="operators: must be >= 1"):
        simulate(SimulationConfig(100, 1800, 180, 0))
