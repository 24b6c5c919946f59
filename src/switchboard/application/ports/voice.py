"""Voice ports: call records and callbacks in storage, placing calls through the PBX, queue positions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from switchboard.domain.voice.call import Call
from switchboard.domain.voice.callbacks import Callback, CallbackStatus


class CallRepository(Protocol):
    async def add(self, call: Call) -> Call:
        """Store a new call (its ``id`` is ignored); returns it with the id given."""

    async def get(self, call_id: int, *, for_update: bool = False) -> Call | None: ...
    async def find(self, channel_id: int | None, pbx_call_id: str, *, for_update: bool = False) -> Call | None:
        """The call the PBX knows by ``pbx_call_id`` on the channel (None: on any channel, the newest)."""

    async def by_conversation(self, conversation_id: int) -> Call | None: ...
    async def save(self, call: Call) -> None: ...
    async def expired(self, now: datetime, limit: int) -> list[int]:
        """Live calls whose ``expires_at`` passed: the PBX never told us how they ended."""

    async def event_seen(self, channel_id: int, event_id: str) -> bool: ...
    async def add_event(
        self,
        channel_id: int,
        event_id: str,
        call_id: int,
        kind: str,
        occurred_at: datetime,
        received_at: datetime,
        applied: bool,
        payload: Mapping[str, Any],
    ) -> None: ...


class CallbackRepository(Protocol):
    async def add(self, callback: Callback) -> Callback: ...
    async def get(self, callback_id: int, *, for_update: bool = False) -> Callback | None: ...
    async def save(self, callback: Callback) -> None: ...
    async def pending_for(self, line_id: int, number: str) -> Callback | None:
        """The open (or being dialled) callback of this number on this line, if any."""

    async def for_call(self, call_id: int) -> list[Callback]: ...
    async def list(
        self, line_ids: Sequence[int] | None, statuses: Sequence[CallbackStatus], limit: int
    ) -> list[Callback]:
        """Soonest due first; ``line_ids`` None means every line."""


@dataclass(frozen=True, slots=True)
class OriginateRequest:
    """Ask the PBX to ring the operator's phone, then dial the customer with the channel's number shown."""

    url: str | None  # the channel's originate_url (None: the originator needs none, e.g. AMI)
    secret: str | None = field(repr=False)
    call_id: str  # the id the PBX must report this call's events with
    channel_id: int
    operator_id: int
    operator_target: str  # the operator's extension or SIP URI
    number: str  # the customer's number
    caller_id: str  # the channel's number the customer sees


class OriginateFailed(Exception):
    """The PBX did not take the request (refused, unreachable, timed out)."""


class Originator(Protocol):
    """Places outbound calls through the PBX integration: a signed HTTP request, or Asterisk's AMI."""

    @property
    def needs_url(self) -> bool:
        """Whether a channel must have an ``originate_url`` (and a secret) to place calls through this one."""

    async def originate(self, request: OriginateRequest) -> str | None:
        """Place the call; returns the PBX's own id for it when it has one. Raises OriginateFailed."""


class QueuePositions(Protocol):
    async def position(self, conversation_id: int) -> tuple[int, float | None] | None:
        """Place in the queue (1 = next) and estimated wait; None when not waiting or not known here."""
