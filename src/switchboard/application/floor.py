"""The supervisor's floor: each line's queue and today's figures, every operator's status and load.

Read-only and assembled from committed state in one read transaction, so the numbers agree with
each other; the page refreshes it when the websocket says something moved.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from switchboard.application.access import Principal, require_role
from switchboard.application.context import Services
from switchboard.application.ports.routing import ActiveConversation
from switchboard.application.ports.storage import ConversationTimes
from switchboard.domain.conversation import ConversationStatus
from switchboard.domain.line_settings import service_level_s
from switchboard.domain.lines import Line
from switchboard.domain.operators import Role

S = ConversationStatus
WAITING = frozenset({S.NEW, S.QUEUED, S.OFFERED})
HELD = frozenset({S.ASSIGNED, S.WAITING})


@dataclass(frozen=True, slots=True)
class QueueFigures:
    line_id: int
    name: str
    waiting: int
    longest_wait_s: float | None
    service_level_s: float
    service_level: float | None  # answered within the target / (answered + abandoned), today in the line's zone
    answered_today: int
    abandoned_today: int


@dataclass(frozen=True, slots=True)
class OperatorOnFloor:
    id: int
    name: str
    status: str
    reason: str
    since: datetime | None
    logged_in: bool
    load: int
    max_total: int
    line_ids: tuple[int, ...]
    missed_offers: int


@dataclass(frozen=True, slots=True)
class ConversationOnFloor:
    id: int
    line_id: int
    contact_id: int
    contact_name: str
    vip: bool
    channel_kind: str
    status: str
    waiting_since: datetime
    assignee_id: int | None


@dataclass(frozen=True, slots=True)
class Floor:
    at: datetime
    lines: list[QueueFigures]
    operators: list[OperatorOnFloor]
    conversations: list[ConversationOnFloor]


def start_of_day(at: datetime, time_zone: str) -> datetime:
    """Midnight of ``at``'s day on the line's wall clock, as an aware time."""
    local = at.astimezone(ZoneInfo(time_zone))
    return datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)


def queue_figures(
    line: Line, active: Sequence[ActiveConversation], today: Sequence[ConversationTimes], now: datetime
) -> QueueFigures:
    """One line's queue now and its service level since midnight (its own time zone)."""
    target = service_level_s(line.routing)
    waiting = [c for c in active if c.line_id == line.id and c.status in WAITING]
    longest = max(((now - (c.queued_at or c.opened_at)).total_seconds() for c in waiting), default=None)
    midnight = start_of_day(now, line.time_zone)
    mine = [c for c in today if c.line_id == line.id and c.opened_at >= midnight]
    answered = [c for c in mine if c.assigned_at is not None or c.assignee_id is not None]
    abandoned = sum(1 for c in mine if c.closed_at is not None and c.assignee_id is None and c.assigned_at is None)
    # a supervisor's hand-assignment has no answer time: it counts as answered, not in the service level
    waits = [c.assigned_at - (c.queued_at or c.opened_at) for c in answered if c.assigned_at is not None]
    in_time = sum(1 for wait in waits if wait <= timedelta(seconds=target))
    counted = len(waits) + abandoned
    return QueueFigures(
        line.id,
        line.name,
        len(waiting),
        longest,
        target,
        in_time / counted if counted else None,
        len(answered),
        abandoned,
    )


async def floor_view(services: Services, principal: Principal) -> Floor:
    require_role(principal, Role.ADMIN, Role.SUPERVISOR)
    now = services.clock.now()
    async with services.uow(read_only=True) as uow:
        lines = [line for line in await uow.lines.list() if line.active]
        users = {u.id: u for u in await uow.users.list(Role.OPERATOR) if u.active}
        presence = await uow.routing.operators()
        active = await uow.routing.active_conversations()
        earliest = min((start_of_day(now, line.time_zone) for line in lines), default=now)
        today = await uow.floor.opened_since(earliest)
    load = Counter(c.assignee_id for c in active if c.status in HELD and c.assignee_id is not None)
    operators = [
        OperatorOnFloor(
            p.id,
            users[p.id].name,
            p.status,
            p.reason,
            p.since,
            p.logged_in,
            load[p.id],
            p.max_total,
            tuple(line.id for line in lines if p.id in line.operator_ids),
            p.missed,
        )
        for p in presence
        if p.id in users
    ]
    conversations = [
        ConversationOnFloor(
            c.id,
            c.line_id,
            c.contact_id,
            c.contact_name,
            c.vip,
            c.channel_kind,
            c.status.value,
            c.queued_at or c.opened_at,
            c.assignee_id,
        )
        for c in active
    ]
    return Floor(now, [queue_figures(line, active, today, now) for line in lines], operators, conversations)
