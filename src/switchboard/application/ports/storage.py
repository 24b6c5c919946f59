"""Storage ports: a unit of work and the repositories it holds.

One unit of work is one transaction. Events given to ``emit`` are written to the outbox in the
same transaction and leave only after the commit, through the outbox relay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, Self

from switchboard.application.ports.bus import Envelope
from switchboard.application.ports.routing import RoutingRepository
from switchboard.application.ports.uploads import UploadRepository
from switchboard.application.ports.voice import CallbackRepository, CallRepository
from switchboard.application.ports.webchat import WebchatRepository
from switchboard.domain.channels import Channel, ChannelKind
from switchboard.domain.contacts import Contact, ContactTier
from switchboard.domain.conversation import (
    Attachment,
    AuthorKind,
    Conversation,
    ConversationStatus,
    DeliveryStatus,
    Direction,
    Message,
)
from switchboard.domain.events import Event
from switchboard.domain.identity import Identity
from switchboard.domain.leads import Lead, LeadStatus
from switchboard.domain.lines import Line
from switchboard.domain.matching import Reason
from switchboard.domain.merge import MergeRecord
from switchboard.domain.notes import CannedResponse, Note
from switchboard.domain.operators import Role, User
from switchboard.domain.source import Source
from switchboard.domain.timeline import TimelineEntry


class StorageUnavailable(Exception):
    """The database cannot be reached; nothing of the unit of work was written."""


class Conflict(Exception):
    """A uniqueness rule of the storage was broken (e.g. an identity owned by another contact)."""


@dataclass(frozen=True, slots=True)
class ContactQuery:
    phone: str | None = None
    email: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ConversationQuery:
    status: ConversationStatus | None = None
    line_id: int | None = None
    assignee_id: int | None = None
    contact_id: int | None = None


@dataclass(frozen=True, slots=True)
class NewMessage:
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


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: int
    name: str
    role: Role
    user_id: int | None


@dataclass(frozen=True, slots=True)
class NewLead:
    contact_id: int
    conversation_id: int
    title: str
    automatic: bool
    at: datetime
    source: Source


@dataclass(frozen=True, slots=True)
class TimelineRow:
    contact_id: int
    kind: str
    ref_id: int
    occurred_at: datetime
    summary: str
    conversation_id: int | None = None
    channel_kind: str | None = None


class ContactRepository(Protocol):
    async def add(self, name: str, tier: ContactTier, at: datetime, fields: Mapping[str, Any] | None = None) -> Contact:
        """A new contact; ``fields`` are checked profile fields (``domain.contacts.check_fields``)."""

    async def get(self, contact_id: int) -> Contact | None: ...
    async def get_many(self, contact_ids: Sequence[int]) -> list[Contact]:
        """The contacts with these ids that exist, in id order."""

    async def lock(self, contact_ids: Sequence[int]) -> None:
        """Hold these contacts until the commit (no-op where the database has a single writer)."""

    async def find_by_identity(self, identity: Identity) -> int | None: ...
    async def owner_tier(self, identity: Identity) -> tuple[int, ContactTier] | None:
        """The contact holding this identity and its tier, in one round trip (a caller's number on a new call)."""

    async def find_by_external_id(self, external_id: str) -> int | None: ...
    async def external_id_holders(self, external_ids: Sequence[str]) -> dict[str, int]:
        """The contact holding each of these external ids that is held, in one round trip."""

    async def set_merged_into(self, contact_id: int, survivor_id: int | None, at: datetime) -> None: ...
    async def candidates(self, contact: Contact, phones: Sequence[str]) -> list[int]:
        """Live contacts sharing the contact's name key or birth date, or owning one of ``phones``."""

    async def owners(self, identities: Sequence[Identity]) -> dict[Identity, int]:
        """The contact owning each identity that has an owner, in one round trip."""

    async def add_identity(self, contact_id: int, identity: Identity, at: datetime) -> None: ...
    async def search(self, query: ContactQuery, limit: int, offset: int) -> list[Contact]: ...
    async def batch(self, after_id: int, limit: int) -> list[Contact]:
        """Contacts with their identities in id order after ``after_id`` (for whole-base jobs)."""

    async def update(self, contact_id: int, fields: Mapping[str, Any], at: datetime) -> None: ...
    async def is_new(self, contact_id: int) -> bool:
        """True while the contact has no conversation yet."""


@dataclass(frozen=True, slots=True)
class SuggestedPair:
    """Two live contacts the whole-base duplicate search found, with its score and reasons."""

    a_id: int
    b_id: int
    score: float
    reasons: tuple[Reason, ...]
    found_at: datetime


class MergeRepository(Protocol):
    async def move(self, table: str, from_contact: int, to_contact: int) -> list[int]:
        """Give every row of ``table`` (identities, conversations, leads, timeline) of one contact to another."""

    async def move_back(
        self, table: str, ids: Sequence[int], conversation_ids: Sequence[int], from_contact: int, to_contact: int
    ) -> None:
        """Give back the rows with these ids, or of these conversations, that ``from_contact`` still has."""

    async def add(self, record: MergeRecord) -> int: ...
    async def get(self, merge_id: int) -> MergeRecord | None: ...
    async def mark_undone(self, merge_id: int, at: datetime, by: int | None) -> None: ...
    async def of_contact(self, contact_id: int) -> list[MergeRecord]:
        """Merges this contact took part in, newest first."""


class SuggestionRepository(Protocol):
    async def replace(self, pairs: Sequence[SuggestedPair]) -> None:
        """Forget the stored pairs and keep these (the result of a new whole-base search)."""

    async def page(self, min_score: float, limit: int, offset: int) -> list[SuggestedPair]:
        """Pairs of live contacts, best score first."""

    async def partners(self, contact_id: int) -> list[int]: ...


class ConversationRepository(Protocol):
    async def add(
        self,
        contact_id: int,
        line_id: int,
        channel_id: int,
        status: ConversationStatus,
        at: datetime,
        source: Source,
    ) -> Conversation: ...
    async def get(self, conversation_id: int, *, for_update: bool = False) -> Conversation | None: ...
    async def find_latest(self, contact_id: int, channel_id: int) -> Conversation | None: ...
    async def save(self, conversation: Conversation) -> None: ...
    async def get_many(self, conversation_ids: Sequence[int]) -> list[Conversation]:
        """Those of these conversations that exist, in id order."""

    async def list(self, query: ConversationQuery, limit: int, before_id: int | None) -> list[Conversation]: ...


class MessageRepository(Protocol):
    async def add(self, message: NewMessage) -> Message: ...
    async def find_by_external_id(self, channel_id: int, external_id: str) -> Message | None: ...
    async def get(self, message_id: int) -> Message | None: ...
    async def set_external_id(self, message_id: int, external_id: str) -> None: ...
    async def set_delivery(self, message_id: int, status: DeliveryStatus, error: str | None) -> None: ...
    async def awaiting_receipt(self, channel_id: int, since: datetime, limit: int) -> list[str]:
        """External ids of replies sent on the channel since ``since`` with no receipt yet, newest first."""
        ...

    async def newest(self, conversation_ids: Sequence[int], limit: int) -> dict[int, list[Message]]:
        """Each conversation's newest ``limit`` messages, newest first, in one statement."""

    async def list(self, conversation_id: int, limit: int, before_id: int | None) -> list[Message]: ...


class LeadRepository(Protocol):
    async def add(
        self,
        contact_id: int,
        conversation_id: int | None,
        title: str,
        automatic: bool,
        created_by: int | None,
        at: datetime,
        source: Source,
    ) -> Lead: ...
    async def get(self, lead_id: int) -> Lead | None: ...
    async def list(self, contact_id: int | None, status: LeadStatus | None, limit: int, offset: int) -> list[Lead]: ...
    async def set_status(self, lead_id: int, status: LeadStatus) -> None: ...


@dataclass(frozen=True, slots=True)
class DeliveryTask:
    """One reply waiting for its connector: claimed by one worker at a time (a lease), retried with backoff."""

    message_id: int
    channel_id: int
    attempts: int
    created_at: datetime
    template: dict[str, Any] | None = None


class DeliveryRepository(Protocol):
    async def add(self, message_id: int, channel_id: int, at: datetime, template: Mapping[str, Any] | None) -> None: ...
    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[DeliveryTask]:
        """Due tasks nobody holds, leased to the caller (SKIP LOCKED on PostgreSQL)."""
        ...

    async def retry_at(self, message_id: int, attempts: int, at: datetime, error: str) -> None: ...
    async def remove(self, message_id: int) -> None: ...
    async def waiting(self, channel_id: int) -> int: ...


@dataclass(frozen=True, slots=True)
class NoticeTask:
    """One notice waiting for its channel's integration (a conversation closed), leased and retried as a reply."""

    id: int
    channel_id: int
    kind: str
    document: dict[str, Any]
    attempts: int
    created_at: datetime


class NoticeRepository(Protocol):
    async def add(self, event_id: int, channel_id: int, kind: str, document: Mapping[str, Any], at: datetime) -> bool:
        """False when this event's notice to this channel is queued already."""
        ...

    async def any_due(self, now: datetime) -> bool: ...
    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[NoticeTask]: ...
    async def retry_at(self, notice_id: int, attempts: int, at: datetime, error: str) -> None: ...
    async def remove(self, notice_id: int) -> None: ...


class ChannelRepository(Protocol):
    async def add(
        self, kind: ChannelKind, name: str, line_id: int, settings: Mapping[str, Any], at: datetime
    ) -> Channel: ...
    async def get(self, channel_id: int) -> Channel | None: ...
    async def list(self) -> list[Channel]: ...
    async def update(self, channel_id: int, fields: Mapping[str, Any]) -> None: ...
    async def sealed_secrets(self, channel_id: int) -> str | None: ...
    async def set_sealed_secrets(self, channel_id: int, sealed: str | None) -> None: ...
    async def record_health(self, channel_id: int, at: datetime, error: str | None) -> None:
        """A success (``error`` None) or a failure of the channel's provider at ``at``."""
        ...


class LineRepository(Protocol):
    async def add(self, line: Line, at: datetime) -> Line: ...
    async def get(self, line_id: int) -> Line | None: ...
    async def list(self) -> list[Line]: ...
    async def update(self, line_id: int, fields: Mapping[str, Any]) -> None: ...
    async def set_operators(self, line_id: int, operator_ids: Sequence[int]) -> None: ...


class UserRepository(Protocol):
    async def add(self, user: User, password_hash: str | None, at: datetime) -> User: ...
    async def get(self, user_id: int) -> User | None: ...
    async def get_by_login(self, login: str) -> tuple[User, str | None] | None: ...
    async def list(self, role: Role | None) -> list[User]: ...
    async def update(self, user_id: int, fields: Mapping[str, Any]) -> None: ...


class TokenRepository(Protocol):
    async def add(self, name: str, token_hash: str, role: Role, user_id: int | None, at: datetime) -> int: ...
    async def find(self, token_hash: str) -> TokenRecord | None: ...


class TimelineRepository(Protocol):
    async def add(
        self,
        contact_id: int,
        kind: str,
        ref_id: int,
        occurred_at: datetime,
        summary: str,
        conversation_id: int | None = None,
        channel_kind: str | None = None,
    ) -> None: ...
    async def page(
        self, contact_id: int, limit: int, before_id: int | None, channel_kind: str | None
    ) -> list[TimelineEntry]: ...


class AuditRepository(Protocol):
    async def add(
        self,
        at: datetime,
        action: str,
        entity: str,
        entity_id: int | None,
        detail: Mapping[str, Any],
        actor_user_id: int | None,
        actor_token_id: int | None,
        request_id: str | None,
    ) -> None: ...


class NoteRepository(Protocol):
    async def add(self, conversation_id: int, author_id: int | None, body: str, at: datetime) -> Note: ...
    async def list_many(self, conversation_ids: Sequence[int], limit: int) -> dict[int, list[Note]]:
        """Each conversation's first ``limit`` notes, oldest first."""

    async def list(self, conversation_id: int, limit: int) -> list[Note]:
        """The conversation's notes, oldest first."""


class CannedResponseRepository(Protocol):
    async def add(self, shortcut: str, title: str, body: str, at: datetime) -> CannedResponse: ...
    async def list(self) -> list[CannedResponse]: ...
    async def delete(self, canned_id: int) -> bool: ...


@dataclass(frozen=True, slots=True)
class ConversationTimes:
    """When one conversation opened, queued, reached an operator and closed: the floor's figures of the day."""

    line_id: int
    opened_at: datetime
    queued_at: datetime | None
    assigned_at: datetime | None
    closed_at: datetime | None
    assignee_id: int | None


class FloorRepository(Protocol):
    async def opened_since(self, since: datetime) -> list[ConversationTimes]: ...


class IntakeStore(Protocol):
    """Set-based writes for a batch of inbound messages (group commit): one round trip per table.

    ``add_*`` return the new ids in the order of the rows given.
    """

    async def delivered(self, keys: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
        """Which (channel id, external id) pairs are already stored."""

    async def answered_conversations(self, keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], int]:
        """The conversation of each stored (channel id, external id) message among ``keys``."""

    async def conversations(
        self, pairs: Sequence[tuple[int, int]], ids: Sequence[int]
    ) -> tuple[dict[tuple[int, int], Conversation], dict[int, Conversation]]:
        """The latest conversation of each (contact id, channel id) pair that has one, and the conversations
        ``ids`` (by id), read and locked for update in one statement; a conversation in both is one object."""

    async def add_contacts(self, contacts: Sequence[tuple[str, ContactTier, datetime]]) -> list[int]: ...
    async def add_identities(self, identities: Sequence[tuple[int, Identity, datetime]]) -> None: ...
    async def add_conversations(self, conversations: Sequence[Conversation]) -> list[int]: ...
    async def save_conversations(self, conversations: Sequence[Conversation]) -> None: ...
    async def add_messages(self, messages: Sequence[NewMessage]) -> list[int]: ...
    async def add_leads(self, leads: Sequence[NewLead]) -> list[int]: ...
    async def add_timeline(self, rows: Sequence[TimelineRow]) -> None:
        """Rows are stored in the order given (the timeline is ordered by id)."""


class UnitOfWork(Protocol):
    contacts: ContactRepository
    conversations: ConversationRepository
    messages: MessageRepository
    leads: LeadRepository
    channels: ChannelRepository
    lines: LineRepository
    users: UserRepository
    tokens: TokenRepository
    timeline: TimelineRepository
    audit: AuditRepository
    routing: RoutingRepository
    deliveries: DeliveryRepository
    notices: NoticeRepository
    webchat: WebchatRepository
    merges: MergeRepository
    suggestions: SuggestionRepository
    calls: CallRepository
    callbacks: CallbackRepository
    notes: NoteRepository
    uploads: UploadRepository
    canned: CannedResponseRepository
    floor: FloorRepository
    intake: IntakeStore

    def emit(self, event: Event, at: datetime) -> None:
        """Queue an event; it is written to the outbox by ``commit``."""

    async def commit(self) -> None: ...
    async def __aenter__(self) -> Self: ...
    async def __aexit__(self, *exc: object) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> UnitOfWork: ...

    @property
    def serial_writes(self) -> bool:
        """Writing units of work run one at a time (SQLite's single writer): requests that share one
        transaction lose no parallelism there, while on PostgreSQL concurrent ones overlap their round trips."""
        ...


class OutboxStore(Protocol):
    """The outbox as the relay and the websocket resume see it."""

    @property
    def numbered_at_insert(self) -> bool:
        """Rows take their numbers as they are inserted (SQLite): ``sequence_pending`` is then a plain
        read, cheap enough to be the relay's idle check too."""
        ...

    async def unpublished(self, limit: int) -> list[Envelope]: ...
    def relay_turn(self) -> AbstractAsyncContextManager[None]:
        """Held while one relay numbers, publishes and marks a batch: one relay at a time."""
        ...

    async def sequence_pending(self, limit: int) -> list[Envelope]:
        """Give publish numbers to committed, unnumbered rows; return the unpublished in number order."""
        ...

    async def mark_published(self, event_ids: Sequence[int], at: datetime) -> None: ...
    async def after(self, event_id: int, limit: int) -> list[Envelope]: ...
    async def last_id(self) -> int: ...
    async def sequenced_after(self, sequence: int, limit: int) -> list[Envelope]: ...
    async def last_sequence(self) -> int: ...
    async def ping(self) -> bool: ...


class Inbox(Protocol):
    """Remembers which events a consumer has handled, so a redelivery is a no-op."""

    async def seen(self, consumer: str, event_id: int) -> bool: ...
    async def first_time(self, consumer: str, event_id: int, at: datetime) -> bool:
        """Record the event as handled; False when it already was."""
