"""A call's record: its times, where it went, and how it ended.

A call that needs a person is also a conversation (routed like any other, with voice
capacity); this record keeps what only a call has: the numbers, the PBX's id, the IVR path,
the times of ringing and talk, the recording, and the disposition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class CallDirection(StrEnum):
    IN = "in"
    OUT = "out"


class CallStatus(StrEnum):
    IVR = "ivr"  # the caller is in the menus
    QUEUED = "queued"  # waiting for an operator
    RINGING = "ringing"  # put through to an operator's phone, not answered yet
    TALKING = "talking"
    VOICEMAIL = "voicemail"
    DIALING = "dialing"  # outbound: the PBX is placing it
    ENDED = "ended"


class Disposition(StrEnum):
    ANSWERED = "answered"  # an operator (or the number the IVR connected) answered
    ABANDONED = "abandoned"  # the caller hung up before anyone answered
    MISSED = "missed"  # nobody answered: refused, overflowed to a callback, timed out, outbound not picked up
    VOICEMAIL = "voicemail"
    IVR = "ivr"  # ended by the IVR itself (self-service, a hang-up node)


LIVE = frozenset(s for s in CallStatus if s is not CallStatus.ENDED)
# why a call ended, when it was not the caller simply hanging up
ENDED_BY_IVR = "ivr"
REFUSED = "refused"
CALLBACK = "callback"
TIMEOUT = "timeout"
CALLER_HANGUP = "hangup"
ORIGINATE_FAILED = "originate_failed"


@dataclass(slots=True)
class Call:
    id: int
    channel_id: int
    pbx_call_id: str
    direction: CallDirection
    ani: str
    dnis: str
    status: CallStatus
    started_at: datetime
    contact_id: int | None = None
    conversation_id: int | None = None
    line_id: int | None = None
    operator_id: int | None = None
    queued_at: datetime | None = None
    offered_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    disposition: Disposition | None = None
    end_reason: str | None = None  # set when Switchboard told the PBX to hang up, else how it ended
    timed_out: bool = False
    wait_s: float | None = None
    talk_s: float | None = None
    after_work_s: float | None = None
    missed_offers: int = 0
    recording_url: str | None = None
    ivr_path: list[str] = field(default_factory=list)
    walk: dict[str, Any] | None = None  # the IVR walk while in the menus
    step_no: int = 0
    step: dict[str, Any] | None = None  # the last step given to the PBX (a repeated request gets it again)
    transferred_to: str | None = None
    expires_at: datetime | None = None
    language: str = ""
    announced_at: datetime | None = None
    callback_id: int | None = None  # the callback this outbound call works on

    @property
    def live(self) -> bool:
        return self.status is not CallStatus.ENDED

    def end(self, at: datetime, reason: str | None, after_work_s: float | None = None) -> Disposition:
        """Close the record: times, wait, talk and the disposition."""
        self.end_reason = self.end_reason or reason
        self.disposition = disposition_of(self, reason)
        self.ended_at = max(at, self.started_at)
        self.status = CallStatus.ENDED
        self.measure(after_work_s)
        return self.disposition

    def measure(self, after_work_s: float | None = None) -> None:
        """Wait (queued to answered or ended) and talk (answered to ended), in seconds."""
        ended = self.ended_at
        if ended is None:
            return
        if self.queued_at is not None:
            self.wait_s = round(max(0.0, ((self.answered_at or ended) - self.queued_at).total_seconds()), 3)
        if self.answered_at is not None:
            self.talk_s = round(max(0.0, (ended - self.answered_at).total_seconds()), 3)
            self.after_work_s = after_work_s
        else:
            self.talk_s = None
            self.after_work_s = None


def disposition_of(call: Call, reason: str | None) -> Disposition:
    """How a call ended: answered beats everything; then voicemail; the IVR's own end; the caller's hang-up."""
    if call.answered_at is not None:
        return Disposition.ANSWERED
    if call.status is CallStatus.VOICEMAIL:
        return Disposition.VOICEMAIL
    if call.direction is CallDirection.OUT:
        return Disposition.MISSED
    ending = call.end_reason or reason
    if ending == ENDED_BY_IVR:
        return Disposition.IVR
    if ending in (REFUSED, CALLBACK, TIMEOUT, ORIGINATE_FAILED):
        return Disposition.MISSED
    return Disposition.ABANDONED


def wants_callback(call: Call) -> bool:
    """An inbound call nobody answered becomes a callback task, if the caller's number is known.

    A caller who hung up in the menus did not wait for anyone, so only abandoned calls that
    reached the queue count.
    """
    if call.direction is not CallDirection.IN or not call.ani.startswith("+"):
        return False
    if call.disposition in (Disposition.MISSED, Disposition.VOICEMAIL):
        return call.end_reason != ENDED_BY_IVR
    return call.disposition is Disposition.ABANDONED and call.queued_at is not None


def summary(call: Call, operator_name: str | None) -> str:
    """One timeline line: direction, number, outcome and talk time."""
    who = call.ani if call.direction is CallDirection.IN else call.dnis
    arrow = "inbound call from" if call.direction is CallDirection.IN else "outbound call to"
    outcome = (call.disposition or Disposition.MISSED).value
    if call.disposition is Disposition.ANSWERED and operator_name:
        outcome = f"answered by {operator_name}"
    talk = f", talk {int(call.talk_s // 60)}:{int(call.talk_s % 60):02d}" if call.talk_s is not None else ""
    timed = " (closed by timeout)" if call.timed_out else ""
    return f"{arrow} {who or 'a withheld number'}: {outcome}{talk}{timed}"
