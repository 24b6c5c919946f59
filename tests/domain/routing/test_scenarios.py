"""Scenarios from the source articles and the line settings, given / when / then."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from switchboard.domain.routing.automatic import AutomaticActions, Welcome
from switchboard.domain.routing.calendar import WorkingCalendar, hours
from switchboard.domain.routing.config import Limits, LineConfig, Member, OffHours, OffHoursRule, Overflow
from switchboard.domain.routing.core import EngineSettings
from switchboard.domain.routing.decisions import (
    Assign,
    AutoPause,
    CloseConversation,
    CountMissed,
    Ignored,
    KeepWaiting,
    MoveToLine,
    Offer,
    Refuse,
    RequestCallback,
    ScheduleTimer,
    SendAutomaticMessage,
    SetOperatorStatus,
    WithdrawOffers,
)
from switchboard.domain.routing.events import (
    ConversationPicked,
    ConversationTransferred,
    CustomerMessaged,
    LineConfigChanged,
    OfferDeclined,
    OperatorLoggedOut,
    OperatorReplied,
    PositionRequested,
)
from switchboard.domain.routing.model import Capacity, CustomStatus, Effect, Media, Mode, OperatorProfile
from tests.domain.routing.floor import Floor

ONE_CHAT = Capacity(per_media={Media.CHAT: 1, Media.VOICE: 1}, total=1)


def line(mode: Mode, *names: str, **settings: object) -> LineConfig:
    return LineConfig("sales", mode=mode, members=tuple(Member(n) for n in names), **settings)  # type: ignore[arg-type]


def one_chat(*names: str) -> tuple[OperatorProfile, ...]:
    return tuple(OperatorProfile(n, ONE_CHAT) for n in names)


def test_evenly_four_managers_four_messages_one_each() -> None:
    floor = Floor.of(line(Mode.EVENLY, "m1", "m2", "m3", "m4"))
    floor.login("m1", "m2", "m3", "m4")

    offers = [floor.offered_to(floor.queue(f"c{i}")) for i in range(4)]

    assert offers == [[("c0", ("m1",))], [("c1", ("m2",))], [("c2", ("m3",))], [("c3", ("m4",))]]


def test_strict_order_skips_the_first_operator_on_lunch_break() -> None:
    floor = Floor.of(line(Mode.STRICT_ORDER, "first", "second", "third"))
    floor.login("first", "second", "third")
    floor.status("first", "break", "lunch")

    assert floor.offered_to(floor.queue("c1")) == [("c1", ("second",))]


def test_strict_order_forwards_after_the_one_minute_timeout() -> None:
    floor = Floor.of(line(Mode.STRICT_ORDER, "first", "second", forwarding_timeout_s=60))
    floor.login("first", "second")
    start = floor.now

    first = floor.queue("c1")
    expired = floor.fire("offer:c1:1")

    assert floor.offered_to(first) == [("c1", ("first",))]
    assert floor.now == start + 60
    assert expired[0] == WithdrawOffers("c1", ("first",), "expired")
    assert expired[1] == CountMissed("first", "c1", 1)
    assert expired[2] == Offer("c1", "sales", "chat", ("second",), start + 120)


def test_strict_order_wraps_around_to_the_top() -> None:
    floor = Floor.of(line(Mode.STRICT_ORDER, "a", "b"))
    floor.login("a", "b")
    floor.queue("c1")

    seen = [floor.offered_to(floor.fire(f"offer:c1:{n}"))[0][1][0] for n in (1, 2, 3)]

    assert seen == ["b", "a", "b"]


def test_strict_order_gives_everything_to_the_first_while_they_have_room() -> None:
    floor = Floor.of(line(Mode.STRICT_ORDER, "first", "second"))
    floor.login("first", "second")

    offered = [floor.offered_to(floor.queue(f"c{i}"))[0][1] for i in range(6)]

    assert offered == [("first",)] * 5 + [("second",)]


def test_broadcast_offers_everyone_and_the_first_accept_wins() -> None:
    floor = Floor.of(line(Mode.BROADCAST, "a", "b", "c"))
    floor.login("a", "b", "c")

    offered = floor.queue("c1")
    won = floor.accept("c1", "b")
    late = floor.accept("c1", "a")

    assert floor.offered_to(offered) == [("c1", ("a", "b", "c"))]
    assert won[1:] == [WithdrawOffers("c1", ("a", "c"), "taken"), Assign("c1", "b", "sales")]
    assert late == [Ignored("OfferAccepted", "offer is no longer open")]


def test_round_robin_remembers_the_last_one() -> None:
    floor = Floor.of(line(Mode.ROUND_ROBIN, "a", "b", "c"))
    floor.login("a", "b", "c")
    first = [floor.offered_to(floor.queue(f"c{i}"))[0][1][0] for i in range(4)]
    floor.close("c0")

    assert first == ["a", "b", "c", "a"]
    assert floor.offered_to(floor.queue("c9")) == [("c9", ("b",))]


def test_vip_contact_jumps_ahead_of_regular_ones() -> None:
    floor = Floor.of(line(Mode.EVENLY, "a"), operators=one_chat("a"))
    floor.login("a")
    floor.queue("busy")
    floor.accept("busy", "a")
    floor.queue("r1")
    floor.after(10).queue("r2")
    vip = floor.after(10).queue("v", vip=True)

    freed = floor.close("busy")

    assert vip == [KeepWaiting("v", "sales", 1, 180.0)]
    assert floor.offered_to(freed) == [("v", ("a",))]


def test_waiting_reports_position_and_estimated_wait() -> None:
    floor = Floor.of(line(Mode.EVENLY, "a", "b"), operators=one_chat("a", "b"))
    floor.login("a", "b")
    floor.queue("x")
    floor.queue("y")

    third = floor.queue("z")
    fourth = floor.queue("w")
    asked = floor.send(PositionRequested(floor.now, "z"))

    # default handle time 180 s, 2 operators with one chat each: 90 s per place
    assert third == [KeepWaiting("z", "sales", 1, 90.0)]
    assert fourth == [KeepWaiting("w", "sales", 2, 180.0)]
    assert asked == [KeepWaiting("z", "sales", 1, 90.0)]


def test_longest_idle_prefers_who_finished_first() -> None:
    floor = Floor.of(line(Mode.LONGEST_IDLE, "a", "b"), operators=one_chat("a", "b"))
    floor.login("a", "b")
    floor.queue("c1")
    floor.queue("c2")
    floor.accept("c1", "a")
    floor.accept("c2", "b")
    floor.after(5).close("c2")
    floor.after(5).close("c1")

    assert floor.offered_to(floor.queue("c3")) == [("c3", ("b",))]


def test_fewest_handled_today_and_least_talk_time() -> None:
    for mode in (Mode.FEWEST_HANDLED_TODAY, Mode.LEAST_TALK_TIME):
        floor = Floor.of(line(mode, "a", "b"))
        floor.login("a", "b")
        floor.queue("c1")
        floor.accept("c1", "a")
        floor.after(60).close("c1")

        assert floor.offered_to(floor.queue("c2")) == [("c2", ("b",))], mode


def test_best_skill_picks_the_highest_proficiency() -> None:
    members = (
        Member("novice", skills={"billing": 3}),
        Member("expert", skills={"billing": 9}),
        Member("none"),
    )
    floor = Floor.of(LineConfig("sales", mode=Mode.BEST_SKILL, members=members))
    floor.login("novice", "expert", "none")

    assert floor.offered_to(floor.queue("c1", skills=frozenset({"billing"}))) == [("c1", ("expert",))]


def test_required_skills_exclude_operators_without_them() -> None:
    members = (Member("plain"), Member("german", skills={"de": 5}))
    floor = Floor.of(LineConfig("sales", mode=Mode.STRICT_ORDER, members=members))
    floor.login("plain", "german")

    assert floor.offered_to(floor.queue("c1", skills=frozenset({"de"}))) == [("c1", ("german",))]


def test_a_call_blocks_chats_but_chats_do_not_block_a_call() -> None:
    floor = Floor.of(line(Mode.EVENLY, "a"))
    floor.login("a")
    floor.queue("chat1")
    call = floor.queue("call1", media="voice")
    chat_during_call = floor.queue("chat2")

    assert floor.offered_to(call) == [("call1", ("a",))]
    assert chat_during_call == [KeepWaiting("chat2", "sales", 1, 180.0 / 5)]


def test_after_work_wrap_up_then_back_to_available() -> None:
    floor = Floor.of(line(Mode.EVENLY, "a", wrap_up_s=30), operators=one_chat("a"))
    floor.login("a")
    floor.queue("c1")
    floor.accept("c1", "a")
    closed_at = floor.after(100).now

    closed = floor.close("c1")
    during = floor.queue("c2")
    back = floor.fire("wrapup:a")

    assert closed == [
        SetOperatorStatus("a", "after_work", "wrap-up"),
        ScheduleTimer("wrapup:a", closed_at + 30),
    ]
    assert isinstance(during[0], KeepWaiting)
    assert back[0] == SetOperatorStatus("a", "available", "wrap-up over")
    assert floor.offered_to(back) == [("c2", ("a",))]


def test_auto_pause_after_two_missed_offers() -> None:
    floor = Floor.of(line(Mode.STRICT_ORDER, "a", "b", auto_pause_after_missed=2), operators=one_chat("a", "b"))
    floor.login("a", "b")
    floor.queue("c1")
    floor.fire("offer:c1:1")
    floor.accept("c1", "b")
    floor.queue("c2")

    missed_twice = floor.fire("offer:c2:1")

    assert AutoPause("a", "missed offers", 2) in missed_twice
    assert floor.engine.operators["a"].status == "break"
    assert floor.engine.operators["a"].reason == "missed offers"
    assert floor.offered_to(floor.after(1).queue("c3")) == []


def test_sticky_routing_waits_for_the_last_operator() -> None:
    floor = Floor.of(line(Mode.EVENLY, "old", "other", sticky_wait_s=30), operators=one_chat("old", "other"))
    floor.login("old", "other")
    floor.queue("busy")
    floor.accept("busy", "old")

    parked = floor.queue("c1", last_operator_id="old")
    freed = floor.after(10).close("busy")

    assert parked == [ScheduleTimer("sticky:c1", floor.now - 10 + 30)]
    assert floor.offered_to(freed) == [("c1", ("old",))]


def test_sticky_routing_falls_back_to_the_mode_after_the_wait() -> None:
    floor = Floor.of(line(Mode.EVENLY, "old", "other", sticky_wait_s=30), operators=one_chat("old", "other"))
    floor.login("old", "other")
    floor.queue("busy")
    floor.accept("busy", "old")
    floor.queue("c1", last_operator_id="old")

    assert floor.offered_to(floor.fire("sticky:c1")) == [("c1", ("other",))]


def test_custom_status_last_is_asked_after_everyone_available() -> None:
    settings = EngineSettings(custom_statuses=(CustomStatus("back office", Effect.LAST),))
    floor = Floor.of(line(Mode.STRICT_ORDER, "a", "b"), operators=one_chat("a", "b"), settings=settings)
    floor.login("a", "b")
    floor.status("a", "back office")

    first = floor.queue("c1")
    second = floor.queue("c2")

    assert floor.offered_to(first) == [("c1", ("b",))]
    assert floor.offered_to(second) == [("c2", ("a",))]


def test_custom_status_out_is_not_routed() -> None:
    settings = EngineSettings(custom_statuses=(CustomStatus("training", Effect.OUT),))
    floor = Floor.of(line(Mode.EVENLY, "a"), settings=settings)
    floor.login("a")
    floor.status("a", "training")

    assert isinstance(floor.queue("c1")[0], KeepWaiting)


def test_off_hours_auto_reply_holds_until_opening() -> None:
    moscow = ZoneInfo("Europe/Moscow")
    calendar = WorkingCalendar("Europe/Moscow", weekly={d: hours("09:00-18:00") for d in range(5)})
    floor = Floor.of(line(Mode.EVENLY, "a", calendar=calendar, off_hours=OffHoursRule(OffHours.AUTO_REPLY)))
    floor.now = datetime(2024, 3, 9, 12, 0, tzinfo=moscow).timestamp()  # a Saturday
    floor.login("a")
    monday_nine = datetime(2024, 3, 11, 9, 0, tzinfo=moscow).timestamp()

    closed = floor.queue("c1", language="ru")
    opened = floor.fire("open:sales")

    assert closed == [
        SendAutomaticMessage("c1", "sales", "off_hours", (("contact_name", ""), ("line_name", "")), "ru"),
        KeepWaiting("c1", "sales", 1, 36.0),
        ScheduleTimer("open:sales", monday_nine),
    ]
    assert floor.now == monday_nine
    assert floor.offered_to(opened) == [("c1", ("a",))]


def test_off_hours_other_behaviours() -> None:
    calendar = WorkingCalendar("UTC", weekly={})
    cases = {
        OffHours.REFUSE: Refuse("c1", "sales", "off_hours", "off_hours"),
        OffHours.CALLBACK: RequestCallback("c1", "sales", "k1", "off_hours"),
        OffHours.OVERFLOW: MoveToLine("c1", "sales", "night", "off_hours"),
    }
    for action, expected in cases.items():
        rule = OffHoursRule(action, "night" if action is OffHours.OVERFLOW else None)
        floor = Floor.of(line(Mode.EVENLY, "a", calendar=calendar, off_hours=rule))
        floor.login("a")

        assert floor.queue("c1", contact_id="k1")[0] == expected
        assert floor.engine.state_of("c1") is None


def test_queue_full_overflows_to_another_line_run_by_the_same_engine() -> None:
    sales = line(Mode.EVENLY, "a", limits=Limits(max_queue_length=1, overflow=Overflow.LINE, overflow_line_id="spare"))
    spare = LineConfig("spare", members=(Member("b"),))
    floor = Floor.of(sales, spare, operators=one_chat("a", "b"))
    floor.login("a")
    floor.queue("c1")
    floor.queue("c2")

    third = floor.queue("c3")

    assert third[0] == MoveToLine("c3", "sales", "spare", "queue_full")
    assert third[1] == KeepWaiting("c3", "spare", 1, None)  # nobody staffs "spare" yet
    assert floor.engine.state_of("c3") == "waiting"


def test_max_wait_asks_for_a_callback() -> None:
    limits = Limits(max_wait_s=120, overflow=Overflow.CALLBACK)
    floor = Floor.of(line(Mode.EVENLY, "a", limits=limits), operators=one_chat("a"))
    floor.login("a")
    floor.queue("c0")
    waiting = floor.queue("c1", contact_id="k1")

    timed_out = floor.fire("max_wait:c1")

    assert ScheduleTimer("max_wait:c1", floor.now) in waiting
    assert timed_out == [RequestCallback("c1", "sales", "k1", "max_wait")]
    assert floor.engine.state_of("c1") is None


def test_transfer_to_operator_carries_the_note() -> None:
    floor = Floor.of(line(Mode.EVENLY, "a", "b"))
    floor.login("a", "b")
    floor.queue("c1")
    floor.accept("c1", "a")

    moved = floor.send(ConversationTransferred(floor.now, "c1", to_operator_id="b", note="wants a refund"))

    assert moved[0] == Offer("c1", "sales", "chat", ("b",), floor.now + 60, "wants a refund")


def test_logout_requeues_active_conversations() -> None:
    floor = Floor.of(line(Mode.EVENLY, "a", "b"), operators=one_chat("a", "b"))
    floor.login("a", "b")
    floor.queue("c1")
    floor.accept("c1", "a")
    floor.queue("c2")
    floor.accept("c2", "b")

    gone = floor.send(OperatorLoggedOut(floor.now, "a"))
    freed = floor.close("c2")

    assert gone == [KeepWaiting("c1", "sales", 1, 180.0)]
    assert floor.offered_to(freed) == [("c1", ("b",))]


def test_declined_offer_goes_to_the_next_operator() -> None:
    floor = Floor.of(line(Mode.STRICT_ORDER, "a", "b"))
    floor.login("a", "b")
    floor.queue("c1")

    declined = floor.send(OfferDeclined(floor.now, "c1", "a"))

    assert floor.offered_to(declined) == [("c1", ("b",))]


def test_manual_mode_operators_pick_from_the_pool() -> None:
    floor = Floor.of(line(Mode.MANUAL, "a"))
    floor.login("a")

    waiting = floor.queue("c1")
    picked = floor.send(ConversationPicked(floor.now, "c1", "a"))

    assert waiting == [KeepWaiting("c1", "sales", 1, 36.0)]
    assert picked == [Assign("c1", "a", "sales")]


def test_automatic_messages_through_the_life_of_a_conversation() -> None:
    actions = AutomaticActions(
        welcome=Welcome.FIRST_CONTACT_EVER,
        please_wait_after_s=30,
        auto_close_after_s=600,
        thank_you_on_close=True,
        rating_request_on_close=True,
        templates={k: {"en": "x"} for k in ("welcome", "please_wait", "auto_close", "thank_you", "rating_request")},
    )
    floor = Floor.of(line(Mode.EVENLY, "a", actions=actions))
    floor.login("a")
    names = (("contact_name", "Ann"), ("line_name", ""))

    queued = floor.queue("c1", contact_name="Ann", first_contact_ever=True)
    floor.accept("c1", "a")
    nudged = floor.fire("please_wait:c1")
    floor.send(OperatorReplied(floor.now, "c1"))
    floor.send(CustomerMessaged(floor.now, "c1"))
    floor.send(OperatorReplied(floor.now, "c1"))
    silent = floor.fire("auto_close:c1")

    assert queued[0] == SendAutomaticMessage("c1", "sales", "welcome", names, "en")
    assert nudged == [SendAutomaticMessage("c1", "sales", "please_wait", names, "en")]
    kinds = ["SendAutomaticMessage", "CloseConversation", "SendAutomaticMessage", "SendAutomaticMessage"]
    assert [type(d).__name__ for d in silent] == kinds
    assert silent[1] == CloseConversation("c1", "customer_silence")
    assert [d.template_key for d in silent if isinstance(d, SendAutomaticMessage)] == [
        "auto_close",
        "thank_you",
        "rating_request",
    ]


def test_line_config_changed_live_adds_a_member() -> None:
    floor = Floor.of(line(Mode.EVENLY, "a"), operators=one_chat("a", "b"))
    floor.login("a", "b")
    floor.queue("c1")
    floor.queue("c2")

    changed = floor.send(LineConfigChanged(floor.now, line(Mode.EVENLY, "a", "b")))

    assert floor.offered_to(changed) == [("c2", ("b",))]


def test_invalid_live_config_is_ignored_with_the_field_named() -> None:
    floor = Floor.of(line(Mode.EVENLY, "a"))

    result = floor.send(LineConfigChanged(floor.now, line(Mode.EVENLY, "a", forwarding_timeout_s=1)))

    assert result == [Ignored("LineConfigChanged", "forwarding_timeout_s: must be between 5 seconds and 24 hours")]
