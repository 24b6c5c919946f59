"""A short-lived, per-process memory of channels and their lines for the intake hot path.

Every inbound message needs its channel and line; reading them from the database each time
costs two round trips. Entries live ``ttl_seconds``; the admin use cases of this process forget
them at once, other processes see a change within the TTL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from switchboard.application.ports.storage import UnitOfWork
from switchboard.domain.channels import Channel
from switchboard.domain.lines import Line


@dataclass
class CatalogCache:
    ttl_seconds: float = 5.0
    _routes: dict[int, tuple[datetime, Channel, Line]] = field(default_factory=dict)

    async def route(self, uow: UnitOfWork, channel_id: int, now: datetime) -> tuple[Channel, Line | None] | None:
        """The channel and its line, from memory when fresh; None when the channel does not exist."""
        cached = self._routes.get(channel_id)
        if cached is not None and cached[0] > now:
            return cached[1], cached[2]
        channel = await uow.channels.get(channel_id)
        if channel is None:
            return None
        line = await uow.lines.get(channel.line_id)
        if line is not None:
            self._routes[channel_id] = (now + timedelta(seconds=self.ttl_seconds), channel, line)
        return channel, line

    def peek(self, channel_id: int, now: datetime) -> tuple[Channel, Line] | None:
        """The channel and its line when fresh in memory, without touching the database."""
        cached = self._routes.get(channel_id)
        return (cached[1], cached[2]) if cached is not None and cached[0] > now else None

    def forget(self) -> None:
        self._routes.clear()
