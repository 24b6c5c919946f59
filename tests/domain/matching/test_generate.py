"""The generator: damaged duplicates that keep an identifier, and hard negatives on purpose."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict

import pytest

from switchboard.domain.matching.generate import Generated, romanize
from switchboard.domain.matching.names import name_key
from switchboard.domain.matching.profile import profile_of


@pytest.mark.parametrize(
    ("scheme", "expected"),
    [
        ("icao", "Iuliia Shchukina"),
        ("passport2010", "Iuliia Shchukina"),
        ("bgn", "Yuliya Shchukina"),
        ("informal", "Juliya Schukina"),
    ],
)
def test_romanizations_differ_and_share_one_key(scheme: str, expected: str) -> None:
    assert romanize("Юлия Щукина", scheme) == expected
    assert name_key(expected) == name_key("Юлия Щукина") == "iulia schukina"


def test_records_of_one_person_share_a_phone_an_email_or_a_birth_date(contacts: Generated) -> None:
    by_person = defaultdict(list)
    for person, number in zip(contacts.people, contacts.person_of, strict=True):
        by_person[number].append(person)
    for records in by_person.values():
        for a, b in itertools.combinations(records, 2):
            phones_close = any(
                x == y or (len(x) == len(y) and sum(c != d for c, d in zip(x, y, strict=True)) == 1)
                for x in a.phones
                for y in b.phones
            )
            assert phones_close or set(a.emails) & set(b.emails) or (a.birth_date and b.birth_date), (a, b)


def test_duplicates_are_damaged_and_hard_negatives_are_there(contacts: Generated) -> None:
    people, person_of = contacts.people, contacts.person_of
    profiles = [profile_of(p, i) for i, p in enumerate(people)]
    # some records of one person are spelled differently (typos, transliteration, swaps)
    clusters = defaultdict(set)
    for profile, number in zip(profiles, person_of, strict=True):
        clusters[number].add((profile.first, profile.last))
    assert sum(len(names) > 1 for names in clusters.values()) > 400
    # namesakes: different people with one name in one city
    named = defaultdict(set)
    for profile, number in zip(profiles, person_of, strict=True):
        if profile.first and profile.last and profile.city:
            named[(profile.first, profile.last, profile.city)].add(number)
    assert sum(len(numbers) > 1 for numbers in named.values()) > 50
    # families: different people sharing a phone
    phone_owners = defaultdict(set)
    for person, number in zip(people, person_of, strict=True):
        for phone in person.phones:
            phone_owners[phone].add(number)
    assert sum(len(owners) > 1 for owners in phone_owners.values()) > 50
    # both scripts, and both name forms, are in the data
    scripts = Counter(any("а" <= ch <= "я" for ch in (p.first_name or p.full_name or "").lower()) for p in people)
    assert scripts[True] > 2000
    assert scripts[False] > 1000
    assert sum(p.full_name is not None for p in people) > 500
