"""Duplicate candidates over the stored contacts, on both databases."""

from __future__ import annotations

from switchboard.application.access import Principal
from switchboard.application.contacts import NewContact, create_contact
from switchboard.application.duplicates import duplicate_candidates
from switchboard.bootstrap import Container
from switchboard.domain.identity import IdentityKind
from switchboard.domain.operators import Role

ADMIN = Principal(Role.ADMIN)
PHONE, EMAIL = IdentityKind.PHONE, IdentityKind.EMAIL


async def test_a_transliterated_name_with_a_mistyped_phone_is_a_candidate(container: Container) -> None:
    # given one person stored twice (Cyrillic and Latin, one digit of the phone mistyped) and a namesake
    services = container.services
    first = await create_contact(services, ADMIN, NewContact("Юлия Щукина", identities=((PHONE, "+79161112233"),)))
    second = await create_contact(services, ADMIN, NewContact("Shchukina Yulia", identities=((PHONE, "+79161112234"),)))
    await create_contact(services, ADMIN, NewContact("Юлия Щукина", identities=((EMAIL, "other@mail.example"),)))
    await create_contact(services, ADMIN, NewContact("Иван Петров", identities=((PHONE, "+79165550000"),)))
    # when the base is searched for duplicates
    pairs = list(await duplicate_candidates(services))
    # then exactly that pair is proposed, with the reasons that make it one
    assert [(p.a, p.b) for p in pairs] == [(first.id, second.id)]
    reasons = {r.field: r.similarity for r in pairs[0].reasons}
    assert reasons["first_name"] == 1.0
    assert reasons["last_name"] == 1.0
    assert 0.0 < reasons["phone"] < 1.0
