"""Everything the engine must remember, as plain frozen data.

The application rebuilds an engine after a restart (or on the node taking over a line) from
the database: operators with their status and counters, conversations still waiting,
offered or assigned, and each line's round-robin memory and learned handle times.
Timers are not part of it: they are durable outside and keep their keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from heapq import heappush

from switchboard.domain.routing.core import RoutingCore
from switchboard.domain.routing.model import Capacity, Effect
from switchboard.domain.routing.state import ASSIGNED, OFFERED, STICKY, WAITING, ConversationState


@dataclass(frozen=True, slots=True)
class OperatorSnapshot:
    operator_id: str
    capacity: Capacity
    logged_in: bool
    status: str
    reason: str
    since: float
    missed: int
    last_idle_at: float
    handled_today: int
    talk_time_s: float
    wrap_until: float | None = None


@dataclass(frozen=True, slots=True)
class ConversationSnapshot:
    """`state` is waiting, sticky, offered or assigned; `offered_to`/`operator_id` say to whom."""

    conversation_id: str
    line_id: str
    media: str
    state: str
    queued_at: float
    line_entered_at: float
    seq: int
    contact_id: str = ""
    contact_name: str = ""
    language: str = ""
    vip: bool = False
    dnis_priority: int = 0
    skills: frozenset[str] = frozenset()
    preferred_operator_id: str | None = None
    preferred_anyone: bool = False
    sticky_done: bool = True
    operator_id: str | None = None
    assigned_at: float = 0.0
    offered_to: tuple[str, ...] = ()
    offer_no: int = 0
    tried: tuple[str, ...] = ()
    cursor: int = -1
    hops: int = 0
    replied: bool = False
    note: str = ""
    timers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LineSnapshot:
    line_id: str
    cursor: int
    handle_s: tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class EngineSnapshot:
    operators: tuple[OperatorSnapshot, ...]
    conversations: tuple[ConversationSnapshot, ...]
    lines: tuple[LineSnapshot, ...]
    seq: int


def take(core: RoutingCore) -> EngineSnapshot:
    operators = tuple(
        OperatorSnapshot(
            op.id,
            op.capacity,
            op.logged_in,
            op.status,
            op.reason,
            op.since,
            op.missed,
            op.last_idle_at,
            op.handled_today,
            op.talk_time,
            op.wrap_until,
        )
        for op in core.operators.values()
    )
    conversations = tuple(_conversation(c) for c in sorted(core.conversations.values(), key=lambda c: c.seq))
    lines = tuple(
        LineSnapshot(line_id, line.cursor, tuple(sorted(line.aht.items()))) for line_id, line in core.lines.items()
    )
    return EngineSnapshot(operators, conversations, lines, core.seq)


def _conversation(c: ConversationState) -> ConversationSnapshot:
    return ConversationSnapshot(
        c.id,
        c.line.config.line_id,
        c.media,
        c.state,
        c.queued_at,
        c.line_entered_at,
        c.seq,
        c.contact_id,
        c.contact_name,
        c.language,
        c.vip,
        c.dnis_priority,
        c.skills,
        c.preferred,
        c.preferred_anyone,
        c.sticky_done,
        c.operator,
        c.assigned_at,
        tuple(sorted(c.offered)),
        c.offer_no,
        tuple(sorted(c.tried)),
        c.cursor,
        c.hops,
        c.replied,
        c.note,
        tuple(sorted(c.timers)),
    )


def restore(core: RoutingCore, snapshot: EngineSnapshot) -> None:
    """Load `snapshot` into an engine that has its lines but no state yet."""
    if core.operators or core.conversations:
        raise ValueError("restore needs a fresh engine")
    for saved_line in snapshot.lines:
        line = core.lines.get(saved_line.line_id)
        if line is not None:
            line.cursor, line.aht = saved_line.cursor, dict(saved_line.handle_s)
    for saved in snapshot.operators:
        _restore_operator(core, saved)
    for conv in snapshot.conversations:
        _restore_conversation(core, conv)
    for op in core.operators.values():
        core.staff(op, 1)
        core.refresh(op)
    core.seq = snapshot.seq


def _restore_operator(core: RoutingCore, saved: OperatorSnapshot) -> None:
    op = core.operator(saved.operator_id, saved.since)
    op.set_capacity(saved.capacity)
    op.logged_in, op.status, op.reason, op.since = saved.logged_in, saved.status, saved.reason, saved.since
    rank = {Effect.ROUTED: 0, Effect.LAST: 1}.get(core.effects.get(saved.status, Effect.OUT))
    op.rank = rank if saved.logged_in else None
    op.missed, op.last_idle_at = saved.missed, saved.last_idle_at
    op.handled_today, op.talk_time, op.wrap_until = saved.handled_today, saved.talk_time_s, saved.wrap_until


def _restore_conversation(core: RoutingCore, saved: ConversationSnapshot) -> None:
    line = core.lines.get(saved.line_id)
    if line is None:
        return
    pool = core.pool(line, saved.media, saved.skills)
    c = ConversationState(saved.conversation_id, line, pool, saved.media, saved.queued_at)
    c.line_entered_at, c.seq, c.contact_id = saved.line_entered_at, saved.seq, saved.contact_id
    c.contact_name, c.language, c.vip = saved.contact_name, saved.language, saved.vip
    c.dnis_priority, c.skills, c.preferred = saved.dnis_priority, saved.skills, saved.preferred_operator_id
    c.preferred_anyone, c.sticky_done, c.operator = (
        saved.preferred_anyone,
        saved.sticky_done,
        saved.operator_id,
    )
    c.assigned_at, c.offer_no, c.tried = saved.assigned_at, saved.offer_no, set(saved.tried)
    c.cursor, c.hops, c.replied, c.note = saved.cursor, saved.hops, saved.replied, saved.note
    c.timers = set(saved.timers)
    core.conversations[c.id] = c
    if saved.state == WAITING:
        core.enqueue(c)
    elif saved.state == STICKY and c.preferred is not None:
        c.state = STICKY
        heappush(core.operator(c.preferred, saved.queued_at).sticky, core.entry(c))
    elif saved.state in (OFFERED, ASSIGNED):
        c.state = saved.state
        holders = saved.offered_to if saved.state == OFFERED else (saved.operator_id or "",)
        for operator_id in holders:
            op = core.operator(operator_id, saved.queued_at)
            op.load[c.media] = op.load.get(c.media, 0) + 1
            op.total += 1
            if saved.state == OFFERED:
                op.offers.add(c.id)
                c.offered.add(op.id)
            else:
                op.active[c.id] = saved.assigned_at
