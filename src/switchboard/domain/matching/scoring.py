"""Scoring a pair of profiles: a weighted mean of field similarities, explainable field by field.

Each field compared in both records gives a similarity ``s`` in [0, 1] and a weight that depends
on ``s``: ``w(s) = disagree + (agree - disagree) * s``. A field whose disagreement says a lot
(birth date, given name) has a large ``disagree`` weight; one whose disagreement says little
(phone, email: people have several) a small one. The score is ``Σ w·s / Σ w``:

* in [0, 1], symmetric, and 1 for a record compared with itself;
* a field missing on either side is left out — it neither helps nor hurts; but a pair where no
  phone, email or birth date agrees (all missing or all different) gets a ``no_identifier`` term
  of similarity 0: a name alone cannot tell a person from a namesake, so such a pair (even a
  name-only record compared with itself) stays below the default score;
* ``Reason.weight`` is each field's share of ``Σ w``, so ``score == Σ reason.weight * reason.similarity``
  and the UI can say *why* ("phone equal, 31% of the score").

A pair that shares nothing comparable scores 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from switchboard.domain.matching.names import given_name_similarity, name_similarity
from switchboard.domain.matching.places import address_similarity, city_similarity, company_similarity
from switchboard.domain.matching.profile import Profile

# Chosen on generated contacts (``generate``, seed 20260501): at 0.82 precision/recall were
# 0.9987/0.982 at 100k and 0.9957/0.980 at 1M; at 0.80, 0.9978/0.989 and 0.9921/0.988 (precision
# falls with size as namesakes multiply). The weights below were fitted on the same generator
# (coordinate search at 100k, checked on another seed) and rounded.
DEFAULT_MIN_SCORE: Final = 0.82
NO_IDENTIFIER: Final = "no_identifier"
IDENTIFIER_AGREES: Final = 0.4  # a phone, email or birth date at least this similar identifies

# field: (weight when the values agree, weight when they disagree)
WEIGHTS: Final[dict[str, tuple[float, float]]] = {
    "first_name": (1.5, 6.5),
    "last_name": (1.2, 4.5),
    "middle_name": (2.0, 1.0),
    "birth_date": (4.5, 1.0),
    "phone": (2.5, 1.0),
    "email": (5.0, 0.8),
    "city": (0.6, 0.5),
    "address": (2.0, 0.5),
    "company": (1.0, 0.3),
    # not a field: stands for "no phone, email or birth date on both sides", always similarity 0
    NO_IDENTIFIER: (0.0, 2.5),
}
_PLACES_AGREE: Final = WEIGHTS["city"][0] + WEIGHTS["address"][0] + WEIGHTS["company"][0]


@dataclass(frozen=True, slots=True)
class Reason:
    """One compared field: its similarity and its share of the score's weight."""

    field: str
    similarity: float
    weight: float


# --- field similarities -------------------------------------------------------------------------


def birth_similarity(a: date, b: date) -> float:
    """1 equal; 0.85 day and month swapped; 0.7 one component off by one digit or by one;
    0.4 one component otherwise different; else 0."""
    if a == b:
        return 1.0
    if a.year == b.year and a.day == b.month and a.month == b.day:
        return 0.85
    differing = (a.year != b.year) + (a.month != b.month) + (a.day != b.day)
    if differing != 1:
        return 0.0
    if a.year != b.year:
        x, y = a.year, b.year
    elif a.month != b.month:
        x, y = a.month, b.month
    else:
        x, y = a.day, b.day
    return 0.7 if abs(x - y) == 1 or _one_digit_apart(x, y) else 0.4


def _one_digit_apart(x: int, y: int) -> bool:
    sx, sy = f"{x:04d}", f"{y:04d}"
    return sum(c != d for c, d in zip(sx, sy, strict=True)) == 1


