"""Unit tests: working calendar, split rules, automatic messages, config validation."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from switchboard.domain.routing.automatic import AutomaticActions, Welcome, message_text, render
from switchboard.domain.routing.calendar import TimeRange, WorkingCalendar, hours
from switchboard.domain.routing.config import (
    InvalidConfig,
    Limits,
    LineConfig,
    Member,
    OffHours,
    OffHoursRule,
    Overflow,
)
from switchboard.domain.routing.split import InboundFacts, SplitRule, choose_line

NEW_YORK = ZoneInfo("America/New_York")
MOSCOW = ZoneInfo("Europe/Moscow")


def at(year: int, month: int, day: int, hour: int, minute: int = 0, zone: ZoneInfo = NEW_YORK) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=zone).timestamp()


OFFICE = WorkingCalendar(
    "America/New_York",
    weekly={d: hours("09:00-13:00", "14:00-18:00") for d in range(5)},
    holidays=frozenset({date(2024, 7, 4)}),
    exceptions={date(2024, 12, 24): hours("09:00-12:00"), date(2024, 12, 28): hours("10:00-14:00")},
)


def test_open_in_local_wall_time_with_a_lunch_break() -> None:
    assert OFFICE.is_open(at(2024, 3, 4, 9, 0))
    assert not OFFICE.is_open(at(2024, 3, 4, 13, 30))
    assert not OFFICE.is_open(at(2024, 3, 4, 18, 0))
    assert not OFFICE.is_open(at(2024, 3, 9, 11, 0))  # Saturday


def test_hours_stay_local_across_daylight_saving() -> None:
    """09:00 New York is 14:00 UTC in winter and 13:00 UTC in summer."""
    before = OFFICE.next_opening(at(2024, 3, 8, 20, 0))  # Friday evening, DST starts Sunday
    assert before == datetime(2024, 3, 11, 13, 0, tzinfo=ZoneInfo("UTC")).timestamp()
    assert OFFICE.next_opening(at(2024, 3, 1, 20, 0)) == datetime(2024, 3, 4, 14, 0, tzinfo=ZoneInfo("UTC")).timestamp()


def test_opening_inside_the_spring_gap_starts_when_the_gap_ends() -> None:
    calendar = WorkingCalendar("America/New_York", weekly={6: hours("02:30-05:00")})
    opens = calendar.next_opening(at(2024, 3, 10, 0, 0))
    assert opens == at(2024, 3, 10, 3, 0)


def test_holiday_and_exceptions() -> None:
    assert not OFFICE.is_open(at(2024, 7, 4, 10, 0))
    assert OFFICE.next_opening(at(2024, 7, 4, 10, 0)) == at(2024, 7, 5, 9, 0)
    assert OFFICE.is_open(at(2024, 12, 24, 11, 0))
    assert not OFFICE.is_open(at(2024, 12, 24, 15, 0))
    assert OFFICE.is_open(at(2024, 12, 28, 10, 30))  # a working Saturday


def test_next_change_and_never_open() -> None:
    assert OFFICE.next_change(at(2024, 3, 4, 10, 0)) == at(2024, 3, 4, 13, 0)
    assert WorkingCalendar("UTC").next_opening(0.0) is None


def test_calendar_problems_name_the_field() -> None:
    bad = WorkingCalendar("Mars/Olympus", weekly={7: (TimeRange(600, 500),), 1: hours("09:00-12:00", "11:00-13:00")})
    fields = [f for f, _ in bad.problems()]
    assert fields == ["calendar.time_zone", "calendar.weekly", "calendar.weekly[7]", "calendar.weekly[1]"]


def test_time_range_parse_errors() -> None:
    with pytest.raises(ValueError, match="must look like 09:00-18:00"):
        TimeRange.parse("nine to five")
    assert str(TimeRange.parse("00:00-24:00")) == "00:00-24:00"


RULES = (
    SplitRule("vip-line", dnis=frozenset({"+74950000001"})),
    SplitRule("billing", keywords=frozenset({"invoice", "счёт", "refund please"})),
    SplitRule("english", languages=frozenset({"en"})),
    SplitRule("key-accounts", segments=frozenset({"key"})),
    SplitRule("night", hours=hours("00:00-08:00"), time_zone="Europe/Moscow"),
)
NOON_MOSCOW = at(2024, 3, 4, 12, 0, MOSCOW)


@pytest.mark.parametrize(
    ("facts", "when", "line"),
    [
        (InboundFacts(dnis="+74950000001", text="invoice"), NOON_MOSCOW, "vip-line"),
        (InboundFacts(text="Where is my Invoice?"), NOON_MOSCOW, "billing"),
        (InboundFacts(text="Нужен счёт"), NOON_MOSCOW, "billing"),
        (InboundFacts(text="a refund please now"), NOON_MOSCOW, "billing"),
        (InboundFacts(text="invoices"), NOON_MOSCOW, "default"),
        (InboundFacts(language="en-GB"), NOON_MOSCOW, "english"),
        (InboundFacts(segments=frozenset({"key", "new"})), NOON_MOSCOW, "key-accounts"),
        (InboundFacts(), at(2024, 3, 4, 3, 0, MOSCOW), "night"),
        (InboundFacts(), NOON_MOSCOW, "default"),
    ],
)
def test_split_rules_first_match_wins(facts: InboundFacts, when: float, line: str) -> None:
    assert choose_line(RULES, facts, when, "default") == line


def test_render_fills_slots_and_never_formats() -> None:
    text = "Hi {contact_name}, {{literal}} {missing} {contact_name.__class__} {0}"
    assert render(text, {"contact_name": "{line_name}"}) == "Hi {line_name}, {literal}  {contact_name.__class__} {0}"


def test_message_text_falls_back_by_language() -> None:
    actions = AutomaticActions(
        templates={"welcome": {"en": "Hello {contact_name}", "ru": "Здравствуйте, {contact_name}"}}
    )
    assert message_text(actions, "welcome", "ru-RU", {"contact_name": "Анна"}) == "Здравствуйте, Анна"
    assert message_text(actions, "welcome", "de", {"contact_name": "Jo"}) == "Hello Jo"
    assert message_text(actions, "thank_you", "en", {}) is None


def test_config_validation_names_every_bad_field() -> None:
    config = LineConfig(
        "sales",
        members=(Member("a", tier=0), Member("a", skills={"en": 11})),
        forwarding_timeout_s=2,
        wrap_up_s=-1,
        limits=Limits(max_wait_s=0, overflow=Overflow.LINE),
        off_hours=OffHoursRule(OffHours.OVERFLOW),
        auto_pause_after_missed=0,
        actions=AutomaticActions(welcome=Welcome.EVERY_NEW_CONVERSATION, templates={"welcome": {"ru": "{nam"}}),
    )

    with pytest.raises(InvalidConfig) as caught:
        config.validate()

    assert [f for f, _ in caught.value.errors] == [
        "forwarding_timeout_s",
        "wrap_up_s",
        "auto_pause_after_missed",
        "off_hours.line_id",
        "members[0].tier",
        "members[1]",
        "members[1].skills['en']",
        "limits.max_wait_s",
        "limits.overflow_line_id",
        "actions.templates['welcome']",
    ]


def test_template_with_unknown_variable_is_rejected() -> None:
    actions = AutomaticActions(templates={"welcome": {"en": "Hi {first_name}"}})
    assert actions.problems() == [
        (
            "actions.templates['welcome']['en']",
            "unknown variable {first_name}; known: contact_name, line_name, opens_at, operator_name, "
            "position, wait_minutes",
        )
    ]


def test_a_valid_line_validates_to_itself() -> None:
    line = LineConfig("sales", members=(Member("a", skills={"en": 5}),))
    assert line.validate() is line
