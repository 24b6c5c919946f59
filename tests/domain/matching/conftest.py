"""One generated contact list shared by the matching tests (it takes a fraction of a second)."""

from __future__ import annotations

import random

import pytest

from switchboard.domain.matching.generate import Generated, generate

SEED = 20260501


@pytest.fixture(scope="session")
def contacts() -> Generated:
    return generate(5000, random.Random(SEED))
