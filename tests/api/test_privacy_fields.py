"""An operator sees a customer's street address only through the audited reveal."""

from __future__ import annotations

import httpx

from tests.support.desk import Desk


async def test_operators_see_the_address_masked_until_they_reveal(app_client: httpx.AsyncClient, desk: Desk) -> None:
    # given a customer with an address and a birth date
    made = await app_client.post(
        "/api/v1/contacts",
        headers=desk.as_("supervisor"),
        json={"name": "Анна Петрова", "address": "Тверская, 1", "city": "Москва", "birth_date": "1990-05-17"},
    )
    assert made.status_code == 201, made.text
    contact_id = made.json()["id"]

    # when an operator reads the card, then the address is masked; the city and birth date stay
    card = (await app_client.get(f"/api/v1/contacts/{contact_id}", headers=desk.as_("operator"))).json()
    assert (card["address"], card["birth_date"], card["city"]) == ("•••", "1990-05-17", "Москва")

    # when a supervisor reads it, or the operator reveals it, then both are shown in full
    full = (await app_client.get(f"/api/v1/contacts/{contact_id}", headers=desk.as_("supervisor"))).json()
    assert (full["address"], full["birth_date"]) == ("Тверская, 1", "1990-05-17")
    revealed = await app_client.post(
        f"/api/v1/contacts/{contact_id}/reveal", headers=desk.as_("operator"), json={"reason": "delivery address"}
    )
    assert revealed.status_code == 200, revealed.text
    assert (revealed.json()["address"], revealed.json()["birth_date"]) == ("Тверская, 1", "1990-05-17")
