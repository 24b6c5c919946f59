"""``POST /api/v1/inbound`` without FastAPI's per-request machinery.

The API channel is the hottest route: integrations post thousands of messages a second, and
FastAPI's routing, dependency solving and model handling cost about a third of a message's server
CPU. This pure-ASGI middleware serves the common case itself — a Bearer token and a JSON body the
documented model accepts — and hands everything else to the FastAPI route, with the body replayed:
no token or a session cookie, another content type, malformed JSON, a body the model refuses. So
every refusal of the shape of a request is the documented route's own answer. Errors raised while
serving (authentication, the role rule, the use case) go through the app's exception handlers, as
they would from the route; unexpected ones propagate to the server-error handler like any route's.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.application.errors import Forbidden
from switchboard.application.intake import receive_message
from switchboard.domain.channels import ChannelKind
from switchboard.web.access import principal_of
from switchboard.web.routes.intake import inbound, inbound_answer, inbound_message, router
from switchboard.web.schemas import InboundIn

PATH = "/api/v1/inbound"
JSON = b"application/json"
_REPLAYED = (b"idempotent-replayed", b"true")
ROUTE: Any = next(r for r in router.routes if getattr(r, "endpoint", None) is inbound)
ROLES: frozenset[str] = frozenset(ROUTE.openapi_extra["x-roles"])  # the route's declared rule, not a copy


class InboundPath:
    """Serves ``POST /api/v1/inbound`` ahead of the router; same answers as the FastAPI route."""

    def __init__(self, app: ASGIApp, *, path: str = PATH) -> None:
        self.app = app
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        token = bearer_with_json(scope["headers"])
        if token is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = ROUTE  # what the router would set: metrics and the log name the route
        try:
            body = await self._serve(scope, receive, send, token)
        except Exception as error:  # mapped like the route's errors, or raised again
            handler = _handler(scope, error)
            if handler is None:
                raise
            response = await handler(Request(scope, receive), error)
            await response(scope, receive, send)
            return
        if body is not None:
            await self.app(scope, _replay(body, receive), send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, token: str) -> bytes | None:
        """Answer the request; or return its body for the FastAPI route to answer."""
        body = await _read_body(receive)
        if body is None:
            return None  # the client left before sending it all: nobody to answer
        try:
            document = json.loads(body)  # what Starlette's Request.json() does
        except ValueError:
            return body
        app = scope["app"]
        state = scope.setdefault("state", {})
        services = app.state.container.services
        principal = await principal_of(token, state.get("request_id"), app.state.principals, services)
        state["principal"] = principal  # the route reuses it if it answers instead
        if principal.role.value not in ROLES:
            raise Forbidden(f"the {principal.role.value} role may not do this")
        try:
            model = InboundIn.model_validate(document)
        except ValidationError:
            return body
        result = await receive_message(services, principal, inbound_message(model), kind=ChannelKind.API)
        payload = inbound_answer(result).model_dump_json().encode()
        headers = [(b"content-length", str(len(payload)).encode()), (b"content-type", JSON)]
        if result.duplicate:
            headers.append(_REPLAYED)
        await send({"type": "http.response.start", "status": 200 if result.duplicate else 201, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
        return None


def bearer_with_json(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The Bearer token of a request whose body is declared JSON; None sends it to the route.

    Mirrors ``bearer_or_cookie``: the first Authorization header counts; a malformed one, a cookie
    or a missing content type is the route's to answer.
    """
    authorization = content_type = None
    for name, value in headers:
        if name == b"authorization" and authorization is None:
            authorization = value
        elif name == b"content-type" and content_type is None:
            content_type = value
    if not authorization or content_type is None or content_type.split(b";", 1)[0].strip().lower() != JSON:
        return None
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


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
