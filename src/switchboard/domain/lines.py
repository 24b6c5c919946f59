"""Lines: bind channels to a queue of operators with the rules of the line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Line:
    id: int
    name: str
    time_zone: str = "Europe/Moscow"
    create_lead_for_new_contact: bool = True
    reopen_window_seconds: int = 86_400
    active: bool = True
    operator_ids: list[int] = field(default_factory=list)
    routing: dict[str, Any] = field(default_factory=dict)
