"""A shutdown always ends: a stuck step is logged and left behind, and the steps after it still run."""

from __future__ import annotations

import asyncio
import logging

import pytest

from switchboard.bootstrap import Container


async def test_a_stuck_step_is_logged_and_the_rest_of_the_shutdown_still_runs(
    container: Container, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given a voice worker whose stop never returns
    stuck = asyncio.get_running_loop().create_future()

    async def never_stops() -> None:
        await stuck

    monkeypatch.setattr(container.voice, "stop", never_stops)
    # when the container stops with a short bound (long enough for the healthy steps on a busy machine)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with caplog.at_level(logging.ERROR, logger="switchboard.shutdown"):
        left = await container.stop(drain_seconds=1, step_seconds=2)
    # then it ended soon after the bound, said which step was stuck, and still drained and closed the rest
    assert loop.time() - started < 6
    assert [(r.getMessage(), r.__dict__["step"]) for r in caplog.records] == [("shutdown.step_stuck", "voice")]
    assert stuck.cancelled()
    assert left == 0
    assert await container.bus.ping() is False
