"""Users: operators answer; supervisors watch the floor; admins wire the system."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    OPERATOR = "operator"
    INTEGRATION = "integration"  # API tokens of external systems: the API channel only


STAFF_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR})

DEFAULT_CAPACITY: dict[str, int] = {"voice": 1, "chat": 5, "email": 10}


@dataclass(slots=True)
class User:
    id: int
    login: str
    name: str
    role: Role
    active: bool = True
    email: str | None = None
    skills: dict[str, int] = field(default_factory=dict)  # skill -> proficiency 1..10
    capacity: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_CAPACITY))
    max_total: int = 10
    status: str = "offline"
    missed_offers: int = 0  # offers let expire in a row; reset by an accept, going available, or auto-pause


def validate_capacity(capacity: dict[str, int], max_total: int) -> list[str]:
    """Problems with a capacity setting, each naming its field; empty when it is sound."""
    problems = [f"capacity.{media} must be between 0 and 100" for media, n in capacity.items() if not 0 <= n <= 100]
    if not 1 <= max_total <= 200:
        problems.append("max_total must be between 1 and 200")
    return problems
