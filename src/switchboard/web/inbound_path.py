"""``POST /api/v1/inbound`` served by the lean path (``web/lean.py``): the API channel's common case.

Integrations post thousands of messages a second. The lean path answers a request with a Bearer
token and a JSON body the documented model accepts; anything else (no token or a session cookie,
another content type, malformed JSON, a body the model refuses) is the FastAPI route's to answer.
"""

from __future__ import annotations

from typing import Any

from starlette.types import Scope

from switchboard.application.errors import Forbidden
from switchboard.application.intake import receive_message
from switchboard.domain.channels import ChannelKind
from switchboard.web.access import principal_of
from switchboard.web.lean import Answer, declares_json, header, json_model
from switchboard.web.routes.intake import inbound, inbound_answer, inbound_message, router
from switchboard.web.schemas import InboundIn

_REPLAYED = (b"idempotent-replayed", b"true")
ROUTE: Any = next(r for r in router.routes if getattr(r, "endpoint", None) is inbound)
ROLES: frozenset[str] = frozenset(ROUTE.openapi_extra["x-roles"])  # the route's declared rule, not a copy


async def serve_inbound(scope: Scope, body: bytes, _params: dict[str, str]) -> Answer | None:
    """Store an inbound message; or None for the FastAPI route to answer."""
    token = bearer(header(scope, b"authorization"))
    if token is None or not declares_json(scope):
        return None
    model = json_model(InboundIn, body)
    if model is None:
        return None
    app = scope["app"]
    state = scope.setdefault("state", {})
    services = app.state.container.services
    principal = await principal_of(token, state.get("request_id"), app.state.principals, services)
    state["principal"] = principal
    if principal.role.value not in ROLES:
        raise Forbidden(f"the {principal.role.value} role may not do this")
    result = await receive_message(services, principal, inbound_message(model), kind=ChannelKind.API)
    answer = inbound_answer(result)
    return Answer.of(answer, 200, _REPLAYED) if result.duplicate else Answer.of(answer, 201)


def bearer(authorization: str | None) -> str | None:
    """The token of a well-formed ``Bearer`` header; None sends the request to the route.

    Mirrors ``bearer_or_cookie``: the first Authorization header counts; a malformed one or a
    cookie is the route's to answer.
    """
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None
