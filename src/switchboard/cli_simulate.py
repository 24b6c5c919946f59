"""`switchboard simulate`: what-if staffing for a line, by simulation and by Erlang C."""

from __future__ import annotations

import math

import typer

from switchboard.domain.routing.erlang import erlang_figures
from switchboard.domain.routing.model import Mode
from switchboard.domain.routing.simulation import SimulationConfig, SimulationResult, simulate

AUTOMATIC_MODES: list[Mode] = [m for m in Mode if m is not Mode.MANUAL]


def simulate_command(
    arrivals: float = typer.Option(100.0, help="Conversations arriving per interval."),
    interval: float = typer.Option(1800.0, help="Interval length in seconds."),
    aht: float = typer.Option(180.0, help="Average handle time in seconds."),
    operators: int = typer.Option(14, help="Operators logged in."),
    patience: float | None = typer.Option(None, help="Average patience in seconds (abandonment); off by default."),
    strategy: str = typer.Option("longest_idle", help="Distribution mode, or 'all'."),
    threshold: float = typer.Option(20.0, help="Service level threshold in seconds."),
    horizon: float = typer.Option(8 * 3600.0, help="Simulated seconds."),
    seed: int = typer.Option(1, help="Random seed (same seed, same result)."),
) -> None:
    """Simulate a line with the real routing engine and compare with Erlang C."""
    modes = _modes(strategy)
    results = []
    for mode in modes:
        config = SimulationConfig(
            arrivals,
            interval,
            aht,
            operators,
            threshold_s=threshold,
            horizon_s=horizon,
            warmup_s=min(1800.0, horizon / 10),
            patience_s=patience,
            mode=mode,
            seed=seed,
        )
        problems = config.problems()
        if problems:
            field, message = problems[0]
            raise typer.BadParameter(f"{field} {message}", param_hint=f"--{_option(field)}")
        results.append(simulate(config))
    typer.echo(_table(results, threshold))
    typer.echo(_erlang(arrivals, interval, aht, operators, threshold))


def _modes(strategy: str) -> list[Mode]:
    if strategy == "all":
        return AUTOMATIC_MODES
    try:
        mode = Mode(strategy)
    except ValueError:
        mode = Mode.MANUAL
    if mode is Mode.MANUAL:
        names = ", ".join(m.value for m in AUTOMATIC_MODES)
        raise typer.BadParameter(f"{strategy!r} is not one of: {names}, all", param_hint="--strategy")
    return [mode]


def _option(field: str) -> str:
    names = {
        "arrivals_per_interval": "arrivals",
        "interval_s": "interval",
        "handle_s": "aht",
        "horizon_s": "horizon",
        "patience_s": "patience",
        "warmup_s": "horizon",
    }
    return names.get(field, field.removesuffix("_s").replace("_", "-"))


def _table(results: list[SimulationResult], threshold: float) -> str:
    header = f"{'mode':<22}{'arrivals':>9}{'SL ≤' + format(threshold, 'g') + 's':>10}{'ASA s':>9}"
    header += f"{'abandoned':>11}{'occupancy':>11}"
    rows = [header, "-" * len(header)]
    for r in results:
        rows.append(
            f"{r.mode:<22}{r.arrivals:>9}{r.service_level:>10.1%}{r.average_speed_of_answer_s:>9.1f}"
            f"{r.abandonment_rate:>11.1%}{r.occupancy:>11.1%}"
        )
    return "\n".join(rows)


def _erlang(arrivals: float, interval: float, aht: float, operators: int, threshold: float) -> str:
    figures = erlang_figures(arrivals, interval, aht, operators, threshold)
    asa = "∞" if math.isinf(figures.average_speed_of_answer_s) else f"{figures.average_speed_of_answer_s:.1f}"
    return (
        f"\nErlang C (no abandonment): traffic {figures.traffic:.2f} Erl, "
        f"P(wait) {figures.probability_of_wait:.1%}, SL {figures.service_level:.1%}, "
        f"ASA {asa} s, occupancy {figures.occupancy:.1%}"
    )


if __name__ == "__main__":
    typer.run(simulate_command)
