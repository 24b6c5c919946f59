"""What the web layer needs of the wired service, as a protocol: web never imports the wiring."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from switchboard.application.context import Services
from switchboard.application.ports.bus import Bus, Envelope
from switchboard.application.ports.storage import OutboxStore
from switchboard.application.voice import CallControl
from switchboard.config import Settings


class Pingable(Protocol):
    async def ping(self) -> bool: ...
    def on_events(self, callback: Callable[[list[Envelope]], None]) -> None: ...
    def off_events(self, callback: Callable[[list[Envelope]], None]) -> None: ...


class Runtime(Protocol):
    settings: Settings
    services: Services
    database: Pingable
    bus: Bus
    outbox: OutboxStore

    @property
    def call_control(self) -> CallControl: ...

    async def queue_position(self, conversation_id: int) -> tuple[int, float | None] | None: ...
    async def start(self, *, migrate: bool = False) -> None: ...
    async def stop(self, *, drain_seconds: float = 10.0) -> int: ...
