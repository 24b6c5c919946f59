"""Test harness: the engine plus what the application would remember from its decisions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from switchboard.domain.routing import EngineSettings, RoutingEngine
from switchboard.domain.routing.config import LineConfig
from switchboard.domain.routing.decisions import (
    Assign,
    AutoPause,
    CancelTimer,
    CloseConversation,
    Decision,
    MoveToLine,
    Offer,
    Refuse,
    RequestCallback,
    ScheduleTimer,
    SetOperatorStatus,
    WithdrawOffers,
)
from switchboard.domain.routing.events import (
    ConversationClosed,
    ConversationQueued,
    Event,
    OfferAccepted,
    OperatorLoggedIn,
    OperatorLoggedOut,
    OperatorStatusChanged,
    TimerFired,
)
from switchboard.domain.routing.model import OperatorProfile

MONDAY_10_UTC = datetime(2024, 3, 4, 10, 0, tzinfo=UTC).timestamp()


@dataclass
class Floor:
    """Feeds events at a test clock and tracks offers, assignments, timers and statuses."""

    engine: RoutingEngine
    now: float = MONDAY_10_UTC
    timers: dict[str, float] = field(default_factory=dict)
    offers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    assigned: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    log: list[Decision] = field(default_factory=list)

    @classmethod
    def of(
        cls,
        *lines: LineConfig,
        operators: tuple[OperatorProfile, ...] = (),
        settings: EngineSettings | None = None,
    ) -> Floor:
        return cls(RoutingEngine(list(lines), operators, settings))

    def send(self, event: Event) -> list[Decision]:
        decisions = self.engine.handle(event)
        self.log.extend(decisions)
        if isinstance(event, OperatorStatusChanged | OperatorLoggedIn):
            self.statuses[event.operator_id] = event.status
        if isinstance(event, OperatorLoggedOut):
            self.statuses[event.operator_id] = "logged_out"
        if isinstance(event, ConversationClosed):
            self.gone.add(event.conversation_id)
            self.assigned.pop(event.conversation_id, None)
        for decision in decisions:
            self.apply(decision)
        return decisions

    def apply(self, d: Decision) -> None:
        if isinstance(d, Offer):
            self.offers[d.conversation_id] |= set(d.operator_ids)
        elif isinstance(d, WithdrawOffers):
            self.offers[d.conversation_id] -= set(d.operator_ids)
        elif isinstance(d, Assign):
            self.offers[d.conversation_id].discard(d.operator_id)
            self.assigned[d.conversation_id] = d.operator_id
        elif isinstance(d, ScheduleTimer):
            self.timers[d.key] = d.at
        elif isinstance(d, CancelTimer):
            self.timers.pop(d.key, None)
        elif isinstance(d, SetOperatorStatus):
            self.statuses[d.operator_id] = d.status
        elif isinstance(d, AutoPause):
            self.statuses[d.operator_id] = "break"
        elif isinstance(d, Refuse | RequestCallback | CloseConversation):
            self.gone.add(d.conversation_id)
            self.assigned.pop(d.conversation_id, None)
        elif isinstance(d, MoveToLine) and d.to_line_id not in self.engine.lines:
            self.gone.add(d.conversation_id)

    # ---- given / when helpers ------------------------------------------------------

    def after(self, seconds: float) -> Floor:
        self.now += seconds
        return self

    def login(self, *operator_ids: str, status: str = "available") -> None:
        for operator_id in operator_ids:
            self.send(OperatorLoggedIn(self.now, operator_id, status=status))

    def queue(
        self, conversation_id: str, line_id: str = "sales", media: str = "chat", **facts: object
    ) -> list[Decision]:
        return self.send(ConversationQueued(self.now, conversation_id, line_id, media, **facts))  # type: ignore[arg-type]

    def accept(self, conversation_id: str, operator_id: str) -> list[Decision]:
        return self.send(OfferAccepted(self.now, conversation_id, operator_id))

    def close(self, conversation_id: str) -> list[Decision]:
        return self.send(ConversationClosed(self.now, conversation_id))

    def fire(self, key: str) -> list[Decision]:
        """Advance the clock to the timer and fire it."""
        self.now = max(self.now, self.timers.pop(key))
        return self.send(TimerFired(self.now, key))

    def status(self, operator_id: str, status: str, reason: str = "") -> list[Decision]:
        return self.send(OperatorStatusChanged(self.now, operator_id, status, reason))

    def offered_to(self, decisions: list[Decision]) -> list[tuple[str, tuple[str, ...]]]:
        return [(d.conversation_id, d.operator_ids) for d in decisions if isinstance(d, Offer)]

    def offer_timer(self, conversation_id: str) -> str:
        keys = [k for k in self.timers if k.startswith(f"offer:{conversation_id}:")]
        assert len(keys) == 1, keys
        return keys[0]
