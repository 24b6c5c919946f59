"""An event's payload is what ``dataclasses.asdict`` gives, for every event in the catalogue."""

from __future__ import annotations

import dataclasses
import inspect

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.domain import events

CATALOGUE = [
    cls
    for _, cls in inspect.getmembers(events, inspect.isclass)
    if issubclass(cls, events.Event) and cls is not events.Event
]


def test_the_catalogue_is_found() -> None:
    assert len(CATALOGUE) >= 30


@pytest.mark.parametrize("cls", CATALOGUE, ids=lambda cls: cls.__name__)
@settings(max_examples=25)
@given(data=st.data())
def test_payload_equals_asdict_value_for_value_and_type(cls: type[events.Event], data: st.DataObject) -> None:
    # given any event of this kind
    event = data.draw(st.builds(cls))
    # when its payload is taken, then it is asdict's, with the same types (tuples stay tuples)
    payload = event.payload()
    expected = dataclasses.asdict(event)
    assert payload == expected
    assert [type(v) for v in payload.values()] == [type(v) for v in expected.values()]
    # and it is a new dict each time: a consumer that changes it changes nobody else's
    assert payload is not event.payload()
