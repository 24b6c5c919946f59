"""A line's routing settings as stored (JSON) and as the routing engine takes them (LineConfig).

Admins edit settings as data; this module is the one translation, and every mistake it finds
names its field as the API shows it (``routing.limits.max_wait_s``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

from switchboard.domain.ivr.tree import parse_ivr
from switchboard.domain.routing.automatic import AutomaticActions, Welcome
from switchboard.domain.routing.calendar import TimeRange, WorkingCalendar
from switchboard.domain.routing.config import (
    InvalidConfig,
    Limits,
    LineConfig,
    Member,
    OffHours,
    OffHoursRule,
    Overflow,
)
from switchboard.domain.routing.model import Mode
from switchboard.domain.routing.split import SplitRule
from switchboard.domain.voice.callbacks import MAX_SLA_S, MIN_SLA_S
from switchboard.domain.voice.settings import voicemail_uri_problem

E = TypeVar("E", Mode, Overflow, OffHours, Welcome)

KNOWN = frozenset(
    {
        "mode",
        "forwarding_timeout_s",
        "wrap_up_s",
        "sticky_wait_s",
        "priority",
        "auto_pause_after_missed",
        "members",
        "limits",
        "calendar",
        "off_hours",
        "actions",
        "dnis_priority",
        "ivr",
        "callback_sla_s",
        "voicemail_uri",
        "service_level_s",
    }
)
DEFAULT_SERVICE_LEVEL_S = 60.0


class _Reader:
    """Reads one settings object, collecting (field, message) instead of stopping at the first."""

    def __init__(self, data: Mapping[str, Any], prefix: str, errors: list[tuple[str, str]]) -> None:
        self.data, self.prefix, self.errors = data, prefix, errors

    def field(self, name: str) -> str:
        return f"{self.prefix}.{name}"

    def number(self, name: str, default: float | None) -> float | None:
        value = self.data.get(name, default)
        if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            return None if value is None else float(value)
        self.errors.append((self.field(name), "must be a number of seconds"))
        return default

    def whole(self, name: str, default: int | None) -> int | None:
        value = self.data.get(name, default)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        self.errors.append((self.field(name), "must be a whole number"))
        return default

    def choice(self, name: str, kind: type[E], default: E) -> E:
        value = self.data.get(name, default.value)
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(item.value for item in kind)
            self.errors.append((self.field(name), f"must be one of: {allowed}"))
            return default

    def table(self, name: str) -> Mapping[str, Any]:
        value = self.data.get(name) or {}
        if isinstance(value, Mapping):
            return value
        self.errors.append((self.field(name), "must be an object"))
        return {}


def line_config(
    line_id: int,
    name: str,
    time_zone: str,
    operator_ids: Sequence[int],
    settings: Mapping[str, Any],
    operator_skills: Mapping[int, Mapping[str, int]] | None = None,
) -> LineConfig:
    """The engine's configuration of a line; raises InvalidConfig listing every bad field.

    A member's skills are the ones the line gives them, else the operator's own (their profile).
    """
    errors: list[tuple[str, str]] = []
    unknown = sorted(set(settings) - KNOWN)
    errors.extend((f"routing.{key}", "is not a routing setting") for key in unknown)
    read = _Reader(settings, "routing", errors)
    config = LineConfig(
        line_id=str(line_id),
        name=name,
        mode=read.choice("mode", Mode, Mode.EVENLY),
        members=_members(settings.get("members"), operator_ids, errors, operator_skills or {}),
        forwarding_timeout_s=read.number("forwarding_timeout_s", 60.0) or 60.0,
        wrap_up_s=read.number("wrap_up_s", 0.0) or 0.0,
        sticky_wait_s=read.number("sticky_wait_s", 0.0) or 0.0,
        limits=_limits(_Reader(read.table("limits"), "routing.limits", errors)),
        calendar=_calendar(settings.get("calendar"), time_zone, errors),
        off_hours=_off_hours(_Reader(read.table("off_hours"), "routing.off_hours", errors)),
        actions=_actions(_Reader(read.table("actions"), "routing.actions", errors)),
        priority=read.whole("priority", 0) or 0,
        auto_pause_after_missed=read.whole("auto_pause_after_missed", None),
    )
    errors.extend(
        (field if field.startswith("routing.") else f"routing.{field}", message) for field, message in config.problems()
    )
    errors.extend(_voice_problems(settings))
    target = read.number("service_level_s", DEFAULT_SERVICE_LEVEL_S)
    if target is not None and not 1 <= target <= 86_400:
        errors.append(("routing.service_level_s", "must be between 1 second and 24 hours"))
    if errors:
        raise InvalidConfig(errors)
    return config


def _voice_problems(settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A line's calls: its IVR (``routing.ivr``) and how soon a callback is due (``routing.callback_sla_s``)."""
    found: list[tuple[str, str]] = []
    if settings.get("ivr") is not None:
        try:
            parse_ivr(settings["ivr"], "routing.ivr")
        except InvalidConfig as error:
            found.extend(error.errors)
    sla = settings.get("callback_sla_s")
    if sla is not None and not (
        isinstance(sla, int | float) and not isinstance(sla, bool) and MIN_SLA_S <= sla <= MAX_SLA_S
    ):
        found.append(("routing.callback_sla_s", f"must be a number of seconds from {MIN_SLA_S} to {MAX_SLA_S}"))
    voicemail = settings.get("voicemail_uri")
    if voicemail is not None and (problem := voicemail_uri_problem(voicemail)) is not None:
        found.append(("routing.voicemail_uri", problem))
    return found


