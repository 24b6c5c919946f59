"""apichan: the outbox's publish sequence, so a websocket resumes without gaps on PostgreSQL

Revision ID: 0010_apichan
Revises: 0009_attach

Outbox ids come from a sequence handed out before commit, so two transactions can commit out of
id order and a client resuming after id N could miss a smaller id committed later. The relay now
numbers rows as it publishes them (``sequence``, gap-free, one relay at a time); websockets stream
and resume by that number. Rows already published keep their id as their sequence, so a client's
``last_event_id`` from before the upgrade still means the same point.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_apichan"
down_revision = "0009_attach"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sequence", ID, nullable=True))
    op.execute("UPDATE outbox SET sequence = id WHERE published_at IS NOT NULL")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_sequence", ["sequence"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_sequence")
        batch_op.drop_column("sequence")
