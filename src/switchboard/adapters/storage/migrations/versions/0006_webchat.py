"""webchat: visitors, the conversations each visitor sees, uploaded files, ratings at close

Revision ID: 0006_webchat
Revises: 0004_contacts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_webchat"
down_revision = "0004_contacts"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webchat_visitors",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("phone", sa.String(32), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("consent_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("seen_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], name=op.f("fk_webchat_visitors_channel_id_channels")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webchat_visitors")),
    )
    op.create_table(
        "webchat_sessions",
        sa.Column("visitor_id", sa.String(40), nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("first_message_id", ID, nullable=False),
        sa.Column("joined_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["visitor_id"], ["webchat_visitors.id"], name=op.f("fk_webchat_sessions_visitor_id_webchat_visitors")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], name=op.f("fk_webchat_sessions_conversation_id_conversations")
        ),
        sa.PrimaryKeyConstraint("visitor_id", "conversation_id", name=op.f("pk_webchat_sessions")),
    )
    op.create_index(op.f("ix_webchat_sessions_conversation_id"), "webchat_sessions", ["conversation_id"])
    op.create_table(
        "webchat_files",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("visitor_id", sa.String(40), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", ID, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], name=op.f("fk_webchat_files_channel_id_channels")),
        sa.ForeignKeyConstraint(
            ["visitor_id"], ["webchat_visitors.id"], name=op.f("fk_webchat_files_visitor_id_webchat_visitors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webchat_files")),
    )
    op.create_index(op.f("ix_webchat_files_sha256"), "webchat_files", ["sha256"])
    op.create_table(
        "conversation_ratings",
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(2000), nullable=False),
        sa.Column("operator_id", ID, nullable=True),
        sa.Column("visitor_id", sa.String(40), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_ratings_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_ratings")),
    )


def downgrade() -> None:
    op.drop_table("conversation_ratings")
    op.drop_index(op.f("ix_webchat_files_sha256"), table_name="webchat_files")
    op.drop_table("webchat_files")
    op.drop_index(op.f("ix_webchat_sessions_conversation_id"), table_name="webchat_sessions")
    op.drop_table("webchat_sessions")
    op.drop_table("webchat_visitors")
