"""The web chat channel: a site's visitors talk to the desk through the widget.

A visitor is a browser with a signed cookie (the web layer checks the signature and passes the id
in). Their messages go through the normal intake (``receive_message``), so a web chat customer is
recognised, routed and reported like any other; the pre-chat form's phone and email are intake
identities, which is how a visitor joins a known contact. Each visitor sees the conversations they
took part in, from the message they joined at (a claimed phone never opens someone else's history).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from switchboard.application.access import Principal, require_handles, require_role
from switchboard.application.context import Services
from switchboard.application.conversations import check_reads
from switchboard.application.delivery import ORDER
from switchboard.application.errors import ApplicationError, InvalidInput, NotFound, StateConflict, Unavailable
from switchboard.application.intake import InboundMessage, Sender, receive_message
from switchboard.application.merges import merge_within
from switchboard.application.ports.bus import Bus, BusUnavailable, Envelope
from switchboard.application.ports.files import FileStore
from switchboard.application.ports.storage import UnitOfWork
from switchboard.application.ports.webchat import Rating, Session, UploadedFile, Visitor, VisitorMessage
from switchboard.domain.channels import Channel, ChannelKind
from switchboard.domain.conversation import Attachment, ConversationStatus, DeliveryStatus, Direction
from switchboard.domain.errors import DomainError
from switchboard.domain.events import ConversationRated, IdentityAdded, MessageStatusChanged, VisitorLinked
from switchboard.domain.identity import Identity, IdentityKind, normalize_email, normalize_phone
from switchboard.domain.line_settings import line_config
from switchboard.domain.lines import Line
from switchboard.domain.merge import MERGED_FIELDS, Side
from switchboard.domain.operators import Role
from switchboard.domain.routing.config import InvalidConfig
from switchboard.domain.source import Source
from switchboard.domain.webchat import (
    MAX_ATTACHMENTS,
    MAX_TEXT,
    FileRefused,
    InvalidWidgetSettings,
    WidgetSettings,
    check_client_id,
    check_file,
    check_rating,
    message_key,
    safe_file_name,
    widget_settings,
)

WIDGET = Principal(Role.INTEGRATION)  # the widget writes through intake as an integration would
HISTORY_LIMIT = 200
RECEIPTS_LIMIT = 200
VISITOR_TYPING = "VisitorTyping"  # live-only notices: published on the bus, never stored (event id 0)
OPERATOR_TYPING = "OperatorTyping"


class FileTooLarge(ApplicationError):
    status = 413
    title = "Payload too large"


class UnsupportedFile(ApplicationError):
    status = 415
    title = "Unsupported media type"


@dataclass(frozen=True, slots=True)
class WidgetConfig:
    channel_id: int
    title: str
    online: bool
    next_opening: datetime | None
    settings: WidgetSettings
    max_file_bytes: int  # the tighter of the channel's and the server's limit


@dataclass(frozen=True, slots=True)
class ConversationView:
    """A conversation as the visitor sees it: where it stands, who answers, whether it was rated."""

    conversation_id: int
    status: ConversationStatus
    operator_name: str | None
    rated: bool


@dataclass(frozen=True, slots=True)
class Visit:
    visitor: Visitor
    config: WidgetConfig
    sessions: list[Session]
    current: ConversationView | None  # the newest conversation the visitor is in


@dataclass(frozen=True, slots=True)
class Introduction:
    """The pre-chat (or offline) form: who the visitor says they are."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    consent: bool = False


@dataclass(frozen=True, slots=True)
class Written:
    client_id: str
    text: str
    attachments: tuple[str, ...] = ()  # SHA-256 of files this visitor uploaded


@dataclass(frozen=True, slots=True)
class WriteResult:
    message: VisitorMessage
    conversation_id: int
    duplicate: bool  # a resend of a message already stored: nothing new was written


# --- channel and hours ----------------------------------------------------------------------------------------


async def _webchat_channel(
    services: Services, uow: UnitOfWork, channel_id: int, now: datetime
) -> tuple[Channel, Line, WidgetSettings]:
    found = await services.catalog.route(uow, channel_id, now)
    if found is None or found[1] is None or not found[0].active or found[0].kind is not ChannelKind.WEBCHAT:
        raise NotFound(f"web chat channel {channel_id} does not exist", field="channel_id")
    channel, line = found
    assert line is not None
    try:
        return channel, line, widget_settings(channel.settings)
    except InvalidWidgetSettings as error:
        raise Unavailable(f"web chat channel {channel_id} is misconfigured: {error.detail}") from error


