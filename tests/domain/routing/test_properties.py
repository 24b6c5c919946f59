"""Property tests for the distribution modes and the waiting order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.domain.routing.config import LineConfig, Member
from switchboard.domain.routing.decisions import Assign, Ignored, Offer
from switchboard.domain.routing.events import OfferAccepted
from switchboard.domain.routing.model import Capacity, Media, Mode, OperatorProfile
from switchboard.domain.routing.queues import WaitingQueue
from tests.domain.routing.floor import Floor

ROOMY = Capacity(per_media={Media.CHAT: 50}, total=50)
ONE = Capacity(per_media={Media.CHAT: 1}, total=1)


def floor_with(mode: Mode, count: int, capacity: Capacity) -> tuple[Floor, list[str]]:
    names = [f"op{i}" for i in range(count)]
    line = LineConfig("sales", mode=mode, members=tuple(Member(n) for n in names))
    floor = Floor.of(line, operators=tuple(OperatorProfile(n, capacity) for n in names))
    floor.login(*names)
    return floor, names


@settings(max_examples=150, deadline=None)
@given(count=st.integers(2, 6), data=st.data())
def test_strict_order_visits_available_operators_in_list_order(count: int, data: st.DataObject) -> None:
    floor, names = floor_with(Mode.STRICT_ORDER, count, ROOMY)
    away = data.draw(st.sets(st.sampled_from(names), max_size=count - 1))
    for name in sorted(away):
        floor.status(name, "break")
    present = [n for n in names if n not in away]
    rounds = data.draw(st.integers(1, 2 * count))

    seen = [floor.offered_to(floor.queue("c1"))[0][1][0]]
    for number in range(1, rounds):
        seen.append(floor.offered_to(floor.fire(f"offer:c1:{number}"))[0][1][0])

    assert seen == [present[i % len(present)] for i in range(rounds)]


@settings(max_examples=150, deadline=None)
@given(arrivals=st.lists(st.tuples(st.integers(0, 40), st.booleans(), st.integers(0, 1)), min_size=1, max_size=25))
def test_waiting_order_is_priority_then_first_in_first_out(arrivals: list[tuple[int, bool, int]]) -> None:
    floor, _ = floor_with(Mode.EVENLY, 1, ONE)
    floor.queue("busy")
    floor.accept("busy", "op0")
    expected = []
    for number, (gap, vip, dnis) in enumerate(arrivals):
        floor.after(gap).queue(f"c{number}", vip=vip, dnis_priority=dnis)
        expected.append((floor.now - 300 * vip - 60 * dnis, number, f"c{number}"))

    served = []
    holder = "busy"
    for _ in arrivals:
        offered = floor.offered_to(floor.close(holder))
        holder = offered[0][0]
        floor.accept(holder, "op0")
        served.append(holder)

    assert served == [c for _, _, c in sorted(expected)]


@settings(max_examples=150, deadline=None)
@given(count=st.integers(2, 6), steps=st.lists(st.booleans(), min_size=1, max_size=60))
def test_evenly_keeps_loads_within_one(count: int, steps: list[bool]) -> None:
    """Arrivals and accepts in any order, everyone eligible: loads differ by at most one."""
    floor, names = floor_with(Mode.EVENLY, count, ROOMY)
    for number, arrive in enumerate(steps):
        open_offers = sorted((c, o) for c, ops in floor.offers.items() for o in ops)
        if arrive or not open_offers:
            floor.queue(f"c{number}")
        else:
            floor.accept(*open_offers[0])
        loads = [floor.engine.operators[n].total for n in names]

        assert max(loads) - min(loads) <= 1, loads


@settings(max_examples=100, deadline=None)
@given(count=st.integers(2, 6), data=st.data())
def test_broadcast_has_exactly_one_winner(count: int, data: st.DataObject) -> None:
    floor, names = floor_with(Mode.BROADCAST, count, ROOMY)
    offered = floor.queue("c1")
    order = data.draw(st.permutations(names))

    results = [floor.send(OfferAccepted(floor.now, "c1", name)) for name in order]

    assert offered[0] == Offer("c1", "sales", "chat", tuple(names), floor.now + 60)
    winners = [d.operator_id for r in results for d in r if isinstance(d, Assign)]
    assert winners == [order[0]]
    assert all(r == [Ignored("OfferAccepted", "offer is no longer open")] for r in results[1:])
    assert [floor.engine.operators[n].total for n in names] == [int(n == order[0]) for n in names]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(("push", "remove")), st.integers(0, 300)), max_size=400))
def test_waiting_queue_matches_a_sorted_list(operations: list[tuple[str, int]]) -> None:
    queue, model = WaitingQueue(block=2), []
    for seq, (operation, value) in enumerate(operations):
        if operation == "push":
            entry = (float(value % 17), seq, f"c{seq}")
            queue.push(entry)
            model.append(entry)
        elif model:
            entry = sorted(model)[value % len(model)]
            assert queue.remove(entry)
            model.remove(entry)
        model.sort()
        assert len(queue) == len(model)
        assert queue.first() == (model[0] if model else None)
        if model:
            probe = model[value % len(model)]
            assert queue.rank(probe) == model.index(probe)
    assert list(queue.ordered()) == model
