"""Waiting with a limit and stopping a task keep every cancel (application/tasks.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

import pytest

from switchboard.application.tasks import Loop, stop_task, wait_event, within


async def cancelled_as_the_event_is_set(wait: object) -> str:
    """Run a waiter, then set its event and cancel it in the same tick; what became of the waiter."""
    event = asyncio.Event()

    async def waiter() -> str:
        await wait(10.0, event.wait())  # type: ignore[operator]
        return "went on"

    task = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    event.set()
    task.cancel()
    try:
        return await task
    except asyncio.CancelledError:
        return "cancelled"


async def test_within_keeps_a_cancel_that_lands_as_the_wait_completes() -> None:
    # given a waiter whose event is set in the tick it is cancelled
    # when it waits through within
    outcome = await cancelled_as_the_event_is_set(within)
    # then the cancel is not lost
    assert outcome == "cancelled"


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="fixed in 3.12: wait_for is asyncio.timeout there")
async def test_wait_for_loses_that_cancel_on_this_python() -> None:
    # given the same race, when the waiter uses asyncio.wait_for
    outcome = await cancelled_as_the_event_is_set(lambda seconds, aw: asyncio.wait_for(aw, seconds))
    # then the cancel is swallowed: why within exists
    assert outcome == "went on"


async def test_within_raises_timeout_and_wait_event_says_whether_it_was_set() -> None:
    event = asyncio.Event()
    with pytest.raises(TimeoutError):
        await within(0.01, event.wait())
    assert await wait_event(event, 0.01) is False
    event.set()
    assert await wait_event(event, 0.01) is True


async def test_stop_task_cancels_again_when_the_first_cancel_is_lost() -> None:
    # given a task that swallows one cancel and waits again
    async def swallows_once() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(100)
        await asyncio.sleep(100)

    task = asyncio.create_task(swallows_once())
    await asyncio.sleep(0)
    # when it is stopped
    await stop_task(task, every=0.01)
    # then it ended cancelled
    assert task.cancelled()


async def test_stop_task_gives_up_after_its_patience_rather_than_hang(caplog: pytest.LogCaptureFixture) -> None:
    # given a task that ignores every cancel until told to end
    ending = asyncio.Event()

    async def deaf() -> None:
        while not ending.is_set():
            try:
                await asyncio.sleep(100)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(deaf(), name="deaf")
    await asyncio.sleep(0)
    # when it is stopped with a short patience
    with caplog.at_level(logging.ERROR, logger="switchboard.application.tasks"):
        await stop_task(task, patience=0.05, every=0.01)
    # then stop returned with the task still running, and said so
    assert not task.done()
    assert [(r.getMessage(), r.__dict__["task"]) for r in caplog.records] == [("task did not stop", "deaf")]
    ending.set()
    task.cancel()
    await asyncio.wait({task})


async def test_stop_task_reports_a_task_that_had_failed(caplog: pytest.LogCaptureFixture) -> None:
    async def fails() -> None:
        raise ValueError("broken")

    task = asyncio.create_task(fails(), name="fails")
    await asyncio.wait({task})
    with caplog.at_level(logging.ERROR, logger="switchboard.application.tasks"):
        await stop_task(task)
        await stop_task(None)
    assert [r.getMessage() for r in caplog.records] == ["task ended with an error"]


async def test_a_loop_stops_between_rounds_not_in_the_middle_of_one() -> None:
    # given a loop whose round is under way (a database statement, say)
    loop = Loop("test-loop")
    gate, rounds, finished = asyncio.Event(), [], []

    async def body() -> None:
        while loop.running:
            rounds.append(1)
            await gate.wait()
            finished.append(1)
            await loop.pause(100)

    loop.start(body)
    await asyncio.sleep(0)
    # when it is told to stop during the round, and the round then completes
    stopping = asyncio.create_task(loop.stop(grace=5))
    await asyncio.sleep(0.05)
    assert not stopping.done()
    gate.set()
    await within(1, stopping)
    # then the round ran to its end, the long pause ended at once, and no other round began
    assert (rounds, finished) == ([1], [1])


async def test_a_loop_stuck_past_its_grace_is_cancelled() -> None:
    loop = Loop("stuck")
    cancelled = asyncio.Event()

    async def body() -> None:
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    loop.start(body)
    await asyncio.sleep(0)
    await within(2, loop.stop(grace=0.05))
    assert cancelled.is_set()
