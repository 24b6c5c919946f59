"""The schema: one set of tables for SQLite and PostgreSQL (SQLAlchemy Core, no ORM callbacks)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from switchboard.adapters.storage.columns import Id, Json, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _source_columns() -> list[Column[object]]:
    """Attribution of a conversation or lead: what channel reports are built on."""
    return [
        Column("source_channel_id", Id, nullable=True),
        Column("source_line_id", Id, nullable=True),
        Column("utm_source", String(200)),
        Column("utm_medium", String(200)),
        Column("utm_campaign", String(200)),
        Column("utm_term", String(200)),
        Column("utm_content", String(200)),
        Column("referrer", String(2000)),
        Column("landing_page", String(2000)),
        Column("dialled_number", String(32)),
    ]


def _profile_columns() -> list[Column[object]]:
    """A contact's profile (0004_contacts): name parts, birth date, address, consents, tags, custom fields."""
    return [
        Column("first_name", String(100)),
        Column("middle_name", String(100)),
        Column("last_name", String(100)),
        Column("birth_date", Date),
        Column("company_name", String(300)),
        Column("city", String(100)),
        Column("address", String(300)),
        Column("region", String(100)),
        Column("postal_code", String(20)),
        Column("country", String(100)),
        Column("preferred_channel", String(20)),
        Column("marketing_consent", Boolean),
        Column("marketing_consent_at", UTCDateTime),
        Column("processing_consent", Boolean),
        Column("processing_consent_at", UTCDateTime),
        Column("tags", Json, nullable=False, server_default=text("'[]'")),
        Column("external_id", String(255), unique=True),  # the id in the system it was imported from
        Column("custom_fields", Json, nullable=False, server_default=text("'{}'")),
        Column("match_name", String(200), nullable=False, server_default=text("''")),  # the matcher's name key
        Column("merged_into_id", Id, ForeignKey("contacts.id"), nullable=True, index=True),
    ]


