"""Authentication and the access rule of every endpoint.

Each route declares its roles with ``allow(...)``; the rule is enforced by a dependency and
published in OpenAPI as ``x-roles``, which the authorization-matrix test reads.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request

from switchboard.application.access import Principal
from switchboard.application.auth import authenticate
from switchboard.application.errors import Forbidden, Unauthenticated
from switchboard.domain.operators import Role
from switchboard.web.runtime import Runtime

SESSION_COOKIE = "sb_session"
ANONYMOUS = "anonymous"


def container(request: Request) -> Runtime:
    value: Runtime = request.app.state.container
    return value


def bearer_or_cookie(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
        return token.strip()
    return request.cookies.get(SESSION_COOKIE)


async def current_principal(request: Request) -> Principal:
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    token = bearer_or_cookie(request)
    if token is None:
        raise Unauthenticated("sign in or send an API token")
    principal = await authenticate(container(request).services, token, getattr(request.state, "request_id", None))
    request.state.principal = principal
    return principal


def allow(*roles: Role) -> dict[str, Any]:
    """Route keyword arguments: the dependency that enforces ``roles`` and its OpenAPI mark."""

    async def enforce(principal: Principal = Depends(current_principal)) -> None:
        if principal.role not in roles:
            raise Forbidden(f"the {principal.role.value} role may not do this")

    return {"dependencies": [Depends(enforce)], "openapi_extra": {"x-roles": sorted(r.value for r in roles)}}


def public() -> dict[str, Any]:
    return {"openapi_extra": {"x-roles": [ANONYMOUS]}}


STAFF = (Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR)
MANAGERS = (Role.ADMIN, Role.SUPERVISOR)
