"""Times as SQLite keeps them: UTC text to the microsecond, whatever zone they were given in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import sqlite

from switchboard.adapters.storage.columns import UTCDateTime, sqlite_time

BIND = UTCDateTime().bind_processor(sqlite.dialect())


def test_an_aware_time_is_stored_as_utc_text_and_read_back_the_same() -> None:
    at = datetime(2026, 11, 23, 8, 30, 5, 42, tzinfo=UTC)
    moscow = at.astimezone(timezone(timedelta(hours=3)))
    assert BIND(at) == BIND(moscow) == "2026-11-23 08:30:05.000042"
    assert sqlite_time(BIND(moscow)) == at
    assert BIND(None) is None


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        BIND(datetime(2026, 11, 23, 8, 30))
