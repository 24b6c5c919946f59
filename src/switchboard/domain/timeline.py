"""The contact's one history: every conversation, message and CRM fact, in every channel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    id: int
    contact_id: int
    kind: str
    ref_id: int
    occurred_at: datetime
    summary: str
    conversation_id: int | None = None
    channel_kind: str | None = None


def summarize(body: str, limit: int = 200) -> str:
    """One line for the timeline: whitespace folded, cut at ``limit`` with an ellipsis."""
    text = " ".join(body.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