def opening(line: Line, now: datetime) -> tuple[bool, datetime | None]:
    """Whether the line works now by its calendar, and when it opens next if not (no calendar: always)."""
    try:
        calendar = line_config(line.id, line.name, line.time_zone, line.operator_ids, line.routing).calendar
    except InvalidConfig:
        calendar = None
    if calendar is None or calendar.is_open(now.timestamp()):
        return True, None
    following = calendar.next_opening(now.timestamp())
    return False, datetime.fromtimestamp(following, UTC) if following is not None else None


def _config(channel: Channel, line: Line, settings: WidgetSettings, now: datetime, server_limit: int) -> WidgetConfig:
    online, following = opening(line, now)
    title = settings.title or channel.name
    return WidgetConfig(channel.id, title, online, following, settings, min(settings.max_file_bytes, server_limit))


async def widget_config(services: Services, channel_id: int, server_limit: int) -> WidgetConfig:
    """What the widget shows before anyone writes: public, no personal data."""
    now = services.clock.now()
    async with services.uow(read_only=True) as uow:
        channel, line, settings = await _webchat_channel(services, uow, channel_id, now)
    return _config(channel, line, settings, now, server_limit)


async def open_visit(services: Services, channel_id: int, visitor_id: str, server_limit: int) -> Visit:
    """A widget connects: the visitor is recorded (or seen again) and learns where their conversation stands."""
    now = services.clock.now()
    async with services.uow() as uow:
        channel, line, settings = await _webchat_channel(services, uow, channel_id, now)
        await uow.webchat.add_visitor(visitor_id, channel.id, now)
        visitor = await uow.webchat.visitor(visitor_id)
        sessions = await uow.webchat.sessions(visitor_id, channel.id)
        current = await _view(uow, sessions[-1].conversation_id) if sessions else None
        await uow.commit()
    assert visitor is not None
    return Visit(visitor, _config(channel, line, settings, now, server_limit), sessions, current)


async def _view(uow: UnitOfWork, conversation_id: int) -> ConversationView | None:
    conversation = await uow.conversations.get(conversation_id)
    if conversation is None:
        return None
    operator = await uow.users.get(conversation.assignee_id) if conversation.assignee_id else None
    rated = await uow.webchat.rating(conversation_id) is not None
    return ConversationView(conversation.id, conversation.status, operator.name if operator else None, rated)


async def conversation_view(services: Services, conversation_id: int) -> ConversationView | None:
    async with services.uow(read_only=True) as uow:
        return await _view(uow, conversation_id)


# --- who the visitor is ---------------------------------------------------------------------------------------


def check_introduction(
    settings: WidgetSettings, intro: Introduction, region: str
) -> tuple[str | None, str | None, str | None]:
    """Name, phone (E.164) and email (normalized) of a form, or InvalidInput naming the field."""
    name = (intro.name or "").strip() or None
    if name is not None and len(name) > 200:
        raise InvalidInput("name is longer than 200 characters", field="name")
    given = {"name": name, "phone": (intro.phone or "").strip(), "email": (intro.email or "").strip()}
    for field in ("name", "phone", "email"):
        if settings.required(field) and not given[field]:
            raise InvalidInput(f"{field} is required", field=field)
    try:
        phone = normalize_phone(given["phone"], region) if given["phone"] else None
        email = normalize_email(given["email"]) if given["email"] else None
    except DomainError as error:
        raise InvalidInput(error.detail, field=error.field) from error
    if not (name or phone or email):
        raise InvalidInput("give a name, a phone or an email", field="name")
    if settings.consent_required and not intro.consent:
        raise InvalidInput("the consent to process personal data is required", field="consent")
    return name, phone, email


