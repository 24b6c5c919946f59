"""Mutable routing state: operators, waiting conversations, lines and their pools.

A pool is the meeting point of one line, one media and one set of required skills: its
queue holds the conversations waiting for it, its index the operators free to take one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from switchboard.domain.routing.config import LineConfig, Member
from switchboard.domain.routing.model import Capacity
from switchboard.domain.routing.queues import Entry, WaitingQueue

if TYPE_CHECKING:
    from switchboard.domain.routing.strategies import Strategy

WAITING = "waiting"
STICKY = "sticky"
OFFERED = "offered"
ASSIGNED = "assigned"


class PoolMember:
    """A member as a pool sees them: list position, tier and proficiency on the pool's skills."""

    __slots__ = ("ordinal", "proficiency", "tier")

    def __init__(self, ordinal: int, tier: int, proficiency: int) -> None:
        self.ordinal = ordinal
        self.tier = tier
        self.proficiency = proficiency


class OperatorState:
    __slots__ = (
        "active",
        "blockers",
        "by_media",
        "capacity",
        "handled_today",
        "id",
        "last_idle_at",
        "lines",
        "load",
        "logged_in",
        "missed",
        "offers",
        "pools",
        "rank",
        "reason",
        "since",
        "status",
        "sticky",
        "talk_time",
        "total",
        "wrap_until",
    )

    def __init__(self, operator_id: str, capacity: Capacity, at: float) -> None:
        self.id = operator_id
        self.capacity = capacity
        self.blockers = {m: capacity.blockers(m) for m in capacity.per_media}
        self.logged_in = False
        self.status = "offline"
        self.reason = ""
        self.since = at
        self.rank: int | None = None
        self.load: dict[str, int] = {}
        self.total = 0
        self.active: dict[str, float] = {}
        self.offers: set[str] = set()
        self.missed = 0
        self.last_idle_at = at
        self.handled_today = 0
        self.talk_time = 0.0
        self.pools: list[tuple[Pool, PoolMember]] = []
        self.by_media: dict[str, list[tuple[Pool, PoolMember]]] = {}
        self.lines: list[LineState] = []
        self.sticky: list[Entry] = []
        self.wrap_until: float | None = None

    def add_pool(self, pool: Pool, member: PoolMember) -> None:
        self.pools.append((pool, member))
        self.by_media.setdefault(pool.media, []).append((pool, member))

    def set_pools(self, pools: list[tuple[Pool, PoolMember]]) -> None:
        self.pools, self.by_media = [], {}
        for pool, member in pools:
            self.add_pool(pool, member)

    def pools_by_media(self) -> dict[str, list[tuple[Pool, PoolMember]]]:
        """Pools grouped by media, so capacity is checked once per media, not once per pool."""
        return self.by_media

    def set_capacity(self, capacity: Capacity) -> None:
        self.capacity = capacity
        self.blockers = {m: capacity.blockers(m) for m in capacity.per_media}

    def can_take(self, media: str) -> bool:
        """Routable now and one more `media` conversation fits, offers counted."""
        if self.rank is None or self.total >= self.capacity.total:
            return False
        load = self.load
        if load.get(media, 0) >= self.capacity.per_media.get(media, 0):
            return False
        return not any(load.get(b) for b in self.blockers.get(media, ()))


class ConversationState:
    __slots__ = (
        "assigned_at",
        "contact_id",
        "contact_name",
        "cursor",
        "dnis_priority",
        "entry",
        "hops",
        "id",
        "language",
        "line",
        "line_entered_at",
        "media",
        "note",
        "offer_no",
        "offered",
        "operator",
        "pool",
        "preferred",
        "preferred_anyone",
        "queued_at",
        "replied",
        "seq",
        "skills",
        "state",
        "sticky_done",
        "timers",
        "tried",
        "vip",
    )

    def __init__(self, conversation_id: str, line: LineState, pool: Pool, media: str, at: float) -> None:
        self.id = conversation_id
        self.line = line
        self.pool = pool
        self.media = media
        self.queued_at = at
        self.line_entered_at = at
        self.contact_id = ""
        self.contact_name = ""
        self.language = ""
        self.vip = False
        self.dnis_priority = 0
        self.skills: frozenset[str] = frozenset()
        self.preferred: str | None = None
        self.preferred_anyone = False
        self.sticky_done = True
        self.state = WAITING
        self.entry: Entry | None = None
        self.operator: str | None = None
        self.assigned_at = 0.0
        self.offered: set[str] = set()
        self.offer_no = 0
        self.tried: set[str] = set()
        self.cursor = -1
        self.hops = 0
        self.replied = False
        self.note = ""
        self.seq = 0
        self.timers: set[str] = set()


class Pool:
    __slots__ = ("index", "line", "media", "members", "queue", "skills", "strategy")

    def __init__(self, line: LineState, media: str, skills: frozenset[str], strategy: Strategy) -> None:
        self.line = line
        self.media = media
        self.skills = skills
        self.strategy = strategy
        self.queue = WaitingQueue()
        self.members: dict[str, PoolMember] = {}
        self.index: Any = strategy.new_index(len(line.config.members))


class LineState:
    __slots__ = (
        "aht",
        "config",
        "cursor",
        "members",
        "open_from",
        "open_state",
        "open_until",
        "pools",
        "staffed",
        "waiting",
    )

    def __init__(self, config: LineConfig) -> None:
        self.config = config
        self.members: dict[str, tuple[int, Member]] = {m.operator_id: (i, m) for i, m in enumerate(config.members)}
        self.pools: dict[tuple[str, frozenset[str]], Pool] = {}
        self.waiting = 0
        self.cursor = -1
        self.staffed: dict[str, int] = {}
        self.aht: dict[str, float] = {}
        self.open_state = True
        self.open_from = float("inf")
        self.open_until = float("-inf")

    def ordered_pools(self) -> list[Pool]:
        """Pools in a fixed order (not creation order), so a restored engine decides alike."""
        return [self.pools[k] for k in sorted(self.pools, key=lambda k: (k[0], sorted(k[1])))]

    def is_open(self, at: float) -> bool:
        """Cached between calendar changes: one comparison on the hot path."""
        calendar = self.config.calendar
        if calendar is None:
            return True
        if not self.open_from <= at < self.open_until:
            self.open_state = calendar.is_open(at)
            change = calendar.next_change(at)
            self.open_from = at
            self.open_until = change if change is not None else float("inf")
        return self.open_state

    def member_for(self, operator_id: str, skills: frozenset[str]) -> PoolMember | None:
        found = self.members.get(operator_id)
        if found is None:
            return None
        ordinal, member = found
        if not skills <= member.skills.keys():
            return None
        return PoolMember(ordinal, member.tier, sum(member.skills[s] for s in skills))
