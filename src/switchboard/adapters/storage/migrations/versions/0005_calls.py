"""calls: call records, the PBX's events (idempotent by event id), callback tasks

Revision ID: 0005_calls
Revises: 0006_webchat
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005_calls"
down_revision = "0006_webchat"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(JSONB(), "postgresql")
WHEN = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("pbx_call_id", sa.String(128), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("ani", sa.String(64), nullable=False),
        sa.Column("dnis", sa.String(64), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("contact_id", ID, nullable=True),
        sa.Column("conversation_id", ID, nullable=True),
        sa.Column("line_id", ID, nullable=True),
        sa.Column("operator_id", ID, nullable=True),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("queued_at", WHEN, nullable=True),
        sa.Column("offered_at", WHEN, nullable=True),
        sa.Column("answered_at", WHEN, nullable=True),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.Column("disposition", sa.String(12), nullable=True),
        sa.Column("end_reason", sa.String(40), nullable=True),
        sa.Column("timed_out", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("wait_s", sa.Float(), nullable=True),
        sa.Column("talk_s", sa.Float(), nullable=True),
        sa.Column("after_work_s", sa.Float(), nullable=True),
        sa.Column("missed_offers", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("recording_url", sa.String(2000), nullable=True),
        sa.Column("ivr_path", JSON, nullable=False),
        sa.Column("walk", JSON, nullable=True),
        sa.Column("step_no", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("step", JSON, nullable=True),
        sa.Column("transferred_to", sa.String(200), nullable=True),
        sa.Column("expires_at", WHEN, nullable=True),
        sa.Column("language", sa.String(16), nullable=False, server_default=sa.text("''")),
        sa.Column("announced_at", WHEN, nullable=True),
        sa.Column("callback_id", ID, nullable=True),
        _fk("calls", "channel_id", "channels"),
        _fk("calls", "contact_id", "contacts"),
        _fk("calls", "conversation_id", "conversations"),
        _fk("calls", "line_id", "lines"),
        _fk("calls", "operator_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("channel_id", "pbx_call_id", name=op.f("uq_calls_channel_id_pbx_call_id")),
    )
    op.create_index(op.f("ix_calls_contact_id_id"), "calls", ["contact_id", "id"])
    op.create_index(op.f("ix_calls_conversation_id"), "calls", ["conversation_id"])
    op.create_index(op.f("ix_calls_expires_at"), "calls", ["expires_at"])
    op.create_table(
        "call_events",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("call_id", ID, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("occurred_at", WHEN, nullable=False),
        sa.Column("received_at", WHEN, nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        _fk("call_events", "channel_id", "channels"),
        _fk("call_events", "call_id", "calls"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_events")),
        sa.UniqueConstraint("channel_id", "event_id", name=op.f("uq_call_events_channel_id_event_id")),
    )
    op.create_index(op.f("ix_call_events_call_id"), "call_events", ["call_id"])
    op.create_table(
        "callbacks",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("line_id", ID, nullable=False),
        sa.Column("channel_id", ID, nullable=True),
        sa.Column("contact_id", ID, nullable=True),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("call_id", ID, nullable=True),
        sa.Column("conversation_id", ID, nullable=True),
        sa.Column("assignee_id", ID, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("note", sa.String(500), nullable=False, server_default=sa.text("''")),
        sa.Column("due_at", WHEN, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("done_at", WHEN, nullable=True),
        _fk("callbacks", "line_id", "lines"),
        _fk("callbacks", "channel_id", "channels"),
        _fk("callbacks", "contact_id", "contacts"),
        _fk("callbacks", "assignee_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
    )
    op.create_index(op.f("ix_callbacks_status_line_id_due_at"), "callbacks", ["status", "line_id", "due_at"])
    op.create_index(op.f("ix_callbacks_number_status"), "callbacks", ["number", "status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_callbacks_number_status"), table_name="callbacks")
    op.drop_index(op.f("ix_callbacks_status_line_id_due_at"), table_name="callbacks")
    op.drop_table("callbacks")
    op.drop_index(op.f("ix_call_events_call_id"), table_name="call_events")
    op.drop_table("call_events")
    op.drop_index(op.f("ix_calls_expires_at"), table_name="calls")
    op.drop_index(op.f("ix_calls_conversation_id"), table_name="calls")
    op.drop_index(op.f("ix_calls_contact_id_id"), table_name="calls")
    op.drop_table("calls")
