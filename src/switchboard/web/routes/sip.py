"""The SIP front end: a SIP proxy (Kamailio) asks where each INVITE goes and reports what became of it.

A proxy plays no prompts and collects no digits, so the call-control steps are folded here into
one SIP decision: relay the INVITE to an operator's address of record, or answer a final status.
While the caller waits for an operator the request is held (up to ``wait_s``) and the queue is
polled, as a PBX would between hold-music spells. The proxy authenticates with a shared secret
(``SWITCHBOARD_SIP_SECRET``) in a header and must connect from a loopback address: run it on the
same host (see docs/voice.md, "Kamailio").
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import time
from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from switchboard.application.errors import InvalidInput, NotFound, Unauthenticated
from switchboard.application.voice import CallControl, CallEvent, NewCall, StepResult
from switchboard.application.voice.model import Action, EventKind, Outcome, Step
from switchboard.web.access import public
from switchboard.web.schemas import Strict
from switchboard.web.voice_schemas import CallId, EventOut

router = APIRouter(prefix="/voice/sip", tags=["voice"])
log = logging.getLogger("switchboard.voice.sip")
SECRET_HEADER = "X-Switchboard-Sip-Secret"  # noqa: S105 - a header name
POLL_S = 0.2
MAX_STEPS = 200  # a walk through menus the proxy cannot play ends long before this
BUSY_CODES = frozenset({486, 600})
NO_ANSWER_CODES = frozenset({408, 480, 487})
Domain = Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.\-\[\]:]+$", description="the SIP domain of AORs")
WaitS = Field(default=20.0, ge=0, le=60, description="how long to hold the INVITE while the caller waits in the queue")


async def proxy_only(request: Request) -> None:
    """The SIP proxy on this host, holding the shared secret; anyone else is refused (401)."""
    expected = request.app.state.container.settings.sip_secret
    given = request.headers.get(SECRET_HEADER, "")
    host = request.client.host if request.client else ""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("sip.refused reason=secret peer=%s", host)
        raise Unauthenticated("the SIP front end needs SWITCHBOARD_SIP_SECRET and its header")
    if not _loopback(host):
        log.warning("sip.refused reason=peer peer=%s", host)
        raise Unauthenticated("the SIP front end answers only the proxy on this host")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


SIP = {
    **public(),
    "dependencies": [Depends(proxy_only)],
    "responses": {401: {"description": "no shared secret header, a wrong one, or not from a loopback address"}},
}


class SipRouteIn(Strict):
    call_id: str = CallId
    ani: str | None = Field(default=None, max_length=64, description="the From user (the caller's number)")
    dnis: str = Field(min_length=1, max_length=64, description="the Request-URI user (the dialled number)")
    domain: str = Domain
    wait_s: float = WaitS


class SipFailureIn(Strict):
    call_id: str = CallId
    step_id: int = Field(ge=0, description="the step_id of the relay that failed")
    code: int = Field(ge=300, le=699, description="the final SIP status from the phone (408: rang out)")
    domain: str = Domain
    wait_s: float = WaitS


class SipEventIn(Strict):
    call_id: str = CallId
    kind: Literal["answered", "hangup"] = Field(description="answered: a 2xx to the INVITE; hangup: a BYE or CANCEL")
    cause: str | None = Field(default=None, max_length=100)


class SipDecisionOut(BaseModel):
    """Where the INVITE goes (``relay`` to ``uri``, ringing up to ``timeout_ms``), the status to answer, or
    ``redirect`` (``302`` with ``uri`` as the Contact: the voicemail of a caller nobody answered)."""

    call_id: str
    action: Literal["relay", "reply", "redirect"]
    step_id: int | None = None
    uri: str | None = None
    operator_id: int | None = None
    timeout_ms: int | None = None
    code: int | None = None
    reason: str | None = None


def control(request: Request) -> CallControl:
    value: CallControl = request.app.state.container.call_control
    return value


@router.post("/route", response_model=SipDecisionOut, **SIP)
async def route_invite(body: SipRouteIn, request: Request) -> SipDecisionOut:
    """A new INVITE: relay it to the chosen operator's AOR, or answer 404 (number not served) / 480 (nobody)."""
    calls = control(request)
    try:
        step = await calls.start_call(NewCall(body.call_id, body.ani, body.dnis))
    except NotFound:
        log.warning("sip.unknown_number call_id=%s dnis=%s", body.call_id, body.dnis)
        return _reply(body.call_id, 404, "Number Not Served")
    except InvalidInput as error:
        if error.field != "dnis":
            raise
        log.warning("sip.bad_number call_id=%s dnis=%s", body.call_id, body.dnis)
        return _reply(body.call_id, 484, "Address Incomplete")
    return await _decide(calls, step, body.domain, body.wait_s)


