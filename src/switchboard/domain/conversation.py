"""The conversation's life: one contact's request on one line, from open to close.

The state machine is the single place that says which moves are legal, so that the API,
routing and connectors cannot leave a conversation in a state nobody planned for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from switchboard.domain.errors import InvalidTransition
from switchboard.domain.source import Source


class ConversationStatus(StrEnum):
    NEW = "new"
    QUEUED = "queued"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    WAITING = "waiting"  # waiting for the customer's answer
    CLOSED = "closed"


class ConversationAction(StrEnum):
    QUEUE = "queue"
    OFFER = "offer"
    ACCEPT = "accept"
    RETURN_TO_QUEUE = "return_to_queue"  # offer declined or expired, transfer to a line
    ASSIGN = "assign"  # by a supervisor or the routing engine directly
    OPERATOR_REPLIED = "operator_replied"
    CUSTOMER_WROTE = "customer_wrote"
    CLOSE = "close"
    REOPEN = "reopen"


_S = ConversationStatus
_A = ConversationAction

_TRANSITIONS: dict[tuple[ConversationStatus, ConversationAction], ConversationStatus] = {
    (_S.NEW, _A.QUEUE): _S.QUEUED,
    (_S.NEW, _A.ASSIGN): _S.ASSIGNED,
    (_S.NEW, _A.CUSTOMER_WROTE): _S.NEW,
    (_S.NEW, _A.CLOSE): _S.CLOSED,
    (_S.QUEUED, _A.OFFER): _S.OFFERED,
    (_S.QUEUED, _A.ASSIGN): _S.ASSIGNED,
    (_S.QUEUED, _A.QUEUE): _S.QUEUED,
    (_S.QUEUED, _A.CUSTOMER_WROTE): _S.QUEUED,
    (_S.QUEUED, _A.CLOSE): _S.CLOSED,
    (_S.OFFERED, _A.ACCEPT): _S.ASSIGNED,
    (_S.OFFERED, _A.ASSIGN): _S.ASSIGNED,
    (_S.OFFERED, _A.RETURN_TO_QUEUE): _S.QUEUED,
    (_S.OFFERED, _A.OFFER): _S.OFFERED,
    (_S.OFFERED, _A.CUSTOMER_WROTE): _S.OFFERED,
    (_S.OFFERED, _A.CLOSE): _S.CLOSED,
    (_S.ASSIGNED, _A.OPERATOR_REPLIED): _S.WAITING,
    (_S.ASSIGNED, _A.CUSTOMER_WROTE): _S.ASSIGNED,
    (_S.ASSIGNED, _A.ASSIGN): _S.ASSIGNED,
    (_S.ASSIGNED, _A.RETURN_TO_QUEUE): _S.QUEUED,
    (_S.ASSIGNED, _A.CLOSE): _S.CLOSED,
    (_S.WAITING, _A.CUSTOMER_WROTE): _S.ASSIGNED,
    (_S.WAITING, _A.OPERATOR_REPLIED): _S.WAITING,
    (_S.WAITING, _A.ASSIGN): _S.ASSIGNED,
    (_S.WAITING, _A.RETURN_TO_QUEUE): _S.QUEUED,
    (_S.WAITING, _A.CLOSE): _S.CLOSED,
    (_S.CLOSED, _A.REOPEN): _S.NEW,  # new again: routing admits it afresh (hours, welcome rules, stickiness)
}

OPEN_STATUSES = frozenset(s for s in ConversationStatus if s is not ConversationStatus.CLOSED)


def next_status(current: ConversationStatus, action: ConversationAction) -> ConversationStatus:
    """Where ``action`` takes a conversation in ``current``; raises when the move is illegal."""
    try:
        return _TRANSITIONS[(current, action)]
    except KeyError:
        raise InvalidTransition(
            f"a {current.value} conversation cannot {action.value.replace('_', ' ')}", field="status"
        ) from None


def allowed_actions(current: ConversationStatus) -> frozenset[ConversationAction]:
    """Every action legal from ``current`` (for the UI's buttons and the property tests)."""
    return frozenset(action for (status, action) in _TRANSITIONS if status is current)


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class AuthorKind(StrEnum):
    CONTACT = "contact"
    OPERATOR = "operator"
    SYSTEM = "system"


class DeliveryStatus(StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


@dataclass(slots=True)
class Conversation:
    id: int
    contact_id: int
    line_id: int
    channel_id: int
    status: ConversationStatus
    opened_at: datetime
    last_message_at: datetime
    assignee_id: int | None = None
    closed_at: datetime | None = None
    subject: str | None = None
    source: Source = field(default_factory=Source)

    def apply(self, action: ConversationAction) -> ConversationStatus:
        """Move by the state machine; returns the new status."""
        self.status = next_status(self.status, action)
        return self.status


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    content_type: str
    size: int
    url: str | None = None


@dataclass(slots=True)
class Message:
    id: int
    conversation_id: int
    channel_id: int
    direction: Direction
    author_kind: AuthorKind
    body: str
    delivery_status: DeliveryStatus
    created_at: datetime
    author_id: int | None = None
    external_id: str | None = None
    attachments: tuple[Attachment, ...] = ()
    error: str | None = None
