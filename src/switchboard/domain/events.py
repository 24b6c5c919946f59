"""The event catalogue: every fact the system announces after a commit.

Events are past-tense and carry ids and the little data a consumer needs to act without
reading the database again; personal data stays out (a consumer that needs a phone asks).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, fields, is_dataclass
from typing import Any, ClassVar

_PLAIN = frozenset({int, str, float, bool, type(None)})
_FIELDS: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    """What ``asdict`` makes of one field's value, without its deep copy of ints and strings."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is tuple or kind is list:
        return kind(_plain(item) for item in value)
    if kind is dict:
        return {_plain(k): _plain(v) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return copy.deepcopy(value)


@dataclass(frozen=True, slots=True)
class Event:
    name: ClassVar[str] = "Event"

    def payload(self) -> dict[str, Any]:
        """The fields as a new dict (as ``dataclasses.asdict``); every event of every message makes one."""
        names = _FIELDS.get(type(self))
        if names is None:
            names = _FIELDS[type(self)] = tuple(f.name for f in fields(self))
        return {name: _plain(getattr(self, name)) for name in names}

    @property
    def conversation_ref(self) -> int | None:
        """The conversation this event belongs to, for operators' websocket feeds."""
        value = getattr(self, "conversation_id", None)
        return value if isinstance(value, int) else None


@dataclass(frozen=True, slots=True)
class ContactCreated(Event):
    name: ClassVar[str] = "ContactCreated"
    contact_id: int
    channel_id: int | None


@dataclass(frozen=True, slots=True)
class ContactUpdated(Event):
    name: ClassVar[str] = "ContactUpdated"
    contact_id: int
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class IdentityAdded(Event):
    name: ClassVar[str] = "IdentityAdded"
    contact_id: int
    kind: str


@dataclass(frozen=True, slots=True)
class ContactsMerged(Event):
    """The duplicate's identities, conversations, leads and timeline now belong to the survivor."""

    name: ClassVar[str] = "ContactsMerged"
    merge_id: int
    survivor_id: int
    duplicate_id: int


@dataclass(frozen=True, slots=True)
class MergeUndone(Event):
    name: ClassVar[str] = "MergeUndone"
    merge_id: int
    survivor_id: int
    duplicate_id: int


@dataclass(frozen=True, slots=True)
class ConversationOpened(Event):
    name: ClassVar[str] = "ConversationOpened"
    conversation_id: int
    contact_id: int
    line_id: int
    channel_id: int


@dataclass(frozen=True, slots=True)
class ConversationReopened(Event):
    name: ClassVar[str] = "ConversationReopened"
    conversation_id: int
    line_id: int


@dataclass(frozen=True, slots=True)
class MessageReceived(Event):
    name: ClassVar[str] = "MessageReceived"
    message_id: int
    conversation_id: int
    contact_id: int
    line_id: int
    channel_id: int
    assignee_id: int | None


@dataclass(frozen=True, slots=True)
class ReplyQueued(Event):
    """An operator's reply is stored and waits for its connector to deliver it."""

    name: ClassVar[str] = "ReplyQueued"
    message_id: int
    conversation_id: int
    channel_id: int
    author_id: int


@dataclass(frozen=True, slots=True)
class MessageStatusChanged(Event):
    """``assignee_id`` names who holds the conversation, so their desk's websocket shows the receipt."""

    name: ClassVar[str] = "MessageStatusChanged"
    message_id: int
    conversation_id: int
    status: str
    assignee_id: int | None = None


@dataclass(frozen=True, slots=True)
class ConversationAssigned(Event):
    name: ClassVar[str] = "ConversationAssigned"
    conversation_id: int
    operator_id: int
    previous_operator_id: int | None
    by_user_id: int | None


@dataclass(frozen=True, slots=True)
class ConversationClosed(Event):
    name: ClassVar[str] = "ConversationClosed"
    conversation_id: int
    line_id: int
    operator_id: int | None
    by_user_id: int | None


@dataclass(frozen=True, slots=True)
class LeadCreated(Event):
    name: ClassVar[str] = "LeadCreated"
    lead_id: int
    contact_id: int
    conversation_id: int | None
    automatic: bool


@dataclass(frozen=True, slots=True)
class ChannelChanged(Event):
    name: ClassVar[str] = "ChannelChanged"
    channel_id: int


@dataclass(frozen=True, slots=True)
class LineChanged(Event):
    name: ClassVar[str] = "LineChanged"
    line_id: int


@dataclass(frozen=True, slots=True)
class OperatorChanged(Event):
    name: ClassVar[str] = "OperatorChanged"
    operator_id: int


CATALOGUE: dict[str, type[Event]] = {
    cls.name: cls
    for cls in (
        ContactCreated,
        ContactUpdated,
        IdentityAdded,
        ContactsMerged,
        MergeUndone,
        ConversationOpened,
        ConversationReopened,
        MessageReceived,
        ReplyQueued,
        MessageStatusChanged,
        ConversationAssigned,
        ConversationClosed,
        LeadCreated,
        ChannelChanged,
        LineChanged,
        OperatorChanged,
    )
}


@dataclass(frozen=True, slots=True)
class OperatorStatusChanged(Event):
    """Presence: ``by_engine`` marks changes the routing engine made itself (wrap-up, auto-pause)."""

    name: ClassVar[str] = "OperatorStatusChanged"
    operator_id: int
    status: str
    reason: str
    logged_in: bool
    was_logged_in: bool
    by_user_id: int | None
    by_engine: bool = False


@dataclass(frozen=True, slots=True)
class ConversationQueued(Event):
    name: ClassVar[str] = "ConversationQueued"
    conversation_id: int
    line_id: int
    position: int
    estimated_wait_s: float | None


@dataclass(frozen=True, slots=True)
class OfferMade(Event):
    name: ClassVar[str] = "OfferMade"
    conversation_id: int
    line_id: int
    operator_ids: tuple[int, ...]
    deadline: str


@dataclass(frozen=True, slots=True)
class OffersWithdrawn(Event):
    name: ClassVar[str] = "OffersWithdrawn"
    conversation_id: int
    operator_ids: tuple[int, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class OfferMissed(Event):
    """An offer expired unanswered; ``missed`` is the operator's count in a row (reset by an accept,
    by going available, and by the auto-pause it may cause)."""

    name: ClassVar[str] = "OfferMissed"
    conversation_id: int
    operator_id: int
    missed: int


@dataclass(frozen=True, slots=True)
class OfferAccepted(Event):
    name: ClassVar[str] = "OfferAccepted"
    conversation_id: int
    operator_id: int


@dataclass(frozen=True, slots=True)
class OfferDeclined(Event):
    name: ClassVar[str] = "OfferDeclined"
    conversation_id: int
    operator_id: int


@dataclass(frozen=True, slots=True)
class ConversationPicked(Event):
    name: ClassVar[str] = "ConversationPicked"
    conversation_id: int
    operator_id: int


@dataclass(frozen=True, slots=True)
class ConversationTransferred(Event):
    name: ClassVar[str] = "ConversationTransferred"
    conversation_id: int
    from_operator_id: int | None
    to_operator_id: int | None
    to_line_id: int | None
    note: str


@dataclass(frozen=True, slots=True)
class ConversationMoved(Event):
    name: ClassVar[str] = "ConversationMoved"
    conversation_id: int
    from_line_id: int
    to_line_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class CallbackRequested(Event):
    name: ClassVar[str] = "CallbackRequested"
    conversation_id: int
    line_id: int
    contact_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class AutomaticMessageQueued(Event):
    name: ClassVar[str] = "AutomaticMessageQueued"
    message_id: int
    conversation_id: int
    channel_id: int
    template_key: str


@dataclass(frozen=True, slots=True)
class NoteAdded(Event):
    """An internal note on a conversation: colleagues' desks show it, the customer never sees it."""

    name: ClassVar[str] = "NoteAdded"
    note_id: int
    conversation_id: int
    author_id: int | None
    assignee_id: int | None


@dataclass(frozen=True, slots=True)
class ReplyMovedChannel(Event):
    """An operator answered a conversation's customer in another channel: the reply lives in ``conversation_id``."""

    name: ClassVar[str] = "ReplyMovedChannel"
    from_conversation_id: int
    conversation_id: int
    channel_id: int
    message_id: int
    operator_id: int | None
    created: bool  # a new conversation was opened in that channel (else the open one was reused)


for _cls in (
    NoteAdded,
    ReplyMovedChannel,
    OperatorStatusChanged,
    ConversationQueued,
    OfferMade,
    OffersWithdrawn,
    OfferMissed,
    OfferAccepted,
    OfferDeclined,
    ConversationPicked,
    ConversationTransferred,
    ConversationMoved,
    CallbackRequested,
    AutomaticMessageQueued,
):
    CATALOGUE[_cls.name] = _cls


@dataclass(frozen=True, slots=True)
class ConversationRated(Event):
    """The customer rated a closed conversation (1–5) in the web chat."""

    name: ClassVar[str] = "ConversationRated"
    conversation_id: int
    line_id: int
    operator_id: int | None
    score: int


@dataclass(frozen=True, slots=True)
class VisitorLinked(Event):
    """A web chat visitor gave an identity of a known contact: their conversations now belong to it."""

    name: ClassVar[str] = "VisitorLinked"
    contact_id: int
    previous_contact_id: int
    channel_id: int


CATALOGUE[ConversationRated.name] = ConversationRated
CATALOGUE[VisitorLinked.name] = VisitorLinked


@dataclass(frozen=True, slots=True)
class CallRinging(Event):
    """The PBX rings an operator's phone: their desk pops the caller's card."""

    name: ClassVar[str] = "CallRinging"
    call_id: int
    conversation_id: int | None
    operator_id: int
    contact_id: int | None


@dataclass(frozen=True, slots=True)
class CallAnswered(Event):
    name: ClassVar[str] = "CallAnswered"
    call_id: int
    conversation_id: int | None
    operator_id: int | None


@dataclass(frozen=True, slots=True)
class CallEnded(Event):
    name: ClassVar[str] = "CallEnded"
    call_id: int
    conversation_id: int | None
    contact_id: int | None
    operator_id: int | None
    disposition: str
    timed_out: bool


@dataclass(frozen=True, slots=True)
class OfferUnanswered(Event):
    """The operator's phone rang out (no answer, busy): the offer counts as missed, the next operator is tried."""

    name: ClassVar[str] = "OfferUnanswered"
    conversation_id: int
    operator_id: int


@dataclass(frozen=True, slots=True)
class CallbackCreated(Event):
    name: ClassVar[str] = "CallbackCreated"
    callback_id: int
    line_id: int
    contact_id: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class CallbackChanged(Event):
    name: ClassVar[str] = "CallbackChanged"
    callback_id: int
    line_id: int
    status: str
    assignee_id: int | None


_VOICE: tuple[type[Event], ...] = (
    CallRinging,
    CallAnswered,
    CallEnded,
    OfferUnanswered,
    CallbackCreated,
    CallbackChanged,
)
CATALOGUE.update({cls.name: cls for cls in _VOICE})