@router.post("/failure", response_model=SipDecisionOut, **SIP)
async def relay_failed(body: SipFailureIn, request: Request) -> SipDecisionOut:
    """The operator's phone did not take the call (no answer, busy, unreachable): the next operator, or a status."""
    outcome = _outcome(body.code)
    step = await control(request).report_result(None, StepResult(body.call_id, body.step_id, outcome))
    log.info("sip.relay_failed call_id=%s code=%s outcome=%s", body.call_id, body.code, outcome.value)
    return await _decide(control(request), step, body.domain, body.wait_s)


@router.post("/events", response_model=EventOut, **SIP)
async def call_event(body: SipEventIn, request: Request) -> EventOut:
    """A 2xx to the INVITE (answered) or a BYE/CANCEL (hangup); a repeat of either changes nothing."""
    kind = EventKind(body.kind)
    event = CallEvent(f"sip-{body.kind}-{body.call_id}"[:128], body.call_id, kind, cause=body.cause)
    return EventOut.of(await control(request).record_call_event(None, event))


def _outcome(code: int) -> Outcome:
    if code in BUSY_CODES:
        return Outcome.BUSY
    return Outcome.NO_ANSWER if code in NO_ANSWER_CODES else Outcome.FAILED


async def _decide(calls: CallControl, step: Step, domain: str, wait_s: float) -> SipDecisionOut:
    """Fold the steps a proxy cannot perform until an operator is chosen, the wait runs out, or the call ends."""
    deadline = time.monotonic() + wait_s
    for _ in range(MAX_STEPS):
        if step.action is Action.CONNECT and step.target:
            return await _relay(calls, step, domain)
        if step.action is Action.VOICEMAIL or (step.action is Action.ENQUEUE and time.monotonic() >= deadline):
            return await _voicemail_or_480(calls, step)
        if step.action in (Action.HANGUP, Action.CONNECT):
            return await _end(calls, step, 480, "Temporarily Unavailable", f"sip-{step.action.value}")
        if step.action is Action.ENQUEUE:
            await asyncio.sleep(POLL_S)
        outcome = {Action.PLAY: Outcome.DONE, Action.COLLECT: Outcome.NO_INPUT}.get(step.action, Outcome.WAITED)
        step = await calls.report_result(None, StepResult(step.call_id, step.step_id, outcome))
    return await _end(calls, step, 480, "Temporarily Unavailable", "sip-too-many-steps")


async def _relay(calls: CallControl, step: Step, domain: str) -> SipDecisionOut:
    assert step.target is not None
    uri = step.target if step.target.startswith(("sip:", "sips:")) else f"sip:{step.target}@{domain}"
    ringing = CallEvent(f"sip-ring-{step.step_id}-{step.call_id}"[:128], step.call_id, EventKind.RINGING)
    await calls.record_call_event(None, ringing)  # the INVITE goes to the phone now: the card pops up
    timeout_ms = int((step.timeout_s or 30.0) * 1000)
    log.info("sip.relay call_id=%s operator=%s uri=%s", step.call_id, step.operator_id, uri)
    return SipDecisionOut(
        call_id=step.call_id,
        action="relay",
        step_id=step.step_id,
        uri=uri,
        operator_id=step.operator_id,
        timeout_ms=timeout_ms,
    )


async def _voicemail_or_480(calls: CallControl, step: Step) -> SipDecisionOut:
    """Nobody took the call in time (or the menus chose voicemail): the line's voicemail if it has one."""
    uri = await calls.voicemail_uri(step.call_id)
    if uri is not None:
        await _end(calls, step, 302, "Moved Temporarily", "sip-voicemail")
        return SipDecisionOut(call_id=step.call_id, action="redirect", uri=uri, code=302, reason="Moved Temporarily")
    if step.action is Action.VOICEMAIL:
        return await _end(calls, step, 480, "Temporarily Unavailable", "sip-voicemail")
    return await _end(calls, step, 480, "No Operator Available", "sip-queue-timeout")


async def _end(calls: CallControl, step: Step, code: int, reason: str, cause: str) -> SipDecisionOut:
    """The proxy answers the caller with a final status, so the call ends here."""
    hangup = CallEvent(f"sip-hangup-{step.call_id}"[:128], step.call_id, EventKind.HANGUP, cause=cause)
    await calls.record_call_event(None, hangup)
    log.info("sip.reply call_id=%s code=%s cause=%s", step.call_id, code, cause)
    return _reply(step.call_id, code, reason)


def _reply(call_id: str, code: int, reason: str) -> SipDecisionOut:
    return SipDecisionOut(call_id=call_id, action="reply", code=code, reason=reason)
