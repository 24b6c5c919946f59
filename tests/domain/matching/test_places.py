"""Cities, addresses, companies: one place or firm however it is written."""

from __future__ import annotations

import pytest

from switchboard.domain.matching.places import (
    address_key,
    address_similarity,
    city_key,
    company_key,
)


@pytest.mark.parametrize("spelling", ["Москва", "г. Москва", "Moscow", "Moskva", "МОСКВА", "город Москва"])
def test_moscow_in_any_spelling_is_one_city(spelling: str) -> None:
    assert city_key(spelling) == "moskva"


@pytest.mark.parametrize("spelling", ["Санкт-Петербург", "СПб", "Saint Petersburg", "St. Petersburg"])
def test_saint_petersburg_in_any_spelling_is_one_city(spelling: str) -> None:
    assert city_key(spelling) == "sankt peterburg"


def test_address_abbreviations_are_one_key() -> None:
    short = address_key("ул. Ленина, д. 5, кв. 12")
    long = address_key("улица Ленина дом 5 квартира 12")
    assert short == long == "ul lenina 5 kv 12"
    assert address_key("12 Main St., Apt 3") == address_key("12 Main Street, apartment 3") == "12 main ul kv 3"
    assert address_key(None) == ""


def test_another_flat_at_the_same_street_is_not_the_same_address() -> None:
    assert address_similarity(address_key("ул. Ленина, д. 5, кв. 12"), address_key("ул. Ленина, д. 5, кв. 21")) == 0.5
    assert address_similarity(address_key("Ленина улица, 5"), address_key("ул. Ленина, д. 5")) == 1.0


def test_legal_forms_and_quotes_are_not_part_of_a_company() -> None:
    assert company_key("ООО «Ромашка»") == company_key("Romashka LLC") == company_key("ромашка") == "romashka"
