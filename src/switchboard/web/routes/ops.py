"""Liveness, readiness and metrics for whoever runs the service."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from switchboard.web.access import container, public
from switchboard.web.problems import problem

router = APIRouter(tags=["operations"])


@router.get("/healthz", **public())
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", **public(), responses={503: {"description": "the database or the bus is unreachable"}})
async def readyz(request: Request) -> Response:
    """Ready to serve: the database and the bus both answer."""
    c = container(request)
    database, bus = await c.database.ping(), await c.bus.ping()
    if database and bus:
        return Response('{"status":"ready","database":"ok","bus":"ok"}', media_type="application/json")
    down = [name for name, ok in (("database", database), ("bus", bus)) if not ok]
    return problem(503, "Not ready", f"unreachable: {', '.join(down)}")


@router.get("/metrics", **public())
async def metrics() -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
