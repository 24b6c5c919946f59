"""Shared fixtures: every storage and API test runs on SQLite and on PostgreSQL.

A PostgreSQL database is created fresh for the run (``sbtest_<random>``) and dropped at the end;
nothing else on the server is touched. Tables are emptied before each test.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from switchboard.adapters.storage import tables
from switchboard.adapters.storage.database import Database
from switchboard.adapters.storage.migrate import upgrade
from switchboard.bootstrap import Container, build
from switchboard.config import load_settings
from switchboard.web.app import create_app
from tests.support.clock import ManualClock
from tests.support.desk import Desk, given_desk
from tests.support.services import PG_ADMIN_URL, require

pytest_plugins = ["tests.support.watchdog"]

RUN = uuid.uuid4().hex[:8]


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
async def postgresql_url() -> AsyncIterator[str]:
    require(PG_ADMIN_URL, 5432, "PostgreSQL")
    name = f"sbtest_{RUN}"
    admin = await asyncpg.connect(_asyncpg_dsn(PG_ADMIN_URL))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        database = Database(url)
        await upgrade(database)
        await database.dispose()
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
async def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("db") / "switchboard.db"
    url = f"sqlite+aiosqlite:///{path}"
    database = Database(url)
    await upgrade(database)
    await database.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


def _emptying_sql() -> str:
    """PostgreSQL: delete every row and restart the sequences that were used, in one round trip.

    ``TRUNCATE ... RESTART IDENTITY`` does the same in ~170 ms, mostly creating new files for empty
    tables; deleting a few rows and restarting the used sequences takes ~4 ms, and runs before every test."""
    names = ", ".join(f"'{table.name}'" for table in reversed(tables.metadata.sorted_tables))
    return f"""DO $$
DECLARE t text; s record;
BEGIN
  FOREACH t IN ARRAY ARRAY[{names}] LOOP
    EXECUTE format('DELETE FROM %I', t);
  END LOOP;
  FOR s IN SELECT n.nspname, c.relname FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_depend d ON d.objid = c.oid AND d.deptype IN ('a', 'i')
           JOIN pg_sequences q ON q.schemaname = n.nspname AND q.sequencename = c.relname
           WHERE c.relkind = 'S' AND n.nspname = current_schema() AND q.last_value IS NOT NULL LOOP
    EXECUTE format('ALTER SEQUENCE %I.%I RESTART', s.nspname, s.relname);
  END LOOP;
END $$"""  # noqa: S608 - names from our metadata


EMPTYING = _emptying_sql()


async def empty_tables(database: Database) -> None:
    async with database.engine.begin() as connection:
        if database.is_sqlite:
            for table in reversed(tables.metadata.sorted_tables):
                await connection.execute(text(f"DELETE FROM {table.name}"))  # noqa: S608 - names from our metadata
        else:
            await connection.execute(text(EMPTYING))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def routing_on() -> bool:
    """Routing runs only where a test asks for it (override this fixture), so others count rows exactly."""
    return False


@pytest.fixture
def extra_settings() -> dict[str, object]:
    """Settings a test module needs beyond the defaults (override this fixture)."""
    return {}


@pytest.fixture
async def container(
    database_url: str, clock: ManualClock, routing_on: bool, extra_settings: dict[str, object]
) -> AsyncIterator[Container]:
    settings = load_settings(
        database_url=database_url,
        bus_url="memory://",
        bus_namespace=f"t{RUN}",
        db_pool_size=5,
        routing=routing_on,
        **extra_settings,
    )
    built = build(settings, clock=clock, fast_hashing=True)
    await empty_tables(built.database)
    await built.start()
    try:
        yield built
    finally:
        await built.stop(drain_seconds=2)


@pytest.fixture
async def app_client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(container, manage_lifecycle=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test") as client:
        yield client


@pytest.fixture
async def route_client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    """The same service with every request answered by its documented FastAPI route (no lean paths)."""
    transport = httpx.ASGITransport(app=create_app(container, manage_lifecycle=False, lean_paths=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://switchboard.test") as client:
        yield client


@pytest.fixture
async def desk(container: Container, app_client: httpx.AsyncClient) -> Desk:
    return await given_desk(container.services, app_client)
