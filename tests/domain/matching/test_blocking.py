"""Blocking: true duplicates share a block; blocks stay small; every pair is compared once."""

from __future__ import annotations

from datetime import date

from switchboard.domain.matching.blocking import Block, block_pairs, blocking_keys, build_blocks
from switchboard.domain.matching.generate import Generated
from switchboard.domain.matching.person import Person
from switchboard.domain.matching.profile import Profile, profile_of


def compared_pairs(profiles: list[Profile], max_block: int = 200) -> list[tuple[int, int]]:
    _, blocks = build_blocks(profiles, max_block)
    pairs = []
    for block in blocks:
        for a, b in block_pairs(block):
            pairs.append((min(a.position, b.position), max(a.position, b.position)))
    return pairs


def test_keys_of_a_full_record() -> None:
    person = Person(
        id=1,
        first_name="Юлия",
        last_name="Щукина",
        birth_date=date(1987, 3, 14),
        phones=("+79161234567",),
        emails=("Yulia.Shchukina@mail.ru",),
    )
    assert blocking_keys(profile_of(person, 0)) == [
        "p79161234567",
        "q1234567",
        "r7916123",
        "s7916|4567",
        "eyulia.shchukina@mail.ru",
        "lyuliashchukina",
        "niulia|schukina",
        "bis|1987-03-14",
        "diulia|1987-03-14",
        "dschukina|1987-03-14",
        "fiulia|s|1987",
        "fschukina|i|1987",
    ]


def test_swapped_and_transliterated_names_share_the_name_key() -> None:
    a = profile_of(Person(id=1, first_name="Юлия", last_name="Щукина"), 0)
    b = profile_of(Person(id=2, first_name="Schukina", last_name="Julia"), 1)
    assert blocking_keys(a) == blocking_keys(b) == ["niulia|schukina"]


def test_true_duplicates_share_a_block(contacts: Generated) -> None:
    # given 5,000 generated contacts and their true pairs
    profiles = [profile_of(p, i) for i, p in enumerate(contacts.people)]
    position = {p.id: i for i, p in enumerate(contacts.people)}
    truth = {tuple(sorted((position[a], position[b]))) for a, b in contacts.true_pairs()}
    # when the blocks are built and their pairs listed
    pairs = compared_pairs(profiles)
    # then nearly every true pair is among them, each pair once, and far fewer than all pairs
    found = truth & set(pairs)
    assert len(found) / len(truth) >= 0.995
    assert len(pairs) == len(set(pairs))
    assert len(pairs) < 3 * len(truth)


def test_an_oversized_block_is_compared_by_sorted_neighbourhood() -> None:
    # given 1,000 John Smiths, each with his own phone and birth date
    people = [
        Person(id=i, first_name="John", last_name="Smith", phones=(f"+1202555{i:04d}",), birth_date=date(1950, 1, 1))
        for i in range(1000)
    ]
    profiles = [profile_of(p, i) for i, p in enumerate(people)]
    # when blocked with blocks capped at 200 members
    _, blocks = build_blocks(profiles, max_block=200)
    oversized = [b for b in blocks if b.oversized]
    # then the shared keys are oversized, and their pairs grow linearly, not quadratically
    assert sorted(b.key for b in oversized) == [
        "bis|1950-01-01",
        "diohn|1950-01-01",
        "dsmith|1950-01-01",
        "fiohn|s|1950",
        "fsmith|i|1950",
        "niohn|smith",
        "r1202555",
    ]
    pairs = compared_pairs(profiles, max_block=200)
    assert len(pairs) == len(set(pairs))
    assert len(pairs) < 1000 * 6 * 4
    assert len(pairs) > 1000


def test_a_pair_sharing_several_full_blocks_is_compared_in_one() -> None:
    a = profile_of(Person(id=1, first_name="Ann", last_name="Lee", phones=("+12025550100",)), 0)
    b = profile_of(Person(id=2, first_name="Ann", last_name="Lee", phones=("+12025550100",)), 1)
    keyed, blocks = build_blocks([a, b])
    assert len(blocks) == 5
    assert sum(len(list(block_pairs(block))) for block in blocks) == 1
    assert keyed[0].keys == frozenset(b.key for b in blocks)


def test_block_pairs_of_a_small_block_are_all_pairs() -> None:
    members = tuple(profile_of(Person(id=i, first_name="X", last_name="Y"), i) for i in range(4))
    members = tuple(m._replace(keys=frozenset({"k"})) for m in members)
    assert len(list(block_pairs(Block("k", members, oversized=False)))) == 6
