"""Property tests: random event sequences against the routing invariants."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from switchboard.domain.routing import EngineSettings, RoutingEngine
from switchboard.domain.routing.calendar import WorkingCalendar, hours
from switchboard.domain.routing.config import Limits, LineConfig, Member, Overflow
from switchboard.domain.routing.decisions import Assign, Decision, MoveToLine, Offer
from switchboard.domain.routing.events import (
    CapacityChanged,
    ConversationClosed,
    ConversationPicked,
    ConversationQueued,
    ConversationTransferred,
    CustomerMessaged,
    Event,
    OfferAccepted,
    OfferDeclined,
    OperatorLoggedIn,
    OperatorLoggedOut,
    OperatorReplied,
    OperatorStatusChanged,
    PositionRequested,
    TimerFired,
)
from switchboard.domain.routing.model import Capacity, CustomStatus, Effect, Media, Mode, OperatorProfile
from tests.domain.routing.floor import Floor

OPERATORS = ("o1", "o2", "o3", "o4", "o5")
SETTINGS = EngineSettings(
    custom_statuses=(CustomStatus("training", Effect.OUT), CustomStatus("back office", Effect.LAST))
)
EFFECTS = {"available": "routed", "back office": "last"}
STATUSES = ("available", "available", "break", "offline", "training", "back office", "after_work")
MEDIA = (Media.VOICE, Media.CHAT, Media.CHAT, Media.EMAIL)
WEEKDAYS_9_18 = WorkingCalendar("Europe/Berlin", weekly={d: hours("09:00-18:00") for d in range(5)})

capacities = st.builds(
    lambda v, c, e, t, block: Capacity(
        per_media={Media.VOICE: v, Media.CHAT: c, Media.EMAIL: e},
        total=t,
        blocks={Media.VOICE: frozenset({Media.CHAT, Media.EMAIL})} if block else {},
    ),
    st.integers(0, 1),
    st.integers(0, 3),
    st.integers(0, 2),
    st.integers(1, 4),
    st.booleans(),
)
members = st.builds(
    Member,
    st.sampled_from(OPERATORS),
    st.integers(1, 2),
    st.dictionaries(st.sampled_from(("en", "de")), st.integers(1, 10), max_size=2),
)


@st.composite
def line_configs(draw: st.DrawFn, modes: tuple[Mode, ...] = tuple(Mode)) -> LineConfig:
    chosen = draw(st.lists(members, min_size=1, max_size=5, unique_by=lambda m: m.operator_id))
    overflow = draw(st.sampled_from(tuple(Overflow)))
    return LineConfig(
        "sales",
        mode=draw(st.sampled_from(modes)),
        members=tuple(chosen),
        forwarding_timeout_s=60,
        wrap_up_s=draw(st.sampled_from((0.0, 30.0))),
        sticky_wait_s=draw(st.sampled_from((0.0, 20.0))),
        limits=Limits(
            max_wait_s=draw(st.sampled_from((None, 300.0))),
            max_queue_length=draw(st.sampled_from((None, 2))),
            overflow=overflow,
            overflow_line_id="spare" if overflow is Overflow.LINE else None,
        ),
        calendar=draw(st.sampled_from((None, WEEKDAYS_9_18))),
        auto_pause_after_missed=draw(st.sampled_from((None, 1, 2))),
    )


SPARE = LineConfig("spare", mode=Mode.EVENLY, members=(Member("o5"), Member("o1", skills={"en": 3})))


@dataclass
class CheckedFloor(Floor):
    """A floor that checks every decision against an independent model of the rules."""

    capacity: dict[str, Capacity] = field(default_factory=dict)
    facts: dict[str, ConversationQueued] = field(default_factory=dict)
    line_of: dict[str, str] = field(default_factory=dict)
    logged_in: set[str] = field(default_factory=set)
    transferred_to: dict[str, str] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    profiles: tuple[OperatorProfile, ...] = ()
    outputs: list[list[Decision]] = field(default_factory=list)

    def send(self, event: Event) -> list[Decision]:
        self.events.append(event)
        self.before(event)
        decisions = super().send(event)
        self.outputs.append(decisions)
        self.check_states()
        return decisions

    def before(self, event: Event) -> None:
        if isinstance(event, ConversationQueued) and event.conversation_id not in self.facts:
            self.facts[event.conversation_id] = event
            self.line_of[event.conversation_id] = event.line_id
        elif isinstance(event, OperatorLoggedIn):
            self.logged_in.add(event.operator_id)
            if event.capacity is not None:
                self.capacity[event.operator_id] = event.capacity
        elif isinstance(event, OperatorLoggedOut):
            self.logged_in.discard(event.operator_id)
            for conv, op in list(self.assigned.items()):
                if op == event.operator_id:
                    del self.assigned[conv]
        elif isinstance(event, OfferDeclined):
            self.offers[event.conversation_id].discard(event.operator_id)
        elif isinstance(event, CapacityChanged):
            self.capacity[event.operator_id] = event.capacity
        elif isinstance(event, ConversationTransferred) and event.conversation_id in self.assigned:
            del self.assigned[event.conversation_id]
            if event.to_operator_id:
                self.transferred_to[event.conversation_id] = event.to_operator_id

    def apply(self, d: Decision) -> None:
        if isinstance(d, Offer):
            self.check_offer(d)
        if isinstance(d, Assign):
            assert d.conversation_id not in self.assigned, "assigned twice"
            assert self.offers[d.conversation_id] <= {d.operator_id}, "other offers still open at assign"
        if isinstance(d, MoveToLine):
            self.line_of[d.conversation_id] = d.to_line_id
        super().apply(d)

    def load(self, operator_id: str) -> dict[str, int]:
        held = [c for c, ops in self.offers.items() if operator_id in ops]
        held += [c for c, op in self.assigned.items() if op == operator_id]
        counts: dict[str, int] = {}
        for conv in held:
            media = self.facts[conv].media
            counts[media] = counts.get(media, 0) + 1
        return counts

    def check_offer(self, d: Offer) -> None:
        assert not self.offers[d.conversation_id], "offered while an offer is still open"
        facts = self.facts[d.conversation_id]
        line = self.engine.lines[d.line_id].config
        assert d.line_id == self.line_of[d.conversation_id]
        assert line.calendar is None or line.calendar.is_open(self.now), "offered while closed"
        members = {m.operator_id: m for m in line.members}
        for op in d.operator_ids:
            assert op in self.logged_in, f"{op} is not logged in"
            assert self.statuses.get(op) in EFFECTS, f"{op} is {self.statuses.get(op)}"
            if self.transferred_to.get(d.conversation_id) != op:
                assert op in members, f"{op} is not on {d.line_id}"
                assert facts.skills <= members[op].skills.keys(), f"{op} lacks skills"
            load, cap = self.load(op), self.capacity[op]
            assert load.get(d.media, 0) + 1 <= cap.per_media.get(d.media, 0), "media capacity exceeded"
            assert sum(load.values()) + 1 <= cap.total, "total capacity exceeded"
            for blocker, blocked in cap.blocks.items():
                assert not (d.media in blocked and load.get(blocker)), "blocked media offered"

    def check_states(self) -> None:
        for conv in self.facts:
            state = self.engine.state_of(conv)
            if conv in self.gone:
                assert state is None, f"{conv} is gone but engine says {state}"
                continue
            assert state in ("waiting", "sticky", "offered", "assigned"), f"{conv} lost ({state})"
            assert (state == "offered") == bool(self.offers[conv]), conv
            assert (state == "assigned") == (conv in self.assigned), conv
            if state == "assigned":
                assert self.engine.conversations[conv].operator == self.assigned[conv]
        for op in self.engine.operators.values():
            assert op.total == sum(self.load(op.id).values()), f"{op.id} load drifted"
        for line in self.engine.lines.values():
            assert {m: n for m, n in line.staffed.items() if n} == self.staffed(line.config), "staffing drifted"

    def staffed(self, line: LineConfig) -> dict[str, int]:
        """Slots per media of the line's routable operators, counted from scratch."""
        slots: dict[str, int] = {}
        for member in line.members:
            if member.operator_id in self.logged_in and self.statuses.get(member.operator_id) in EFFECTS:
                for media in Media:
                    limit = self.capacity[member.operator_id].limit(media)
                    slots[media] = slots.get(media, 0) + limit
        return {m: n for m, n in slots.items() if n}


