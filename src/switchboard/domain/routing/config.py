"""Line configuration as validated, frozen data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from switchboard.domain.routing.automatic import AutomaticActions
from switchboard.domain.routing.calendar import WorkingCalendar
from switchboard.domain.routing.model import Mode

MIN_FORWARDING_S = 5.0
MAX_FORWARDING_S = 24 * 3600.0


class Overflow(StrEnum):
    """Where a conversation goes when the line cannot keep it."""

    LINE = "line"
    CALLBACK = "callback"
    REFUSE = "refuse"


class OffHours(StrEnum):
    """What happens to a conversation arriving while the line is closed."""

    AUTO_REPLY = "auto_reply"
    HOLD = "hold"
    OVERFLOW = "overflow"
    CALLBACK = "callback"
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class Member:
    """An operator on a line: `tier` 1 is asked before tier 2; skills map name → proficiency 1..10."""

    operator_id: str
    tier: int = 1
    skills: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Limits:
    """Max wait / queue length (None = unlimited) and where the overflow goes."""

    max_wait_s: float | None = None
    max_queue_length: int | None = None
    overflow: Overflow = Overflow.REFUSE
    overflow_line_id: str | None = None


@dataclass(frozen=True, slots=True)
class OffHoursRule:
    """Off-hours behaviour; `line_id` is the target of OVERFLOW."""

    action: OffHours = OffHours.HOLD
    line_id: str | None = None


class InvalidConfig(ValueError):
    """A line configuration with mistakes; `errors` lists (field, message)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))


@dataclass(frozen=True, slots=True)
class LineConfig:
    """Everything that decides how one line routes."""

    line_id: str
    name: str = ""
    mode: Mode = Mode.EVENLY
    members: tuple[Member, ...] = ()
    forwarding_timeout_s: float = 60.0
    wrap_up_s: float = 0.0
    sticky_wait_s: float = 0.0
    limits: Limits = field(default_factory=Limits)
    calendar: WorkingCalendar | None = None
    off_hours: OffHoursRule = field(default_factory=OffHoursRule)
    actions: AutomaticActions = field(default_factory=AutomaticActions)
    priority: int = 0
    auto_pause_after_missed: int | None = None

    def problems(self) -> list[tuple[str, str]]:
        """(field, message) for every mistake; empty when the line is usable."""
        found = _basic_problems(self)
        found += _member_problems(self.members)
        found += _limit_problems(self)
        if self.calendar is not None:
            found += self.calendar.problems()
        found += self.actions.problems()
        return found

    def validate(self) -> LineConfig:
        """Return self, or raise InvalidConfig naming each bad field."""
        found = self.problems()
        if found:
            raise InvalidConfig(found)
        return self


def _basic_problems(line: LineConfig) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if not line.line_id:
        found.append(("line_id", "must not be empty"))
    if not MIN_FORWARDING_S <= line.forwarding_timeout_s <= MAX_FORWARDING_S:
        found.append(("forwarding_timeout_s", "must be between 5 seconds and 24 hours"))
    for name in ("wrap_up_s", "sticky_wait_s"):
        if getattr(line, name) < 0:
            found.append((name, "must be >= 0 seconds"))
    if line.auto_pause_after_missed is not None and line.auto_pause_after_missed < 1:
        found.append(("auto_pause_after_missed", "must be >= 1 or None (off)"))
    if line.off_hours.action is OffHours.OVERFLOW and not line.off_hours.line_id:
        found.append(("off_hours.line_id", "overflow needs a target line"))
    if line.off_hours.line_id == line.line_id:
        found.append(("off_hours.line_id", "must be another line"))
    return found


def _member_problems(members: tuple[Member, ...]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, member in enumerate(members):
        where = f"members[{index}]"
        if member.operator_id in seen:
            found.append((where, f"operator {member.operator_id!r} is listed twice"))
        seen.add(member.operator_id)
        if member.tier < 1:
            found.append((f"{where}.tier", "must be >= 1"))
        for skill, level in member.skills.items():
            if not 1 <= level <= 10:
                found.append((f"{where}.skills[{skill!r}]", "proficiency must be 1..10"))
    return found


def _limit_problems(line: LineConfig) -> list[tuple[str, str]]:
    limits, found = line.limits, []
    if limits.max_wait_s is not None and limits.max_wait_s <= 0:
        found.append(("limits.max_wait_s", "must be > 0 seconds or None"))
    if limits.max_queue_length is not None and limits.max_queue_length < 0:
        found.append(("limits.max_queue_length", "must be >= 0 or None"))
    if limits.overflow is Overflow.LINE and not limits.overflow_line_id:
        found.append(("limits.overflow_line_id", "overflow to a line needs a target line"))
    if limits.overflow_line_id == line.line_id:
        found.append(("limits.overflow_line_id", "must be another line"))
    return found
