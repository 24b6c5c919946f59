"""routing: offers, operator presence, queue times

Revision ID: 0002_routing
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_routing"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("status_reason", sa.String(200), nullable=False, server_default=sa.text("''")))
        batch.add_column(sa.Column("status_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("logged_in", sa.Boolean(), nullable=False, server_default=sa.text("false")))
        batch.add_column(sa.Column("missed_offers", sa.Integer(), nullable=False, server_default=sa.text("0")))
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "offers",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("operator_id", ID, nullable=False),
        sa.Column("line_id", ID, nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], name=op.f("fk_offers_conversation_id_conversations")
        ),
        sa.ForeignKeyConstraint(["line_id"], ["lines.id"], name=op.f("fk_offers_line_id_lines")),
        sa.ForeignKeyConstraint(["operator_id"], ["users.id"], name=op.f("fk_offers_operator_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
    )
    op.create_index(op.f("ix_offers_conversation_id_state"), "offers", ["conversation_id", "state"])
    op.create_index(op.f("ix_offers_operator_id_state"), "offers", ["operator_id", "state"])


def downgrade() -> None:
    op.drop_index(op.f("ix_offers_operator_id_state"), table_name="offers")
    op.drop_index(op.f("ix_offers_conversation_id_state"), table_name="offers")
    op.drop_table("offers")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("assigned_at")
        batch.drop_column("queued_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("missed_offers")
        batch.drop_column("logged_in")
        batch.drop_column("status_since")
        batch.drop_column("status_reason")
