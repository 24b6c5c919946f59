"""The API's request and response shapes (pydantic v2), mapped from domain records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from switchboard.application.channels import ChannelView
from switchboard.application.contact_import import ImportReport
from switchboard.domain.channels import ChannelKind
from switchboard.domain.contacts import Consent, Contact, ContactTier
from switchboard.domain.conversation import Conversation, ConversationStatus, Message
from switchboard.domain.identity import IdentityKind
from switchboard.domain.leads import Lead, LeadStatus
from switchboard.domain.lines import Line
from switchboard.domain.matching import Reason
from switchboard.domain.merge import Side
from switchboard.domain.operators import Role, User
from switchboard.domain.source import Source
from switchboard.domain.timeline import TimelineEntry
from switchboard.domain.voice.settings import masked

MAX_ID = 2**63 - 1  # the databases' 64-bit ids: larger numbers are refused as input, not sent to a driver
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- auth ---------------------------------------------------------------------------------------


class LoginIn(Strict):
    login: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class UserOut(BaseModel):
    id: int
    login: str
    name: str
    role: Role
    active: bool
    email: str | None
    skills: dict[str, int]
    capacity: dict[str, int]
    max_total: int
    status: str
    missed_offers: int = Field(0, description="offers let expire in a row (reset by an accept or going available)")

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            login=user.login,
            name=user.name,
            role=user.role,
            active=user.active,
            email=user.email,
            skills=user.skills,
            capacity=user.capacity,
            max_total=user.max_total,
            status=user.status,
            missed_offers=user.missed_offers,
        )


class LoginOut(BaseModel):
    token: str
    token_type: str = "bearer"  # noqa: S105 - the scheme name
    user: UserOut


class TokenIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    role: Role = Role.INTEGRATION
    user_id: BodyId | None = None


class TokenOut(BaseModel):
    id: int
    name: str
    role: Role
    token: str = Field(description="shown once; only its hash is kept")


# --- the API channel ------------------------------------------------------------------------------


class SenderIn(Strict):
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=254)
    external_id: str | None = Field(default=None, max_length=255)
    external_kind: IdentityKind | None = Field(
        default=None, description="what the external id is (telegram, vk, …); 'external' when omitted"
    )


class AttachmentIn(Strict):
    name: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=3, max_length=127, pattern=r"^[\w.+-]+/[\w.+-]+$")
    size: int = Field(ge=0, le=104_857_600)
    url: str | None = Field(default=None, max_length=2000)


class SourceIn(Strict):
    utm_source: str | None = Field(default=None, max_length=200)
    utm_medium: str | None = Field(default=None, max_length=200)
    utm_campaign: str | None = Field(default=None, max_length=200)
    utm_term: str | None = Field(default=None, max_length=200)
    utm_content: str | None = Field(default=None, max_length=200)
    referrer: str | None = Field(default=None, max_length=2000)
    landing_page: str | None = Field(default=None, max_length=2000)
    dialled_number: str | None = Field(default=None, max_length=32)

    def to_domain(self) -> Source:
        return Source(None, None, **self.model_dump())


class InboundIn(Strict):
    channel_id: BodyId
    external_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="the sender system's message id; a repeat is answered, not stored",
    )
    sender: SenderIn
    text: str = Field(default="", max_length=64_000)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)
    source: SourceIn = Field(default_factory=SourceIn)
    language: str | None = Field(default=None, min_length=2, max_length=16, description="e.g. ru, en (split rules)")


class InboundStatusIn(Strict):
    channel_id: BodyId
    message_id: BodyId | None = Field(default=None, description="our message id, as in the push")
    external_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="your id for the message, if your answer gave one"
    )
    status: Literal["sent", "delivered", "read", "failed"]
    error: str | None = Field(default=None, max_length=1000, description="why it failed (with status failed)")


class InboundOut(BaseModel):
    contact_id: int
    conversation_id: int
    message_id: int
    contact_created: bool
    conversation_opened: bool
    lead_id: int | None
    lead_created: bool


# --- contacts ---------------------------------------------------------------------------------------


class IdentityOut(BaseModel):
    kind: IdentityKind
    value: str


class ConsentOut(BaseModel):
    granted: bool
    at: datetime


class ConsentIn(Strict):
    granted: bool
    at: datetime | None = Field(default=None, description="when the customer answered; now when omitted")


CustomFields = dict[str, str | int | float | bool | None]


class ContactOut(BaseModel):
    id: int
    name: str
    tier: ContactTier
    company_id: int | None
    time_zone: str | None
    responsible_operator_id: int | None
    identities: list[IdentityOut]
    first_name: str | None
    middle_name: str | None
    last_name: str | None
    birth_date: date | None
    company_name: str | None
    city: str | None
    address: str | None
    region: str | None
    postal_code: str | None
    country: str | None
    preferred_channel: ChannelKind | None
    marketing_consent: ConsentOut | None
    processing_consent: ConsentOut | None
    tags: list[str]
    external_id: str | None
    custom_fields: dict[str, str | int | float | bool]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, c: Contact) -> ContactOut:
        def consent(value: Consent | None) -> ConsentOut | None:
            return ConsentOut(granted=value.granted, at=value.at) if value else None

        return cls(
            id=c.id,
            name=c.name,
            tier=c.tier,
            company_id=c.company_id,
            time_zone=c.time_zone,
            responsible_operator_id=c.responsible_operator_id,
            identities=[IdentityOut(kind=i.kind, value=i.value) for i in c.identities],
            first_name=c.first_name,
            middle_name=c.middle_name,
            last_name=c.last_name,
            birth_date=c.birth_date,
            company_name=c.company_name,
            city=c.city,
            address=c.address,
            region=c.region,
            postal_code=c.postal_code,
            country=c.country,
            preferred_channel=c.preferred_channel,
            marketing_consent=consent(c.marketing_consent),
            processing_consent=consent(c.processing_consent),
            tags=list(c.tags),
            external_id=c.external_id,
            custom_fields=c.custom_fields,
            created_at=c.created_at,
            updated_at=c.updated_at,
        )


class IdentityIn(Strict):
    kind: IdentityKind
    value: str = Field(min_length=1, max_length=255)


class ProfileIn(Strict):
    """The profile fields a card edit or a new contact may set (each optional; null clears it)."""

    first_name: str | None = Field(default=None, max_length=100)
    middle_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    birth_date: date | None = None
    company_name: str | None = Field(default=None, max_length=300)
    city: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=100)
    time_zone: str | None = Field(default=None, max_length=64)
    preferred_channel: ChannelKind | None = None
    marketing_consent: ConsentIn | None = None
    processing_consent: ConsentIn | None = None
    tags: list[str] | None = Field(default=None, max_length=50, description="replaces the tags")
    external_id: str | None = Field(default=None, max_length=255, description="unique among contacts")
    custom_fields: CustomFields | None = Field(
        default=None, description="merged into the contact's custom fields; a null value removes that field"
    )
    responsible_operator_id: BodyId | None = None

    def profile(self) -> dict[str, object]:
        """The fields the client sent, consents as plain ``{granted, at}``."""
        return self.model_dump(exclude_unset=True)


class ContactIn(ProfileIn):
    name: str = Field(min_length=1, max_length=200)
    tier: ContactTier = ContactTier.REGULAR
    identities: list[IdentityIn] = Field(default_factory=list, max_length=50)

    def profile(self) -> dict[str, object]:
        return self.model_dump(exclude_unset=True, exclude={"name", "tier", "identities"})


class ContactPatch(ProfileIn):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    tier: ContactTier | None = None


class TimelineEntryOut(BaseModel):
    id: int
    kind: str
    ref_id: int
    conversation_id: int | None
    channel: str | None
    occurred_at: datetime
    summary: str

    @classmethod
    def of(cls, e: TimelineEntry) -> TimelineEntryOut:
        return cls(
            id=e.id,
            kind=e.kind,
            ref_id=e.ref_id,
            conversation_id=e.conversation_id,
            channel=e.channel_kind,
            occurred_at=e.occurred_at,
            summary=e.summary,
        )


class TimelinePage(BaseModel):
    items: list[TimelineEntryOut]
    next_before_id: int | None = Field(description="pass as before_id for the next (older) page")


# --- conversations ------------------------------------------------------------------------------------


class SourceOut(SourceIn):
    model_config = ConfigDict(extra="ignore")
    channel_id: int | None = None
    line_id: int | None = None

    @classmethod
    def of(cls, s: Source) -> SourceOut:
        return cls(
            channel_id=s.channel_id,
            line_id=s.line_id,
            utm_source=s.utm_source,
            utm_medium=s.utm_medium,
            utm_campaign=s.utm_campaign,
            utm_term=s.utm_term,
            utm_content=s.utm_content,
            referrer=s.referrer,
            landing_page=s.landing_page,
            dialled_number=s.dialled_number,
        )


class ConversationOut(BaseModel):
    id: int
    contact_id: int
    line_id: BodyId
    channel_id: BodyId
    status: ConversationStatus
    assignee_id: int | None
    opened_at: datetime
    closed_at: datetime | None
    last_message_at: datetime
    source: SourceOut

    @classmethod
    def of(cls, c: Conversation) -> ConversationOut:
        return cls(
            id=c.id,
            contact_id=c.contact_id,
            line_id=c.line_id,
            channel_id=c.channel_id,
            status=c.status,
            assignee_id=c.assignee_id,
            opened_at=c.opened_at,
            closed_at=c.closed_at,
            last_message_at=c.last_message_at,
            source=SourceOut.of(c.source),
        )


class MessageOut(BaseModel):
    id: int
    conversation_id: int
    channel_id: BodyId
    direction: str
    author_kind: str
    author_id: int | None
    text: str
    attachments: list[dict[str, Any]]
    external_id: str | None
    delivery_status: str
    error: str | None
    created_at: datetime

    @classmethod
    def of(cls, m: Message) -> MessageOut:
        return cls(
            id=m.id,
            conversation_id=m.conversation_id,
            channel_id=m.channel_id,
            direction=m.direction,
            author_kind=m.author_kind,
            author_id=m.author_id,
            text=m.body,
            attachments=[
                {"name": a.name, "content_type": a.content_type, "size": a.size, "url": a.url} for a in m.attachments
            ],
            external_id=m.external_id,
            delivery_status=m.delivery_status,
            error=m.error,
            created_at=m.created_at,
        )


class ReplyIn(Strict):
    text: str = Field(default="", max_length=64_000)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)
    template: TemplateIn | None = Field(
        default=None, description="an approved template (WhatsApp outside its 24-hour window)"
    )
    upload_ids: list[BodyId] = Field(
        default_factory=list, max_length=20, description="files uploaded with POST .../uploads, sent with the reply"
    )
    channel_id: BodyId | None = Field(
        default=None, description="answer in another channel of the customer (see .../reply-channels)"
    )


class AssignIn(Strict):
    operator_id: BodyId


class LeadFromConversationIn(Strict):
    title: str | None = Field(default=None, max_length=200)


# --- leads ------------------------------------------------------------------------------------------------


class LeadOut(BaseModel):
    id: int
    contact_id: int
    conversation_id: int | None
    title: str
    status: LeadStatus
    automatic: bool
    created_by: int | None
    created_at: datetime
    source: SourceOut

    @classmethod
    def of(cls, lead: Lead) -> LeadOut:
        return cls(
            id=lead.id,
            contact_id=lead.contact_id,
            conversation_id=lead.conversation_id,
            title=lead.title,
            status=lead.status,
            automatic=lead.automatic,
            created_by=lead.created_by,
            created_at=lead.created_at,
            source=SourceOut.of(lead.source),
        )


class LeadPatch(Strict):
    status: LeadStatus


# --- lines, channels, operators ---------------------------------------------------------------------------


class LineIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    time_zone: str = Field(default="Europe/Moscow", max_length=64)
    create_lead_for_new_contact: bool = True
    reopen_window_seconds: int = Field(default=86_400, ge=0, le=2_592_000)
    operator_ids: list[BodyId] = Field(default_factory=list, max_length=1000)
    routing: dict[str, Any] = Field(default_factory=dict)


class LinePatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    time_zone: str | None = Field(default=None, max_length=64)
    create_lead_for_new_contact: bool | None = None
    reopen_window_seconds: int | None = Field(default=None, ge=0, le=2_592_000)
    active: bool | None = None
    operator_ids: list[BodyId] | None = Field(default=None, max_length=1000)
    routing: dict[str, Any] | None = None


class LineOut(BaseModel):
    id: int
    name: str
    time_zone: str
    create_lead_for_new_contact: bool
    reopen_window_seconds: int
    active: bool
    operator_ids: list[int]
    routing: dict[str, Any]

    @classmethod
    def of(cls, line: Line) -> LineOut:
        return cls(
            id=line.id,
            name=line.name,
            time_zone=line.time_zone,
            create_lead_for_new_contact=line.create_lead_for_new_contact,
            reopen_window_seconds=line.reopen_window_seconds,
            active=line.active,
            operator_ids=line.operator_ids,
            routing=line.routing,
        )


SecretsIn = dict[str, str | None]


class ChannelIn(Strict):
    kind: ChannelKind
    name: str = Field(min_length=1, max_length=200)
    line_id: BodyId
    settings: dict[str, Any] = Field(default_factory=dict)
    secrets: SecretsIn = Field(
        default_factory=dict, description="credentials (tokens, passwords): sealed at rest, never shown again"
    )


class ChannelPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    line_id: BodyId | None = None
    active: bool | None = None
    settings: dict[str, Any] | None = None
    secrets: SecretsIn | None = Field(default=None, description="merged into the stored secrets; null removes one")


class ChannelHealthOut(BaseModel):
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    failing: bool


class ChannelOut(BaseModel):
    id: int
    kind: ChannelKind
    name: str
    line_id: BodyId
    active: bool
    settings: dict[str, Any]
    secrets: list[str] = Field(description="names of the secrets set; their values are never shown")
    health: ChannelHealthOut
    waiting: int = Field(description="replies waiting for the provider (queued or retrying)")

    @classmethod
    def of(cls, view: ChannelView) -> ChannelOut:
        c, h = view.channel, view.channel.health
        return cls(
            id=c.id,
            kind=c.kind,
            name=c.name,
            line_id=c.line_id,
            active=c.active,
            settings=masked(c.settings),  # a call-control secret is never shown back
            secrets=list(view.secret_names),
            health=ChannelHealthOut(
                last_success_at=h.last_success_at,
                last_error_at=h.last_error_at,
                last_error=h.last_error,
                failing=h.failing,
            ),
            waiting=view.waiting,
        )


class ConnectOut(BaseModel):
    outcome: str


class TemplateIn(Strict):
    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2, max_length=15)
    parameters: list[str] = Field(default_factory=list, max_length=30)


class OperatorIn(Strict):
    login: str = Field(min_length=3, max_length=100)
    name: str = Field(min_length=1, max_length=200)
    role: Role = Role.OPERATOR
    password: str | None = Field(default=None, min_length=8, max_length=1000)
    email: str | None = Field(default=None, max_length=254)
    skills: dict[str, int] = Field(default_factory=dict)
    capacity: dict[str, int] | None = None
    max_total: int = Field(default=10, ge=1, le=200)


class OperatorPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    active: bool | None = None
    email: str | None = Field(default=None, max_length=254)
    skills: dict[str, int] | None = None
    capacity: dict[str, int] | None = None
    max_total: int | None = Field(default=None, ge=1, le=200)


# --- routing -----------------------------------------------------------------------------------------------


class StatusIn(Strict):
    status: str = Field(min_length=1, max_length=40, description="available, break, after_work or offline")
    reason: str = Field(default="", max_length=200)


class PresenceOut(BaseModel):
    operator_id: int
    status: str
    reason: str
    logged_in: bool


class OfferOut(BaseModel):
    conversation_id: int
    line_id: int
    deadline: datetime


class TransferIn(Strict):
    to_operator_id: BodyId | None = None
    to_line_id: BodyId | None = None
    note: str = Field(default="", max_length=1000)


class PositionOut(BaseModel):
    conversation_id: int
    position: int = Field(description="1 = next to be offered")
    estimated_wait_s: float | None = Field(description="None while nobody staffs the line")


# --- merges and suggestions -----------------------------------------------------------------------------------


class MergeIn(Strict):
    duplicate_id: BodyId = Field(description="the contact merged into this one; it stays as a tombstone")
    fields: dict[str, Side] = Field(
        default_factory=dict, description="field -> survivor | duplicate; other fields: newest non-empty wins"
    )


class MergeOut(BaseModel):
    merge_id: int = Field(description="POST /merges/{merge_id}/undo undoes it")
    survivor: ContactOut
    duplicate_id: int
    taken: dict[str, Side] = Field(description="which contact each field's value came from")
    moved: dict[str, int] = Field(description="rows moved to the survivor, by kind")


class UndoOut(BaseModel):
    merge_id: int
    survivor: ContactOut
    duplicate: ContactOut


class ReasonOut(BaseModel):
    field: str = Field(description="first_name, last_name, phone, email, birth_date, city, address, company …")
    similarity: float = Field(description="0 different … 1 equal")
    weight: float = Field(description="the field's share of the score")

    @classmethod
    def of(cls, reason: Reason) -> ReasonOut:
        return cls(field=reason.field, similarity=reason.similarity, weight=reason.weight)


class ContactBrief(BaseModel):
    id: int
    name: str


class SuggestionOut(BaseModel):
    contact: ContactOut
    score: float
    reasons: list[ReasonOut]


class SuggestedPairOut(BaseModel):
    a: ContactBrief
    b: ContactBrief
    score: float
    reasons: list[ReasonOut]


class SuggestedPairsPage(BaseModel):
    items: list[SuggestedPairOut]
    next_offset: int | None = Field(description="pass as offset for the next page")


# --- import ------------------------------------------------------------------------------------------------------


class RowProblemOut(BaseModel):
    field: str
    message: str


class RowOutcomeOut(BaseModel):
    line: int = Field(description="the line of the file where the row starts (0: the file after the last good row)")
    status: str = Field(description="matched or failed")
    contact_id: int | None
    fields: list[str] = Field(description="matched: what the row filled in on the contact")
    problems: list[RowProblemOut]


class ImportReportOut(BaseModel):
    rows: int
    created: int
    matched: int
    failed: int
    outcomes: list[RowOutcomeOut] = Field(description="every matched and failed row, in file order")

    @classmethod
    def of(cls, report: ImportReport) -> ImportReportOut:
        return cls(
            rows=report.rows,
            created=report.created,
            matched=report.matched,
            failed=report.failed,
            outcomes=[
                RowOutcomeOut(
                    line=o.line,
                    status=o.status,
                    contact_id=o.contact_id,
                    fields=list(o.fields),
                    problems=[RowProblemOut(field=p.field, message=p.message) for p in o.problems],
                )
                for o in report.outcomes
            ],
        )
