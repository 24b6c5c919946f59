"""Callback tasks: a number to call back by a due time, worked from the line's task list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

DEFAULT_SLA_S = 3600
MIN_SLA_S = 60
MAX_SLA_S = 7 * 86_400


class CallbackStatus(StrEnum):
    OPEN = "open"  # on the line's list, to be called back
    CALLING = "calling"  # an operator is dialling it now
    DONE = "done"  # the customer answered
    CANCELLED = "cancelled"


class CallbackReason(StrEnum):
    MISSED = "missed"
    ABANDONED = "abandoned"
    VOICEMAIL = "voicemail"
    IVR = "ivr"  # ordered by the caller from the menus
    WIDGET = "widget"  # ordered on the website
    ROUTING = "routing"  # the line sent it to a callback (overflow, off hours)


@dataclass(slots=True)
class Callback:
    id: int
    line_id: int
    number: str
    reason: CallbackReason
    status: CallbackStatus
    due_at: datetime
    created_at: datetime
    channel_id: int | None = None
    contact_id: int | None = None
    call_id: int | None = None
    conversation_id: int | None = None
    assignee_id: int | None = None
    attempts: int = 0
    done_at: datetime | None = None
    note: str = ""


def due_by(created_at: datetime, sla_s: float) -> datetime:
    return created_at + timedelta(seconds=sla_s)


def callback_sla(settings: object) -> float:
    """The line's ``routing.callback_sla_s``: how soon a callback is due."""
    value = settings.get("callback_sla_s") if isinstance(settings, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and MIN_SLA_S <= value <= MAX_SLA_S:
        return float(value)
    return float(DEFAULT_SLA_S)
