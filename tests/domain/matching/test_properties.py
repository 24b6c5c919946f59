"""Properties of the score: symmetric, in [0, 1], 1 for a record with an identifier against itself."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.domain.matching.person import Person
from switchboard.domain.matching.profile import profile_of
from switchboard.domain.matching.scoring import compare, score

NAMES = st.sampled_from(
    ["Юлия", "Yulia", "Julia", "Щукина", "Schukina", "Иван", "Ivan", "Петров", "Petrova", "Саша", "Aleksandr", ""]
)
TEXT = st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюяabcdefghijklmnopqrstuvwxyz .-'", max_size=14)
PHONES = st.lists(st.sampled_from(["+79161234567", "+79161234568", "+79261234567", "+12025550100"]), max_size=2)
EMAILS = st.lists(st.sampled_from(["yulia@mail.ru", "yulia@gmail.com", "ivan.petrov@mail.ru"]), max_size=2)


@st.composite
def people(draw: st.DrawFn) -> Person:
    return Person(
        id=draw(st.integers(0, 10**6)),
        first_name=draw(st.one_of(NAMES, TEXT, st.none())),
        last_name=draw(st.one_of(NAMES, TEXT, st.none())),
        middle_name=draw(st.one_of(st.none(), st.sampled_from(["Сергеевна", "Sergeyevna", "Ивановна"]))),
        full_name=draw(st.one_of(st.none(), TEXT)),
        birth_date=draw(st.one_of(st.none(), st.dates(date(1930, 1, 1), date(2010, 12, 31)))),
        phones=tuple(draw(PHONES)),
        emails=tuple(draw(EMAILS)),
        city=draw(st.one_of(st.none(), st.sampled_from(["Москва", "Moscow", "г. Казань", "London"]), TEXT)),
        address=draw(st.one_of(st.none(), st.sampled_from(["ул. Ленина, д. 5", "улица Ленина 5", "1 Main St"]))),
        company=draw(st.one_of(st.none(), st.sampled_from(["ООО Ромашка", "Romashka LLC", "Acme"]))),
    )


@settings(max_examples=400, deadline=None)
@given(a=people(), b=people())
def test_score_is_symmetric_and_within_zero_and_one(a: Person, b: Person) -> None:
    forward = compare(profile_of(a, 0), profile_of(b, 1))
    backward = compare(profile_of(b, 0), profile_of(a, 1))
    assert forward == backward
    value = score(profile_of(a, 0), profile_of(b, 1))
    assert 0.0 <= value <= 1.0


@settings(max_examples=300, deadline=None)
@given(person=people())
def test_a_record_with_an_identifier_scores_one_against_itself(person: Person) -> None:
    value = score(profile_of(person, 0), profile_of(person, 1))
    if person.phones or person.emails or person.birth_date:
        assert value == 1.0
    else:
        assert value < 0.8  # a name alone never reaches the default score


@settings(max_examples=200, deadline=None)
@given(a=people(), b=people(), threshold=st.floats(0.0, 1.0))
def test_early_exit_agrees_with_the_full_score(a: Person, b: Person, threshold: float) -> None:
    full = score(profile_of(a, 0), profile_of(b, 1))
    early = compare(profile_of(a, 0), profile_of(b, 1), min_score=threshold)
    if full >= threshold and threshold > 0.0 and full > 0.0:
        assert early is not None
        assert early[0] == full
    if full < threshold:
        assert early is None
