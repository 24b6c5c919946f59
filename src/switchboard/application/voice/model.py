"""The words the PBX and Switchboard exchange: a new call, steps, step results, call events.

These are PBX-neutral: the HTTP call control, a FastAGI server and a SIP proxy's hook all
translate their protocol into these and back.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    PLAY = "play"  # play the prompts, then report outcome "done"
    COLLECT = "collect"  # play the prompts while collecting digits; report "digits" (with them) or "no_input"
    ENQUEUE = "enqueue"  # (announce, then) hold music for poll_after_s; report "waited"
    CONNECT = "connect"  # ring target (the operator's phone) up to timeout_s; report "no_answer"/"busy"/"failed"
    VOICEMAIL = "voicemail"  # play the prompts, record up to max_s; report events (recording), then hang up
    HANGUP = "hangup"  # play the prompts and hang up; report the hangup event


class Outcome(StrEnum):
    DONE = "done"
    DIGITS = "digits"
    NO_INPUT = "no_input"
    WAITED = "waited"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"


class EventKind(StrEnum):
    RINGING = "ringing"  # an operator's phone rings (screen pop)
    ANSWERED = "answered"
    TRANSFERRED = "transferred"
    HANGUP = "hangup"
    RECORDING = "recording"  # the recording (or voicemail) is ready at recording_url


@dataclass(frozen=True, slots=True)
class NewCall:
    """A call the PBX just received. ``channel_id`` None: the channel is found by the dialled number."""

    call_id: str
    ani: str | None
    dnis: str
    channel_id: int | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """What the PBX does next with the call; ``step_id`` goes back with the result."""

    call_id: str
    step_id: int
    action: Action
    prompts: tuple[str, ...] = ()
    language: str = ""
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

    def to_data(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _STEP_FIELDS}
        data["action"] = self.action.value
        data["prompts"] = list(self.prompts)
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Step:
        return cls(**{**data, "action": Action(data["action"]), "prompts": tuple(data.get("prompts", ()))})


_STEP_FIELDS = tuple(f.name for f in fields(Step))


@dataclass(frozen=True, slots=True)
class StepResult:
    call_id: str
    step_id: int
    outcome: Outcome
    digits: str = ""


@dataclass(frozen=True, slots=True)
class CallEvent:
    """Something the PBX saw happen. ``event_id`` makes a repeat harmless."""

    event_id: str
    call_id: str
    kind: EventKind
    at: datetime | None = None
    operator_id: int | None = None
    extension: str | None = None  # the phone that rang or answered, when the PBX knows no operator id
    target: str | None = None  # where a transfer went
    recording_url: str | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """``applied`` False: stored, but it changed nothing (a repeat, or too late: the call had moved on)."""

    call_id: int
    applied: bool
    duplicate: bool
    status: str
    detail: str = ""
