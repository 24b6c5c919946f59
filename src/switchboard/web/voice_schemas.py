"""What the voice API takes and gives: call control for the PBX, calls, screen pops and callbacks."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from switchboard.application.voice.model import Action, EventKind, EventOutcome, Outcome, Step
from switchboard.application.voice.screen_pop import ScreenPop
from switchboard.domain.voice.call import Call
from switchboard.domain.voice.callbacks import Callback
from switchboard.web.schemas import BodyId, ContactOut, ConversationOut, LeadOut, Strict

CallId = Field(min_length=1, max_length=128, description="the PBX's id of the call (unique per channel)")


class NewCallIn(Strict):
    call_id: str = CallId
    ani: str | None = Field(
        default=None, max_length=64, description="the caller's number; empty or 'anonymous' when withheld"
    )
    dnis: str = Field(min_length=1, max_length=64, description="the dialled number")


class StepResultIn(Strict):
    call_id: str = CallId
    step_id: int = Field(ge=0, description="the step_id of the step this is the result of")
    outcome: Outcome
    digits: str = Field(default="", max_length=32)


class CallEventIn(Strict):
    event_id: str = Field(min_length=1, max_length=128, description="unique per channel: a repeat is harmless")
    call_id: str = CallId
    kind: EventKind
    at: datetime | None = Field(default=None, description="when it happened at the PBX (default: when received)")
    operator_id: BodyId | None = None
    extension: str | None = Field(default=None, max_length=200, description="the phone that rang or answered")
    target: str | None = Field(default=None, max_length=200, description="where a transfer went")
    recording_url: str | None = Field(default=None, max_length=2000)
    cause: str | None = Field(default=None, max_length=100)


class StepOut(BaseModel):
    """What the PBX does next; send ``step_id`` back with the result."""

    call_id: str
    step_id: int
    action: Action
    prompts: list[str]
    language: str
    min_digits: int | None = None
    max_digits: int | None = None
    timeout_s: float | None = None
    line_id: int | None = None
    operator_id: int | None = None
    target: str | None = None
    poll_after_s: float | None = None
    position: int | None = None
    estimated_wait_s: float | None = None
    max_s: float | None = None

    @classmethod
    def of(cls, step: Step) -> StepOut:
        return cls.model_validate(step.to_data())


class EventOut(BaseModel):
    call_id: int
    applied: bool
    duplicate: bool
    status: str
    detail: str

    @classmethod
    def of(cls, outcome: EventOutcome) -> EventOut:
        return cls(
            call_id=outcome.call_id,
            applied=outcome.applied,
            duplicate=outcome.duplicate,
            status=outcome.status,
            detail=outcome.detail,
        )


class DialIn(Strict):
    """Exactly one of number, contact_id (their phone) or callback_id (a callback from the list)."""

    number: str | None = Field(default=None, max_length=64)
    contact_id: BodyId | None = None
    callback_id: BodyId | None = None
    channel_id: BodyId | None = Field(
        default=None, description="the phone channel to call from (default: one of yours)"
    )


class CallOut(BaseModel):
    id: int
    channel_id: int
    pbx_call_id: str
    direction: str
    ani: str
    dnis: str
    status: str
    disposition: str | None
    end_reason: str | None
    timed_out: bool
    contact_id: int | None
    conversation_id: int | None
    line_id: int | None
    operator_id: int | None
    started_at: datetime
    queued_at: datetime | None
    offered_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    wait_s: float | None
    talk_s: float | None
    after_work_s: float | None
    missed_offers: int
    recording_url: str | None
    ivr_path: list[str]
    transferred_to: str | None
    language: str
    callback_id: int | None

    @classmethod
    def of(cls, c: Call) -> CallOut:
        return cls(
            id=c.id,
            channel_id=c.channel_id,
            pbx_call_id=c.pbx_call_id,
            direction=c.direction.value,
            ani=c.ani,
            dnis=c.dnis,
            status=c.status.value,
            disposition=c.disposition.value if c.disposition else None,
            end_reason=c.end_reason,
            timed_out=c.timed_out,
            contact_id=c.contact_id,
            conversation_id=c.conversation_id,
            line_id=c.line_id,
            operator_id=c.operator_id,
            started_at=c.started_at,
            queued_at=c.queued_at,
            offered_at=c.offered_at,
            answered_at=c.answered_at,
            ended_at=c.ended_at,
            wait_s=c.wait_s,
            talk_s=c.talk_s,
            after_work_s=c.after_work_s,
            missed_offers=c.missed_offers,
            recording_url=c.recording_url,
            ivr_path=list(c.ivr_path),
            transferred_to=c.transferred_to,
            language=c.language,
            callback_id=c.callback_id,
        )


class ScreenPopOut(BaseModel):
    """The caller's card for the operator whose phone rings."""

    call_id: int
    conversation_id: int | None
    known: bool
    number: str
    contact: ContactOut | None
    conversations: list[ConversationOut]
    leads: list[LeadOut]
    actions: list[str]

    @classmethod
    def of(cls, pop: ScreenPop) -> ScreenPopOut:
        return cls(
            call_id=pop.call.id,
            conversation_id=pop.call.conversation_id,
            known=pop.known,
            number=pop.number,
            contact=ContactOut.of(pop.contact) if pop.contact else None,
            conversations=[ConversationOut.of(c) for c in pop.conversations],
            leads=[LeadOut.of(lead) for lead in pop.leads],
            actions=list(pop.actions),
        )


class CallbackIn(Strict):
    channel_id: BodyId = Field(description="the channel the request comes through (its line gets the callback)")
    phone: str = Field(min_length=1, max_length=64)
    name: str | None = Field(default=None, max_length=200)
    note: str = Field(default="", max_length=500)


class CallbackOut(BaseModel):
    id: int
    line_id: int
    channel_id: int | None
    contact_id: int | None
    number: str
    reason: str
    status: str
    due_at: datetime
    created_at: datetime
    call_id: int | None
    conversation_id: int | None
    assignee_id: int | None
    attempts: int
    done_at: datetime | None
    note: str

    @classmethod
    def of(cls, c: Callback) -> CallbackOut:
        return cls(
            id=c.id,
            line_id=c.line_id,
            channel_id=c.channel_id,
            contact_id=c.contact_id,
            number=c.number,
            reason=c.reason.value,
            status=c.status.value,
            due_at=c.due_at,
            created_at=c.created_at,
            call_id=c.call_id,
            conversation_id=c.conversation_id,
            assignee_id=c.assignee_id,
            attempts=c.attempts,
            done_at=c.done_at,
            note=c.note,
        )
