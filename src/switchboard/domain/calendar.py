"""Time zones of contacts and lines."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


def valid_time_zone(name: str) -> bool:
    """True for an IANA zone name such as ``Europe/Moscow``."""
    if name not in available_timezones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
