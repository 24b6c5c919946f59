"""A person's comparable profile: every field normalized once, before any pair is compared."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from switchboard.domain.matching.names import name_key, order_parts, split_full_name
from switchboard.domain.matching.person import Person
from switchboard.domain.matching.places import address_key, city_key, company_key


class Profile(NamedTuple):
    """Normalized fields of one ``Person`` ("" or () when missing); ``position`` is its input position.

    ``keys`` and ``oversized_keys`` are the blocking keys of the blocks this profile is compared in,
    all pairs or by sorted neighbourhood (set by ``blocking.build_blocks``).
    A named tuple: cheap to build a million of and to send to another process.
    """

    position: int
    id: str | int
    external_id: str | None
    first: str
    last: str
    middle: str
    birth: date | None
    phones: tuple[str, ...]  # digits of E.164, no "+"
    emails: tuple[str, ...]
    email_locals: tuple[str, ...]  # local parts without dots, dashes, underscores and +tags
    city: str
    address: str
    company: str
    keys: frozenset[str] = frozenset()
    oversized_keys: frozenset[str] = frozenset()


def email_local(email: str) -> str:
    """``Ivan.Petrov+shop@mail.ru`` → ``ivanpetrov``."""
    local = email.rpartition("@")[0] or email
    local = local.partition("+")[0].lower()
    return local.replace(".", "").replace("-", "").replace("_", "")


def profile_of(person: Person, index: int) -> Profile:
    if person.first_name or person.last_name:
        first, last = order_parts(name_key(person.first_name), name_key(person.last_name))
        middle = name_key(person.middle_name)
    elif person.full_name:
        first, last, middle = split_full_name(person.full_name)
    else:
        first = last = middle = ""
    emails = tuple(sorted({e.strip().lower() for e in person.emails if e and e.strip()}))
    return Profile(
        position=index,
        id=person.id,
        external_id=person.external_id or None,
        first=first,
        last=last,
        middle=middle,
        birth=person.birth_date,
        phones=tuple(sorted({d for d in ("".join(c for c in p if c.isdigit()) for p in person.phones) if d})),
        emails=emails,
        email_locals=tuple(sorted({local for local in (email_local(e) for e in emails) if local})),
        city=city_key(person.city),
        address=address_key(person.address),
        company=company_key(person.company),
    )
