"""Voice over HTTP: call control for any PBX (signed, no user), and calls and callbacks for the desk.

``web/voice_path.py`` serves the PBX endpoints' common case without FastAPI's per-request
machinery; these routes answer the rest and are what the OpenAPI documents. The PBX endpoints carry
no bearer token: each request is signed with the phone channel's secret (``X-Switchboard-Timestamp``,
``X-Switchboard-Signature``; see docs/voice.md).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from switchboard.application.access import Principal
from switchboard.application.voice import CallControl, CallEvent, NewCall, StepResult
from switchboard.application.voice.callbacks import list_callbacks, order_callback
from switchboard.application.voice.originate import Dial
from switchboard.application.voice.screen_pop import screen_pop
from switchboard.domain.operators import Role
from switchboard.domain.voice.callbacks import CallbackStatus
from switchboard.domain.voice.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER
from switchboard.web.access import STAFF, allow, container, current_principal, public
from switchboard.web.schemas import PathId, QueryId
from switchboard.web.voice_schemas import (
    CallbackIn,
    CallbackOut,
    CallEventIn,
    CallOut,
    DialIn,
    EventOut,
    NewCallIn,
    ScreenPopOut,
    StepOut,
    StepResultIn,
)

router = APIRouter(prefix="/voice", tags=["voice"])
SIGNED = {401: {"description": "not signed with the channel's secret, or the timestamp is outside the 5-minute window"}}


def control(request: Request) -> CallControl:
    value: CallControl = request.app.state.container.call_control
    return value


async def signed(request: Request, phone_channel_id: PathId) -> None:
    """Only the PBX holding the channel's secret may drive its calls."""
    await control(request).verify(
        phone_channel_id,
        request.headers.get(TIMESTAMP_HEADER),
        request.headers.get(SIGNATURE_HEADER),
        await request.body(),
    )


PBX = {**public(), "dependencies": [Depends(signed)], "responses": SIGNED}


@router.post("/pbx/{phone_channel_id}/calls", response_model=StepOut, **PBX)
async def new_call(phone_channel_id: PathId, body: NewCallIn, request: Request) -> StepOut:
    """A new inbound call: the first step (a menu, a prompt, or straight to the queue). A repeat gets the same step."""
    step = await control(request).start_call(NewCall(body.call_id, body.ani, body.dnis, phone_channel_id))
    return StepOut.of(step)


@router.post("/pbx/{phone_channel_id}/results", response_model=StepOut, **PBX)
async def step_result(phone_channel_id: PathId, body: StepResultIn, request: Request) -> StepOut:
    """The outcome of a step (digits, no input, waited, no answer): the next step."""
    result = StepResult(body.call_id, body.step_id, body.outcome, body.digits)
    return StepOut.of(await control(request).report_result(phone_channel_id, result))


@router.post("/pbx/{phone_channel_id}/events", response_model=EventOut, **PBX)
async def call_event(phone_channel_id: PathId, body: CallEventIn, request: Request) -> EventOut:
    """Ringing at an operator, answered, transferred, hung up, recording ready; a repeated event_id changes nothing."""
    return EventOut.of(await control(request).record_call_event(phone_channel_id, event_of(body)))


def event_of(body: CallEventIn) -> CallEvent:
    return CallEvent(
        body.event_id,
        body.call_id,
        body.kind,
        body.at,
        body.operator_id,
        body.extension,
        body.target,
        body.recording_url,
        body.cause,
    )


@router.post("/calls", response_model=CallOut, status_code=201, **allow(Role.OPERATOR))
async def dial(body: DialIn, request: Request, principal: Principal = Depends(current_principal)) -> CallOut:
    """Click-to-call: the PBX rings my phone, then dials the number (a contact's, a callback's); an outbound call."""
    call = await control(request).dial(principal, Dial(body.number, body.contact_id, body.callback_id, body.channel_id))
    return CallOut.of(call)


@router.get("/calls/{call_id}", response_model=CallOut, **allow(*STAFF))
async def call(call_id: PathId, request: Request, principal: Principal = Depends(current_principal)) -> CallOut:
    """A call's record: numbers, times, wait and talk, disposition, recording, the IVR path."""
    return CallOut.of(await control(request).get_call(principal, call_id))


@router.get("/calls/{call_id}/card", response_model=ScreenPopOut, **allow(*STAFF))
async def card(call_id: PathId, request: Request, principal: Principal = Depends(current_principal)) -> ScreenPopOut:
    """The screen pop of a call (the same card the ringing operator's websocket receives)."""
    return ScreenPopOut.of(await screen_pop(container(request).services, principal, call_id))


@router.get("/callbacks", response_model=list[CallbackOut], **allow(*STAFF))
async def callbacks(
    request: Request,
    line_id: QueryId = None,
    status: list[CallbackStatus] = Query(default_factory=list),
    principal: Principal = Depends(current_principal),
) -> list[CallbackOut]:
    """Numbers to call back, soonest due first (open and being dialled, unless ``status`` says otherwise)."""
    found = await list_callbacks(container(request).services, principal, line_id, tuple(status))
    return [CallbackOut.of(c) for c in found]


@router.post("/callbacks", response_model=CallbackOut, status_code=201, **allow(Role.INTEGRATION, *STAFF))
async def new_callback(
    body: CallbackIn, request: Request, principal: Principal = Depends(current_principal)
) -> CallbackOut:
    """Order a callback (the website's widget): due by the line's SLA; a number already waiting is not added twice."""
    callback = await order_callback(
        container(request).services, principal, body.channel_id, body.phone, body.name, body.note
    )
    return CallbackOut.of(callback)
