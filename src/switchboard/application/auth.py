"""Who is calling: password logins for people, API tokens for integrations."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from switchboard.application.access import Principal, require_role
from switchboard.application.context import Services
from switchboard.application.errors import InvalidInput, Unauthenticated
from switchboard.domain.operators import Role, User

API_TOKEN_PREFIX = "sbt_"  # noqa: S105 - a prefix, not a secret


@dataclass(frozen=True, slots=True)
class Login:
    user: User
    token: str


def token_hash(token: str) -> str:
    """API tokens are kept as SHA-256: high-entropy secrets need no slow hash, and a leak of the table reveals none."""
    return hashlib.sha256(token.encode()).hexdigest()


async def login(services: Services, login_name: str, password: str) -> Login:
    """Check the password and issue a session token; one answer for every failure, so logins cannot be probed."""
    async with services.uow(read_only=True) as uow:
        found = await uow.users.get_by_login(login_name)
    failure = Unauthenticated("login or password is wrong")
    if found is None:
        services.hasher.verify("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$ZmFrZWhhc2g", password)
        raise failure
    user, password_hash = found
    if not user.active or password_hash is None or not services.hasher.verify(password_hash, password):
        raise failure
    return Login(user, services.signer.issue(user.id, services.clock.now()))


async def authenticate(services: Services, token: str, request_id: str | None = None) -> Principal:
    """A principal from a session token or an API token; raises Unauthenticated otherwise."""
    if token.startswith(API_TOKEN_PREFIX):
        async with services.uow(read_only=True) as uow:
            record = await uow.tokens.find(token_hash(token))
        if record is None:
            raise Unauthenticated("the API token is unknown or revoked")
        return Principal(record.role, record.user_id, record.id, request_id)
    user_id = services.signer.read(token, services.clock.now())
    if user_id is None:
        raise Unauthenticated("the session is invalid or has expired")
    async with services.uow(read_only=True) as uow:
        user = await uow.users.get(user_id)
    if user is None or not user.active:
        raise Unauthenticated("the session's user is no longer active")
    return Principal(user.role, user.id, None, request_id)


async def create_api_token(
    services: Services, principal: Principal | None, name: str, role: Role, user_id: int | None = None
) -> tuple[int, str]:
    """Returns (id, token); the token is shown once and only its hash is kept."""
    if principal is not None:
        require_role(principal, Role.ADMIN)
    if not 1 <= len(name.strip()) <= 200:
        raise InvalidInput("name must be 1 to 200 characters", field="name")
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = services.clock.now()
    async with services.uow() as uow:
        if user_id is not None and await uow.users.get(user_id) is None:
            raise InvalidInput(f"user {user_id} does not exist", field="user_id")
        token_id = await uow.tokens.add(name.strip(), token_hash(token), role, user_id, now)
        await uow.audit.add(
            now,
            "token.create",
            "api_token",
            token_id,
            {"role": role.value, "name": name},
            principal.user_id if principal else None,
            None,
            principal.request_id if principal else None,
        )
        await uow.commit()
    return token_id, token
