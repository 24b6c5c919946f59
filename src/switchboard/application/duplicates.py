"""Duplicate contacts across the whole base: candidates for a merge, scored and explained."""

from __future__ import annotations

from collections.abc import Iterator

from switchboard.application.context import Services
from switchboard.domain.contacts import Contact
from switchboard.domain.identity import IdentityKind
from switchboard.domain.matching import DEFAULT_MIN_SCORE, Candidate, Person, find_duplicates

BATCH = 5_000


def person_of(contact: Contact) -> Person:
    """What the matcher knows of a stored contact: name (parts when known), birth date, phones, emails,
    city, address, company; its external id is the import's (else an ``external`` identity's)."""
    kinds: dict[IdentityKind, list[str]] = {}
    for identity in contact.identities:
        kinds.setdefault(identity.kind, []).append(identity.value)
    external = contact.external_id or kinds.get(IdentityKind.EXTERNAL, [None])[0]
    return Person(
        id=contact.id,
        first_name=contact.first_name,
        last_name=contact.last_name,
        middle_name=contact.middle_name,
        full_name=contact.name,
        birth_date=contact.birth_date,
        phones=tuple(kinds.get(IdentityKind.PHONE, [])),
        emails=tuple(kinds.get(IdentityKind.EMAIL, [])),
        city=contact.city,
        address=contact.address,
        company=contact.company_name,
        external_id=external,
    )


async def load_people(services: Services) -> list[Person]:
    people: list[Person] = []
    after = 0
    while True:
        async with services.uow(read_only=True) as uow:
            contacts = await uow.contacts.batch(after, BATCH)
        people.extend(person_of(contact) for contact in contacts)
        if len(contacts) < BATCH:
            return people
        after = contacts[-1].id


async def duplicate_candidates(services: Services, min_score: float = DEFAULT_MIN_SCORE) -> Iterator[Candidate]:
    """Pairs of stored contacts that are probably one person, best evidence first in each pair's reasons."""
    if not 0.0 < min_score <= 1.0:
        raise ValueError("min_score must be in (0, 1]")
    return find_duplicates(await load_people(services), min_score)
