"""Working hours of a line in its own IANA time zone: weekly hours, holidays, exceptions.

Times are wall-clock minutes in the line's zone, so "09:00-18:00" stays 09:00-18:00 across
daylight-saving changes. A local time that does not exist (spring gap) resolves to the
instant just after the gap; a repeated local time (autumn fold) uses its first occurrence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 1440
SEARCH_DAYS = 400


@dataclass(frozen=True, slots=True, order=True)
class TimeRange:
    """Open from `start` to `end` minutes after local midnight (end 1440 = midnight)."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        """Read "09:00-18:00" (use "24:00" for the end of the day)."""
        try:
            first, second = text.split("-")
            return cls(_minutes(first), _minutes(second))
        except ValueError as exc:
            raise ValueError(f"time range {text!r} must look like 09:00-18:00") from exc

    def problem(self) -> str | None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            return f"{self} must satisfy 00:00 <= start < end <= 24:00 (split overnight hours)"
        return None

    def __str__(self) -> str:
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"


def _minutes(text: str) -> int:
    hours, minutes = text.strip().split(":")
    return int(hours) * 60 + int(minutes)


def hours(*ranges: str) -> tuple[TimeRange, ...]:
    """Shorthand: hours("09:00-13:00", "14:00-18:00")."""
    return tuple(TimeRange.parse(r) for r in ranges)


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """When a line is open. `weekly` is keyed by weekday, Monday = 0.

    A date in `exceptions` replaces its weekday's hours (empty = closed that day);
    a date in `holidays` is closed whatever else says.
    """

    time_zone: str = "UTC"
    weekly: Mapping[int, tuple[TimeRange, ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    exceptions: Mapping[date, tuple[TimeRange, ...]] = field(default_factory=dict)

    @classmethod
    def always_open(cls) -> WorkingCalendar:
        day = (TimeRange(0, MINUTES_PER_DAY),)
        return cls(weekly={d: day for d in range(7)})

    def problems(self) -> list[tuple[str, str]]:
        """(field, message) for every mistake, empty when valid."""
        found: list[tuple[str, str]] = []
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            found.append(("calendar.time_zone", f"unknown IANA time zone {self.time_zone!r}"))
        for day, ranges in self.weekly.items():
            if day not in range(7):
                found.append(("calendar.weekly", f"weekday {day} must be 0 (Monday) .. 6 (Sunday)"))
            found.extend((f"calendar.weekly[{day}]", p) for p in _range_problems(ranges))
        for when, ranges in self.exceptions.items():
            found.extend((f"calendar.exceptions[{when}]", p) for p in _range_problems(ranges))
        return found

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def ranges_on(self, day: date) -> tuple[TimeRange, ...]:
        """Opening hours of one local date after holidays and exceptions."""
        if day in self.holidays:
            return ()
        if day in self.exceptions:
            return self.exceptions[day]
        return self.weekly.get(day.weekday(), ())

    def is_open(self, at: float) -> bool:
        local = datetime.fromtimestamp(at, self.zone())
        minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
        return any(r.start <= minute < r.end for r in self.ranges_on(local.date()))

    def next_change(self, at: float) -> float | None:
        """The next instant after `at` when open/closed flips, None if it never does."""
        now_open = self.is_open(at)
        for instant in self._boundaries(at):
            if instant > at and self.is_open(instant) != now_open:
                return instant
        return None

    def next_opening(self, at: float) -> float | None:
        """`at` itself when open, else the next opening, None if never (within ~a year)."""
        if self.is_open(at):
            return at
        return self.next_change(at)

    def _boundaries(self, at: float) -> list[float]:
        zone = self.zone()
        first = datetime.fromtimestamp(at, zone).date() - timedelta(days=1)
        instants: list[float] = []
        for offset in range(SEARCH_DAYS):
            day = first + timedelta(days=offset)
            for r in self.ranges_on(day):
                instants.append(_instant(day, r.start, zone))
                instants.append(_instant(day, r.end, zone))
            if instants and max(instants) > at and offset > 8:
                break
        return sorted(instants)


def _range_problems(ranges: tuple[TimeRange, ...]) -> list[str]:
    found = [p for p in (r.problem() for r in ranges) if p is not None]
    ordered = sorted(ranges)
    found.extend(f"{a} overlaps {b}" for a, b in pairwise(ordered) if b.start < a.end)
    return found


def _instant(day: date, minute: int, zone: ZoneInfo) -> float:
    """POSIX seconds of a local wall time; inside a DST gap, the instant the gap ends."""
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
    local = naive.replace(tzinfo=zone)
    stamp = local.timestamp()
    if datetime.fromtimestamp(stamp, zone).replace(tzinfo=None) == naive:
        return stamp
    low, high = local.replace(fold=1).timestamp(), stamp
    low, high = min(low, high), max(low, high)
    while high - low > 0.5:
        middle = (low + high) / 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return float(round(high))
