"""Pure ASGI middleware: request ids, access logs, metrics and the body size limit."""

from __future__ import annotations

import itertools
import json
import os
import time
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("switchboard.http")

REQUESTS = Counter("switchboard_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "switchboard_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


def _problem_413(limit: int) -> bytes:
    return json.dumps(
        {
            "type": "about:blank",
            "title": "Payload too large",
            "status": 413,
            "detail": f"the body is larger than {limit} bytes",
            "field": "body",
        }
    ).encode()


class RequestContext:
    """Gives each request an id (kept from X-Request-ID when sane), logs it, counts it, caps its body."""

    def __init__(self, app: ASGIApp, *, body_limit: int) -> None:
        self.app = app
        self.body_limit = body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = {"code": 500}
        declared = _content_length(scope)
        if declared is not None and declared > self.body_limit:
            await _send_413(send, self.body_limit, request_id)
            self._record(scope, 413, started, request_id)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.body_limit:
                    # FastAPI turns other errors while reading a body into a 400; an HTTPException passes
                    raise HTTPException(413, f"the body is larger than {self.body_limit} bytes")
            return message

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        # bind and reset by token: ``bound_contextvars`` copies the whole context twice per request
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, limited_receive, tracking_send)
        finally:
            structlog.contextvars.reset_contextvars(**tokens)
            self._record(scope, status["code"], started, request_id)

    @staticmethod
    def _record(scope: Scope, status: int, started: float, request_id: str) -> None:
        elapsed = time.perf_counter() - started
        template = route_template(scope)
        count, latency = _series(scope["method"], template, status)
        count.inc()
        latency.observe(elapsed)
        if template not in ("/healthz", "/metrics"):
            log.info(
                "request",
                method=scope["method"],
                path=template,
                status=status,
                ms=round(elapsed * 1000, 2),
                request_id=request_id,
            )


API_PREFIX = "/api/v1"
_SERIES: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _series(method: str, template: str, status: int) -> tuple[Any, Any]:
    """The request counter and latency histogram of one label set, looked up once (``labels()`` locks)."""
    key = (method, template, status)
    series = _SERIES.get(key)
    if series is None:
        series = _SERIES[key] = (REQUESTS.labels(method, template, str(status)), LATENCY.labels(method, template))
    return series


def route_template(scope: Scope) -> str:
    """The matched route's template (``/api/v1/contacts/{contact_id}``): bounded label values for metrics.

    Routes of included routers carry their own path without the router's prefix.
    """
    template = getattr(scope.get("route"), "path", None)
    if template is None:
        return "unmatched"
    if scope["path"].startswith(API_PREFIX) and not template.startswith(API_PREFIX):
        return API_PREFIX + template
    return str(template)


_PREFIX = os.urandom(8).hex()  # per process; a counter after it keeps ids unique without a syscall per request
_SEQUENCE = itertools.count(1)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if 8 <= len(text) <= 64 and text.replace("-", "").isalnum():
                return text
    return f"{_PREFIX}{next(_SEQUENCE):016x}"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_413(send: Send, limit: int, request_id: str) -> None:
    body = _problem_413(limit)
    headers: list[Any] = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
