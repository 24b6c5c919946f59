"""Authentication and the access rule of every endpoint.

Each route declares its roles with ``allow(...)``; the rule is enforced by a dependency and
published in OpenAPI as ``x-roles``, which the authorization-matrix test reads.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from fastapi import Depends, Request

from switchboard.application.access import Principal
from switchboard.application.auth import authenticate
from switchboard.application.context import Services
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


class PrincipalCache:
    """Who a token belongs to, remembered for a few seconds.

    Integrations post many messages a second with one token; without this every request pays a
    database round trip to learn the same thing. A revoked token or deactivated user is refused
    at most ``ttl`` seconds later.
    """

    def __init__(self, ttl: float = 10.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, token: str) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, token: str, principal: Principal) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[token] = (time.monotonic() + self.ttl, principal)


async def current_principal(request: Request) -> Principal:
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    token = bearer_or_cookie(request)
    if token is None:
        raise Unauthenticated("sign in or send an API token")
    request_id = getattr(request.state, "request_id", None)
    principal = await principal_of(token, request_id, request.app.state.principals, container(request).services)
    request.state.principal = principal
    return principal


async def principal_of(token: str, request_id: str | None, principals: PrincipalCache, services: Services) -> Principal:
    """Who ``token`` belongs to (from the cache when it is fresh), stamped with the request's id."""
    known = principals.get(token)
    if known is None:
        known = await authenticate(services, token)
        principals.put(token, known)
    return replace(known, request_id=request_id)


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
