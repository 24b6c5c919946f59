"""Quality of a duplicate search against ground truth: pairwise precision and recall."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from switchboard.domain.matching.candidates import Candidate

Pair = tuple[str | int, str | int]


@dataclass(frozen=True, slots=True)
class Quality:
    predicted: int
    true: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.true if self.true else 1.0


def quality(candidates: Iterable[Candidate], true_pairs: set[Pair], min_score: float = 0.0) -> Quality:
    """Pairs predicted at ``min_score`` or above against the true pairs (order within a pair ignored)."""
    truth = {_ordered(pair) for pair in true_pairs}
    predicted = {_ordered((c.a, c.b)) for c in candidates if c.score >= min_score}
    return Quality(len(predicted), len(truth), len(predicted & truth))


def _ordered(pair: Pair) -> Pair:
    a, b = pair
    return (a, b) if str(a) <= str(b) else (b, a)
