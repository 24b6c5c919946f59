"""The routing engine: one event in, the decisions it causes out.

    engine = RoutingEngine(lines=[line_config], operators=[OperatorProfile("ann")])
    decisions = engine.handle(OperatorLoggedIn(at=t, operator_id="ann"))

Deterministic: the same events in the same order give the same decisions. No clock and no
randomness inside; `at` of each event is the only time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from switchboard.domain.routing import automatic as auto
from switchboard.domain.routing import snapshot as snapshots
from switchboard.domain.routing.automatic import Welcome
from switchboard.domain.routing.config import InvalidConfig, LineConfig
from switchboard.domain.routing.decisions import (
    Assign,
    CloseConversation,
    Decision,
    Ignored,
    KeepWaiting,
    WithdrawOffers,
)
from switchboard.domain.routing.events import (
    CapacityChanged,
    ConversationClosed,
    ConversationPicked,
    ConversationQueued,
    ConversationTransferred,
    CustomerMessaged,
    Event,
    LineConfigChanged,
    OfferAccepted,
    OfferDeclined,
    OfferExpired,
    OperatorLoggedIn,
    OperatorLoggedOut,
    OperatorReplied,
    OperatorStatusChanged,
    PositionRequested,
    TimerFired,
)
from switchboard.domain.routing.lifecycle import Lifecycle
from switchboard.domain.routing.model import AFTER_WORK, AVAILABLE, OFFLINE
from switchboard.domain.routing.snapshot import EngineSnapshot
from switchboard.domain.routing.state import ASSIGNED, OFFERED, STICKY, WAITING, ConversationState, LineState


class RoutingEngine(Lifecycle):
    """Pure ACD for any number of lines. Feed events with `handle`, apply what comes back."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handlers: dict[type, Callable[[Any], None]] = {
            ConversationQueued: self.on_queued,
            OperatorLoggedIn: self.on_logged_in,
            OperatorLoggedOut: self.on_logged_out,
            OperatorStatusChanged: self.on_status,
            CapacityChanged: self.on_capacity,
            OfferAccepted: self.on_accepted,
            OfferDeclined: self.on_declined,
            OfferExpired: self.on_expired,
            ConversationPicked: self.on_picked,
            ConversationClosed: self.on_closed,
            ConversationTransferred: self.on_transferred,
            OperatorReplied: self.on_replied,
            CustomerMessaged: self.on_customer_messaged,
            PositionRequested: self.on_position,
            TimerFired: self.on_timer,
            LineConfigChanged: self.on_config,
        }

    def handle(self, event: Event) -> list[Decision]:
        self.out = []
        self.handlers[type(event)](event)
        return self.out

    def resume(self, at: float) -> list[Decision]:
        """After a restore: offer waiting conversations to every operator free to take them now."""
        self.out = []
        for op in sorted(self.operators.values(), key=lambda o: o.id):
            self.serve(op, at)
        return self.out

    def snapshot(self) -> EngineSnapshot:
        """The state to persist; `restore` on a fresh engine with the same lines rebuilds it."""
        return snapshots.take(self)

    def restore(self, snapshot: EngineSnapshot) -> None:
        snapshots.restore(self, snapshot)

    def state_of(self, conversation_id: str) -> str | None:
        """waiting, sticky, offered or assigned; None once it left the engine."""
        conv = self.conversations.get(conversation_id)
        return None if conv is None else conv.state

    def ignore(self, event: object, reason: str) -> None:
        self.out.append(Ignored(type(event).__name__, reason))

    # ---- conversations ---------------------------------------------------------------

    def on_queued(self, e: ConversationQueued) -> None:
        line = self.lines.get(e.line_id)
        if line is None:
            self.ignore(e, f"unknown line {e.line_id!r}")
            return
        if e.conversation_id in self.conversations:
            self.ignore(e, "conversation is already being routed")
            return
        conv = self.new_conversation(e, line)
        actions = line.config.actions
        if e.overflow_hops == 0 and (
            (actions.welcome is Welcome.FIRST_CONTACT_EVER and e.first_contact_ever)
            or (actions.welcome is Welcome.EVERY_NEW_CONVERSATION and e.new_conversation)
        ):
            self.message(conv, auto.WELCOME)
        if actions.please_wait_after_s is not None and e.overflow_hops == 0:
            self.schedule(conv, f"please_wait:{conv.id}", e.at + actions.please_wait_after_s)
        self.enter_line(conv, line, e.at)

    def new_conversation(self, e: ConversationQueued, line: LineState) -> ConversationState:
        self.seq += 1
        conv = ConversationState(e.conversation_id, line, self.pool(line, e.media, e.skills), e.media, e.at)
        conv.contact_id, conv.contact_name, conv.language = e.contact_id, e.contact_name, e.language
        conv.vip, conv.dnis_priority, conv.skills = e.vip, e.dnis_priority, e.skills
        conv.preferred = e.responsible_operator_id or e.last_operator_id
        conv.sticky_done = conv.preferred is None
        conv.hops, conv.seq = e.overflow_hops, self.seq
        conv.state = "routing"
        self.conversations[conv.id] = conv
        return conv

    def on_accepted(self, e: OfferAccepted) -> None:
        conv, op = self.conversations.get(e.conversation_id), self.operators.get(e.operator_id)
        if conv is None or op is None or conv.state != OFFERED or op.id not in conv.offered:
            self.ignore(e, "offer is no longer open")
            return
        self.cancel(conv, f"offer:{conv.id}:{conv.offer_no}")
        others = [self.operators[o] for o in sorted(conv.offered - {op.id})]
        for other in others:
            self.release_offer(conv, other)
        if others:
            self.out.append(WithdrawOffers(conv.id, tuple(o.id for o in others), "taken"))
        op.offers.discard(conv.id)
        conv.offered.clear()
        op.active[conv.id] = e.at
        op.missed = 0
        conv.state, conv.operator, conv.assigned_at, conv.note = ASSIGNED, op.id, e.at, ""
        for kind in ("sticky", "max_wait"):
            self.cancel(conv, f"{kind}:{conv.id}")
        self.out.append(Assign(conv.id, op.id, conv.line.config.line_id))
        for other in others:
            self.serve(other, e.at)

    def on_declined(self, e: OfferDeclined) -> None:
        conv, op = self.conversations.get(e.conversation_id), self.operators.get(e.operator_id)
        if conv is None or op is None or conv.state != OFFERED or op.id not in conv.offered:
            self.ignore(e, "offer is no longer open")
            return
        self.release_offer(conv, op)
        conv.tried.add(op.id)
        self.refresh(op)
        if not conv.offered:
            self.cancel(conv, f"offer:{conv.id}:{conv.offer_no}")
            self.route(conv, e.at)
        self.serve(op, e.at)

    def on_expired(self, e: OfferExpired) -> None:
        conv = self.conversations.get(e.conversation_id)
        if conv is None or conv.state != OFFERED:
            self.ignore(e, "offer is no longer open")
            return
        self.cancel(conv, f"offer:{conv.id}:{conv.offer_no}")
        self.expire(conv, e.at)

    def on_picked(self, e: ConversationPicked) -> None:
        conv, op = self.conversations.get(e.conversation_id), self.operators.get(e.operator_id)
        if conv is None or op is None or conv.state != WAITING:
            self.ignore(e, "conversation is not waiting")
            return
        if op.id not in conv.pool.members or not op.can_take(conv.media):
            self.ignore(e, "operator cannot take this conversation now")
            return
        self.dequeue(conv)
        op.load[conv.media] = op.load.get(conv.media, 0) + 1
        op.total += 1
        op.active[conv.id] = e.at
        conv.state, conv.operator, conv.assigned_at = ASSIGNED, op.id, e.at
        self.cancel(conv, f"max_wait:{conv.id}")
        self.out.append(Assign(conv.id, op.id, conv.line.config.line_id))
        self.refresh(op)

    def on_closed(self, e: ConversationClosed) -> None:
        conv = self.conversations.get(e.conversation_id)
        if conv is None:
            self.ignore(e, "unknown conversation")
            return
        self.close(conv, e.at)

    def on_transferred(self, e: ConversationTransferred) -> None:
        conv = self.conversations.get(e.conversation_id)
        if conv is None or conv.state != ASSIGNED or not (e.to_line_id or e.to_operator_id):
            self.ignore(e, "only an assigned conversation can be transferred, to a line or operator")
            return
        op = self.operators[conv.operator or ""]
        self.finish_work(conv, op, e.at, wrap=False)
        conv.state, conv.note = "routing", e.note
        if e.to_line_id:
            self.move(conv, e.to_line_id, "transfer", e.note, e.at)
        else:
            conv.preferred, conv.preferred_anyone, conv.sticky_done = e.to_operator_id, True, False
            conv.tried = {op.id}
            self.route(conv, e.at)
        self.serve(op, e.at)

    def on_replied(self, e: OperatorReplied) -> None:
        conv = self.conversations.get(e.conversation_id)
        if conv is None:
            self.ignore(e, "unknown conversation")
            return
        conv.replied = True
        self.cancel(conv, f"please_wait:{conv.id}")
        silence = conv.line.config.actions.auto_close_after_s
        if silence is not None:
            self.schedule(conv, f"auto_close:{conv.id}", e.at + silence)

    def on_customer_messaged(self, e: CustomerMessaged) -> None:
        conv = self.conversations.get(e.conversation_id)
        if conv is None:
            self.ignore(e, "unknown conversation")
            return
        self.cancel(conv, f"auto_close:{conv.id}")

    def on_position(self, e: PositionRequested) -> None:
        conv = self.conversations.get(e.conversation_id)
        if conv is None or conv.state != WAITING:
            self.ignore(e, "conversation is not waiting")
            return
        self.out.append(KeepWaiting(conv.id, conv.line.config.line_id, *self.position(conv)))

    # ---- operators ---------------------------------------------------------------------

    def on_logged_in(self, e: OperatorLoggedIn) -> None:
        if e.status not in self.effects:
            self.ignore(e, f"unknown status {e.status!r}")
            return
        op = self.operator(e.operator_id, e.at)
        self.staff(op, -1)
        op.rank = None
        op.logged_in = True
        if e.capacity is not None:
            op.set_capacity(e.capacity)
        if e.new_day:
            op.handled_today, op.talk_time, op.missed = 0, 0.0, 0
        op.last_idle_at = e.at
        self.set_status(op, e.status, "", e.at)
        self.serve(op, e.at)

    def on_logged_out(self, e: OperatorLoggedOut) -> None:
        op = self.operators.get(e.operator_id)
        if op is None:
            self.ignore(e, "unknown operator")
            return
        self.end_wrap_up(op)
        self.set_status(op, OFFLINE, "logged out", e.at)
        self.staff(op, -1)
        op.logged_in, op.rank = False, None
        if e.requeue_active:
            for conversation_id in list(op.active):
                self.requeue(self.conversations[conversation_id], op, e.at)
        self.refresh(op)

    def on_status(self, e: OperatorStatusChanged) -> None:
        if e.status not in self.effects:
            self.ignore(e, f"unknown status {e.status!r}")
            return
        op = self.operator(e.operator_id, e.at)
        if e.status != AFTER_WORK:
            self.end_wrap_up(op)
        was_out = op.rank is None
        self.set_status(op, e.status, e.reason, e.at)
        if was_out and op.rank is not None and op.total == 0:
            op.last_idle_at = e.at
        if e.status == AVAILABLE:
            op.missed = 0
        self.serve(op, e.at)

    def on_capacity(self, e: CapacityChanged) -> None:
        op = self.operator(e.operator_id, e.at)
        self.staff(op, -1)
        op.set_capacity(e.capacity)
        self.staff(op, 1)
        self.serve(op, e.at)

    # ---- timers and configuration --------------------------------------------------------

    def on_timer(self, e: TimerFired) -> None:
        kind, _, subject = e.key.partition(":")
        if kind == "offer":
            conversation_id, _, number = subject.rpartition(":")
            conv = self.conversations.get(conversation_id)
            if conv is not None and conv.state == OFFERED and str(conv.offer_no) == number:
                conv.timers.discard(e.key)
                self.expire(conv, e.at)
                return
        elif kind in ("sticky", "max_wait", "please_wait", "auto_close"):
            conv = self.conversations.get(subject)
            if conv is not None and e.key in conv.timers:
                conv.timers.discard(e.key)
                self.conversation_timer(kind, conv, e.at)
                return
        elif kind == "wrapup" and subject in self.operators:
            self.wrap_up_over(self.operators[subject], e.at)
            return
        elif kind == "open" and subject in self.lines:
            self.line_opened(self.lines[subject], e.at)
            return
        self.ignore(e, "timer is stale or unknown")

    def conversation_timer(self, kind: str, conv: ConversationState, at: float) -> None:
        if kind == "sticky" and conv.state == STICKY:
            conv.sticky_done, conv.state = True, "routing"
            self.route(conv, at)
        elif kind == "max_wait" and conv.state in (WAITING, STICKY):
            self.dequeue(conv)
            self.overflow(conv, "max_wait", at)
        elif kind == "please_wait" and not conv.replied:
            self.message(conv, auto.PLEASE_WAIT)
        elif kind == "auto_close":
            self.message(conv, auto.AUTO_CLOSE)
            self.out.append(CloseConversation(conv.id, "customer_silence"))
            self.close(conv, at)

    def on_config(self, e: LineConfigChanged) -> None:
        try:
            config = e.config.validate()
        except InvalidConfig as exc:
            self.ignore(e, str(exc))
            return
        self.reconfigure(config, e.at)

    def reconfigure(self, config: LineConfig, at: float) -> None:
        """Swap a line's settings live: members re-indexed, waiting conversations re-queued."""
        old = self.lines.get(config.line_id)
        line = LineState(config)
        names = set(line.members) | (set(old.members) if old else set())
        affected = [self.operators[o] for o in sorted(names) if o in self.operators]
        for op in affected:
            self.staff(op, -1)
        if old is not None:
            line.cursor, line.aht = old.cursor, old.aht
        self.lines[config.line_id] = line
        for op in affected:
            self.attach(op)
            self.staff(op, 1)
        for conv in list(self.conversations.values()):
            if conv.line is old:
                self.repool(conv, line)
        for op in affected:
            self.refresh(op)
        self.dispatch(line, at)
        for op in affected:
            self.serve(op, at)