async def introduce(services: Services, channel_id: int, visitor_id: str, intro: Introduction) -> Visitor:
    """The pre-chat form, or an introduction later in the chat.

    A visitor who has not written yet is linked at their first message, by intake. One who already has a
    contact gets the new identities on it; if they belong to another contact and the visitor's own contact
    is only a visitor (nothing but visitor ids: the provisional contact of an anonymous chat), that contact
    is merged into the known one (conversations, leads, timeline and the visitor id move; the merge is
    audited and can be undone), so no empty contact is left behind. A known customer claiming another
    contact's identity is left to merge suggestions.
    """
    now = services.clock.now()
    async with services.uow() as uow:
        channel, _, settings = await _webchat_channel(services, uow, channel_id, now)
        name, phone, email = check_introduction(settings, intro, services.default_region)
        await uow.webchat.add_visitor(visitor_id, channel.id, now)
        await uow.webchat.introduce(visitor_id, name, phone, email, now if intro.consent else None)
        identities = [Identity(k, v) for k, v in ((IdentityKind.PHONE, phone), (IdentityKind.EMAIL, email)) if v]
        await _link(uow, channel, visitor_id, name, identities, now)
        visitor = await uow.webchat.visitor(visitor_id)
        await uow.commit()
    assert visitor is not None
    return visitor


async def _link(
    uow: UnitOfWork, channel: Channel, visitor_id: str, name: str | None, identities: list[Identity], now: datetime
) -> None:
    own = await uow.contacts.find_by_identity(Identity(IdentityKind.VISITOR, visitor_id))
    if own is None:
        return
    owners = await uow.contacts.owners(identities)
    target = next((owners[i] for i in identities if i in owners), own)
    provisional = await _only_a_visitor(uow, own)
    if target != own:
        if not provisional:
            return
        # a merge, not a delete: audited, and undone by a supervisor when the visitor claimed someone else's
        # phone or email; the known contact keeps every field (the provisional one has only a made-up name)
        keep = dict.fromkeys(MERGED_FIELDS, Side.SURVIVOR)
        await merge_within(uow, WIDGET, target, own, keep, now, reason=f"web chat visitor {visitor_id} linked")
        uow.emit(VisitorLinked(target, own, channel.id), now)
    for identity in identities:
        if identity not in owners:
            await uow.contacts.add_identity(target, identity, now)
            uow.emit(IdentityAdded(target, identity.kind.value), now)
    if target == own and provisional and name:
        await uow.contacts.update(own, {"name": name}, now)


async def _only_a_visitor(uow: UnitOfWork, contact_id: int) -> bool:
    contact = await uow.contacts.get(contact_id)
    return contact is not None and all(i.kind is IdentityKind.VISITOR for i in contact.identities)


# --- messages -------------------------------------------------------------------------------------------------


def check_written(written: Written) -> None:
    try:
        check_client_id(written.client_id)
    except DomainError as error:
        raise InvalidInput(error.detail, field=error.field) from error
    if len(written.text) > MAX_TEXT:
        raise InvalidInput(f"the message is longer than {MAX_TEXT} characters", field="text")
    if not written.text.strip() and not written.attachments:
        raise InvalidInput("the message has neither text nor attachments", field="text")
    if len(written.attachments) > MAX_ATTACHMENTS:
        raise InvalidInput(f"at most {MAX_ATTACHMENTS} attachments a message", field="attachments")


async def visitor_writes(
    services: Services, channel_id: int, visitor_id: str, written: Written, source: Source, language: str | None
) -> WriteResult:
    """Store the visitor's message through intake; a resend with the same client id is answered, not stored."""
    check_written(written)
    now = services.clock.now()
    async with services.uow(read_only=True) as uow:
        _, line, settings = await _webchat_channel(services, uow, channel_id, now)
        visitor = await uow.webchat.visitor(visitor_id)
        if visitor is None:
            raise InvalidInput("the visitor has not opened the chat", field="visitor")
        files = [await uow.webchat.visitor_file(visitor_id, sha) for sha in written.attachments]
        owner = await uow.contacts.find_by_identity(Identity(IdentityKind.VISITOR, visitor_id))
        answerable = bool(visitor.phone or visitor.email) or (
            owner is not None and not await _only_a_visitor(uow, owner)
        )
    if any(f is None for f in files):
        raise InvalidInput("an attachment was not uploaded by this visitor", field="attachments")
    if not answerable and settings.offline_requires_contact and not opening(line, now)[0]:
        raise InvalidInput("outside working hours, leave a phone or an email so that we can answer", field="email")
    message = InboundMessage(
        channel_id,
        _sender(visitor, linked=owner is not None),
        written.text,
        message_key(visitor_id, written.client_id),
        tuple(Attachment(f.name, f.content_type, f.size, file_url(f)) for f in files if f is not None),
        source,
        language,
    )
    result = await receive_message(services, WIDGET, message, kind=ChannelKind.WEBCHAT)
    async with services.uow() as uow:
        await uow.webchat.join(visitor_id, result.conversation_id, result.message_id, now)
        stored = await uow.webchat.message(result.message_id)
        await uow.commit()
    assert stored is not None
    return WriteResult(stored, result.conversation_id, result.duplicate)