def service_level_s(settings: Mapping[str, Any]) -> float:
    """The line's answer-time target: the floor's service level and the desk's wait colours count against it."""
    value = settings.get("service_level_s", DEFAULT_SERVICE_LEVEL_S)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else DEFAULT_SERVICE_LEVEL_S


def dnis_priority(settings: Mapping[str, Any], dialled_number: str | None) -> int:
    """Extra priority of conversations that came through a dialled number the line ranks higher."""
    table = settings.get("dnis_priority") or {}
    value = table.get(dialled_number or "", 0) if isinstance(table, Mapping) else 0
    return value if isinstance(value, int) else 0


def _members(
    raw: object, operator_ids: Sequence[int], errors: list[tuple[str, str]], own: Mapping[int, Mapping[str, int]]
) -> tuple[Member, ...]:
    """Members in order: the settings' list with tiers and skills, else the line's operators."""
    if raw is None:
        return tuple(Member(str(operator_id), 1, dict(own.get(operator_id, {}))) for operator_id in operator_ids)
    if not isinstance(raw, list):
        errors.append(("routing.members", "must be a list"))
        return ()
    members = []
    for index, item in enumerate(raw):
        field = f"routing.members.{index}"
        if not isinstance(item, Mapping) or not isinstance(item.get("operator_id"), int):
            errors.append((field, "must be an object with an operator_id"))
            continue
        if item["operator_id"] not in operator_ids:
            errors.append((f"{field}.operator_id", "is not an operator of this line"))
        skills = item.get("skills") or own.get(item["operator_id"], {})
        if not isinstance(skills, Mapping) or not all(isinstance(v, int) for v in skills.values()):
            errors.append((f"{field}.skills", "must map skill names to levels 1..10"))
            skills = {}
        tier = item.get("tier", 1)
        members.append(Member(str(item["operator_id"]), tier if isinstance(tier, int) else 1, dict(skills)))
    return tuple(members)


def _limits(read: _Reader) -> Limits:
    target = read.whole("overflow_line_id", None)
    return Limits(
        max_wait_s=read.number("max_wait_s", None),
        max_queue_length=read.whole("max_queue_length", None),
        overflow=read.choice("overflow", Overflow, Overflow.REFUSE),
        overflow_line_id=str(target) if target is not None else None,
    )


def _off_hours(read: _Reader) -> OffHoursRule:
    target = read.whole("line_id", None)
    return OffHoursRule(read.choice("action", OffHours, OffHours.HOLD), str(target) if target is not None else None)


