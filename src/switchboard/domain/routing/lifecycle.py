"""The later moves of a conversation and an operator: expiry, close, wrap-up, requeue."""

from __future__ import annotations

from switchboard.domain.routing import automatic as auto
from switchboard.domain.routing.core import RoutingCore
from switchboard.domain.routing.decisions import (
    CancelTimer,
    Ignored,
    ScheduleTimer,
    SetOperatorStatus,
    WithdrawOffers,
)
from switchboard.domain.routing.model import AFTER_WORK, AVAILABLE
from switchboard.domain.routing.state import (
    ASSIGNED,
    OFFERED,
    WAITING,
    ConversationState,
    LineState,
    OperatorState,
)

WRAP_UP = "wrap-up"


class Lifecycle(RoutingCore):
    def expire(self, conv: ConversationState, at: float) -> None:
        """Nobody took the offer in time: count the miss, then the next operator (or the queue)."""
        ops = [self.operators[o] for o in sorted(conv.offered)]
        for op in ops:
            self.release_offer(conv, op)
            conv.tried.add(op.id)
        self.out.append(WithdrawOffers(conv.id, tuple(o.id for o in ops), "expired"))
        for op in ops:
            self.missed(op, conv.id, conv.line.config, at)
            self.refresh(op)
        self.route(conv, at)
        for op in ops:
            self.serve(op, at)

    def close(self, conv: ConversationState, at: float) -> None:
        """The conversation ended (or the customer left the queue): free whatever it held."""
        freed: list[OperatorState] = []
        if conv.state == WAITING:
            self.dequeue(conv)
        elif conv.state == OFFERED:
            freed = [self.operators[o] for o in sorted(conv.offered)]
            for op in freed:
                self.release_offer(conv, op)
            self.out.append(WithdrawOffers(conv.id, tuple(o.id for o in freed), "closed"))
        elif conv.state == ASSIGNED:
            actions = conv.line.config.actions
            if actions.thank_you_on_close:
                self.message(conv, auto.THANK_YOU)
            if actions.rating_request_on_close:
                self.message(conv, auto.RATING_REQUEST)
            freed = [self.operators[conv.operator or ""]]
            self.finish_work(conv, freed[0], at, wrap=True)
        self.cancel_all(conv)
        del self.conversations[conv.id]
        conv.state = "closed"
        for op in freed:
            self.serve(op, at)

    def finish_work(self, conv: ConversationState, op: OperatorState, at: float, wrap: bool) -> None:
        """Count the handled conversation, learn the handle time, start wrap-up if the line has one."""
        op.active.pop(conv.id, None)
        op.load[conv.media] -= 1
        op.total -= 1
        op.handled_today += 1
        talk = max(0.0, at - conv.assigned_at)
        op.talk_time += talk
        op.last_idle_at = at
        line = conv.line
        wrap_s = line.config.wrap_up_s
        previous = line.aht.get(conv.media, self.settings.default_handle_s)
        line.aht[conv.media] = previous + self.settings.handle_smoothing * (talk + wrap_s - previous)
        conv.operator = None
        if wrap and wrap_s > 0 and op.status in (AVAILABLE, AFTER_WORK) and op.logged_in:
            self.start_wrap_up(op, at + wrap_s, at)

    def start_wrap_up(self, op: OperatorState, until: float, at: float) -> None:
        if op.status != AFTER_WORK:
            self.set_status(op, AFTER_WORK, WRAP_UP, at)
            self.out.append(SetOperatorStatus(op.id, AFTER_WORK, WRAP_UP))
        op.wrap_until = max(until, op.wrap_until or until)
        self.out.append(ScheduleTimer(f"wrapup:{op.id}", op.wrap_until))

    def end_wrap_up(self, op: OperatorState) -> None:
        """A manual status change ends wrap-up early: its timer must not flip the status later."""
        if op.wrap_until is not None:
            op.wrap_until = None
            self.out.append(CancelTimer(f"wrapup:{op.id}"))

    def wrap_up_over(self, op: OperatorState, at: float) -> None:
        if op.status != AFTER_WORK or op.wrap_until is None or op.wrap_until > at:
            self.out.append(Ignored("TimerFired", "wrap-up already ended"))
            return
        op.wrap_until = None
        self.set_status(op, AVAILABLE, "", at)
        self.out.append(SetOperatorStatus(op.id, AVAILABLE, "wrap-up over"))
        if op.total == 0:
            op.last_idle_at = at
        self.serve(op, at)

    def requeue(self, conv: ConversationState, op: OperatorState, at: float) -> None:
        """The operator vanished mid-conversation: route it again, ahead by its original age."""
        op.active.pop(conv.id, None)
        op.load[conv.media] -= 1
        op.total -= 1
        conv.operator, conv.state, conv.sticky_done = None, "routing", True
        conv.tried = {op.id}
        self.route(conv, at)

    def line_opened(self, line: LineState, at: float) -> None:
        """Opening time: start the max-wait clocks of held conversations, then match."""
        max_wait = line.config.limits.max_wait_s
        if max_wait is not None:
            for pool in line.ordered_pools():
                for _, _, conversation_id in list(pool.queue.ordered()):
                    conv = self.conversations[conversation_id]
                    if f"max_wait:{conv.id}" not in conv.timers:
                        self.schedule(conv, f"max_wait:{conv.id}", max(at, conv.line_entered_at) + max_wait)
        self.dispatch(line, at)

    def repool(self, conv: ConversationState, line: LineState) -> None:
        """Move a conversation onto a reconfigured line object, keeping its place in time."""
        waiting = conv.state == WAITING
        if waiting:
            self.dequeue(conv)
        conv.line = line
        conv.pool = self.pool(line, conv.media, conv.skills)
        if waiting:
            self.enqueue(conv)
