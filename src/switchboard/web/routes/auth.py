"""Sign-in for people (cookie for the browser, bearer for API clients) and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from switchboard.application import auth
from switchboard.application.access import Principal
from switchboard.application.catalog import get_user
from switchboard.application.errors import NotFound
from switchboard.domain.operators import Role
from switchboard.web.access import SESSION_COOKIE, STAFF, allow, container, current_principal, public
from switchboard.web.schemas import LoginIn, LoginOut, TokenIn, TokenOut, UserOut

router = APIRouter(tags=["auth"])


@router.post("/auth/login", response_model=LoginOut, **public())
async def login(body: LoginIn, request: Request, response: Response) -> LoginOut:
    """Sign in with a password: the answer holds a bearer token, and the browser gets it as a cookie."""
    c = container(request)
    result = await auth.login(c.services, body.login, body.password)
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        httponly=True,
        samesite="strict",
        secure=c.settings.cookie_secure,
        max_age=c.settings.session_hours * 3600,
        path="/",
    )
    return LoginOut(token=result.token, user=UserOut.of(result.user))


@router.post("/auth/logout", status_code=204, **public())
async def logout(response: Response) -> Response:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.status_code = 204
    return response


@router.get("/auth/me", response_model=UserOut, **allow(*STAFF))
async def me(request: Request, principal: Principal = Depends(current_principal)) -> UserOut:
    if principal.user_id is None:
        raise NotFound("this API token is not bound to a person, so it has no profile")
    return UserOut.of(await get_user(container(request).services, principal, principal.user_id))


@router.post("/tokens", response_model=TokenOut, status_code=201, **allow(Role.ADMIN))
async def create_token(body: TokenIn, request: Request, principal: Principal = Depends(current_principal)) -> TokenOut:
    """Create an API token for an integration; the token is in this answer only."""
    token_id, token = await auth.create_api_token(
        container(request).services, principal, body.name, body.role, body.user_id
    )
    return TokenOut(id=token_id, name=body.name, role=body.role, token=token)
