"""Cutting a long reply into the parts a messenger takes: nothing lost, nothing over the limit."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from switchboard.adapters.connectors.meta.graph import split_text

WHITESPACE = re.compile(r"\s+")


@given(st.text(alphabet=st.sampled_from("аб cd\n\t."), max_size=400), st.integers(min_value=1, max_value=60))
def test_parts_keep_every_character_but_the_spaces_at_the_cuts_and_none_is_over_the_limit(
    text: str, limit: int
) -> None:
    parts = split_text(text, limit)

    assert all(0 < len(part) <= limit for part in parts)
    assert WHITESPACE.sub("", "".join(parts)) == WHITESPACE.sub("", text)


def test_a_cut_falls_on_the_last_space_before_the_limit() -> None:
    assert split_text("Доставка завтра утром", 16) == ["Доставка завтра", "утром"]
    assert split_text("Доставказавтраутром", 8) == ["Доставка", "завтраут", "ром"]