def _sender(visitor: Visitor, *, linked: bool) -> Sender:
    """Phone and email go with the message until the visitor has a contact; after that ``introduce`` links."""
    name = visitor.name or f"Web visitor {visitor.id[:6]}"
    if linked:
        return Sender(name, external_kind=IdentityKind.VISITOR, external_id=visitor.id)
    return Sender(name, visitor.phone, visitor.email, IdentityKind.VISITOR, visitor.id)


def file_url(uploaded: UploadedFile) -> str:
    return f"/webchat/{uploaded.channel_id}/files/{uploaded.sha256}"


async def visitor_history(
    services: Services, visitor_id: str, channel_id: int, after_id: int | None, limit: int = HISTORY_LIMIT
) -> list[VisitorMessage]:
    async with services.uow(read_only=True) as uow:
        return await uow.webchat.history(visitor_id, channel_id, after_id, limit)


async def visitor_message(services: Services, message_id: int) -> VisitorMessage | None:
    async with services.uow(read_only=True) as uow:
        return await uow.webchat.message(message_id)


async def record_receipts(
    services: Services, visitor_id: str, message_ids: Sequence[int], status: DeliveryStatus
) -> list[int]:
    """The widget got (``delivered``) or showed (``read``) operators' messages; statuses only move forward."""
    if status not in (DeliveryStatus.DELIVERED, DeliveryStatus.READ):
        raise InvalidInput("status must be delivered or read", field="status")
    if len(message_ids) > RECEIPTS_LIMIT:
        raise InvalidInput(f"at most {RECEIPTS_LIMIT} ids a receipt", field="ids")
    now = services.clock.now()
    changed = []
    async with services.uow() as uow:
        for message in await uow.webchat.visitor_messages(visitor_id, message_ids):
            if message.direction is not Direction.OUT or message.delivery_status is DeliveryStatus.FAILED:
                continue
            if ORDER[status] <= ORDER.get(message.delivery_status, 0):
                continue
            await uow.messages.set_delivery(message.id, status, None)
            uow.emit(MessageStatusChanged(message.id, message.conversation_id, status.value), now)
            changed.append(message.id)
        await uow.commit()
    return changed


# --- rating at close ------------------------------------------------------------------------------------------


async def rate_conversation(
    services: Services, visitor_id: str, conversation_id: int, score: object, comment: object
) -> Rating:
    """Once per closed conversation the visitor took part in: stored, on the timeline, announced."""
    try:
        checked_score, checked_comment = check_rating(score, comment)
    except DomainError as error:
        raise InvalidInput(error.detail, field=error.field) from error
    now = services.clock.now()
    async with services.uow() as uow:
        conversation = await uow.conversations.get(conversation_id)
        sessions = await uow.webchat.sessions(visitor_id, conversation.channel_id) if conversation else []
        if conversation is None or all(s.conversation_id != conversation_id for s in sessions):
            raise NotFound(f"conversation {conversation_id} does not exist", field="conversation_id")
        if conversation.status is not ConversationStatus.CLOSED:
            raise StateConflict("a conversation is rated when it is closed", field="conversation_id")
        if await uow.webchat.rating(conversation_id) is not None:
            raise StateConflict("this conversation is already rated", field="conversation_id")
        rating = Rating(conversation_id, checked_score, checked_comment, conversation.assignee_id, visitor_id, now)
        await uow.webchat.add_rating(rating)
        summary = f"rating {checked_score}/5" + (f": {checked_comment}" if checked_comment else "")
        await uow.timeline.add(
            conversation.contact_id, "rating", conversation_id, now, summary, conversation_id, ChannelKind.WEBCHAT
        )
        uow.emit(ConversationRated(conversation_id, conversation.line_id, conversation.assignee_id, checked_score), now)
        await uow.commit()
    return rating


