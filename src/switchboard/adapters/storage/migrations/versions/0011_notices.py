"""notices: a durable queue of what an API integration is told besides replies (a conversation closed)

Revision ID: 0011_notices
Revises: 0010_apichan

Replies are pushed from ``deliveries``, keyed on their message. A notice is keyed on the outbox
event it tells of, so a redelivered event adds no second one; it is claimed with a lease and
retried with backoff as a reply is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011_notices"
down_revision = "0010_apichan"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", ID, nullable=False, autoincrement=True),
        sa.Column("event_id", ID, nullable=False),
        sa.Column("channel_id", ID, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column(
            "document", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], name=op.f("fk_notices_channel_id_channels")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("event_id", "channel_id", name=op.f("uq_notices_event_id_channel_id")),
    )
    op.create_index(op.f("ix_notices_next_attempt_at"), "notices", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_notices_next_attempt_at"), table_name="notices")
    op.drop_table("notices")
