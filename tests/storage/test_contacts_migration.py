"""0004_contacts on a database that already has contacts: the matcher's name key is filled in, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from switchboard.adapters.storage import tables
from switchboard.adapters.storage.database import Database
from switchboard.adapters.storage.migrate import alembic_config, current, upgrade
from tests.support.services import PG_ADMIN_URL, require

AT = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    require(PG_ADMIN_URL, 5432, "PostgreSQL")
    name = f"sbmig_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(make_url(PG_ADMIN_URL).set(drivername="postgresql").render_as_string(False))
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_existing_contacts_get_their_name_key_and_empty_profiles(blank_url: str) -> None:
    # given a database at the revision before, holding contacts
    database = Database(blank_url)
    try:
        await upgrade(database, "0003_outbound")
        old = tables.contacts.c
        async with database.engine.begin() as connection:
            for name in ("Юлия Щукина", "Shchukina Yulia", "+79161234567"):
                await connection.execute(
                    text(  # the old table has no profile columns: a plain statement, not the new Table
                        "INSERT INTO contacts (name, search_name, tier, created_at, updated_at) "
                        "VALUES (:name, :search, 'regular', :at, :at)"
                    ),
                    {"name": name, "search": name.casefold(), "at": AT},
                )
        # when it is migrated to the head
        await upgrade(database)
        # then every contact has the matcher's name key (one for both spellings) and an empty profile
        async with database.engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(old.name, old.match_name, old.tags, old.custom_fields, old.merged_into_id).order_by(old.id)
                )
            ).all()
        head = ScriptDirectory.from_config(alembic_config(blank_url)).get_current_head()
        assert await current(database) == head
    finally:
        await database.dispose()
    assert [tuple(row) for row in rows] == [
        ("Юлия Щукина", "iulia|schukina", [], {}, None),
        ("Shchukina Yulia", "iulia|schukina", [], {}, None),
        ("+79161234567", "", [], {}, None),
    ]
