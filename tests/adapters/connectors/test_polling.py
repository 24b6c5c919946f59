"""The polling worker against local Yandex Messenger and SMS.ru servers, on both databases.

Polls are driven by a hand-moved monotonic clock (``poll_due``), so intervals and backoff are exact;
one test lets the worker run on its own and stops it, one checks that a single process leads.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from switchboard.adapters.storage import tables as t
from switchboard.adapters.storage.leader import POLLING_LOCK, LeaderLock
from switchboard.application.access import Principal
from switchboard.application.catalog import create_line
from switchboard.application.channels import create_channel
from switchboard.application.intake import InboundMessage, Sender, receive_message
from switchboard.application.ports.storage import NewMessage
from switchboard.bootstrap import Container
from switchboard.domain.channels import Channel, ChannelKind
from switchboard.domain.conversation import AuthorKind, DeliveryStatus, Direction
from switchboard.domain.identity import Identity, IdentityKind
from switchboard.domain.lines import Line
from switchboard.domain.operators import Role
from switchboard.workers.polling import PollingWorker
from tests.support.clock import ManualClock
from tests.support.providers import fixture
from tests.support.providers.smsru import API_ID, SmsRuLike
from tests.support.providers.yandex import FakeYandex
from tests.support.server import serving

ADMIN = Principal(Role.ADMIN)


@pytest.fixture
def extra_settings() -> dict[str, object]:
    """The container's own poller stays off: each test drives its worker."""
    return {"delivery": False}


class Ticks:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def yandex() -> AsyncIterator[FakeYandex]:
    async with FakeYandex().running() as server:
        yield server


@pytest.fixture
async def smsru() -> AsyncIterator[tuple[SmsRuLike, str]]:
    peer = SmsRuLike()
    async with serving(peer.app) as host:
        yield peer, f"http://{host}"


async def a_channel(
    container: Container, kind: ChannelKind, settings: dict[str, Any], secrets: dict[str, str]
) -> Channel:
    line = await create_line(container.services, ADMIN, Line(0, f"{kind.value} line"))
    return await create_channel(container.services, ADMIN, kind, f"{kind.value} channel", line.id, settings, secrets)


async def polled_yandex(container: Container, yandex: FakeYandex, **settings: Any) -> Channel:
    return await a_channel(
        container,
        ChannelKind.YANDEX,
        {"api_base": yandex.base_url, "mode": "polling", **settings},
        {"oauth_token": yandex.token},
    )


def worker_for(container: Container, ticks: Ticks, **options: Any) -> PollingWorker:
    return PollingWorker(container.services, LeaderLock(container.database, POLLING_LOCK), monotonic=ticks, **options)


async def health(container: Container, channel_id: int) -> tuple[bool, str | None]:
    """(has succeeded since its last error, the last error)."""
    c = t.channels.c
    async with container.database.engine.connect() as connection:
        row = (
            await connection.execute(select(c.last_success_at, c.last_error_at, c.last_error).where(c.id == channel_id))
        ).one()
    ok = row.last_success_at is not None and (row.last_error_at is None or row.last_success_at > row.last_error_at)
    return ok, row.last_error


async def stored_messages(container: Container) -> int:
    async with container.database.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(t.messages))).scalar_one())


def offsets_asked(yandex: FakeYandex) -> list[str]:
    return [r.query.get("offset", "") for r in yandex.calls("messages/getUpdates")]


async def test_a_polled_yandex_channel_takes_each_update_once_on_its_interval(
    container: Container, yandex: FakeYandex
) -> None:
    # given a Yandex bot set to polling every 5 s, with one update waiting
    channel = await polled_yandex(container, yandex, poll_interval_seconds=5)
    yandex.queue(fixture("yandex", "private_text"))
    ticks = Ticks()
    worker = worker_for(container, ticks)
    # when the worker polls
    assert await worker.poll_due() == 1
    # then the message is stored for Ivan and the channel is healthy
    async with container.services.uow(read_only=True) as uow:
        assert await uow.contacts.find_by_identity(Identity(IdentityKind.YANDEX, "ivan_ivanov")) is not None
    assert await stored_messages(container) == 1
    assert await health(container, channel.id) == (True, None)
    # when less than the interval passed, nothing is asked; after it, the next call confirms the update
    ticks.now += 4
    assert await worker.poll_due() == 0
    ticks.now += 1
    assert await worker.poll_due() == 1
    first_id = fixture("yandex", "private_text")["updates"][0]["update_id"]
    assert offsets_asked(yandex) == ["0", str(first_id + 1)]
    assert await stored_messages(container) == 1


async def test_a_failing_poll_backs_off_and_shows_on_the_channels_health(
    container: Container, yandex: FakeYandex, clock: ManualClock
) -> None:
    # given a polled Yandex channel whose API answers 500 twice
    channel = await polled_yandex(container, yandex, poll_interval_seconds=5)
    yandex.queue(fixture("yandex", "private_text"))
    yandex.fail_next(500, {"description": "internal"}, path="messages/getUpdates", times=2)
    ticks = Ticks()
    worker = worker_for(container, ticks)
    # when it polls and fails
    assert await worker.poll_due() == 1
    ok, error = await health(container, channel.id)
    assert not ok and error is not None and error.startswith("polling: ")
    # then it waits twice the interval, then four times
    ticks.now += 9
    assert await worker.poll_due() == 0
    ticks.now += 1
    assert await worker.poll_due() == 1
    ticks.now += 19
    assert await worker.poll_due() == 0
    clock.advance(seconds=30)
    ticks.now += 1
    assert await worker.poll_due() == 1
    # and the success clears the health and stores the message
    assert (await health(container, channel.id))[0] is True
    assert await stored_messages(container) == 1
    assert len(yandex.calls("messages/getUpdates")) == 3