users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("login", String(100), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("email", String(254)),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(200)),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("skills", Json, nullable=False),
    Column("capacity", Json, nullable=False),
    Column("max_total", Integer, nullable=False, server_default=text("10")),
    Column("status", String(40), nullable=False, server_default=text("'offline'")),
    Column("status_reason", String(200), nullable=False, server_default=text("''")),
    Column("status_since", UTCDateTime),
    Column("logged_in", Boolean, nullable=False, server_default=text("false")),
    Column("missed_offers", Integer, nullable=False, server_default=text("0")),
    Column("created_at", UTCDateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("user_id", Id, ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

companies = Table(
    "companies",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(300), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("search_name", String(200), nullable=False),  # case-folded, ё→е: the same search on both databases
    Column("tier", String(20), nullable=False, server_default=text("'regular'")),
    Column("company_id", Id, ForeignKey("companies.id"), nullable=True),
    Column("time_zone", String(64)),
    Column("responsible_operator_id", Id, ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    *_profile_columns(),
    Index(None, "search_name"),
    Index(None, "match_name"),
    Index(None, "birth_date"),
)

identities = Table(
    "identities",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("value", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("kind", "value"),
)

lines = Table(
    "lines",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("time_zone", String(64), nullable=False),
    Column("create_lead_for_new_contact", Boolean, nullable=False),
    Column("reopen_window_seconds", Integer, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("routing", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

line_operators = Table(
    "line_operators",
    metadata,
    Column("line_id", Id, ForeignKey("lines.id"), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id"), primary_key=True),
    Column("position", Integer, nullable=False),
)

channels = Table(
    "channels",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("name", String(200), nullable=False, unique=True),
    Column("line_id", Id, ForeignKey("lines.id"), nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("settings", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("secrets", Text),  # sealed with the secret key (adapters/security/secrets.py); never logged
    Column("last_success_at", UTCDateTime),
    Column("last_error_at", UTCDateTime),
    Column("last_error", String(1000)),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False),
    Column("line_id", Id, ForeignKey("lines.id"), nullable=False),
    Column("channel_id", Id, ForeignKey("channels.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("assignee_id", Id, ForeignKey("users.id"), nullable=True),
    Column("subject", String(300)),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("last_message_at", UTCDateTime, nullable=False),
    Column("queued_at", UTCDateTime),  # entered its line's queue (routing age; kept across offers)
    Column("assigned_at", UTCDateTime),
    *_source_columns(),
    Index(None, "contact_id", "channel_id", "status"),
    Index(None, "status", "line_id"),
    Index(None, "assignee_id", "status"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False),
    Column("channel_id", Id, ForeignKey("channels.id"), nullable=False),
    Column("direction", String(3), nullable=False),  # in | out
    Column("author_kind", String(10), nullable=False),  # contact | operator | system
    Column("author_id", Id, nullable=True),
    Column("body", Text, nullable=False),
    Column("attachments", Json, nullable=False),
    Column("external_id", String(255)),
    Column("delivery_status", String(20), nullable=False),
    Column("error", String(1000)),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("channel_id", "external_id"),
    Index(None, "conversation_id", "id"),
)

deliveries = Table(
    "deliveries",  # the durable queue of replies waiting for their connector (application/outbound.py)
    metadata,
    Column("message_id", Id, ForeignKey("messages.id"), primary_key=True, autoincrement=False),
    Column("channel_id", Id, ForeignKey("channels.id"), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UTCDateTime, nullable=False, index=True),
    Column("lease_until", UTCDateTime),
    Column("template", Json),
    Column("last_error", String(1000)),
    Column("created_at", UTCDateTime, nullable=False),
)

notices = Table(
    "notices",  # the durable queue of what an integration is told besides replies (application/notices.py)
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", Id, nullable=False),  # the outbox event told of: one notice per event and channel
    Column("channel_id", Id, ForeignKey("channels.id"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("document", Json, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UTCDateTime, nullable=False, index=True),
    Column("lease_until", UTCDateTime),
    Column("last_error", String(1000)),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("event_id", "channel_id"),
)

offers = Table(
    "offers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False),
    Column("operator_id", Id, ForeignKey("users.id"), nullable=False),
    Column("line_id", Id, ForeignKey("lines.id"), nullable=False),
    Column("round", Integer, nullable=False),  # the engine's offer number: timer key offer:<conversation>:<round>
    Column("state", String(12), nullable=False),  # open | accepted | declined | expired | withdrawn
    Column("offered_at", UTCDateTime, nullable=False),
    Column("deadline", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime),
    Index(None, "conversation_id", "state"),
    Index(None, "operator_id", "state"),
)

leads = Table(
    "leads",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False, index=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=True),
    Column("title", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("automatic", Boolean, nullable=False),
    Column("created_by", Id, ForeignKey("users.id"), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    *_source_columns(),
)

timeline = Table(
    "timeline",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=False),
    Column("kind", String(30), nullable=False),  # message | lead | conversation_opened | ...
    Column("ref_id", Id, nullable=False),
    Column("conversation_id", Id, nullable=True),
    Column("channel_kind", String(20)),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("summary", String(500), nullable=False),
    Index(None, "contact_id", "id"),
    Index(None, "contact_id", "channel_kind", "id"),  # the timeline filtered by channel (0007_perf)
)

notes = Table(
    "notes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False),
    Column("author_id", Id, ForeignKey("users.id"), nullable=True),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "conversation_id", "id"),
)

operator_uploads = Table(
    "operator_uploads",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=False),
    Column("owner_id", Id, ForeignKey("users.id"), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Id, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("message_id", Id, ForeignKey("messages.id"), nullable=True),
    Index(None, "sha256"),
)

canned_responses = Table(
    "canned_responses",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("shortcut", String(40), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(60), nullable=False),
    Column("payload", Json, nullable=False),
    Column("conversation_id", Id, nullable=True),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("published_at", UTCDateTime),
    Column("sequence", Id, nullable=True),  # publish order, given by the relay (websocket resume reads it)
    Index(
        "ix_outbox_unpublished",
        "id",
        postgresql_where=text("published_at IS NULL"),
        sqlite_where=text("published_at IS NULL"),
    ),
    Index("ix_outbox_sequence", "sequence", unique=True),
)

processed_events = Table(
    "processed_events",
    metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", Id, primary_key=True),
    Column("processed_at", UTCDateTime, nullable=False),
)

timers = Table(
    "timers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("kind", String(60), nullable=False),
    Column("due_at", UTCDateTime, nullable=False, index=True),
    Column("payload", Json, nullable=False),
    Column("claimed_until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_user_id", Id, nullable=True),
    Column("actor_token_id", Id, nullable=True),
    Column("action", String(100), nullable=False),
    Column("entity", String(50), nullable=False),
    Column("entity_id", Id, nullable=True),
    Column("detail", Json, nullable=False),
    Column("request_id", String(64)),
)

# --- web chat (migration 0006_webchat) ---------------------------------------------------------------------

webchat_visitors = Table(
    "webchat_visitors",
    metadata,
    Column("id", String(40), primary_key=True),  # the random id in the visitor's signed cookie
    Column("channel_id", Id, ForeignKey("channels.id"), nullable=False),  # where they first came
    Column("name", String(200)),  # what the pre-chat form gave (phone E.164, email normalized)
    Column("phone", String(32)),
    Column("email", String(254)),
    Column("consent_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
)

webchat_sessions = Table(
    "webchat_sessions",
    metadata,
    Column("visitor_id", String(40), ForeignKey("webchat_visitors.id"), primary_key=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), primary_key=True),
    Column("first_message_id", Id, nullable=False),  # the visitor sees the conversation from here on
    Column("joined_at", UTCDateTime, nullable=False),
    Index(None, "conversation_id"),
)

webchat_files = Table(
    "webchat_files",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("channel_id", Id, ForeignKey("channels.id"), nullable=False),
    Column("visitor_id", String(40), ForeignKey("webchat_visitors.id"), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Id, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "sha256"),
)

conversation_ratings = Table(
    "conversation_ratings",
    metadata,
    Column("conversation_id", Id, ForeignKey("conversations.id"), primary_key=True),
    Column("score", Integer, nullable=False),
    Column("comment", String(2000), nullable=False),
    Column("operator_id", Id, nullable=True),  # who handled the conversation when it closed
    Column("visitor_id", String(40), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

merges = Table(
    "merges",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("survivor_id", Id, ForeignKey("contacts.id"), nullable=False, index=True),
    Column("duplicate_id", Id, ForeignKey("contacts.id"), nullable=False, index=True),
    Column("merged_at", UTCDateTime, nullable=False),
    Column("merged_by", Id, nullable=True),
    Column("survivor_before", Json, nullable=False),  # the survivor's fields the merge changed, as they were
    Column("survivor_after", Json, nullable=False),  # the same fields as the merge wrote them
    Column("duplicate_before", Json, nullable=False),  # the duplicate's fields the merge cleared
    Column("moved", Json, nullable=False),  # table -> ids of the rows moved from the duplicate to the survivor
    Column("taken", Json, nullable=False),  # field -> survivor | duplicate
    Column("undone_at", UTCDateTime),
    Column("undone_by", Id, nullable=True),
)

merge_suggestions = Table(
    "merge_suggestions",
    metadata,
    Column("a_id", Id, ForeignKey("contacts.id"), primary_key=True),
    Column("b_id", Id, ForeignKey("contacts.id"), primary_key=True, index=True),
    Column("score", Float, nullable=False),
    Column("reasons", Json, nullable=False),
    Column("found_at", UTCDateTime, nullable=False),
    Index(None, "score"),
)

calls = Table(
    "calls",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("channel_id", Id, ForeignKey("channels.id"), nullable=False),
    Column("pbx_call_id", String(128), nullable=False),
    Column("direction", String(3), nullable=False),  # in | out
    Column("ani", String(64), nullable=False),
    Column("dnis", String(64), nullable=False),
    Column("status", String(12), nullable=False),  # ivr | queued | ringing | talking | voicemail | dialing | ended
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=True),
    Column("conversation_id", Id, ForeignKey("conversations.id"), nullable=True),
    Column("line_id", Id, ForeignKey("lines.id"), nullable=True),
    Column("operator_id", Id, ForeignKey("users.id"), nullable=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("queued_at", UTCDateTime),
    Column("offered_at", UTCDateTime),
    Column("answered_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Column("disposition", String(12)),  # answered | abandoned | missed | voicemail | ivr
    Column("end_reason", String(40)),
    Column("timed_out", Boolean, nullable=False, server_default=text("false")),
    Column("wait_s", Float),
    Column("talk_s", Float),
    Column("after_work_s", Float),
    Column("missed_offers", Integer, nullable=False, server_default=text("0")),
    Column("recording_url", String(2000)),
    Column("ivr_path", Json, nullable=False),
    Column("walk", Json),
    Column("step_no", Integer, nullable=False, server_default=text("0")),
    Column("step", Json),
    Column("transferred_to", String(200)),
    Column("expires_at", UTCDateTime),  # a live call nobody heard of since is closed by the sweep
    Column("language", String(16), nullable=False, server_default=text("''")),
    Column("announced_at", UTCDateTime),
    Column("callback_id", Id, nullable=True),
    UniqueConstraint("channel_id", "pbx_call_id"),
    Index(None, "contact_id", "id"),
    Index(None, "conversation_id"),
    Index(None, "expires_at"),
)

call_events = Table(
    "call_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("channel_id", Id, ForeignKey("channels.id"), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("call_id", Id, ForeignKey("calls.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("applied", Boolean, nullable=False),
    Column("payload", Json, nullable=False),
    UniqueConstraint("channel_id", "event_id"),
    Index(None, "call_id"),
)

callbacks = Table(
    "callbacks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("line_id", Id, ForeignKey("lines.id"), nullable=False),
    Column("channel_id", Id, ForeignKey("channels.id"), nullable=True),
    Column("contact_id", Id, ForeignKey("contacts.id"), nullable=True),
    Column("number", String(32), nullable=False),
    Column("reason", String(20), nullable=False),
    Column("status", String(12), nullable=False),  # open | calling | done | cancelled
    Column("call_id", Id, nullable=True),  # the call that asked for it
    Column("conversation_id", Id, nullable=True),
    Column("assignee_id", Id, ForeignKey("users.id"), nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("note", String(500), nullable=False, server_default=text("''")),
    Column("due_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime),
    Index(None, "status", "line_id", "due_at"),
    Index(None, "number", "status"),
)
