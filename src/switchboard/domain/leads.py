"""Leads: a possible sale, born from any conversation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from switchboard.domain.source import Source


class LeadStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    CONVERTED = "converted"
    LOST = "lost"


def lead_title(contact_name: str, channel_name: str) -> str:
    return f"{contact_name} — {channel_name}"[:200]


@dataclass(slots=True)
class Lead:
    id: int
    contact_id: int
    title: str
    status: LeadStatus
    automatic: bool
    created_at: datetime
    conversation_id: int | None = None
    created_by: int | None = None
    source: Source = field(default_factory=Source)
