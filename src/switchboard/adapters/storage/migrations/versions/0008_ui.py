"""ui: internal notes on conversations and shared canned responses

Revision ID: 0008_ui
Revises: 0005_calls
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_ui"
down_revision = "0005_calls"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notes",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("author_id", ID, nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], name=op.f("fk_notes_conversation_id_conversations")
        ),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_notes_author_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )
    op.create_index(op.f("ix_notes_conversation_id_id"), "notes", ["conversation_id", "id"])
    op.create_table(
        "canned_responses",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("shortcut", sa.String(40), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_responses")),
        sa.UniqueConstraint("shortcut", name=op.f("uq_canned_responses_shortcut")),
    )


def downgrade() -> None:
    op.drop_table("canned_responses")
    op.drop_index(op.f("ix_notes_conversation_id_id"), table_name="notes")
    op.drop_table("notes")
