"""The FastAPI application: routes under /api/v1, problems, middleware, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from switchboard import __version__
from switchboard.application.routing.commands import sign_out_disconnected
from switchboard.web import problems, spa
from switchboard.web.access import PrincipalCache
from switchboard.web.inbound_path import serve_inbound
from switchboard.web.lean import LeanPaths, lean_route
from switchboard.web.middleware import RequestContext
from switchboard.web.realtime import Hub
from switchboard.web.realtime import router as ws_router
from switchboard.web.routes import (
    admin,
    attachments,
    auth,
    channels,
    contacts,
    conversations,
    demo,
    desk,
    floor,
    imports,
    intake,
    integrations,
    merges,
    ops,
    routing,
    sip,
    voice,
    webchat,
)
from switchboard.web.runtime import Runtime
from switchboard.web.visitors import VisitorHub
from switchboard.web.voice_path import pbx_routes

API = "/api/v1"


def create_app(container: Runtime, *, manage_lifecycle: bool = True, lean_paths: bool = True) -> FastAPI:
    """``manage_lifecycle`` False lets a test own the container's start and stop; ``lean_paths`` False
    leaves ``POST /inbound`` and the PBX's call control to their FastAPI routes alone (the tests
    compare the two)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if manage_lifecycle:
            await container.start()
        hub = Hub(
            container.bus,
            lambda operator_id: sign_out_disconnected(container.services, operator_id),
            container.settings.disconnect_grace_seconds,
        )
        await hub.start()
        container.database.on_events(hub.committed_here)
        app.state.hub = hub
        app.state.visitors = VisitorHub(container.services, container.bus, container.queue_position)
        await app.state.visitors.start()
        try:
            yield
        finally:
            await app.state.visitors.stop()
            container.database.off_events(hub.committed_here)
            await hub.stop()
            if manage_lifecycle:
                await container.stop()

    app = FastAPI(
        title="Switchboard",
        version=__version__,
        description="Omnichannel contact center with a built-in CRM. Every endpoint's roles are in `x-roles`.",
        openapi_url=f"{API}/openapi.json",
        docs_url=f"{API}/docs",
        redoc_url=None,
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False},  # unused here; its per-request check costs
    )
    app.state.container = container
    app.state.principals = PrincipalCache()
    problems.install(app)
    for router in (  # matched in this order, one regex per route: the PBX's call control comes first
        voice.router,  # its latency has a target (docs/benchmarks.md § Voice); /voice/* overlaps no other path
        sip.router,
        auth.router,
        intake.router,
        merges.router,  # before contacts: /contacts/suggestions is not /contacts/{contact_id}
        imports.router,
        contacts.router,
        conversations.router,
        attachments.router,
        routing.router,
        admin.router,
        channels.router,
        webchat.api_router,
        desk.router,
        floor.router,
        integrations.router,
        ws_router,
    ):
        app.include_router(router, prefix=API)
    app.include_router(ops.router)
    app.include_router(webchat.router)
    app.include_router(demo.router)
    spa.install(app)
    if lean_paths:  # inside RequestContext: ids, metrics, log, body limit
        routes = [*pbx_routes(API), lean_route(intake.router, intake.inbound, serve_inbound, prefix=API)]
        app.add_middleware(LeanPaths, routes=routes)
    app.add_middleware(RequestContext, body_limit=container.settings.body_limit_bytes)
    return app
