"""Scoring: true duplicates above the default score, namesakes and relatives below, and why."""

from __future__ import annotations

from datetime import date

import pytest

from switchboard.domain.matching.person import Person
from switchboard.domain.matching.profile import profile_of
from switchboard.domain.matching.scoring import (
    DEFAULT_MIN_SCORE,
    NO_IDENTIFIER,
    birth_similarity,
    compare,
    phone_similarity,
    score,
)

YULIA = Person(
    id=1,
    first_name="Юлия",
    last_name="Щукина",
    middle_name="Сергеевна",
    birth_date=date(1987, 3, 14),
    phones=("+79161234567",),
    emails=("yulia.shchukina@mail.ru",),
    city="Москва",
    address="ул. Ленина, д. 5, кв. 12",
)


def pair_score(a: Person, b: Person) -> float:
    return score(profile_of(a, 0), profile_of(b, 1))


def test_a_transliterated_swapped_record_with_typos_is_a_duplicate() -> None:
    # given the same woman typed in Latin, family name first, with a typo, another email, no address
    other = Person(
        id=2,
        first_name="Schukina",
        last_name="Julia",
        birth_date=date(1987, 3, 14),
        phones=("+79161234567",),
        emails=("jshchukina@gmail.com",),
        city="Moscow",
    )
    # when the pair is scored
    result = compare(profile_of(YULIA, 0), profile_of(other, 1))
    # then it is above the default score, and the reasons explain it field by field
    assert result is not None
    value, reasons = result
    assert value == pytest.approx(10.3 / 11.1, abs=1e-9)  # every weight but the email's is "agree"
    assert value >= DEFAULT_MIN_SCORE
    assert [(r.field, r.similarity) for r in reasons] == [
        ("birth_date", 1.0),
        ("phone", 1.0),
        ("email", 0.0),
        ("first_name", 1.0),
        ("last_name", 1.0),
        ("city", 1.0),
    ]
    assert sum(r.weight for r in reasons) == pytest.approx(1.0, abs=1e-3)
    assert sum(r.weight * r.similarity for r in reasons) == pytest.approx(value, abs=1e-3)


def test_a_typo_in_the_name_and_a_one_digit_phone_typo_still_match() -> None:
    other = Person(id=2, first_name="Юля", last_name="Щкуина", phones=("+79161234576",), birth_date=date(1987, 3, 14))
    assert pair_score(YULIA, other) >= DEFAULT_MIN_SCORE


def test_a_namesake_in_the_same_city_is_below_the_default() -> None:
    # given another Yulia Shchukina in Moscow, born another day, with her own phone and email
    namesake = Person(
        id=3,
        first_name="Юлия",
        last_name="Щукина",
        birth_date=date(1990, 11, 2),
        phones=("+79035550011",),
        emails=("shchukina90@yandex.ru",),
        city="Москва",
    )
    # when scored, then it is well below the default
    assert pair_score(YULIA, namesake) == pytest.approx(3.3 / 8.6, abs=1e-9)


def test_a_relative_sharing_phone_and_address_is_below_the_default() -> None:
    husband = Person(
        id=4,
        first_name="Сергей",
        last_name="Щукин",
        birth_date=date(1985, 7, 1),
        phones=("+79161234567",),
        city="Москва",
        address="улица Ленина, дом 5, квартира 12",
    )
    assert pair_score(YULIA, husband) < 0.6


def test_names_alone_never_reach_the_default_not_even_against_themselves() -> None:
    # given a record with a name and a city but no phone, email or birth date
    bare = Person(id=5, first_name="Юлия", last_name="Щукина", city="Москва")
    # when compared with itself
    result = compare(profile_of(bare, 0), profile_of(bare, 1))
    # then a "no identifier" term keeps it below the default, and says so
    assert result is not None
    value, reasons = result
    assert value == pytest.approx(3.3 / 5.8, abs=1e-9)
    assert reasons[0].field == NO_IDENTIFIER
    assert reasons[0].similarity == 0.0


def test_a_record_with_an_identifier_scores_one_against_itself() -> None:
    assert pair_score(YULIA, YULIA) == 1.0


def test_a_pair_with_nothing_in_common_to_compare_scores_zero() -> None:
    assert pair_score(Person(id=1, phones=("+79161234567",)), Person(id=2, emails=("a@b.ru",))) == 0.0
    assert compare(profile_of(Person(id=1), 0), profile_of(Person(id=2), 1), min_score=0.5) is None


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (date(1987, 3, 14), date(1987, 3, 14), 1.0),
        (date(1987, 3, 4), date(1987, 4, 3), 0.85),
        (date(1987, 3, 14), date(1987, 3, 15), 0.7),
        (date(1987, 3, 14), date(1977, 3, 14), 0.7),
        (date(1987, 3, 14), date(1987, 3, 28), 0.4),
        (date(1987, 3, 14), date(1990, 11, 2), 0.0),
        (date(1987, 3, 14), date(1988, 3, 15), 0.0),
    ],
)
def test_birth_date_similarity(a: date, b: date, expected: float) -> None:
    assert birth_similarity(a, b) == expected
    assert birth_similarity(b, a) == expected


def test_phone_similarity() -> None:
    assert phone_similarity(("79161234567",), ("79035550011", "79161234567")) == 1.0
    assert phone_similarity(("79161234567",), ("79161234568",)) == 0.8
    assert phone_similarity(("79161234567",), ("79261234567",)) == 0.8
    assert phone_similarity(("79161234567",), ("79035550011",)) == 0.0


def test_compare_stops_early_below_the_minimum() -> None:
    namesake = Person(id=3, first_name="Юлия", last_name="Щукина", birth_date=date(1990, 11, 2), phones=("+7903555",))
    assert compare(profile_of(YULIA, 0), profile_of(namesake, 1), min_score=DEFAULT_MIN_SCORE) is None