# --- files ----------------------------------------------------------------------------------------------------


async def store_file(
    services: Services,
    files: FileStore,
    channel_id: int,
    visitor_id: str,
    data: bytes,
    content_type: str,
    name: str | None,
    server_limit: int,
) -> UploadedFile:
    """An attachment the visitor will send: checked against the channel's size and type limits, then stored."""
    now = services.clock.now()
    async with services.uow(read_only=True) as uow:
        _, _, settings = await _webchat_channel(services, uow, channel_id, now)
    try:
        media = check_file(settings, content_type, len(data), data[:16], min(settings.max_file_bytes, server_limit))
    except FileRefused as error:
        kind = FileTooLarge if error.status == 413 else UnsupportedFile
        raise kind(error.detail, field="file") from error
    stored = await asyncio.to_thread(files.put, data, media, safe_file_name(name))
    uploaded = UploadedFile(channel_id, visitor_id, stored.sha256, stored.name, media, stored.size, now)
    async with services.uow() as uow:
        await uow.webchat.add_visitor(visitor_id, channel_id, now)
        await uow.webchat.add_file(uploaded)
        await uow.commit()
    return uploaded


async def find_file(services: Services, channel_id: int, sha256: str) -> UploadedFile:
    """A visitor's upload in this chat, or a file an operator sent in it."""
    async with services.uow(read_only=True) as uow:
        found = await uow.webchat.file(channel_id, sha256.lower())
        if found is None:
            sent = await uow.uploads.sent_in_channel(channel_id, sha256.lower())
            if sent is not None:
                found = UploadedFile(
                    channel_id, "", sent.sha256, sent.name, sent.content_type, sent.size, sent.created_at
                )
    if found is None:
        raise NotFound(f"file {sha256} does not exist", field="sha256")
    return found


# --- typing notices (live only) -------------------------------------------------------------------------------


async def visitor_typing(services: Services, bus: Bus, visitor_id: str, conversation_id: int) -> bool:
    """Tell the desk the visitor is typing in their open conversation; False when there is nobody to tell."""
    async with services.uow(read_only=True) as uow:
        conversation = await uow.conversations.get(conversation_id)
        sessions = await uow.webchat.sessions(visitor_id, conversation.channel_id) if conversation else []
    if conversation is None or conversation.status is ConversationStatus.CLOSED:
        return False
    if all(s.conversation_id != conversation_id for s in sessions):
        return False
    payload: dict[str, object] = {
        "conversation_id": conversation.id,
        "line_id": conversation.line_id,
        "assignee_id": conversation.assignee_id,
    }
    return await _announce(bus, VISITOR_TYPING, services.clock.now(), payload)


async def operator_typing(services: Services, bus: Bus, principal: Principal, conversation_id: int) -> bool:
    """The operator handling a web chat conversation is typing: the visitor's widget shows it."""
    require_role(principal, Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)
    async with services.uow(read_only=True) as uow:
        conversation = await uow.conversations.get(conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} does not exist")
        await check_reads(uow, principal, conversation)
        require_handles(principal, conversation)
    if conversation.status is ConversationStatus.CLOSED:
        raise StateConflict("the conversation is closed", field="status")
    payload: dict[str, object] = {"conversation_id": conversation.id, "operator_id": principal.user_id}
    return await _announce(bus, OPERATOR_TYPING, services.clock.now(), payload)


async def _announce(bus: Bus, name: str, now: datetime, payload: dict[str, object]) -> bool:
    """Best effort: a typing notice lost to a broker hiccup is not worth a retry."""
    try:
        await bus.publish([Envelope(0, name, now, payload)])
    except BusUnavailable:
        return False
    return True


async def first_webchat_channel(services: Services) -> int | None:
    """The demo page's chat: the first active web chat channel, if any."""
    async with services.uow(read_only=True) as uow:
        channels = await uow.channels.list()
    return next(
        (c.id for c in sorted(channels, key=lambda c: c.id) if c.kind is ChannelKind.WEBCHAT and c.active), None
    )
