"""The duplicate search: normalize, block, score the blocks' pairs, keep those above a score.

    for candidate in find_duplicates(people):           # deterministic order
        print(candidate.a, candidate.b, candidate.score)

The search is pure. To use several processes, pass a ``map`` (``multiprocessing.Pool.imap`` and
the like): the people are normalized in chunks and the blocks scored in batches through it, and
everything sent through it pickles. ``map`` is called twice and its results are consumed in order.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final

from switchboard.domain.matching.blocking import MAX_BLOCK, WINDOW, Block, block_pairs, blocking_keys, build_blocks
from switchboard.domain.matching.person import Person
from switchboard.domain.matching.profile import Profile, profile_of
from switchboard.domain.matching.scoring import DEFAULT_MIN_SCORE, Reason, compare

BATCH_MEMBERS: Final = 20_000  # profiles per batch of blocks sent through ``map``
NORMALIZE_CHUNK: Final = 20_000  # people per chunk normalized through ``map``

Mapper = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]


@dataclass(frozen=True, slots=True)
class Candidate:
    """Two records that may be one person: ``a`` comes before ``b`` in the input."""

    a: str | int
    b: str | int
    score: float
    reasons: tuple[Reason, ...]
    a_external_id: str | None = None
    b_external_id: str | None = None


@dataclass
class SearchStats:
    """What a search did, filled in as it runs (for benchmarks and logs)."""

    people: int = 0
    blocks: int = 0
    oversized_blocks: int = 0
    pairs: int = 0
    candidates: int = 0
    largest_block: int = 0
    batches: int = 0
    per_key: dict[str, int] = field(default_factory=dict)  # blocks per key kind


def find_duplicates(
    people: Iterable[Person],
    min_score: float = DEFAULT_MIN_SCORE,
    *,
    map: Mapper = builtins.map,
    max_block: int = MAX_BLOCK,
    window: int = WINDOW,
    stats: SearchStats | None = None,
) -> Iterator[Candidate]:
    """Candidate pairs scoring at least ``min_score``, ordered by the input position of a, then b.

    The order and content are a function of the input alone: the same people in the same order
    give the same candidates, whatever ``map`` runs the batches.
    """
    records = people if isinstance(people, Sequence) else list(people)
    chunks = [(start, records[start : start + NORMALIZE_CHUNK]) for start in range(0, len(records), NORMALIZE_CHUNK)]
    profiles: list[Profile] = []
    keys_of: list[list[str]] = []
    for chunk in map(normalize_chunk, chunks):
        for profile, keys in chunk:
            profiles.append(profile)
            keys_of.append(keys)
    del chunks
    yield from _search(profiles, keys_of, min_score, map, max_block, window, stats)


def normalize_chunk(chunk: tuple[int, Sequence[Person]]) -> list[tuple[Profile, list[str]]]:
    """Profiles and blocking keys of consecutive people, the first at position ``start``."""
    start, people = chunk
    out = []
    for offset, person in enumerate(people):
        profile = profile_of(person, start + offset)
        out.append((profile, blocking_keys(profile)))
    return out


def find_in_profiles(
    profiles: Sequence[Profile],
    min_score: float = DEFAULT_MIN_SCORE,
    *,
    map: Mapper = builtins.map,
    max_block: int = MAX_BLOCK,
    window: int = WINDOW,
    stats: SearchStats | None = None,
) -> Iterator[Candidate]:
    """``find_duplicates`` over profiles already built (``profile_of``, positions 0, 1, 2 …)."""
    yield from _search(profiles, None, min_score, map, max_block, window, stats)


def _search(
    profiles: Sequence[Profile],
    keys_of: Sequence[list[str]] | None,
    min_score: float,
    map: Mapper,
    max_block: int,
    window: int,
    stats: SearchStats | None,
) -> Iterator[Candidate]:
    stats = stats if stats is not None else SearchStats()
    stats.people = len(profiles)
    keyed, blocks = build_blocks(profiles, max_block, keys_of)
    stats.blocks = len(blocks)
    for block in blocks:
        stats.oversized_blocks += block.oversized
        stats.largest_block = max(stats.largest_block, len(block.members))
        stats.per_key[block.key[0]] = stats.per_key.get(block.key[0], 0) + 1
    batches = list(_batches(blocks))
    stats.batches = len(batches)
    del blocks
    found: dict[tuple[int, int], tuple[float, tuple[Reason, ...]]] = {}
    for pairs, results in map(partial(score_batch, min_score=min_score, window=window), batches):
        stats.pairs += pairs
        for i, j, score, reasons in results:
            found[(i, j)] = (score, reasons)
    stats.candidates = len(found)
    for i, j in sorted(found):
        score, reasons = found[(i, j)]
        a, b = keyed[i], keyed[j]
        yield Candidate(a.id, b.id, score, reasons, a.external_id, b.external_id)


ScoredPair = tuple[int, int, float, tuple[Reason, ...]]


def score_batch(batch: Sequence[Block], min_score: float, window: int = WINDOW) -> tuple[int, list[ScoredPair]]:
    """Score every pair the blocks are responsible for: (pairs compared, pairs at ``min_score``+)."""
    compared = 0
    found: list[ScoredPair] = []
    for block in batch:
        for a, b in block_pairs(block, window):
            compared += 1
            result = compare(a, b, min_score)
            if result is not None:
                first, second = (a, b) if a.position < b.position else (b, a)
                found.append((first.position, second.position, result[0], result[1]))
    return compared, found


def _batches(blocks: Sequence[Block]) -> Iterator[list[Block]]:
    batch: list[Block] = []
    size = 0
    for block in blocks:
        batch.append(block)
        size += len(block.members)
        if size >= BATCH_MEMBERS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch
