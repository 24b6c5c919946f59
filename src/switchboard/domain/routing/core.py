"""The routing core: match waiting conversations with free operators, offer, wait, overflow.

`RoutingCore` holds the state and the moves every handler shares; `RoutingEngine`
(engine.py) turns events into calls of these moves. Decisions are appended to `self.out`
in the order the application must apply them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from heapq import heappop, heappush

from switchboard.domain.routing import automatic as auto
from switchboard.domain.routing.config import LineConfig, OffHours, Overflow
from switchboard.domain.routing.decisions import (
    AutoPause,
    CancelTimer,
    CountMissed,
    Decision,
    KeepWaiting,
    MoveToLine,
    Offer,
    Refuse,
    RequestCallback,
    ScheduleTimer,
    SendAutomaticMessage,
    WithdrawOffers,
)
from switchboard.domain.routing.model import (
    BREAK,
    BUILTIN_STATUSES,
    MISSED_OFFERS,
    Capacity,
    CustomStatus,
    Effect,
    Mode,
    OperatorProfile,
)
from switchboard.domain.routing.priority import PriorityPolicy
from switchboard.domain.routing.state import (
    OFFERED,
    STICKY,
    WAITING,
    ConversationState,
    LineState,
    OperatorState,
    Pool,
)
from switchboard.domain.routing.strategies import strategy_for

LOOK_AHEAD = 16


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Engine-wide settings (line settings live in LineConfig)."""

    custom_statuses: tuple[CustomStatus, ...] = ()
    priority: PriorityPolicy = field(default_factory=PriorityPolicy)
    default_capacity: Capacity = field(default_factory=Capacity)
    default_handle_s: float = 180.0
    handle_smoothing: float = 0.1
    max_overflow_hops: int = 3


class RoutingCore:
    def __init__(
        self,
        lines: Iterable[LineConfig],
        operators: Iterable[OperatorProfile] = (),
        settings: EngineSettings | None = None,
    ) -> None:
        self.settings = settings or EngineSettings()
        self.effects: dict[str, Effect] = dict(BUILTIN_STATUSES)
        for custom in self.settings.custom_statuses:
            custom.validate()
            self.effects[custom.name] = custom.effect
        self.lines: dict[str, LineState] = {}
        self.operators: dict[str, OperatorState] = {}
        self.conversations: dict[str, ConversationState] = {}
        self.profiles = {p.operator_id: p for p in operators}
        self.seq = 0
        self.out: list[Decision] = []
        for config in lines:
            self.lines[config.line_id] = LineState(config.validate())

    # ---- pools and operators -------------------------------------------------------

    def pool(self, line: LineState, media: str, skills: frozenset[str]) -> Pool:
        """The pool for (line, media, skills), built on first use from the line's members."""
        key = (media, skills)
        found = line.pools.get(key)
        if found is not None:
            return found
        pool = line.pools[key] = Pool(line, media, skills, strategy_for(line.config.mode))
        for operator_id in line.members:
            member = line.member_for(operator_id, skills)
            if member is None:
                continue
            pool.members[operator_id] = member
            op = self.operators.get(operator_id)
            if op is not None:
                op.add_pool(pool, member)
                if op.can_take(media):
                    pool.strategy.place(pool, op, member)
        return pool

    def operator(self, operator_id: str, at: float) -> OperatorState:
        op = self.operators.get(operator_id)
        if op is None:
            profile = self.profiles.get(operator_id)
            capacity = profile.capacity if profile else self.settings.default_capacity
            op = self.operators[operator_id] = OperatorState(operator_id, capacity, at)
            self.attach(op)
        return op

    def attach(self, op: OperatorState) -> None:
        """Link an operator to the lines and pools that list them."""
        op.lines = [line for line in self.lines.values() if op.id in line.members]
        op.set_pools(
            [(pool, pool.members[op.id]) for line in op.lines for pool in line.pools.values() if op.id in pool.members]
        )

    def refresh(self, op: OperatorState) -> None:
        """Re-rank `op` in every pool after its load, status or counters changed."""
        for media, pools in op.pools_by_media().items():
            if op.can_take(media):
                for pool, member in pools:
                    pool.strategy.place(pool, op, member)
            else:
                for pool, _ in pools:
                    pool.index.discard(op.id)

    def staff(self, op: OperatorState, sign: int) -> None:
        """Add (1) or remove (-1) the operator's slots from their lines' staffing counts."""
        if op.rank is None:
            return
        for line in op.lines:
            for media in op.capacity.per_media:
                line.staffed[media] = line.staffed.get(media, 0) + sign * op.capacity.limit(media)

    def set_status(self, op: OperatorState, status: str, reason: str, at: float) -> None:
        effect = self.effects[status]
        self.staff(op, -1)
        op.status, op.reason, op.since = status, reason, at
        rank = {Effect.ROUTED: 0, Effect.LAST: 1}.get(effect)
        op.rank = rank if op.logged_in else None
        self.staff(op, 1)
        self.refresh(op)
        if op.rank is None:
            self.withdraw_all(op, f"status {status}", at)

    # ---- timers --------------------------------------------------------------------

    def schedule(self, conversation: ConversationState | None, key: str, at: float) -> None:
        if conversation is not None:
            conversation.timers.add(key)
        self.out.append(ScheduleTimer(key, at))

    def cancel(self, conversation: ConversationState | None, key: str) -> None:
        if conversation is not None:
            if key not in conversation.timers:
                return
            conversation.timers.discard(key)
        self.out.append(CancelTimer(key))

    def cancel_all(self, conversation: ConversationState) -> None:
        for key in sorted(conversation.timers):
            self.out.append(CancelTimer(key))
        conversation.timers.clear()

    # ---- routing a conversation ------------------------------------------------------

    def enter_line(self, conv: ConversationState, line: LineState, at: float) -> None:
        """A conversation arrives on a line (first time, overflow or transfer)."""
        conv.line, conv.line_entered_at, conv.state = line, at, "routing"
        conv.pool = self.pool(line, conv.media, conv.skills)
        conv.tried.clear()
        conv.cursor = -1
        if not line.is_open(at):
            self.off_hours(conv, at)
            return
        self.route(conv, at, admitting=True)
        max_wait = line.config.limits.max_wait_s
        if conv.state in (WAITING, STICKY) and max_wait is not None and conv.line is line:
            self.schedule(conv, f"max_wait:{conv.id}", at + max_wait)

    def route(self, conv: ConversationState, at: float, admitting: bool = False) -> None:
        """Offer now if someone fits, else park for the preferred operator or wait in the queue."""
        if not conv.line.is_open(at):
            self.hold(conv, at, reply=False)
            return
        if self.route_preferred(conv, at):
            return
        pool = conv.pool
        chosen = pool.strategy.choose(pool, conv)
        if not chosen and conv.tried and len(pool.index):
            conv.tried.clear()
            chosen = pool.strategy.choose(pool, conv)
        if chosen:
            self.offer(conv, [self.operators[o] for o in chosen], at)
        else:
            self.wait(conv, at, admitting)

    def route_preferred(self, conv: ConversationState, at: float) -> bool:
        """Sticky routing: the last/responsible operator (or a transfer target) first."""
        if conv.preferred is None or conv.sticky_done:
            return False
        op = self.operators.get(conv.preferred)
        allowed = op is not None and (conv.preferred_anyone or op.id in conv.pool.members)
        if op is not None and allowed and op.id not in conv.tried and op.can_take(conv.media):
            conv.sticky_done = True
            self.offer(conv, [op], at)
            return True
        config = conv.line.config
        wait = config.forwarding_timeout_s if conv.preferred_anyone else config.sticky_wait_s
        if op is None or not allowed or wait <= 0 or conv.state == STICKY:
            conv.sticky_done = True
            return False
        conv.state = STICKY
        heappush(op.sticky, self.entry(conv))
        self.schedule(conv, f"sticky:{conv.id}", at + wait)
        return True

    def entry(self, conv: ConversationState) -> tuple[float, int, str]:
        line = conv.line.config
        key = self.settings.priority.sort_key(
            conv.queued_at, vip=conv.vip, line_priority=line.priority, dnis_priority=conv.dnis_priority
        )
        return (key, conv.seq, conv.id)

    def wait(self, conv: ConversationState, at: float, admitting: bool) -> None:
        line, limits = conv.line, conv.line.config.limits
        if admitting and limits.max_queue_length is not None and line.waiting >= limits.max_queue_length:
            self.overflow(conv, "queue_full", at)
            return
        if limits.max_wait_s is not None and at - conv.line_entered_at >= limits.max_wait_s:
            self.overflow(conv, "max_wait", at)
            return
        self.enqueue(conv)
        self.out.append(KeepWaiting(conv.id, line.config.line_id, *self.position(conv)))

    def enqueue(self, conv: ConversationState) -> None:
        conv.state = WAITING
        conv.tried.clear()
        conv.entry = self.entry(conv)
        conv.pool.queue.push(conv.entry)
        conv.line.waiting += 1

    def dequeue(self, conv: ConversationState) -> None:
        if conv.state == WAITING and conv.entry is not None and conv.pool.queue.remove(conv.entry):
            conv.line.waiting -= 1
        conv.entry = None

    def position(self, conv: ConversationState) -> tuple[int, float | None]:
        """1-based place among those waiting for the same pool, and the estimated wait."""
        if conv.entry is None:
            return 0, None
        place = conv.pool.queue.rank(conv.entry) + 1
        line = conv.line
        slots = line.staffed.get(conv.media, 0)
        if slots <= 0:
            return place, None
        handle = line.aht.get(conv.media, self.settings.default_handle_s)
        return place, round(place * handle / slots, 1)

    def offer(self, conv: ConversationState, ops: list[OperatorState], at: float, refresh: bool = True) -> None:
        """Ring `ops`; each offer holds a capacity slot until accepted, declined or expired."""
        conv.state = OFFERED
        conv.offer_no += 1
        deadline = at + conv.line.config.forwarding_timeout_s
        media = conv.media
        for op in ops:
            conv.offered.add(op.id)
            op.offers.add(conv.id)
            op.load[media] = op.load.get(media, 0) + 1
            op.total += 1
            if refresh:
                self.refresh(op)
        member = conv.pool.members.get(ops[-1].id)
        if member is not None:
            conv.pool.strategy.chosen(conv.pool, conv, member)
        self.out.append(Offer(conv.id, conv.line.config.line_id, media, tuple(o.id for o in ops), deadline, conv.note))
        self.schedule(conv, f"offer:{conv.id}:{conv.offer_no}", deadline)

    def release_offer(self, conv: ConversationState, op: OperatorState) -> None:
        conv.offered.discard(op.id)
        op.offers.discard(conv.id)
        op.load[conv.media] -= 1
        op.total -= 1

    def withdraw_all(self, op: OperatorState, reason: str, at: float) -> None:
        """The operator can no longer answer: take back their offers and route them again."""
        for conversation_id in sorted(op.offers):
            conv = self.conversations[conversation_id]
            self.release_offer(conv, op)
            conv.tried.add(op.id)
            self.out.append(WithdrawOffers(conv.id, (op.id,), reason))
            if not conv.offered:
                self.cancel(conv, f"offer:{conv.id}:{conv.offer_no}")
                self.route(conv, at)

    # ---- serving from the operator side ---------------------------------------------

    def serve(self, op: OperatorState, at: float) -> None:
        """The operator has room: give them the best waiting conversation, repeatedly.

        Re-indexes the operator once at the end, so callers need not refresh before serving.
        """
        while op.rank is not None:
            conv = self.best_sticky(op, at) or self.best_waiting(op, at)
            if conv is None:
                break
            self.dequeue(conv)
            self.offer(conv, [op], at, refresh=False)
        self.refresh(op)

    def best_sticky(self, op: OperatorState, at: float) -> ConversationState | None:
        heap = op.sticky
        while heap:
            conv = self.conversations.get(heap[0][2])
            if conv is None or conv.state != STICKY or conv.preferred != op.id:
                heappop(heap)
                continue
            if not op.can_take(conv.media) or not conv.line.is_open(at):
                return None
            heappop(heap)
            conv.sticky_done = True
            self.cancel(conv, f"sticky:{conv.id}")
            return conv
        return None

    def best_waiting(self, op: OperatorState, at: float) -> ConversationState | None:
        best: tuple[float, int, str] | None = None
        for media, pools in op.pools_by_media().items():
            if not op.can_take(media):
                continue
            for pool, _member in pools:
                head = pool.queue.first()
                if head is None or (best is not None and head >= best):
                    continue
                if pool.strategy.mode is not Mode.MANUAL and pool.line.is_open(at):
                    best = head
        return None if best is None else self.conversations[best[2]]

    def dispatch(self, line: LineState, at: float) -> None:
        """Match a line's waiting conversations with its free operators (after opening, config)."""
        if not line.is_open(at) or line.config.mode is Mode.MANUAL:
            return
        for pool in line.ordered_pools():
            while len(pool.queue) and len(pool.index):
                head = pool.queue.first()
                assert head is not None
                conv = self.conversations[head[2]]
                chosen = pool.strategy.choose(pool, conv)
                if not chosen:
                    break
                self.dequeue(conv)
                self.offer(conv, [self.operators[o] for o in chosen], at)

    # ---- leaving the line ----------------------------------------------------------

    def off_hours(self, conv: ConversationState, at: float) -> None:
        line = conv.line.config
        rule = line.off_hours
        if rule.action is OffHours.OVERFLOW and rule.line_id:
            self.move(conv, rule.line_id, "off_hours", conv.note, at)
        elif rule.action is OffHours.CALLBACK:
            self.finish_outside(conv, RequestCallback(conv.id, line.line_id, conv.contact_id, "off_hours"))
        elif rule.action is OffHours.REFUSE:
            self.finish_outside(conv, Refuse(conv.id, line.line_id, "off_hours", auto.OFF_HOURS))
        else:
            self.hold(conv, at)

    def hold(self, conv: ConversationState, at: float, reply: bool = True) -> None:
        """Closed: keep the conversation until the line opens (with a message for auto-reply)."""
        line = conv.line
        calendar = line.config.calendar
        opens = calendar.next_opening(at) if calendar is not None else at
        if reply and line.config.off_hours.action is OffHours.AUTO_REPLY:
            self.message(conv, auto.OFF_HOURS)
        conv.line_entered_at = opens if opens is not None else at
        self.enqueue(conv)
        self.out.append(KeepWaiting(conv.id, line.config.line_id, *self.position(conv)))
        if opens is not None:
            self.out.append(ScheduleTimer(f"open:{line.config.line_id}", opens))

    def overflow(self, conv: ConversationState, reason: str, at: float) -> None:
        limits, line_id = conv.line.config.limits, conv.line.config.line_id
        if limits.overflow is Overflow.LINE and limits.overflow_line_id:
            self.move(conv, limits.overflow_line_id, reason, conv.note, at)
        elif limits.overflow is Overflow.CALLBACK:
            self.finish_outside(conv, RequestCallback(conv.id, line_id, conv.contact_id, reason))
        else:
            self.finish_outside(conv, Refuse(conv.id, line_id, reason, auto.QUEUE_FULL))

    def move(self, conv: ConversationState, to_line_id: str, reason: str, note: str, at: float) -> None:
        """Overflow or transfer to a line: continue here if this engine routes it, else hand over."""
        from_line = conv.line.config.line_id
        if conv.hops >= self.settings.max_overflow_hops:
            self.finish_outside(conv, Refuse(conv.id, from_line, "too_many_moves", auto.QUEUE_FULL))
            return
        self.out.append(MoveToLine(conv.id, from_line, to_line_id, reason, note))
        target = self.lines.get(to_line_id)
        if target is None:
            self.finish_outside(conv, None)
            return
        for key in sorted(k for k in conv.timers if not k.startswith(("please_wait:", "auto_close:"))):
            self.cancel(conv, key)
        conv.hops += 1
        conv.note = note
        self.enter_line(conv, target, at)

    def finish_outside(self, conv: ConversationState, decision: Decision | None) -> None:
        """The conversation leaves this engine (refused, callback, another node's line)."""
        if decision is not None:
            self.out.append(decision)
        self.cancel_all(conv)
        self.conversations.pop(conv.id, None)
        conv.state = "gone"

    def message(self, conv: ConversationState, key: str) -> None:
        variables = (("contact_name", conv.contact_name), ("line_name", conv.line.config.name))
        language = conv.language or conv.line.config.actions.default_language
        self.out.append(SendAutomaticMessage(conv.id, conv.line.config.line_id, key, variables, language))

    # ---- missed offers -----------------------------------------------------------------

    def missed(self, op: OperatorState, conversation_id: str, line: LineConfig, at: float) -> None:
        """Count a missed offer; after N in a row (line setting) pause the operator (which restarts the count)."""
        op.missed += 1
        self.out.append(CountMissed(op.id, conversation_id, op.missed))
        limit = line.auto_pause_after_missed
        if limit is not None and op.missed >= limit and op.rank is not None:
            self.out.append(AutoPause(op.id, MISSED_OFFERS, op.missed))
            op.missed = 0
            self.set_status(op, BREAK, MISSED_OFFERS, at)
