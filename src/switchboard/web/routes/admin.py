"""What admins wire: lines and operators; and the leads everyone works (channels: ``channels.py``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from switchboard.application import catalog as uc
from switchboard.application import leads as leads_uc
from switchboard.application.access import Principal
from switchboard.application.privacy import shown_lead
from switchboard.domain.leads import LeadStatus
from switchboard.domain.lines import Line
from switchboard.domain.operators import Role
from switchboard.web.access import MANAGERS, STAFF, allow, container, current_principal
from switchboard.web.schemas import (
    LeadOut,
    LeadPatch,
    LineIn,
    LineOut,
    LinePatch,
    OperatorIn,
    OperatorPatch,
    PathId,
    QueryId,
    UserOut,
)

router = APIRouter()
ADMIN = (Role.ADMIN,)


@router.get("/lines", response_model=list[LineOut], tags=["lines"], **allow(*STAFF))
async def lines(request: Request, principal: Principal = Depends(current_principal)) -> list[LineOut]:
    return [LineOut.of(x) for x in await uc.list_lines(container(request).services, principal)]


@router.post("/lines", response_model=LineOut, status_code=201, tags=["lines"], **allow(*ADMIN))
async def create_line(body: LineIn, request: Request, principal: Principal = Depends(current_principal)) -> LineOut:
    line = Line(
        0,
        body.name,
        body.time_zone,
        body.create_lead_for_new_contact,
        body.reopen_window_seconds,
        True,
        body.operator_ids,
        body.routing,
    )
    return LineOut.of(await uc.create_line(container(request).services, principal, line))


@router.get("/lines/{line_id}", response_model=LineOut, tags=["lines"], **allow(*STAFF))
async def line(line_id: PathId, request: Request, principal: Principal = Depends(current_principal)) -> LineOut:
    return LineOut.of(await uc.get_line(container(request).services, principal, line_id))


@router.patch("/lines/{line_id}", response_model=LineOut, tags=["lines"], **allow(*MANAGERS))
async def edit_line(
    line_id: PathId, body: LinePatch, request: Request, principal: Principal = Depends(current_principal)
) -> LineOut:
    fields = body.model_dump(exclude_unset=True)
    return LineOut.of(await uc.update_line(container(request).services, principal, line_id, fields))


@router.get("/operators", response_model=list[UserOut], tags=["operators"], **allow(*STAFF))
async def operators(
    request: Request, role: Role | None = None, principal: Principal = Depends(current_principal)
) -> list[UserOut]:
    """Users of the desk; filter by role (operator, supervisor, admin)."""
    return [UserOut.of(u) for u in await uc.list_users(container(request).services, principal, role)]


@router.post("/operators", response_model=UserOut, status_code=201, tags=["operators"], **allow(*ADMIN))
async def create_operator(
    body: OperatorIn, request: Request, principal: Principal = Depends(current_principal)
) -> UserOut:
    new = uc.NewUser(
        body.login, body.name, body.role, body.password, body.email, body.skills, body.capacity, body.max_total
    )
    return UserOut.of(await uc.create_user(container(request).services, principal, new))


@router.get("/operators/{user_id}", response_model=UserOut, tags=["operators"], **allow(*STAFF))
async def operator(user_id: PathId, request: Request, principal: Principal = Depends(current_principal)) -> UserOut:
    return UserOut.of(await uc.get_user(container(request).services, principal, user_id))


@router.patch("/operators/{user_id}", response_model=UserOut, tags=["operators"], **allow(*MANAGERS))
async def edit_operator(
    user_id: PathId, body: OperatorPatch, request: Request, principal: Principal = Depends(current_principal)
) -> UserOut:
    fields = body.model_dump(exclude_unset=True)
    return UserOut.of(await uc.update_user(container(request).services, principal, user_id, fields))


@router.get("/leads", response_model=list[LeadOut], tags=["leads"], **allow(*STAFF))
async def leads(
    request: Request,
    contact_id: QueryId = None,
    status: LeadStatus | None = None,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=100_000),
    principal: Principal = Depends(current_principal),
) -> list[LeadOut]:
    found = await leads_uc.list_leads(container(request).services, principal, contact_id, status, limit, offset)
    return [LeadOut.of(shown_lead(principal, x)) for x in found]


@router.get("/leads/{lead_id}", response_model=LeadOut, tags=["leads"], **allow(*STAFF))
async def lead(lead_id: PathId, request: Request, principal: Principal = Depends(current_principal)) -> LeadOut:
    return LeadOut.of(shown_lead(principal, await leads_uc.get_lead(container(request).services, principal, lead_id)))


@router.patch("/leads/{lead_id}", response_model=LeadOut, tags=["leads"], **allow(*STAFF))
async def edit_lead(
    lead_id: PathId, body: LeadPatch, request: Request, principal: Principal = Depends(current_principal)
) -> LeadOut:
    lead = await leads_uc.set_lead_status(container(request).services, principal, lead_id, body.status)
    return LeadOut.of(shown_lead(principal, lead))
