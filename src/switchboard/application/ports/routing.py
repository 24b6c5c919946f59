"""The routing repository: what applying the engine's decisions, and rebuilding it, needs of storage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from switchboard.domain.conversation import ConversationStatus


@dataclass(frozen=True, slots=True)
class RoutableOperator:
    id: int
    capacity: dict[str, int]
    max_total: int
    status: str
    reason: str
    since: datetime | None
    logged_in: bool
    missed: int


@dataclass(frozen=True, slots=True)
class ActiveConversation:
    id: int
    line_id: int
    channel_id: int
    channel_kind: str
    contact_id: int
    contact_name: str
    vip: bool
    responsible_operator_id: int | None
    status: ConversationStatus
    opened_at: datetime
    queued_at: datetime | None
    assigned_at: datetime | None
    assignee_id: int | None
    dialled_number: str | None


@dataclass(frozen=True, slots=True)
class OpenOffer:
    conversation_id: int
    operator_id: int
    line_id: int
    deadline: datetime


class RoutingRepository(Protocol):
    async def operators(self) -> list[RoutableOperator]: ...
    async def operator(self, operator_id: int) -> RoutableOperator | None: ...
    async def active_conversations(self) -> list[ActiveConversation]: ...
    async def conversation(self, conversation_id: int) -> ActiveConversation | None: ...
    async def open_offers(
        self, *, conversation_id: int | None = None, operator_id: int | None = None
    ) -> list[OpenOffer]: ...
    async def add_offers(
        self, conversation_id: int, line_id: int, operator_ids: Sequence[int], at: datetime, deadline: datetime
    ) -> None: ...
    async def settle_offers(
        self, conversation_id: int, operator_ids: Sequence[int] | None, state: str, at: datetime
    ) -> list[int]:
        """Close open offers (all of the conversation's when ``operator_ids`` is None); returns whose closed."""

    async def take_offer(self, conversation_id: int, operator_id: int, at: datetime) -> bool:
        """Accept atomically: only an open, unexpired offer of an offered conversation; the first wins."""

    async def move(
        self,
        conversation_id: int,
        from_statuses: Sequence[ConversationStatus],
        to: ConversationStatus,
        at: datetime,
        *,
        assignee_id: int | None = None,
        line_id: int | None = None,
        fresh_queue: bool = False,
    ) -> bool:
        """Conditional status change; False when the conversation was no longer in ``from_statuses``.

        Moving to queued keeps the time it first queued (its age counts for priority) unless ``fresh_queue``.
        """

    async def handled_since(self, since: datetime) -> dict[int, int]: ...
    async def history(self, contact_id: int, line_id: int, conversation_id: int) -> tuple[bool, int | None]:
        """In one read: whether the contact has any conversation besides this one, and the operator who
        last took one of theirs on this line before it (sticky routing)."""
        ...

    async def set_presence(self, user_id: int, status: str, reason: str, since: datetime, logged_in: bool) -> None: ...
    async def set_missed_offers(self, user_id: int, missed: int) -> None:
        """The operator's offers missed in a row, as the engine counts them (``users.missed_offers``)."""

    async def release_operator(self, operator_id: int, at: datetime) -> list[int]:
        """Hand back what an operator leaving routing holds: conversations requeued, ringing offers withdrawn."""

    async def schedule_timer(self, key: str, due_at: datetime, at: datetime) -> None: ...
    async def cancel_timer(self, key: str) -> None: ...
    async def due_timers(self, now: datetime, limit: int) -> list[tuple[str, datetime]]: ...
    async def timers(self) -> list[tuple[str, datetime]]: ...
    async def claim_timer(self, key: str) -> bool:
        """Delete a due timer; True for the one caller that removed it (a timer fires once)."""
