"""Names: one person's name in Cyrillic, in any common romanization, with typos, in any order."""

from __future__ import annotations

import pytest

from switchboard.domain.matching.names import (
    fold,
    given_name_similarity,
    is_other_gender,
    name_key,
    name_similarity,
    split_full_name,
    transliterate,
)


@pytest.mark.parametrize(
    "spellings",
    [
        ("Юлия", "Yulia", "Julia", "Yuliya", "Iuliia", "ЮЛИЯ"),
        ("Щукин", "Shchukin", "Schukin", "Shhukin"),
        ("Алексей", "Aleksey", "Alexey", "Aleksei"),
        ("Наталья", "Natalya", "Natalia", "Natal'ya", "Наталия"),
        ("Дмитрий", "Dmitry", "Dmitriy", "Dmitrii"),
        ("Евгений", "Yevgeny", "Evgeniy", "Evgenii"),
        ("Кузнецов", "Kuznetsov", "Kuznetcov"),
        ("Хабаров", "Khabarov", "Habarov"),
        ("Сергеев", "Sergeyev", "Sergeev"),
        ("Пётр", "Петр", "Pyotr", "Petr"),
        ("Ёлкин", "Елкин", "Yolkin", "Elkin"),
        ("Ксения", "Kseniya", "Xenia", "Kseniia"),
        ("Pétrov", "PETROV", "Petrov"),
    ],
)
def test_every_spelling_of_a_name_has_one_key(spellings: tuple[str, ...]) -> None:
    # given the same name written in Cyrillic and in the common romanizations
    # when each is keyed
    keys = {name_key(s) for s in spellings}
    # then they are one key
    assert len(keys) == 1, keys


def test_keys_of_the_issue_examples_are_exact() -> None:
    assert name_key("Юлия") == name_key("Yulia") == name_key("Julia") == "iulia"
    assert name_key("Щукин") == name_key("Shchukin") == name_key("Schukin") == "schukin"
    assert name_key("Алексей") == name_key("Aleksey") == name_key("Alexey") == name_key("Aleksei") == "aleksei"


def test_transliteration_is_a_fixed_readable_table() -> None:
    assert transliterate("Юлия Щукина") == "yuliya shchukina"
    assert transliterate("Жанна Цой-Хабарова") == "zhanna tsoy khabarova"
    assert transliterate("Smith") == "smith"


def test_fold_drops_case_punctuation_digits_and_accents() -> None:
    assert fold("  Анна-Мария   O'Neil, 2nd ") == "анна мария oneil nd"
    assert fold("Ёжик") == "ежик"
    assert fold("José Müller") == "jose muller"


def test_different_names_keep_different_keys() -> None:
    assert name_key("Иван") != name_key("Иванов")
    assert name_key("Мария") != name_key("Марина")
    assert name_key("Alexander") != name_key("Alexandra")


def test_one_typo_stays_similar_and_another_name_does_not() -> None:
    assert name_similarity("ivanov", "ivaonv") == pytest.approx(0.897, abs=0.001)
    assert name_similarity("smirnov", "smirnv") > 0.85
    assert name_similarity("ivan", "igor") < 0.5
    assert name_similarity("", "ivan") == 0.0
    assert name_similarity("", "") == 0.0


def test_masculine_and_feminine_forms_are_other_people() -> None:
    assert is_other_gender("ivanov", "ivanova")
    assert is_other_gender("aleksandra", "aleksandr")
    assert is_other_gender("visotski", "visotskaia")
    assert not is_other_gender("ivanov", "ivanov")
    assert name_similarity("evgeni", "evgenia") == 0.5


def test_diminutives_match_their_full_names() -> None:
    assert given_name_similarity(name_key("Саша"), name_key("Aleksandr")) == 0.9
    assert given_name_similarity(name_key("Саша"), name_key("Александра")) == 0.9
    assert given_name_similarity(name_key("Bob"), name_key("Robert")) == 0.9
    assert given_name_similarity(name_key("Маша"), name_key("Ольга")) < 0.5


@pytest.mark.parametrize(
    ("full_name", "expected"),
    [
        ("Иванов Иван Иванович", ("ivan", "ivanov", "ivanovich")),
        ("Иван Иванович Иванов", ("ivan", "ivanov", "ivanovich")),
        ("Петрова Юлия", ("iulia", "petrova", "")),
        ("Julia Petrova", ("iulia", "petrova", "")),
        ("Smith John", ("iohn", "smith", "")),
        ("Madonna", ("madona", "", "")),
        ("", ("", "", "")),
    ],
)
def test_a_full_name_is_split_into_given_family_and_patronymic(full_name: str, expected: tuple[str, str, str]) -> None:
    assert split_full_name(full_name) == expected
