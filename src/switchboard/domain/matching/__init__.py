"""Duplicate contacts: who in the contact list is probably the same person.

    from switchboard.domain.matching import Person, find_duplicates

    for candidate in find_duplicates(people):              # min_score=DEFAULT_MIN_SCORE
        candidate.a, candidate.b, candidate.score, candidate.reasons

Modules: ``names`` (folding, transliteration, name keys and similarity), ``places`` (city,
address, company keys), ``profile`` (a person normalized once), ``blocking`` (which pairs to
compare), ``scoring`` (the explainable score), ``candidates`` (the pipeline), ``generate``
(synthetic contacts with ground truth), ``evaluation`` (precision and recall).
"""

from switchboard.domain.matching.candidates import Candidate, SearchStats, find_duplicates, find_in_profiles
from switchboard.domain.matching.names import name_key, transliterate
from switchboard.domain.matching.person import Person
from switchboard.domain.matching.profile import Profile, profile_of
from switchboard.domain.matching.scoring import DEFAULT_MIN_SCORE, Reason, compare, score

__all__ = [
    "DEFAULT_MIN_SCORE",
    "Candidate",
    "Person",
    "Profile",
    "Reason",
    "SearchStats",
    "compare",
    "find_duplicates",
    "find_in_profiles",
    "name_key",
    "profile_of",
    "score",
    "transliterate",
]