async def test_a_channel_switched_to_webhook_or_deactivated_is_no_longer_polled(
    container: Container, yandex: FakeYandex
) -> None:
    channel = await polled_yandex(container, yandex)
    ticks = Ticks()
    worker = worker_for(container, ticks, refresh_seconds=30)
    assert await worker.poll_due() == 1
    # when an admin switches it to webhook and the worker re-reads the channels
    async with container.services.uow() as uow:
        await uow.channels.update(channel.id, {"settings": {"api_base": yandex.base_url, "mode": "webhook"}})
        await uow.commit()
    ticks.now += 30
    # then it is not polled any more
    assert await worker.poll_due() == 0
    assert worker.polled == {}


async def test_sms_ru_statuses_are_polled_for_replies_still_without_a_receipt(
    container: Container, smsru: tuple[SmsRuLike, str], clock: ManualClock
) -> None:
    peer, base = smsru
    # given an SMS.ru channel that polls statuses, and two replies sent: one today, one four days ago
    channel = await a_channel(
        container,
        ChannelKind.SMS,
        {"provider": "smsru", "base_url": base, "poll_statuses": True, "poll_interval_seconds": 60},
        {"api_id": API_ID},
    )
    taken = await receive_message(
        container.services,
        Principal(Role.INTEGRATION),
        InboundMessage(channel.id, Sender("Anna", phone="+79161234567"), "Когда доставка?", "in-1"),
    )
    now = container.services.clock.now()
    async with container.services.uow() as uow:
        for external_id, at in (("000000-10000001", now), ("000000-10000002", now - timedelta(days=4))):
            reply = NewMessage(
                taken.conversation_id, channel.id, Direction.OUT, AuthorKind.OPERATOR, "Завтра", DeliveryStatus.SENT, at
            )
            added = await uow.messages.add(reply)
            await uow.messages.set_external_id(added.id, external_id)
        await uow.commit()
    peer.statuses["000000-10000001"] = 103  # delivered
    worker = worker_for(container, Ticks())
    # when the worker polls
    assert await worker.poll_due() == 1
    # then only the recent reply was asked about, and it is delivered
    async with container.services.uow(read_only=True) as uow:
        recent = await uow.messages.find_by_external_id(channel.id, "000000-10000001")
        old = await uow.messages.find_by_external_id(channel.id, "000000-10000002")
    assert recent is not None and old is not None
    assert (recent.delivery_status, old.delivery_status) == (DeliveryStatus.DELIVERED, DeliveryStatus.SENT)
    assert await health(container, channel.id) == (True, None)


async def test_invalid_poll_settings_are_refused_naming_the_field(container: Container, yandex: FakeYandex) -> None:
    from switchboard.application.errors import InvalidInput

    with pytest.raises(InvalidInput) as error:
        await polled_yandex(container, yandex, poll_interval_seconds=0)
    assert error.value.field == "settings.poll_interval_seconds"


async def test_the_worker_polls_on_its_own_and_stops_cleanly(container: Container, yandex: FakeYandex) -> None:
    # given a polled channel with an update waiting, and the worker started with real time
    await polled_yandex(container, yandex, poll_interval_seconds=1)
    yandex.queue(fixture("yandex", "private_text"))
    worker = PollingWorker(container.services, LeaderLock(container.database, POLLING_LOCK), tick_seconds=0.05)
    await worker.start()
    try:
        # then the message arrives without anyone asking
        for _ in range(200):
            if await stored_messages(container) == 1:
                break
            await asyncio.sleep(0.05)
        assert await stored_messages(container) == 1
        assert worker.leading
    finally:
        await worker.stop()
    # and once stopped it neither runs nor holds the lead: another process can take it
    assert not worker.leading
    other = LeaderLock(container.database, POLLING_LOCK)
    assert await other.try_acquire()
    await other.release()


# PostgreSQL only: sQLite has one process: it always leads
@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
async def test_only_one_process_polls(container: Container, yandex: FakeYandex) -> None:
    await polled_yandex(container, yandex)
    first, second = (
        PollingWorker(container.services, LeaderLock(container.database, POLLING_LOCK), retry_seconds=0.05)
        for _ in range(2)
    )
    await first.start()
    try:
        for _ in range(100):
            if first.leading:
                break
            await asyncio.sleep(0.02)
        await second.start()
        await asyncio.sleep(0.2)
        # then the second stands by
        assert (first.leading, second.leading) == (True, False)
        # when the first stops, the second takes over
        await first.stop()
        for _ in range(100):
            if second.leading:
                break
            await asyncio.sleep(0.02)
        assert second.leading
    finally:
        await first.stop()
        await second.stop()
