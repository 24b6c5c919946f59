"""attach: files an operator uploads for a conversation before sending them in a reply

Revision ID: 0009_attach
Revises: 0007_perf
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_attach"
down_revision = "0007_perf"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "operator_uploads",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("owner_id", ID, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], name=op.f("fk_operator_uploads_conversation_id_conversations")
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_operator_uploads_owner_id_users")),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], name=op.f("fk_operator_uploads_message_id_messages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operator_uploads")),
    )
    op.create_index(op.f("ix_operator_uploads_sha256"), "operator_uploads", ["sha256"])


def downgrade() -> None:
    op.drop_index(op.f("ix_operator_uploads_sha256"), table_name="operator_uploads")
    op.drop_table("operator_uploads")
