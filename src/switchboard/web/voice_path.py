"""The PBX's call control served by the lean path (``web/lean.py``): new calls, step results, events.

Its latency has a target (p99 ≤ 20 ms at 200 new calls/s, docs/benchmarks.md § Voice). The lean path
answers a signed JSON request whose body the documented model accepts; anything else (another
content type, malformed JSON, a body the model refuses, a channel id out of range) is the FastAPI
route's to answer. The signature is checked first, as the route's dependency does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import BaseModel
from starlette.types import Scope

from switchboard.application.voice import CallControl, NewCall, StepResult
from switchboard.domain.voice.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER
from switchboard.web.lean import Answer, LeanRoute, Serve, declares_json, header, json_model, lean_route, path_id
from switchboard.web.routes import voice
from switchboard.web.voice_schemas import CallEventIn, EventOut, NewCallIn, StepOut, StepResultIn

M = TypeVar("M", bound=BaseModel)
_TIMESTAMP = TIMESTAMP_HEADER.lower().encode()
_SIGNATURE = SIGNATURE_HEADER.lower().encode()


def pbx_routes(prefix: str) -> list[LeanRoute]:
    """The three call-control routes, included under ``prefix``."""
    return [
        lean_route(voice.router, voice.new_call, _signed(NewCallIn, _new_call), prefix=prefix),
        lean_route(voice.router, voice.step_result, _signed(StepResultIn, _step_result), prefix=prefix),
        lean_route(voice.router, voice.call_event, _signed(CallEventIn, _call_event), prefix=prefix),
    ]


def _signed(model: type[M], act: Callable[[CallControl, int, M], Awaitable[BaseModel]]) -> Serve:
    async def serve(scope: Scope, body: bytes, params: dict[str, str]) -> Answer | None:
        channel_id = path_id(params["phone_channel_id"])
        if channel_id is None or not declares_json(scope):
            return None
        control: CallControl = scope["app"].state.container.call_control
        await control.verify(channel_id, header(scope, _TIMESTAMP), header(scope, _SIGNATURE), body)
        request = json_model(model, body)
        if request is None:
            return None
        return Answer.of(await act(control, channel_id, request))

    return serve


async def _new_call(control: CallControl, channel_id: int, body: NewCallIn) -> StepOut:
    return StepOut.of(await control.start_call(NewCall(body.call_id, body.ani, body.dnis, channel_id)))


async def _step_result(control: CallControl, channel_id: int, body: StepResultIn) -> StepOut:
    result = StepResult(body.call_id, body.step_id, body.outcome, body.digits)
    return StepOut.of(await control.report_result(channel_id, result))


async def _call_event(control: CallControl, channel_id: int, body: CallEventIn) -> EventOut:
    return EventOut.of(await control.record_call_event(channel_id, voice.event_of(body)))
