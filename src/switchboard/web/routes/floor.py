"""The supervisor's floor view: live queues per line, operators, the conversations in each queue."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from switchboard.application.access import Principal
from switchboard.application.floor import floor_view
from switchboard.web.access import MANAGERS, allow, container, current_principal

router = APIRouter(tags=["floor"])


class QueueOut(BaseModel):
    line_id: int
    name: str
    waiting: int
    longest_wait_s: float | None
    service_level_s: float = Field(description="the line's answer-time target")
    service_level: float | None = Field(description="today: answered within the target / (answered + abandoned)")
    answered_today: int
    abandoned_today: int


class FloorOperatorOut(BaseModel):
    id: int
    name: str
    status: str
    reason: str
    since: datetime | None
    logged_in: bool
    load: int = Field(description="conversations held now")
    max_total: int
    line_ids: list[int]
    missed_offers: int = Field(description="offers let expire in a row; the line's auto-pause counts these")


class FloorConversationOut(BaseModel):
    id: int
    line_id: int
    contact_id: int
    contact_name: str
    vip: bool
    channel_kind: str
    status: str
    waiting_since: datetime
    assignee_id: int | None


class FloorOut(BaseModel):
    at: datetime
    lines: list[QueueOut]
    operators: list[FloorOperatorOut]
    conversations: list[FloorConversationOut]


@router.get("/floor", response_model=FloorOut, **allow(*MANAGERS))
async def floor(request: Request, principal: Principal = Depends(current_principal)) -> FloorOut:
    """Everything the floor view shows, read in one transaction: refresh it on the websocket's events."""
    view = await floor_view(container(request).services, principal)
    return FloorOut(
        at=view.at,
        lines=[QueueOut(**vars_of(q)) for q in view.lines],
        operators=[FloorOperatorOut(**vars_of(o)) for o in view.operators],
        conversations=[FloorConversationOut(**vars_of(c)) for c in view.conversations],
    )


def vars_of(record: object) -> dict[str, object]:
    return {name: getattr(record, name) for name in record.__slots__}  # type: ignore[attr-defined]
