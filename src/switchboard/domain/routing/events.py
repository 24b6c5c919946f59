"""What the routing engine is told. Every event carries `at`: POSIX seconds of when it happened."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.domain.routing.config import LineConfig
from switchboard.domain.routing.model import Capacity


@dataclass(frozen=True, slots=True)
class ConversationQueued:
    """A conversation needs an operator on `line_id` (new, reopened or moved from another line)."""

    at: float
    conversation_id: str
    line_id: str
    media: str
    contact_id: str = ""
    contact_name: str = ""
    language: str = ""
    vip: bool = False
    dnis_priority: int = 0
    skills: frozenset[str] = frozenset()
    last_operator_id: str | None = None
    responsible_operator_id: str | None = None
    first_contact_ever: bool = False
    new_conversation: bool = True
    overflow_hops: int = 0


@dataclass(frozen=True, slots=True)
class OperatorLoggedIn:
    """Start of the working day (or a reconnect). `new_day` resets today's counters."""

    at: float
    operator_id: str
    capacity: Capacity | None = None
    status: str = "available"
    new_day: bool = True


@dataclass(frozen=True, slots=True)
class OperatorLoggedOut:
    """End of the working day or a lost connection: offers withdrawn, conversations requeued."""

    at: float
    operator_id: str
    requeue_active: bool = True


@dataclass(frozen=True, slots=True)
class OperatorStatusChanged:
    at: float
    operator_id: str
    status: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CapacityChanged:
    at: float
    operator_id: str
    capacity: Capacity


@dataclass(frozen=True, slots=True)
class OfferAccepted:
    at: float
    conversation_id: str
    operator_id: str


@dataclass(frozen=True, slots=True)
class OfferDeclined:
    at: float
    conversation_id: str
    operator_id: str


@dataclass(frozen=True, slots=True)
class OfferExpired:
    """The offer's deadline passed (same effect as its timer firing)."""

    at: float
    conversation_id: str


@dataclass(frozen=True, slots=True)
class ConversationPicked:
    """Manual mode: an operator takes a waiting conversation from the pool."""

    at: float
    conversation_id: str
    operator_id: str


@dataclass(frozen=True, slots=True)
class ConversationClosed:
    """Closed by anyone, or abandoned by the customer while waiting."""

    at: float
    conversation_id: str


@dataclass(frozen=True, slots=True)
class ConversationTransferred:
    """The operator hands over to another operator or line, with a note for the next one."""

    at: float
    conversation_id: str
    to_operator_id: str | None = None
    to_line_id: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class OperatorReplied:
    at: float
    conversation_id: str


@dataclass(frozen=True, slots=True)
class CustomerMessaged:
    at: float
    conversation_id: str


@dataclass(frozen=True, slots=True)
class PositionRequested:
    at: float
    conversation_id: str


@dataclass(frozen=True, slots=True)
class TimerFired:
    """A timer the engine scheduled is due; `key` is the one from ScheduleTimer."""

    at: float
    key: str


@dataclass(frozen=True, slots=True)
class LineConfigChanged:
    """An admin saved the line: applied live, waiting conversations are kept."""

    at: float
    config: LineConfig


Event = (
    ConversationQueued
    | OperatorLoggedIn
    | OperatorLoggedOut
    | OperatorStatusChanged
    | CapacityChanged
    | OfferAccepted
    | OfferDeclined
    | OfferExpired
    | ConversationPicked
    | ConversationClosed
    | ConversationTransferred
    | OperatorReplied
    | CustomerMessaged
    | PositionRequested
    | TimerFired
    | LineConfigChanged
)
