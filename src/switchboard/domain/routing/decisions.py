"""What the routing engine asks the application to do, in order."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Offer:
    """Ring `operator_ids` (several in broadcast mode) until `deadline`; the first accept wins."""

    conversation_id: str
    line_id: str
    media: str
    operator_ids: tuple[str, ...]
    deadline: float
    note: str = ""


@dataclass(frozen=True, slots=True)
class Assign:
    conversation_id: str
    operator_id: str
    line_id: str


@dataclass(frozen=True, slots=True)
class WithdrawOffers:
    """Stop ringing these operators (taken by someone else, expired, operator left)."""

    conversation_id: str
    operator_ids: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class KeepWaiting:
    """Tell the customer their place: `position` 1 = next; wait None when nobody staffs the line."""

    conversation_id: str
    line_id: str
    position: int
    estimated_wait_s: float | None


@dataclass(frozen=True, slots=True)
class MoveToLine:
    """Overflow or transfer: the conversation continues on `to_line_id`."""

    conversation_id: str
    from_line_id: str
    to_line_id: str
    reason: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class RequestCallback:
    conversation_id: str
    line_id: str
    contact_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Refuse:
    """Politely end: send `template_key` (if the line has a text) and close."""

    conversation_id: str
    line_id: str
    reason: str
    template_key: str


@dataclass(frozen=True, slots=True)
class SendAutomaticMessage:
    """Render `template_key` of the line in `language` with `variables` and send it."""

    conversation_id: str
    line_id: str
    template_key: str
    variables: tuple[tuple[str, str], ...]
    language: str


@dataclass(frozen=True, slots=True)
class CloseConversation:
    conversation_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class ScheduleTimer:
    """Fire TimerFired(key) at `at`; scheduling an existing key moves it."""

    key: str
    at: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    key: str


@dataclass(frozen=True, slots=True)
class SetOperatorStatus:
    """The engine changed a status by itself (wrap-up started or ended)."""

    operator_id: str
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class CountMissed:
    """An offer to the operator expired unanswered: their misses in a row are now `missed` (to persist)."""

    operator_id: str
    conversation_id: str
    missed: int


@dataclass(frozen=True, slots=True)
class AutoPause:
    """Too many missed offers in a row: the operator is put on break."""

    operator_id: str
    reason: str
    missed: int


@dataclass(frozen=True, slots=True)
class Ignored:
    """The event did not apply (unknown id, late accept...); nothing changed."""

    event: str
    reason: str


Decision = (
    Offer
    | Assign
    | WithdrawOffers
    | KeepWaiting
    | MoveToLine
    | RequestCallback
    | Refuse
    | SendAutomaticMessage
    | CloseConversation
    | ScheduleTimer
    | CancelTimer
    | SetOperatorStatus
    | CountMissed
    | AutoPause
    | Ignored
)
