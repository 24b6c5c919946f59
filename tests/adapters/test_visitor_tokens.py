"""Visitor tokens: signed with a key derived from the secret key; any change to them is caught."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.adapters.security.visitors import ForgedVisitor, VisitorTokens

KEY = "a-secret-key-of-at-least-32-characters"


def test_a_token_reads_back_as_its_visitor() -> None:
    tokens = VisitorTokens(KEY)
    visitor = tokens.new_visitor()
    assert tokens.read(tokens.issue(visitor, 1_800_000_000)) == visitor


def test_new_visitors_are_distinct() -> None:
    assert len({VisitorTokens.new_visitor() for _ in range(1000)}) == 1000


@given(position=st.integers(0, 200), replacement=st.sampled_from("AZaz09-_."))
def test_changing_any_character_is_caught(position: int, replacement: str) -> None:
    tokens = VisitorTokens(KEY)
    token = tokens.issue("Q" * 22, 1_800_000_000)
    index = position % len(token)
    changed = token[:index] + replacement + token[index + 1 :]
    if changed == token:
        return
    with pytest.raises(ForgedVisitor):
        tokens.read(changed)


def test_a_token_of_another_key_is_forged() -> None:
    token = VisitorTokens("another-secret-key-of-32-characters!!").issue("Q" * 22, 1)
    with pytest.raises(ForgedVisitor):
        VisitorTokens(KEY).read(token)


def test_a_session_token_is_not_a_visitor_token() -> None:
    with pytest.raises(ForgedVisitor):
        VisitorTokens(KEY).read("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl")
