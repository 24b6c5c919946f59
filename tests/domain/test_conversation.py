"""The conversation state machine: every legal move, and no way out of closed but reopening."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.domain.conversation import (
    OPEN_STATUSES,
    ConversationAction,
    ConversationStatus,
    allowed_actions,
    next_status,
)
from switchboard.domain.errors import InvalidTransition

S, A = ConversationStatus, ConversationAction


def test_the_happy_path() -> None:
    status = S.NEW
    for action, expected in (
        (A.QUEUE, S.QUEUED),
        (A.OFFER, S.OFFERED),
        (A.ACCEPT, S.ASSIGNED),
        (A.OPERATOR_REPLIED, S.WAITING),
        (A.CUSTOMER_WROTE, S.ASSIGNED),
        (A.CLOSE, S.CLOSED),
        (A.REOPEN, S.NEW),  # new again: routing admits it afresh
    ):
        status = next_status(status, action)
        assert status is expected


def test_a_declined_offer_goes_back_to_the_queue() -> None:
    assert next_status(S.OFFERED, A.RETURN_TO_QUEUE) is S.QUEUED


def test_closed_only_reopens() -> None:
    assert allowed_actions(S.CLOSED) == {A.REOPEN}
    with pytest.raises(InvalidTransition) as error:
        next_status(S.CLOSED, A.OPERATOR_REPLIED)
    assert error.value.detail == "a closed conversation cannot operator replied"


def test_every_open_status_can_close() -> None:
    assert all(A.CLOSE in allowed_actions(status) for status in OPEN_STATUSES)


@given(st.lists(st.sampled_from(list(ConversationAction)), max_size=40))
def test_any_sequence_stays_inside_the_machine(actions: list[ConversationAction]) -> None:
    status = S.NEW
    for action in actions:
        if action in allowed_actions(status):
            status = next_status(status, action)
        else:
            with pytest.raises(InvalidTransition):
                next_status(status, action)
    assert status in set(ConversationStatus)
    if status is S.CLOSED:
        assert allowed_actions(status) == {A.REOPEN}
