"""Faults: the database gone mid-request (503, nothing half-written), readiness, metrics."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from switchboard.adapters.storage import tables as t
from switchboard.adapters.storage.intake import SqlIntakeStore
from switchboard.bootstrap import Container, build
from switchboard.config import load_settings
from switchboard.web.app import create_app
from tests.conftest import empty_tables
from tests.support.clock import ManualClock
from tests.support.desk import Desk, given_desk, inbound
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture
async def proxied(postgresql_url: str) -> AsyncIterator[tuple[Container, TcpProxy]]:
    """A service whose PostgreSQL connection runs through a proxy the test can cut."""
    url = make_url(postgresql_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    port = await proxy.start()
    settings = load_settings(
        database_url=url.set(port=port).render_as_string(hide_password=False),
        bus_url="memory://",
        db_pool_size=3,
        routing=False,
    )
    container = build(settings, clock=ManualClock(), fast_hashing=True)
    await empty_tables(container.database)
    await container.start()
    try:
        yield container, proxy
    finally:
        await proxy.restore()
        await container.stop(drain_seconds=1)
        await proxy.close()


async def _count(container: Container, table: t.Table) -> int:
    async with container.database.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


@pytest.mark.postgres
async def test_database_lost_mid_request_gives_503_and_writes_nothing(
    proxied: tuple[Container, TcpProxy], monkeypatch: pytest.MonkeyPatch
) -> None:
    container, proxy = proxied
    app = create_app(container, manage_lifecycle=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        desk: Desk = await given_desk(container.services, client)
        # given the connection to the database breaks after the contact and conversation are written
        # (intake writes its messages with one statement per batch: the group commit)
        original = SqlIntakeStore.add_messages

        async def cut_then_add(self: SqlIntakeStore, messages: object) -> object:
            await proxy.cut()
            return await original(self, messages)  # type: ignore[arg-type]

        monkeypatch.setattr(SqlIntakeStore, "add_messages", cut_then_add)
        # when a message arrives, then the answer is a 503 problem
        answer = await client.post(
            "/api/v1/inbound",
            headers=desk.as_("integration"),
            json=inbound(desk.channel_id, "hi", external_id="f-1", phone="+79160000030"),
        )
        assert answer.status_code == 503
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["title"] == "Service unavailable"
        # and once the database is back, nothing of that request is there, and a retry succeeds once
        monkeypatch.setattr(SqlIntakeStore, "add_messages", original)
        await proxy.restore()
        for table in (t.contacts, t.conversations, t.messages, t.leads, t.timeline):
            assert await _count(container, table) == 0, table.name
        retry = await client.post(
            "/api/v1/inbound",
            headers=desk.as_("integration"),
            json=inbound(desk.channel_id, "hi", external_id="f-1", phone="+79160000030"),
        )
        if retry.status_code == 503:  # the pool may hand out one stale connection first
            retry = await client.post(
                "/api/v1/inbound",
                headers=desk.as_("integration"),
                json=inbound(desk.channel_id, "hi", external_id="f-1", phone="+79160000030"),
            )
        assert retry.status_code == 201
        assert (await _count(container, t.contacts), await _count(container, t.messages)) == (1, 1)


@pytest.mark.postgres
async def test_readiness_follows_the_database(proxied: tuple[Container, TcpProxy]) -> None:
    container, proxy = proxied
    app = create_app(container, manage_lifecycle=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/readyz")).status_code == 200
        await proxy.cut()
        down = await client.get("/readyz")
        assert down.status_code == 503 and down.json()["detail"] == "unreachable: database"
        assert (await client.get("/healthz")).json() == {"status": "ok"}


async def test_readiness_reports_a_closed_bus(container: Container, app_client: httpx.AsyncClient) -> None:
    assert (await app_client.get("/readyz")).json() == {"status": "ready", "database": "ok", "bus": "ok"}
    await container.bus.close()
    down = await app_client.get("/readyz")
    assert down.status_code == 503 and down.json()["detail"] == "unreachable: bus"


async def test_metrics_count_requests_by_route(app_client: httpx.AsyncClient, desk: Desk) -> None:
    await app_client.get("/api/v1/lines", headers=desk.as_("operator"))
    text = (await app_client.get("/metrics")).text
    assert 'switchboard_http_requests_total{method="GET",route="/api/v1/lines",status="200"}' in text


async def test_request_id_is_echoed_and_generated(app_client: httpx.AsyncClient) -> None:
    given = await app_client.get("/healthz", headers={"x-request-id": "abc-123-def-456"})
    assert given.headers["x-request-id"] == "abc-123-def-456"
    made = await app_client.get("/healthz", headers={"x-request-id": "bad id!"})
    assert len(made.headers["x-request-id"]) == 32


@pytest.mark.postgres
async def test_a_database_refusing_connections_gives_503_not_500(postgresql_url: str) -> None:
    # given a server that refuses this service's connections, as PostgreSQL does when it has too many
    # clients (SQLSTATE 53300; here a role allowed no connections at all)
    role = f"sb_refused_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(make_url(postgresql_url).set(drivername="postgresql").render_as_string(False))
    await admin.execute(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 0')
    settings = load_settings(
        database_url=make_url(postgresql_url).set(username=role).render_as_string(hide_password=False),
        bus_url="memory://",
        routing=False,
    )
    container = build(settings, clock=ManualClock(), fast_hashing=True)
    try:
        app = create_app(container, manage_lifecycle=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            # when a request needs the database
            answer = await client.get("/api/v1/contacts", headers={"authorization": "Bearer sbt_any"})
        # then the answer says the service is unavailable, as for a database that is down
        assert answer.status_code == 503, answer.text
        assert answer.json()["title"] == "Service unavailable"
    finally:
        await container.database.dispose()
        await admin.execute(f'DROP ROLE "{role}"')
        await admin.close()
