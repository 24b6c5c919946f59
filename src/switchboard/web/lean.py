"""The hottest POST routes answered without FastAPI's per-request machinery.

An integration posting thousands of messages a second, a PBX asking what to do with 200 new calls
a second: for these, FastAPI's routing, dependency solving and model handling are a large share of
a request's server CPU. This pure-ASGI middleware serves the common case of such a route itself and
hands everything else to the documented FastAPI route, with the body replayed. A route's ``serve``
returns None for anything it does not answer (another content type, malformed JSON, a body the
model refuses, a path parameter out of range), so every refusal of the shape of a request is the
documented route's own answer. Errors raised while serving (authentication, the role rule, the use
case) go through the app's exception handlers, as they would from the route; unexpected ones
propagate to the server-error handler like any route's.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi.routing import APIRoute, APIRouter
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.web.schemas import MAX_ID

JSON = b"application/json"
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    @classmethod
    def of(cls, model: BaseModel, status: int = 200, *headers: tuple[bytes, bytes]) -> Answer:
        return cls(status, model.model_dump_json().encode(), list(headers))


# (scope, body, path parameters as matched) → the answer, or None: the documented route answers
Serve = Callable[[Scope, bytes, dict[str, str]], Awaitable[Answer | None]]


@dataclass(frozen=True)
class LeanRoute:
    route: APIRoute  # the documented route (its path without the prefix it is included under)
    pattern: re.Pattern[str]  # the full path, the prefix included
    serve: Serve


def lean_route(router: APIRouter, endpoint: Callable[..., Any], serve: Serve, *, prefix: str) -> LeanRoute:
    """The router's POST route for ``endpoint``, included under ``prefix``, served by ``serve``."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.endpoint is endpoint and "POST" in route.methods:
            return LeanRoute(route, compile_path(prefix + route.path)[0], serve)
    raise LookupError(f"no POST route for {endpoint.__name__}")


class LeanPaths:
    """Serves its routes' common case ahead of the router; the same answers as the FastAPI routes."""

    def __init__(self, app: ASGIApp, *, routes: Sequence[LeanRoute]) -> None:
        self.app = app
        self.routes = tuple(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._match(scope) if scope["type"] == "http" and scope["method"] == "POST" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        lean, params = found
        scope["route"] = lean.route  # what the router would set: metrics and the log name the route
        try:
            body = await _read_body(receive)
            if body is None:
                return  # the client left before sending it all: nobody to answer
            answer = await lean.serve(scope, body, params)
        except Exception as error:  # mapped like the route's errors, or raised again
            handler = _handler(scope, error)
            if handler is None:
                raise
            response = await handler(Request(scope, receive), error)
            await response(scope, receive, send)
            return
        if answer is None:
            await self.app(scope, _replay(body, receive), send)
            return
        headers = [(b"content-length", str(len(answer.body)).encode()), (b"content-type", JSON), *answer.headers]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})

    def _match(self, scope: Scope) -> tuple[LeanRoute, dict[str, str]] | None:
        path = scope["path"]
        for lean in self.routes:
            match = lean.pattern.match(path)
            if match is not None:
                return lean, match.groupdict()
        return None


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a header (``name`` in lower case), as Starlette's ``headers.get`` gives it."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def declares_json(scope: Scope) -> bool:
    value = header(scope, b"content-type")
    return value is not None and value.split(";", 1)[0].strip().lower() == "application/json"


def json_model(model: type[M], body: bytes) -> M | None:
    """The body as ``model``; None when it is not JSON or the model refuses it (the route says why).

    pydantic parses and validates in one pass, without the Python objects ``json.loads`` would build
    first. What it refuses that ``json.loads`` takes (UTF-16 bodies, NaN, lone surrogates) goes to
    the route, which answers as it always has.
    """
    try:
        return model.model_validate_json(body)
    except ValidationError:
        return None


def path_id(text: str) -> int | None:
    """A path id as ``PathId`` accepts it (plain digits, 1..MAX_ID); None leaves the refusal to the route."""
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


async def _read_body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body already read, then listens to the client (for a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def _handler(scope: Scope, error: Exception) -> Any:
    """The app's handler for ``error`` as the exception middleware picks it; the catch-all is left
    to the server-error middleware above, as for every route."""
    handlers = scope["app"].exception_handlers
    for cls in type(error).__mro__:
        if cls is Exception:
            return None
        if cls in handlers:
            return handlers[cls]
    return None