def phone_similarity(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """1 a shared number; 0.8 two numbers one digit apart or with the same last 7 digits; else 0."""
    best = 0.0
    for x in a:
        for y in b:
            if x == y:
                return 1.0
            if len(x) == len(y) and (x[-7:] == y[-7:] or sum(map(str.__ne__, x, y)) == 1):
                best = 0.8
    return best


def email_similarity(a: Profile, b: Profile) -> float:
    """1 a shared address; 0.5 the same local part at another domain; else 0.

    The local part is weak evidence: ``ivan.petrov`` at two providers are often two Ivan Petrovs.
    """
    if not set(a.emails).isdisjoint(b.emails):
        return 1.0
    if not set(a.email_locals).isdisjoint(b.email_locals):
        return 0.5
    return 0.0


def name_similarities(a: Profile, b: Profile) -> tuple[float | None, float | None]:
    """(given name, family name) similarities under the better of the direct and swapped alignment.

    Diminutives count in the direct alignment only (the swapped one compares plain spellings), which
    keeps the function symmetric. None for a part that cannot be compared. A record that knows one
    name word only compares it with both words of the other record.
    """
    af, al, bf, bl = a.first, a.last, b.first, b.last
    if af and al and bf and bl:
        first, last = given_name_similarity(af, bf), name_similarity(al, bl)
        if first + last < 1.9:
            swapped_first, swapped_last = name_similarity(af, bl), name_similarity(al, bf)
            if swapped_first + swapped_last > first + last:
                # which word is the given name is unknown here: the worse match is weighed as one
                return min(swapped_first, swapped_last), max(swapped_first, swapped_last)
        return first, last
    words_a = [(w, slot) for w, slot in ((af, 0), (al, 1)) if w]
    words_b = [(w, slot) for w, slot in ((bf, 0), (bl, 1)) if w]
    if not words_a or not words_b:
        return None, None
    best, both_first = max((name_similarity(x, y), sx == sy == 0) for x, sx in words_a for y, sy in words_b)
    return (best, None) if both_first else (None, best)


# --- the score ----------------------------------------------------------------------------------


def compare(a: Profile, b: Profile, min_score: float = 0.0) -> tuple[float, tuple[Reason, ...]] | None:
    """The score of a pair and its reasons, or None as soon as the score cannot reach ``min_score``."""
    fields: list[tuple[str, float]] = []
    if a.birth is not None and b.birth is not None:
        fields.append(("birth_date", birth_similarity(a.birth, b.birth)))
    if a.phones and b.phones:
        fields.append(("phone", phone_similarity(a.phones, b.phones)))
    if a.emails and b.emails:
        fields.append(("email", email_similarity(a, b)))
    for _, similarity in fields:
        if similarity >= IDENTIFIER_AGREES:
            break
    else:
        fields.append((NO_IDENTIFIER, 0.0))
    first, last = name_similarities(a, b)
    if first is not None:
        fields.append(("first_name", first))
    if last is not None:
        fields.append(("last_name", last))
    if a.middle and b.middle:
        fields.append(("middle_name", name_similarity(a.middle, b.middle)))
    if min_score > 0.0:
        agreeing, total = _sums(fields)
        if (agreeing + _PLACES_AGREE) / (total + _PLACES_AGREE) < min_score:
            return None
    if a.city and b.city:
        fields.append(("city", city_similarity(a.city, b.city)))
    if a.address and b.address:
        fields.append(("address", address_similarity(a.address, b.address)))
    if a.company and b.company:
        fields.append(("company", company_similarity(a.company, b.company)))
    agreeing, total = _sums(fields)
    if total == 0.0:
        return (0.0, ()) if min_score <= 0.0 else None
    score = min(1.0, agreeing / total)
    if score < min_score:
        return None
    reasons = tuple(
        Reason(name, round(similarity, 4), round(_weight(name, similarity) / total, 4)) for name, similarity in fields
    )
    return score, reasons


def score(a: Profile, b: Profile) -> float:
    """The score of a pair in [0, 1] (see the module doc)."""
    result = compare(a, b)
    return 0.0 if result is None else result[0]


_LINES: Final = {name: (disagree, agree - disagree) for name, (agree, disagree) in WEIGHTS.items()}


def _weight(name: str, similarity: float) -> float:
    base, slope = _LINES[name]
    return base + slope * similarity


def _sums(fields: list[tuple[str, float]]) -> tuple[float, float]:
    agreeing = total = 0.0
    lines = _LINES
    for name, similarity in fields:
        base, slope = lines[name]
        weight = base + slope * similarity
        agreeing += weight * similarity
        total += weight
    return agreeing, total
