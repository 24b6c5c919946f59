"""Line and channel settings as admins write them, and as the routing engine takes them."""

from __future__ import annotations

from datetime import date

import pytest

from switchboard.domain.line_settings import dnis_priority, line_config, split_rules
from switchboard.domain.routing.automatic import Welcome
from switchboard.domain.routing.calendar import TimeRange
from switchboard.domain.routing.config import InvalidConfig, OffHours, Overflow
from switchboard.domain.routing.model import Mode

FULL = {
    "mode": "strict_order",
    "forwarding_timeout_s": 90,
    "wrap_up_s": 30,
    "sticky_wait_s": 120,
    "priority": 2,
    "auto_pause_after_missed": 3,
    "members": [{"operator_id": 3, "tier": 1, "skills": {"en": 8}}, {"operator_id": 4, "tier": 2}],
    "limits": {"max_wait_s": 600, "max_queue_length": 50, "overflow": "line", "overflow_line_id": 2},
    "calendar": {
        "weekly": {"0": ["09:00-13:00", "14:00-18:00"]},
        "holidays": ["2026-12-31"],
        "exceptions": {"2026-12-30": ["10:00-15:00"]},
    },
    "off_hours": {"action": "callback"},
    "actions": {"welcome": "first_contact_ever", "templates": {"welcome": {"ru": "Здравствуйте!"}}},
    "dnis_priority": {"+74951230000": 2},
}


def test_every_setting_reaches_the_engine() -> None:
    config = line_config(1, "Sales", "Europe/Moscow", [3, 4], FULL, {4: {"de": 5}})
    assert (config.line_id, config.mode, config.forwarding_timeout_s, config.wrap_up_s) == (
        "1",
        Mode.STRICT_ORDER,
        90,
        30,
    )
    assert [(m.operator_id, m.tier, dict(m.skills)) for m in config.members] == [
        ("3", 1, {"en": 8}),
        ("4", 2, {"de": 5}),
    ]
    assert (config.limits.max_wait_s, config.limits.max_queue_length) == (600, 50)
    assert (config.limits.overflow, config.limits.overflow_line_id) == (Overflow.LINE, "2")
    assert config.calendar is not None
    assert config.calendar.time_zone == "Europe/Moscow"
    assert config.calendar.weekly[0] == (TimeRange.parse("09:00-13:00"), TimeRange.parse("14:00-18:00"))
    assert config.calendar.holidays == frozenset({date(2026, 12, 31)})
    assert config.calendar.exceptions == {date(2026, 12, 30): (TimeRange.parse("10:00-15:00"),)}
    assert (config.off_hours.action, config.actions.welcome) == (OffHours.CALLBACK, Welcome.FIRST_CONTACT_EVER)
    assert (config.priority, config.auto_pause_after_missed) == (2, 3)
    assert (dnis_priority(FULL, "+74951230000"), dnis_priority(FULL, "+70000000000"), dnis_priority(FULL, None)) == (
        2,
        0,
        0,
    )


def test_members_default_to_the_lines_operators_with_their_own_skills() -> None:
    config = line_config(1, "Sales", "UTC", [5, 6], {}, {5: {"en": 3}})
    assert [(m.operator_id, dict(m.skills)) for m in config.members] == [("5", {"en": 3}), ("6", {})]
    assert config.mode is Mode.EVENLY


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"mode": "loudest"}, "routing.mode"),
        ({"forwarding_timeout_s": "soon"}, "routing.forwarding_timeout_s"),
        ({"members": [{"operator_id": 99}]}, "routing.members.0.operator_id"),
        ({"limits": {"overflow": "sky"}}, "routing.limits.overflow"),
        ({"calendar": {"weekly": {"0": ["9-18"]}}}, "routing.calendar.weekly.0"),
        ({"calendar": {"holidays": ["31.12.2026"]}}, "routing.calendar.holidays"),
        ({"colour": "red"}, "routing.colour"),
    ],
)
def test_a_mistake_names_its_field(settings: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidConfig) as error:
        line_config(1, "Sales", "UTC", [3], settings)
    assert field in [f for f, _ in error.value.errors]


def test_split_rules_are_read_and_checked() -> None:
    rules = split_rules({"split_rules": [{"line_id": 2, "keywords": ["счёт"], "hours": ["00:00-08:00"]}]})
    assert [(r.line_id, r.keywords, r.hours) for r in rules] == [
        ("2", frozenset({"счёт"}), (TimeRange.parse("00:00-08:00"),))
    ]
    assert split_rules({}) == ()
    with pytest.raises(InvalidConfig) as error:
        split_rules({"split_rules": [{"line_id": 2, "keywords": "счёт"}]})
    assert error.value.errors == [("settings.split_rules.0.keywords", "must be a list of texts")]