def step(floor: CheckedFloor, data: st.DataObject, number: int) -> None:
    kind = data.draw(st.sampled_from(ACTIONS))
    event = kind(floor, data, number)
    if event is not None:
        note(f"{event!r} -> ")
        note(f"   {floor.send(event)!r}")


def _queue(floor: CheckedFloor, data: st.DataObject, n: int) -> Event:
    return ConversationQueued(
        floor.now,
        f"c{n}",
        data.draw(st.sampled_from(("sales", "sales", "sales", "spare"))),
        data.draw(st.sampled_from(MEDIA)),
        contact_id=f"k{n}",
        vip=data.draw(st.booleans()),
        dnis_priority=data.draw(st.integers(0, 2)),
        skills=data.draw(st.frozensets(st.sampled_from(("en", "de")), max_size=1)),
        last_operator_id=data.draw(st.sampled_from((None, None, *OPERATORS))),
    )


def _login(floor: CheckedFloor, data: st.DataObject, n: int) -> Event:
    op = data.draw(st.sampled_from(OPERATORS))
    return OperatorLoggedIn(floor.now, op, status=data.draw(st.sampled_from(("available", "back office"))))


def _logout(floor: CheckedFloor, data: st.DataObject, n: int) -> Event:
    return OperatorLoggedOut(floor.now, data.draw(st.sampled_from(OPERATORS)))


