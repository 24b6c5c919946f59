"""The duplicate search end to end on generated contacts: quality at the default score, order."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

from switchboard.domain.matching import DEFAULT_MIN_SCORE, Person, SearchStats, find_duplicates
from switchboard.domain.matching.evaluation import quality
from switchboard.domain.matching.generate import Generated, generate


def test_precision_and_recall_at_the_default_score(contacts: Generated) -> None:
    # given 5,000 generated contacts with typos, transliteration, swapped and missing fields,
    # namesakes and families, and the truth about who is who
    truth = contacts.true_pairs()
    # when duplicates are searched at the default score
    stats = SearchStats()
    candidates = list(find_duplicates(contacts.people, stats=stats))
    # then precision is at least 0.99 and recall at least 0.95
    measured = quality(candidates, truth)
    assert measured.true == len(truth) == 1823
    assert measured.precision >= 0.99, measured
    assert measured.recall >= 0.95, measured
    assert stats.people == 5000
    assert stats.candidates == len(candidates)
    assert all(c.score >= DEFAULT_MIN_SCORE for c in candidates)


def test_the_same_input_gives_the_same_output_whatever_runs_the_batches(contacts: Generated) -> None:
    # given the contacts, and a "map" that runs the batches in reverse order, one at a time
    def reversed_map(function: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        return iter([function(item) for item in reversed(list(items))])

    # when the search runs twice, once with each
    first = list(find_duplicates(contacts.people))
    second = list(find_duplicates(contacts.people, map=reversed_map))
    # then the candidates and their order are identical, ordered by input position
    assert first == second
    position = {p.id: i for i, p in enumerate(contacts.people)}
    keys = [(position[c.a], position[c.b]) for c in first]
    assert keys == sorted(keys)
    assert all(a < b for a, b in keys)


def test_the_generator_is_deterministic_for_a_seed() -> None:
    assert generate(300, random.Random(7)) == generate(300, random.Random(7))
    assert generate(300, random.Random(7)) != generate(300, random.Random(8))


def test_candidates_carry_external_ids_and_reasons() -> None:
    # given two records of one person, one imported with an external id
    people = [
        Person(id=10, first_name="Иван", last_name="Петров", phones=("+79161234567",), external_id="crm-1"),
        Person(id=11, first_name="Sergei", last_name="Smirnov", phones=("+79035550011",)),
        Person(id=12, first_name="Petrov", last_name="Ivan", phones=("+79161234567",), birth_date=date(1980, 1, 2)),
    ]
    # when searched
    candidates = list(find_duplicates(people))
    # then one candidate names both, with the external ids and the reasons
    assert len(candidates) == 1
    candidate = candidates[0]
    assert (candidate.a, candidate.b, candidate.score) == (10, 12, 1.0)
    assert (candidate.a_external_id, candidate.b_external_id) == ("crm-1", None)
    assert [r.field for r in candidate.reasons] == ["phone", "first_name", "last_name"]


def test_min_score_filters_candidates(contacts: Generated) -> None:
    loose = list(find_duplicates(contacts.people[:1000], min_score=0.5))
    strict = list(find_duplicates(contacts.people[:1000], min_score=0.9))
    assert {(c.a, c.b) for c in strict} < {(c.a, c.b) for c in loose}
    assert all(c.score >= 0.9 for c in strict)
