"""Channels that are polled instead of pushed: Yandex Messenger updates, SMS.ru delivery statuses.

Some providers cannot reach the desk (no public URL) or are set to be asked instead
(``mode: "polling"`` on a Yandex Messenger channel, ``poll_statuses: true`` on an SMS.ru one). This
worker asks each such channel on its own interval, in one process only (a PostgreSQL advisory lock
on its own key, as routing has; SQLite has one process). A failed poll backs off (the interval
doubled per failure, up to ``max_backoff``, or longer when the provider says so) and is written to
the channel's health; the first success after failures clears it. Channels are re-read every
``refresh_seconds``: one switched to polling, changed or deactivated is followed then.

Yandex's offset is kept in memory: after a restart the first call asks from 0, Yandex hands out
what was never confirmed again, and the intake stores each update once (by its external id).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from switchboard.adapters.connectors.sms.connector import SmsConnector
from switchboard.adapters.connectors.sms.smsru import SmsRuProvider
from switchboard.adapters.connectors.yandex import YandexConnector
from switchboard.application.access import Principal
from switchboard.application.channels import open_secrets, record_health
from switchboard.application.context import Services
from switchboard.application.delivery import awaiting_receipt, record_delivery
from switchboard.application.intake import receive_message
from switchboard.application.ports.connectors import ChannelConfig, SendFailed
from switchboard.application.tasks import Loop, within
from switchboard.domain.channels import ChannelKind
from switchboard.domain.operators import Role

log = logging.getLogger("switchboard.polling")
CONNECTOR = Principal(Role.INTEGRATION)
RECEIPT_WINDOW = timedelta(days=3)  # SMS.ru keeps a status that long; older replies are not asked about
POLL_TIMEOUT_S = 120.0


class Leadership(Protocol):
    async def try_acquire(self) -> bool: ...
    async def release(self) -> None: ...


Poll = Callable[[ChannelConfig], Awaitable[bool]]  # True: more is waiting, ask again at once


@dataclass
class Polled:
    """One polled channel: what to call, how often, and how it has been going."""

    config: ChannelConfig
    poll: Poll
    interval: float
    due: float = 0.0
    failures: int = 0
    healthy: bool | None = None  # None until the first poll: its outcome is always recorded


class PollingWorker:
    def __init__(
        self,
        services: Services,
        leadership: Leadership,
        *,
        refresh_seconds: float = 30.0,
        tick_seconds: float = 0.5,
        retry_seconds: float = 5.0,
        max_backoff: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._services = services
        self._leadership = leadership
        self._refresh_seconds = refresh_seconds
        self._tick = tick_seconds
        self._retry = retry_seconds
        self._max_backoff = max_backoff
        self._monotonic = monotonic
        self.polled: dict[int, Polled] = {}
        self.offsets: dict[int, int] = {}  # Yandex getUpdates offset per channel
        self.leading = False
        self._refreshed_at: float | None = None
        self._loop = Loop("polling")

    async def start(self) -> None:
        self._loop.start(self._run)

    async def stop(self) -> None:
        """Stops between polls; a poll still running after the grace is cancelled (nothing is half-stored:
        each message is its own transaction)."""
        await self._loop.stop()
        if self.leading:
            await self._leadership.release()
            self.leading = False

    async def _run(self) -> None:
        while self._loop.running:
            try:
                if not self.leading:
                    if not await self._leadership.try_acquire():
                        await self._loop.pause(self._retry)
                        continue
                    self.leading = True
                    log.info("polling.leading")
                await self.poll_due()
                await self._loop.pause(self._pause())
            except Exception:
                log.exception("polling.tick_failed")
                await self._loop.pause(self._retry)

    def _pause(self) -> float:
        now = self._monotonic()
        soonest = min((p.due for p in self.polled.values()), default=now + self._tick)
        return max(0.0, min(self._tick, soonest - now))

    async def refresh(self) -> None:
        """Follow the channels: start polling new ones, re-read changed ones, drop the others."""
        async with self._services.uow(read_only=True) as uow:
            configs = [
                ChannelConfig(channel, open_secrets(self._services, await uow.channels.sealed_secrets(channel.id)))
                for channel in await uow.channels.list()
                if channel.active and channel.kind in (ChannelKind.YANDEX, ChannelKind.SMS)
            ]
        wanted = {c.id: found for c in configs if (found := self._poll_for(c)) is not None}
        for channel_id in set(self.polled) - set(wanted):
            del self.polled[channel_id]
        for channel_id, (config, poll, interval) in wanted.items():
            current = self.polled.get(channel_id)
            if current is None:
                self.polled[channel_id] = Polled(config, poll, interval, due=self._monotonic())
            else:
                current.config, current.poll, current.interval = config, poll, interval
        self._refreshed_at = self._monotonic()

    def _poll_for(self, config: ChannelConfig) -> tuple[ChannelConfig, Poll, float] | None:
        connector = self._services.connectors.get(config.channel.kind)
        try:
            if isinstance(connector, YandexConnector) and (every := connector.poll_interval(config)) is not None:
                return config, self._yandex_updates, every
            if isinstance(connector, SmsConnector):
                provider = connector.provider(config.settings)
                if isinstance(provider, SmsRuProvider) and (every := provider.poll_interval(config.settings)):
                    return config, self._smsru_statuses, every
        except Exception as error:  # settings stored before their check existed: logged, the channel skipped
            log.warning("polling: channel %s is not pollable: %s", config.id, error)
        return None

    async def poll_due(self) -> int:
        """Poll every channel whose time has come (together); returns how many were polled."""
        now = self._monotonic()
        if self._refreshed_at is None or now - self._refreshed_at >= self._refresh_seconds:
            await self.refresh()
        due = [p for p in self.polled.values() if p.due <= now]
        await asyncio.gather(*(self._poll(p) for p in due))
        return len(due)

    async def _poll(self, polled: Polled) -> None:
        channel_id = polled.config.id
        try:
            more = await within(POLL_TIMEOUT_S, polled.poll(polled.config))
        except Exception as error:
            polled.failures += 1
            wait = min(polled.interval * 2**polled.failures, self._max_backoff)
            if isinstance(error, SendFailed) and error.retry_after:
                wait = max(wait, error.retry_after)
            polled.due, polled.healthy = self._monotonic() + wait, False
            reason = error.reason if isinstance(error, SendFailed) else f"{type(error).__name__}: {error}"
            log.warning("polling: channel %s failed (%s), next try in %.0f s", channel_id, reason, wait)
            await record_health(self._services, channel_id, f"polling: {reason}")
            return
        polled.failures = 0
        polled.due = self._monotonic() + (0.0 if more else polled.interval)
        if polled.healthy is not True:
            polled.healthy = True
            await record_health(self._services, channel_id, None)

    async def _yandex_updates(self, config: ChannelConfig) -> bool:
        """Store what ``getUpdates`` gave, then keep the offset: the next call confirms them to Yandex."""
        connector = self._services.connectors.get(ChannelKind.YANDEX)
        assert isinstance(connector, YandexConnector)
        result = await connector.poll(config, self.offsets.get(config.id, 0))
        for message in result.messages:
            await receive_message(self._services, CONNECTOR, message, kind=ChannelKind.YANDEX)
        self.offsets[config.id] = result.next_offset
        return result.updates >= 100

    async def _smsru_statuses(self, config: ChannelConfig) -> bool:
        """Ask ``/sms/status`` about replies still without a receipt (up to 100 at a time, newest first)."""
        pending = await awaiting_receipt(self._services, config.id, RECEIPT_WINDOW)
        if not pending:
            return False
        connector = self._services.connectors.get(ChannelKind.SMS)
        assert isinstance(connector, SmsConnector)
        provider = connector.provider(config.settings)
        assert isinstance(provider, SmsRuProvider)
        for update in await provider.statuses(config, pending):
            await record_delivery(self._services, update)
        return False
