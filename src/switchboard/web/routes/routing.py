"""Routing for people: status, offers, picking from the pool, transfers."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from switchboard.application.access import Principal
from switchboard.application.errors import StateConflict, Unavailable
from switchboard.application.routing import commands as uc
from switchboard.application.routing.router import RoutingElsewhere
from switchboard.domain.operators import Role
from switchboard.web.access import MANAGERS, STAFF, allow, container, current_principal
from switchboard.web.schemas import OfferOut, PathId, PositionOut, PresenceOut, StatusIn, TransferIn

router = APIRouter(tags=["routing"])
OPERATOR = (Role.OPERATOR,)


def _presence(p: uc.Presence) -> PresenceOut:
    return PresenceOut(operator_id=p.operator_id, status=p.status, reason=p.reason, logged_in=p.logged_in)


@router.put("/me/status", response_model=PresenceOut, **allow(*OPERATOR))
async def my_status(body: StatusIn, request: Request, principal: Principal = Depends(current_principal)) -> PresenceOut:
    """Go available, take a break (with a reason), or go offline (signs out of routing, hands back conversations)."""
    assert principal.user_id is not None
    presence = await uc.set_status(container(request).services, principal, principal.user_id, body.status, body.reason)
    return _presence(presence)


@router.put("/operators/{operator_id}/status", response_model=PresenceOut, **allow(*MANAGERS))
async def force_status(
    operator_id: PathId, body: StatusIn, request: Request, principal: Principal = Depends(current_principal)
) -> PresenceOut:
    """A supervisor sets an operator's status (e.g. sends a forgotten operator offline)."""
    return _presence(await uc.set_status(container(request).services, principal, operator_id, body.status, body.reason))


@router.get("/me/offers", response_model=list[OfferOut], **allow(*OPERATOR))
async def my_offers(request: Request, principal: Principal = Depends(current_principal)) -> list[OfferOut]:
    """Conversations ringing for me now, with their deadlines."""
    offers = await uc.my_offers(container(request).services, principal)
    return [OfferOut(conversation_id=o.conversation_id, line_id=o.line_id, deadline=o.deadline) for o in offers]


@router.post(
    "/conversations/{conversation_id}/accept",
    status_code=204,
    **allow(*OPERATOR),
    responses={409: {"description": "the offer was taken by someone else, withdrawn or expired"}},
)
async def accept(
    conversation_id: PathId, request: Request, principal: Principal = Depends(current_principal)
) -> Response:
    """Take the offered conversation; offered to several, the first accept wins."""
    await uc.accept_offer(container(request).services, principal, conversation_id)
    return Response(status_code=204)


@router.post("/conversations/{conversation_id}/decline", status_code=204, **allow(*OPERATOR))
async def decline(
    conversation_id: PathId, request: Request, principal: Principal = Depends(current_principal)
) -> Response:
    await uc.decline_offer(container(request).services, principal, conversation_id)
    return Response(status_code=204)


@router.post("/conversations/{conversation_id}/pick", status_code=204, **allow(*OPERATOR))
async def pick(
    conversation_id: PathId, request: Request, principal: Principal = Depends(current_principal)
) -> Response:
    """Manual lines: take a waiting conversation from the pool."""
    await uc.pick_conversation(container(request).services, principal, conversation_id)
    return Response(status_code=204)


@router.post("/conversations/{conversation_id}/transfer", status_code=204, **allow(*STAFF))
async def transfer(
    conversation_id: PathId, body: TransferIn, request: Request, principal: Principal = Depends(current_principal)
) -> Response:
    """Hand over to an operator (offered to them first) or to a line, with a note for the next one."""
    await uc.transfer_conversation(
        container(request).services,
        principal,
        conversation_id,
        to_operator_id=body.to_operator_id,
        to_line_id=body.to_line_id,
        note=body.note,
    )
    return Response(status_code=204)


@router.get("/statuses", response_model=dict[str, str], **allow(*STAFF))
async def statuses(request: Request) -> dict[str, str]:
    """Every status an operator can be in, with its effect: routed, last (after everyone available) or out."""
    return uc.statuses(container(request).services)


@router.get(
    "/conversations/{conversation_id}/position",
    response_model=PositionOut,
    **allow(Role.INTEGRATION, *STAFF),
    responses={409: {"description": "not waiting in a queue"}, 503: {"description": "ask again: routing moves"}},
)
async def position(
    conversation_id: PathId, request: Request, principal: Principal = Depends(current_principal)
) -> PositionOut:
    """The customer's place in the queue (1 = next) and the estimated wait, for a widget or a bot to tell them."""
    try:
        found = await container(request).queue_position(conversation_id)
    except RoutingElsewhere as error:
        raise Unavailable(str(error)) from error
    if found is None:
        raise StateConflict("the conversation is not waiting in a queue", field="conversation_id")
    return PositionOut(conversation_id=conversation_id, position=found[0], estimated_wait_s=found[1])
