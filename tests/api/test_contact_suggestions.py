"""Merge suggestions on the card and for the whole base, through the HTTP API (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx

from switchboard.application.duplicates import duplicate_candidates
from switchboard.application.suggestions import save_suggestions
from switchboard.bootstrap import Container
from tests.support.desk import Desk, inbound

API = "/api/v1"


async def make(client: httpx.AsyncClient, desk: Desk, name: str, *identities: tuple[str, str], **fields: Any) -> int:
    body = {"name": name, "identities": [{"kind": k, "value": v} for k, v in identities], **fields}
    made = await client.post(f"{API}/contacts", headers=desk.as_("operator"), json=body)
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


async def test_the_card_suggests_a_transliterated_contact_with_a_mistyped_phone_and_says_why(
    app_client: httpx.AsyncClient, desk: Desk
) -> None:
    # given one person stored twice (Cyrillic and Latin, swapped name order, one phone digit wrong, same birth date),
    # a namesake with nothing else in common, and a stranger
    julia = await make(app_client, desk, "Юлия Щукина", ("phone", "+79161112233"), birth_date="1990-05-17")
    latin = await make(
        app_client, desk, "Shchukina Yulia", ("phone", "+79161112234"), birth_date="1990-05-17", city="Moscow"
    )
    namesake = await make(app_client, desk, "Юлия Щукина", ("email", "other@mail.example"))
    stranger = await make(app_client, desk, "Иван Петров", ("phone", "+79165550000"), birth_date="1990-05-17")
    # when the card asks for suggestions
    answer = await app_client.get(f"{API}/contacts/{julia}/suggestions", headers=desk.as_("operator"))
    # then exactly the Latin record is suggested, with its score and the fields that matched
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert [s["contact"]["id"] for s in found] == [latin]
    reasons = {r["field"]: r["similarity"] for r in found[0]["reasons"]}
    assert reasons == {"birth_date": 1.0, "phone": 0.8, "first_name": 1.0, "last_name": 1.0}
    assert 0.82 <= found[0]["score"] <= 1.0
    assert abs(sum(r["weight"] for r in found[0]["reasons"]) - 1.0) < 0.001
    # and the other way round too; a lower bar shows the namesake and the one sharing the birth date as well
    back = await app_client.get(f"{API}/contacts/{latin}/suggestions", headers=desk.as_("operator"))
    assert [s["contact"]["id"] for s in back.json()] == [julia]
    loose = await app_client.get(
        f"{API}/contacts/{julia}/suggestions", params={"min_score": 0.3}, headers=desk.as_("operator")
    )
    ids = [s["contact"]["id"] for s in loose.json()]
    assert ids[0] == latin and sorted(ids[1:]) == sorted([namesake, stranger])


async def test_the_whole_base_list_pages_through_stored_pairs_and_drops_merged_contacts(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given three pairs of one person each, and the whole-base search stored
    pairs = []
    people = [("Анна Смирнова", "Anna Smirnova"), ("Олег Кузнецов", "Kuznetsov Oleg"), ("Мария Попова", "Maria Popova")]
    for n, (cyrillic, latin) in enumerate(people):
        born = f"198{n}-0{n + 1}-1{n}"
        a = await make(app_client, desk, cyrillic, ("phone", f"+7916000000{n}"), birth_date=born)
        b = await make(app_client, desk, latin, ("email", f"person{n}@example.com"), birth_date=born)
        pairs.append((a, b))
    await make(app_client, desk, "Пётр Сидоров", ("phone", "+79169999999"))
    services = container.services
    stored = await save_suggestions(services, list(await duplicate_candidates(services)))
    assert stored == 3
    # when the list is read two at a time
    first = await app_client.get(f"{API}/contacts/suggestions", params={"limit": 2}, headers=desk.as_("operator"))
    second = await app_client.get(
        f"{API}/contacts/suggestions", params={"limit": 2, "offset": 2}, headers=desk.as_("operator")
    )
    # then every pair comes once, best first, with names and reasons
    assert first.status_code == second.status_code == 200
    assert first.json()["next_offset"] == 2 and second.json()["next_offset"] is None
    items = first.json()["items"] + second.json()["items"]
    assert sorted((i["a"]["id"], i["b"]["id"]) for i in items) == sorted(pairs)
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    assert all(i["reasons"] and i["a"]["name"] and i["b"]["name"] for i in items)
    # and once a pair is merged it leaves the list
    a, b = pairs[0]
    merged = await app_client.post(f"{API}/contacts/{a}/merge", headers=desk.as_("admin"), json={"duplicate_id": b})
    assert merged.status_code == 200
    after = await app_client.get(f"{API}/contacts/suggestions", headers=desk.as_("operator"))
    assert sorted((i["a"]["id"], i["b"]["id"]) for i in after.json()["items"]) == sorted(pairs[1:])
    # and the card of a merged contact is sent on to the survivor
    moved = await app_client.get(f"{API}/contacts/{b}/suggestions", headers=desk.as_("operator"))
    assert moved.status_code == 307 and moved.headers["location"] == f"{API}/contacts/{a}/suggestions"


async def test_suggestions_refuse_a_bad_score_and_an_unknown_contact(app_client: httpx.AsyncClient, desk: Desk) -> None:
    bad = await app_client.get(f"{API}/contacts/suggestions", params={"min_score": 0}, headers=desk.as_("operator"))
    assert (bad.status_code, bad.json()["field"]) == (422, "min_score")
    missing = await app_client.get(f"{API}/contacts/999/suggestions", headers=desk.as_("operator"))
    assert missing.status_code == 404 and missing.json()["detail"] == "contact 999 does not exist"


async def test_contacts_the_intake_creates_carry_the_name_key_suggestions_search_by(
    app_client: httpx.AsyncClient, desk: Desk
) -> None:
    # given two customers who wrote through the API channel with one name in two scripts
    for phone, name in (("+79161110101", "Юлия Щукина"), ("+79161110102", "Yulia Shchukina")):
        posted = await app_client.post(
            "/api/v1/inbound",
            headers=desk.as_("integration"),
            json=inbound(desk.channel_id, "hi", phone=phone, name=name),
        )
        assert posted.status_code == 201, posted.text
    found = await app_client.get("/api/v1/contacts", params={"phone": "+79161110101"}, headers=desk.as_("supervisor"))
    # when the card asks for suggestions, then the other spelling is one
    suggestions = await app_client.get(
        f"/api/v1/contacts/{found.json()[0]['id']}/suggestions", headers=desk.as_("supervisor")
    )
    assert suggestions.status_code == 200, suggestions.text
    assert [s["contact"]["name"] for s in suggestions.json()] == ["Yulia Shchukina"]
