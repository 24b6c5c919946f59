"""perf: the contact timeline filtered by channel reads its page from an index

Revision ID: 0007_perf
Revises: 0008_ui

A contact's timeline page (newest first, 50 entries) already reads ``ix_timeline_contact_id_id``;
filtered by channel it had to walk that index past every entry of the other channels, which for
a busy contact with a rarely used channel is most of their history (see bench/timeline.py).
"""

from __future__ import annotations

from alembic import op

revision = "0007_perf"
down_revision = "0008_ui"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("timeline", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_timeline_contact_id_channel_kind_id"), ["contact_id", "channel_kind", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("timeline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_timeline_contact_id_channel_kind_id"))
