"""contacts: profile fields, merges with undo, stored merge suggestions

Revision ID: 0004_contacts
Revises: 0003_outbound
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from switchboard.domain.matching import Person
from switchboard.domain.matching.lookup import name_block

revision = "0004_contacts"
down_revision = "0003_outbound"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(JSONB(), "postgresql")
WHEN = sa.DateTime(timezone=True)
BACKFILL_BATCH = 5_000

PROFILE = (
    ("first_name", sa.String(100)),
    ("middle_name", sa.String(100)),
    ("last_name", sa.String(100)),
    ("birth_date", sa.Date()),
    ("company_name", sa.String(300)),
    ("city", sa.String(100)),
    ("address", sa.String(300)),
    ("region", sa.String(100)),
    ("postal_code", sa.String(20)),
    ("country", sa.String(100)),
    ("preferred_channel", sa.String(20)),
    ("marketing_consent", sa.Boolean()),
    ("marketing_consent_at", WHEN),
    ("processing_consent", sa.Boolean()),
    ("processing_consent_at", WHEN),
    ("external_id", sa.String(255)),
)


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        for name, type_ in PROFILE:
            batch.add_column(sa.Column(name, type_, nullable=True))
        batch.add_column(sa.Column("tags", JSON, nullable=False, server_default=sa.text("'[]'")))
        batch.add_column(sa.Column("custom_fields", JSON, nullable=False, server_default=sa.text("'{}'")))
        batch.add_column(sa.Column("match_name", sa.String(200), nullable=False, server_default=sa.text("''")))
        batch.add_column(sa.Column("merged_into_id", ID, nullable=True))
        batch.create_unique_constraint(op.f("uq_contacts_external_id"), ["external_id"])
        batch.create_foreign_key(op.f("fk_contacts_merged_into_id_contacts"), "contacts", ["merged_into_id"], ["id"])
        batch.create_index(op.f("ix_contacts_match_name"), ["match_name"])
        batch.create_index(op.f("ix_contacts_birth_date"), ["birth_date"])
        batch.create_index(op.f("ix_contacts_merged_into_id"), ["merged_into_id"])
    _backfill_match_names()
    op.create_table(
        "merges",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("survivor_id", ID, nullable=False),
        sa.Column("duplicate_id", ID, nullable=False),
        sa.Column("merged_at", WHEN, nullable=False),
        sa.Column("merged_by", ID, nullable=True),
        sa.Column("survivor_before", JSON, nullable=False),
        sa.Column("survivor_after", JSON, nullable=False),
        sa.Column("duplicate_before", JSON, nullable=False),
        sa.Column("moved", JSON, nullable=False),
        sa.Column("taken", JSON, nullable=False),
        sa.Column("undone_at", WHEN, nullable=True),
        sa.Column("undone_by", ID, nullable=True),
        sa.ForeignKeyConstraint(["survivor_id"], ["contacts.id"], name=op.f("fk_merges_survivor_id_contacts")),
        sa.ForeignKeyConstraint(["duplicate_id"], ["contacts.id"], name=op.f("fk_merges_duplicate_id_contacts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merges")),
    )
    op.create_index(op.f("ix_merges_survivor_id"), "merges", ["survivor_id"])
    op.create_index(op.f("ix_merges_duplicate_id"), "merges", ["duplicate_id"])
    op.create_table(
        "merge_suggestions",
        sa.Column("a_id", ID, nullable=False),
        sa.Column("b_id", ID, nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("found_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["a_id"], ["contacts.id"], name=op.f("fk_merge_suggestions_a_id_contacts")),
        sa.ForeignKeyConstraint(["b_id"], ["contacts.id"], name=op.f("fk_merge_suggestions_b_id_contacts")),
        sa.PrimaryKeyConstraint("a_id", "b_id", name=op.f("pk_merge_suggestions")),
    )
    op.create_index(op.f("ix_merge_suggestions_b_id"), "merge_suggestions", ["b_id"])
    op.create_index(op.f("ix_merge_suggestions_score"), "merge_suggestions", ["score"])


def _backfill_match_names() -> None:
    """The matcher's name key of the contacts that exist already (new ones get it when stored)."""
    contacts = sa.table("contacts", sa.column("id", ID), sa.column("name", sa.String), sa.column("match_name"))
    bind = op.get_bind()
    after = 0
    while True:
        rows = bind.execute(
            sa.select(contacts.c.id, contacts.c.name)
            .where(contacts.c.id > after)
            .order_by(contacts.c.id)
            .limit(BACKFILL_BATCH)
        ).all()
        updates = [{"key": row.id, "value": name_block(Person(0, full_name=row.name))[:200]} for row in rows]
        updates = [u for u in updates if u["value"]]
        if updates:
            bind.execute(
                contacts.update().where(contacts.c.id == sa.bindparam("key")).values(match_name=sa.bindparam("value")),
                updates,
            )
        if len(rows) < BACKFILL_BATCH:
            return
        after = rows[-1].id


def downgrade() -> None:
    op.drop_index(op.f("ix_merge_suggestions_score"), table_name="merge_suggestions")
    op.drop_index(op.f("ix_merge_suggestions_b_id"), table_name="merge_suggestions")
    op.drop_table("merge_suggestions")
    op.drop_index(op.f("ix_merges_duplicate_id"), table_name="merges")
    op.drop_index(op.f("ix_merges_survivor_id"), table_name="merges")
    op.drop_table("merges")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_index(op.f("ix_contacts_merged_into_id"))
        batch.drop_index(op.f("ix_contacts_birth_date"))
        batch.drop_index(op.f("ix_contacts_match_name"))
        batch.drop_constraint(op.f("fk_contacts_merged_into_id_contacts"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_contacts_external_id"), type_="unique")
        for name in ("merged_into_id", "match_name", "custom_fields", "tags"):
            batch.drop_column(name)
        for name, _ in reversed(PROFILE):
            batch.drop_column(name)
