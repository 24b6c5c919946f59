"""The customer card's profile fields and merge suggestions in a browser (docs/contacts.md, docs/ui.md)."""

from __future__ import annotations

import pytest
from playwright.async_api import BrowserContext, expect

from tests.browser.conftest import Site, shot, sign_in
from tests.browser.test_screens import _assigned_conversation
from tests.support.desk import PASSWORD

pytestmark = pytest.mark.browser


async def test_the_operator_fills_the_profile_in_place(context: BrowserContext, site: Site) -> None:
    desk = site.desk
    # given a conversation in olga's hands from a customer with a name only
    made = await _assigned_conversation(site, "Do you ship to Tula?", phone="+79165550021", name="Anna Sidorova")
    page = await context.new_page()
    await sign_in(page, site, "olga", PASSWORD)
    await page.click("[data-test=conversation-item]")
    card = page.locator("[data-test=customer-card]")
    await expect(card.locator("[data-test=contact-name]")).to_have_text("Anna Sidorova")

    # when she fills the city, a birth date, a custom field and records the processing consent
    await card.locator("[data-field=city] span").click()
    await card.locator("[data-field=city] input").fill("Tula")
    await card.locator("[data-field=city] input").press("Enter")
    await expect(card.locator("[data-field=city]")).to_have_text("Tula")
    await card.locator("[data-field=birth_date] span").click()
    await card.locator("[data-field=birth_date] input").fill("1985-02-28")
    await expect(card.locator("[data-field=birth_date]")).to_contain_text("1985")
    await card.locator("[data-field=custom_fields] span").click()
    await card.locator("[data-field=custom_fields] input").fill("size=L, loyalty=3")
    await card.locator("[data-field=custom_fields] input").press("Enter")
    await expect(card.locator("[data-field=custom_fields]")).to_have_text("size=L, loyalty=3")
    await card.locator("[data-field=processing_consent] span").click()
    await expect(card.locator("[data-field=processing_consent]")).to_contain_text("agreed")
    # and a birth date in the future is refused next to the field, nothing written
    await card.locator("[data-field=birth_date] span").click()
    await card.locator("[data-field=birth_date] input").fill("2999-01-01")
    await expect(card.locator("[data-field=birth_date] [data-test=field-error]")).to_be_visible()
    await shot(page, "card-01-profile-fields")

    # then the API holds exactly what she entered
    stored = (await site.api.get(f"/api/v1/contacts/{made['contact_id']}", headers=desk.as_("supervisor"))).json()
    assert (stored["city"], stored["birth_date"], stored["custom_fields"]) == (
        "Tula",
        "1985-02-28",
        {"size": "L", "loyalty": 3},
    )
    assert stored["processing_consent"]["granted"] is True


async def test_a_supervisor_merges_a_suggested_duplicate_from_the_card_and_undoes_it(
    context: BrowserContext, site: Site
) -> None:
    desk = site.desk
    supervisor = desk.as_("supervisor")
    # given a conversation from Yulia Shchukina, and an older contact spelled in Cyrillic, same birth date
    made = await _assigned_conversation(site, "Hello again", phone="+79165550031", name="Yulia Shchukina")
    named = await site.api.patch(
        f"/api/v1/contacts/{made['contact_id']}",
        headers=supervisor,
        json={"first_name": "Yulia", "last_name": "Shchukina", "birth_date": "1991-07-12"},
    )
    assert named.status_code == 200, named.text
    older = await site.api.post(
        "/api/v1/contacts",
        headers=supervisor,
        json={
            "name": "Юлия Щукина",
            "first_name": "Юлия",
            "last_name": "Щукина",
            "birth_date": "1991-07-12",
            "city": "Казань",
            "identities": [{"kind": "email", "value": "yulia@example.com"}],
        },
    )
    assert older.status_code == 201, older.text
    older_id = older.json()["id"]

    # when the supervisor opens the conversation read-only from the floor
    page = await context.new_page()
    await sign_in(page, site, "super", PASSWORD)
    await page.goto(f"{site.url}/floor/conversations/{made['conversation_id']}")
    card = page.locator("[data-test=customer-card]")
    suggestion = card.locator(f"[data-test=suggestion][data-contact='{older_id}']")
    # then the card suggests the older contact, with why
    await expect(suggestion).to_contain_text("Юлия Щукина")
    await expect(suggestion).to_contain_text("birth date")
    await shot(page, "card-02-merge-suggestion")

    # when she merges it into this card
    await suggestion.locator("[data-test=merge]").click()
    # then the card gains the older contact's email and city, and the suggestion is gone
    await expect(card.locator("[data-test=suggestion]")).to_have_count(0)
    await expect(card.locator("[data-test=identities]")).to_contain_text("yulia@example.com")
    await expect(card.locator("[data-field=city]")).to_have_text("Казань")
    await shot(page, "card-03-merged")
    gone = await site.api.get(f"/api/v1/contacts/{older_id}", headers=supervisor, follow_redirects=False)
    assert gone.status_code == 307

    # when she undoes it, both contacts are back as they were
    await card.locator("[data-test=undo-merge]").click()
    await expect(suggestion).to_be_visible()
    await expect(card.locator("[data-test=identities]")).not_to_contain_text("yulia@example.com")
    back = await site.api.get(f"/api/v1/contacts/{older_id}", headers=supervisor, follow_redirects=False)
    assert back.status_code == 200 and back.json()["city"] == "Казань"