def _status(floor: CheckedFloor, data: st.DataObject, n: int) -> Event:
    op, status = data.draw(st.sampled_from(OPERATORS)), data.draw(st.sampled_from(STATUSES))
    return OperatorStatusChanged(floor.now, op, status)


def _open_offer(floor: CheckedFloor, data: st.DataObject) -> tuple[str, str]:
    pairs = sorted((c, o) for c, ops in floor.offers.items() for o in ops)
    if pairs and data.draw(st.integers(0, 9)) > 0:
        return data.draw(st.sampled_from(pairs))
    return data.draw(st.sampled_from(sorted(floor.facts) or ["c0"])), data.draw(st.sampled_from(OPERATORS))


def _accept(floor: CheckedFloor, data: st.DataObject, n: int) -> Event:
    return OfferAccepted(floor.now, *_open_offer(floor, data))


def _decline(floor: CheckedFloor, data: st.DataObject, n: int) -> Event:
    return OfferDeclined(floor.now, *_open_offer(floor, data))


def _timer(floor: CheckedFloor, data: st.DataObject, n: int) -> Event | None:
    if not floor.timers:
        return None
    key = data.draw(st.sampled_from(sorted(floor.timers)))
    floor.now = max(floor.now, floor.timers.pop(key))
    return TimerFired(floor.now, key)


def _any_conversation(floor: CheckedFloor, data: st.DataObject) -> str:
    return data.draw(st.sampled_from(sorted(floor.facts) or ["c0"]))


def _close(floor: CheckedFloor, data: st.DataObject, n: int) -> Event:
    return ConversationClosed(floor.now, _any_conversation(floor, data))


def _advance(floor: CheckedFloor, data: st.DataObject, n: int) -> None:
    floor.now += data.draw(st.sampled_from((1.0, 15.0, 61.0, 3600.0, 6 * 3600.0)))


def _capacity(floor: CheckedFloor, data: st.DataObject, n: int) -> Event:
    return CapacityChanged(floor.now, data.draw(st.sampled_from(OPERATORS)), data.draw(capacities))


def _transfer(floor: CheckedFloor, data: st.DataObject, n: int) -> Event:
    conv = _any_conversation(floor, data)
    if data.draw(st.booleans()):
        return ConversationTransferred(floor.now, conv, to_line_id="spare", note="n")
    return ConversationTransferred(floor.now, conv, to_operator_id=data.draw(st.sampled_from(OPERATORS)))


def _pick(floor: CheckedFloor, data: st.DataObject, n: int) -> Event:
    return ConversationPicked(floor.now, _any_conversation(floor, data), data.draw(st.sampled_from(OPERATORS)))


def _chatter(floor: CheckedFloor, data: st.DataObject, n: int) -> Event:
    kind = data.draw(st.sampled_from((OperatorReplied, CustomerMessaged, PositionRequested)))
    return kind(floor.now, _any_conversation(floor, data))


ACTIONS: tuple[Any, ...] = (
    _queue,
    _queue,
    _queue,
    _login,
    _login,
    _logout,
    _status,
    _accept,
    _accept,
    _decline,
    _timer,
    _timer,
    _close,
    _advance,
    _capacity,
    _transfer,
    _pick,
    _chatter,
)


def given_floor(data: st.DataObject, config: LineConfig) -> CheckedFloor:
    caps = {op: data.draw(capacities) for op in OPERATORS}
    profiles = tuple(OperatorProfile(op, cap) for op, cap in caps.items())
    engine = RoutingEngine([config, SPARE], profiles, SETTINGS)
    return CheckedFloor(engine, capacity=dict(caps), profiles=profiles)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], report_multiple_bugs=False)
@given(data=st.data(), config=line_configs())
def test_random_sequences_keep_every_invariant(data: st.DataObject, config: LineConfig) -> None:
    """Capacity, eligibility, nothing lost, never assigned twice, one broadcast winner."""
    floor = given_floor(data, config)
    for number in range(data.draw(st.integers(5, 80))):
        step(floor, data, number)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], report_multiple_bugs=False)
@given(data=st.data(), config=line_configs())
def test_same_events_same_decisions_and_snapshot_restore_continues_identically(
    data: st.DataObject, config: LineConfig
) -> None:
    floor = given_floor(data, config)
    for number in range(data.draw(st.integers(5, 60))):
        step(floor, data, number)
    cut = data.draw(st.integers(0, len(floor.events)))
    profiles = floor.profiles

    replay = RoutingEngine([config, SPARE], profiles, SETTINGS)
    first = [replay.handle(e) for e in floor.events[:cut]]
    restored = RoutingEngine([config, SPARE], profiles, SETTINGS)
    restored.restore(replay.snapshot())
    for line_id, line in replay.lines.items():
        staffed = {m: n for m, n in line.staffed.items() if n}
        assert {m: n for m, n in restored.lines[line_id].staffed.items() if n} == staffed, (
            line_id,
            replay.snapshot().operators,
            restored.snapshot().operators,
        )
    rest = [restored.handle(e) for e in floor.events[cut:]]

    assert first + rest == floor.outputs
