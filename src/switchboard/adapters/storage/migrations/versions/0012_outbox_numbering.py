"""outbox numbering on SQLite: each event takes its publish number as it is inserted

Revision ID: 0012_outbox_numbering
Revises: 0011_notices

On SQLite one writer at a time holds the database's lock from its first write to its commit, so
numbering a row as it is inserted gives numbers in commit order, as the relay's numbering does on
PostgreSQL. The trigger does it inside SQLite, with no statement of ours: the relay's round then
only reads, which spares it a write transaction (``adapters/storage/outbox.py``). Rows already in
the outbox keep their numbers; the relay still numbers any row that has none.
"""

from __future__ import annotations

from alembic import op

revision = "0012_outbox_numbering"
down_revision = "0011_notices"
branch_labels = None
depends_on = None

TRIGGER = """
CREATE TRIGGER outbox_numbered_at_insert AFTER INSERT ON outbox
WHEN NEW.sequence IS NULL
BEGIN
  UPDATE outbox SET sequence = (SELECT coalesce(max(sequence), 0) + 1 FROM outbox) WHERE id = NEW.id;
END
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS outbox_numbered_at_insert")