def _actions(read: _Reader) -> AutomaticActions:
    templates = read.table("templates")
    clean: dict[str, dict[str, str]] = {}
    for key, texts in templates.items():
        if isinstance(texts, Mapping) and all(isinstance(t, str) for t in texts.values()):
            clean[str(key)] = {str(lang): str(text) for lang, text in texts.items()}
        else:
            read.errors.append((f"routing.actions.templates.{key}", "must map languages to texts"))
    language = read.data.get("default_language", "ru")
    return AutomaticActions(
        welcome=read.choice("welcome", Welcome, Welcome.OFF),
        please_wait_after_s=read.number("please_wait_after_s", None),
        auto_close_after_s=read.number("auto_close_after_s", None),
        thank_you_on_close=bool(read.data.get("thank_you_on_close", False)),
        rating_request_on_close=bool(read.data.get("rating_request_on_close", False)),
        templates=clean,
        default_language=language if isinstance(language, str) else "ru",
    )


def _calendar(raw: object, time_zone: str, errors: list[tuple[str, str]]) -> WorkingCalendar | None:
    """Weekly hours such as {"0": ["09:00-18:00"]} (Monday = 0), holidays and exceptions by date."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        errors.append(("routing.calendar", "must be an object"))
        return None
    weekly = {}
    for day, ranges in (raw.get("weekly") or {}).items():
        parsed = _ranges(ranges, f"routing.calendar.weekly.{day}", errors)
        if str(day).isdigit():
            weekly[int(day)] = parsed
        else:
            errors.append((f"routing.calendar.weekly.{day}", "days are 0 (Monday) to 6 (Sunday)"))
    holidays = frozenset(
        d for d in (_date(x, "routing.calendar.holidays", errors) for x in raw.get("holidays") or []) if d is not None
    )
    exceptions = {}
    for day, ranges in (raw.get("exceptions") or {}).items():
        when = _date(day, f"routing.calendar.exceptions.{day}", errors)
        if when is not None:
            exceptions[when] = _ranges(ranges, f"routing.calendar.exceptions.{day}", errors)
    return WorkingCalendar(time_zone, weekly, holidays, exceptions)


def _ranges(raw: object, field: str, errors: list[tuple[str, str]]) -> tuple[TimeRange, ...]:
    if not isinstance(raw, list):
        errors.append((field, 'must be a list such as ["09:00-18:00"]'))
        return ()
    found = []
    for text in raw:
        try:
            found.append(TimeRange.parse(str(text)))
        except ValueError:
            errors.append((field, f"{text!r} is not a range such as 09:00-18:00"))
    return tuple(found)


def _date(raw: object, field: str, errors: list[tuple[str, str]]) -> date | None:
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        errors.append((field, f"{raw!r} is not a date such as 2026-12-31"))
        return None


def split_rules(settings: Mapping[str, Any]) -> tuple[SplitRule, ...]:
    """A channel's rules that send its conversations to other lines; raises InvalidConfig naming each bad field.

    ``{"split_rules": [{"line_id": 2, "dnis": ["+74951230000"], "keywords": ["счёт"], "languages": ["en"],
    "segments": ["vip"], "hours": ["09:00-18:00"], "time_zone": "Europe/Moscow"}]}`` — all given conditions
    must hold; the first rule that matches wins; no match keeps the channel's own line.
    """
    raw = settings.get("split_rules")
    if raw is None:
        return ()
    errors: list[tuple[str, str]] = []
    if not isinstance(raw, list):
        raise InvalidConfig([("settings.split_rules", "must be a list")])
    rules = [_split_rule(item, f"settings.split_rules.{i}", errors) for i, item in enumerate(raw)]
    if errors:
        raise InvalidConfig(errors)
    return tuple(rule for rule in rules if rule is not None)


def _split_rule(item: object, field: str, errors: list[tuple[str, str]]) -> SplitRule | None:
    if not isinstance(item, Mapping) or not isinstance(item.get("line_id"), int):
        errors.append((field, "must be an object with a line_id"))
        return None
    words: dict[str, frozenset[str]] = {}
    for name in ("dnis", "keywords", "languages", "segments"):
        values = item.get(name) or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            errors.append((f"{field}.{name}", "must be a list of texts"))
            values = []
        words[name] = frozenset(values)
    zone = item.get("time_zone", "UTC")
    return SplitRule(
        line_id=str(item["line_id"]),
        dnis=words["dnis"],
        keywords=words["keywords"],
        languages=words["languages"],
        segments=words["segments"],
        hours=_ranges(item.get("hours") or [], f"{field}.hours", errors),
        time_zone=zone if isinstance(zone, str) else "UTC",
    )
