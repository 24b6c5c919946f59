"""Merge suggestions: who else may be this contact (the card), and the pairs the whole base holds (a list).

The card's candidates are found through indexes (``domain.matching.lookup``: the name key, the birth
date, phones one digit away) plus the pairs the last whole-base search stored, then scored by the
matching engine like any pair. The whole-base list is the stored result of
``switchboard contacts duplicates --save`` (the blocking search over every contact), read page by page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from switchboard.application.access import Principal, require_role
from switchboard.application.contacts import STAFF, live
from switchboard.application.context import Services
from switchboard.application.duplicates import person_of
from switchboard.application.errors import InvalidInput
from switchboard.application.ports.storage import SuggestedPair
from switchboard.domain.contacts import Contact
from switchboard.domain.identity import IdentityKind
from switchboard.domain.matching import DEFAULT_MIN_SCORE, Candidate, Reason, compare, profile_of
from switchboard.domain.matching.lookup import phone_neighbours


@dataclass(frozen=True, slots=True)
class Suggestion:
    contact: Contact
    score: float
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class SuggestedMerge:
    a: Contact
    b: Contact
    score: float
    reasons: tuple[Reason, ...]


def _check_score(min_score: float) -> None:
    if not 0.0 < min_score <= 1.0:
        raise InvalidInput("min_score must be greater than 0 and at most 1", field="min_score")


async def contact_suggestions(
    services: Services, principal: Principal, contact_id: int, limit: int, min_score: float = DEFAULT_MIN_SCORE
) -> list[Suggestion]:
    """The contacts that may be the same person as this one, best first, with the fields that matched."""
    require_role(principal, *STAFF)
    _check_score(min_score)
    async with services.uow(read_only=True) as uow:
        contact = live(await uow.contacts.get(contact_id), contact_id)
        phones = [i.value for i in contact.identities if i.kind is IdentityKind.PHONE]
        near = [neighbour for phone in phones for neighbour in phone_neighbours(phone)]
        ids = dict.fromkeys(await uow.contacts.candidates(contact, near))
        ids.update(dict.fromkeys(await uow.suggestions.partners(contact_id)))
        others = [c for c in await uow.contacts.get_many(list(ids)) if c.merged_into_id is None and c.id != contact_id]
    mine = profile_of(person_of(contact), 0)
    found = []
    for position, other in enumerate(others, start=1):
        result = compare(mine, profile_of(person_of(other), position), min_score)
        if result is not None:
            found.append(Suggestion(other, round(result[0], 4), result[1]))
    found.sort(key=lambda s: (-s.score, s.contact.id))
    return found[:limit]


async def suggested_merges(
    services: Services, principal: Principal, limit: int, offset: int, min_score: float = DEFAULT_MIN_SCORE
) -> list[SuggestedMerge]:
    """Pairs of live contacts from the last whole-base search, best score first."""
    require_role(principal, *STAFF)
    _check_score(min_score)
    async with services.uow(read_only=True) as uow:
        pairs = await uow.suggestions.page(min_score, limit, offset)
        contacts = {
            c.id: c for c in await uow.contacts.get_many(sorted({p.a_id for p in pairs} | {p.b_id for p in pairs}))
        }
    return [SuggestedMerge(contacts[p.a_id], contacts[p.b_id], p.score, p.reasons) for p in pairs]


async def save_suggestions(services: Services, candidates: Sequence[Candidate]) -> int:
    """Keep a whole-base search's pairs (``duplicate_candidates``) for ``suggested_merges``, replacing the last."""
    found_at = services.clock.now()
    pairs = [SuggestedPair(int(c.a), int(c.b), round(c.score, 4), c.reasons, found_at) for c in candidates]
    async with services.uow() as uow:
        await uow.suggestions.replace(pairs)
        await uow.commit()
    return len(pairs)
