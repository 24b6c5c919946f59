"""The other screens in a browser: the desk's tools, the supervisor's actions, the admin's validated settings."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import BrowserContext, expect

from tests.browser.conftest import Site, shot, sign_in
from tests.support.desk import PASSWORD, inbound

pytestmark = pytest.mark.browser


async def _assigned_conversation(site: Site, text: str, **sender: str) -> dict[str, int]:
    desk = site.desk
    posted = await site.api.post(
        "/api/v1/inbound", headers=desk.as_("integration"), json=inbound(desk.channel_id, text, **sender)
    )
    assert posted.status_code == 201, posted.text
    made: dict[str, int] = posted.json()
    assigned = await site.api.post(
        f"/api/v1/conversations/{made['conversation_id']}/assign",
        headers=desk.as_("supervisor"),
        json={"operator_id": desk.operator_id},
    )
    assert assigned.status_code == 200, assigned.text
    return made


async def test_desk_tools_notes_canned_reveal_unknown_customer_and_the_cheat_sheet(
    context: BrowserContext, site: Site
) -> None:
    desk = site.desk
    # given a canned response and a conversation from a customer known only by phone, in olga's hands
    canned = await site.api.post(
        "/api/v1/canned-responses",
        headers=desk.as_("supervisor"),
        json={"shortcut": "delivery", "title": "Delivery", "text": "Delivery takes 2 days."},
    )
    assert canned.status_code == 201, canned.text
    made = await _assigned_conversation(site, "Hi, when do you deliver?", phone="+79165550011")
    page = await context.new_page()
    await sign_in(page, site, "olga", PASSWORD)
    await page.click("[data-test=conversation-item]")
    card = page.locator("[data-test=customer-card]")
    await expect(card.locator("[data-test=unknown]")).to_be_visible()
    await expect(card.locator("[data-test=contact-name]")).to_have_text("+7916•••••11")

    # when she writes an internal note (Alt+N) and inserts the canned answer by its shortcut
    await page.keyboard.press("r")
    await page.keyboard.press("Alt+N")
    await page.keyboard.type("Customer asked twice already")
    await page.keyboard.press("Enter")
    await expect(page.locator("[data-test=note]")).to_contain_text("Customer asked twice already")
    await page.keyboard.press("Alt+N")
    await page.keyboard.type("/deli")
    await expect(page.locator("[data-test=canned]")).to_contain_text("Delivery")
    await page.keyboard.press("Enter")
    await expect(page.locator("[data-test=composer-input]")).to_have_value("Delivery takes 2 days.")
    await shot(page, "07-desk-note-and-canned")
    await page.keyboard.press("Enter")
    await expect(page.locator("[data-test=message]").filter(has_text="Delivery takes 2 days.")).to_be_visible()

    # when she names the unknown customer and makes a lead in one click each
    await card.locator("[data-test=make-lead]").click()
    await expect(page.locator("[data-test=toast]")).to_contain_text("Lead created")
    await card.locator("[data-test=make-contact]").click()
    await card.locator("[data-test=name-input]").fill("Boris Orlov")
    await card.locator("[data-test=name-input]").press("Enter")
    await expect(card.locator("[data-test=contact-name]")).to_have_text("Boris Orlov")
    # and reveals the masked phone (audited)
    await card.locator("[data-test=reveal]").click()
    await expect(card.locator("[data-test=identities]")).to_contain_text("+79165550011")
    await shot(page, "08-desk-contact-named-and-revealed")
    contact = await site.api.get(f"/api/v1/contacts/{made['contact_id']}", headers=desk.as_("supervisor"))
    assert contact.json()["name"] == "Boris Orlov"
    leads = await site.api.get(f"/api/v1/leads?contact_id={made['contact_id']}", headers=desk.as_("supervisor"))
    assert [lead["automatic"] for lead in leads.json()] == [False, True]

    # when she asks for the shortcuts
    await page.locator("body").click(position={"x": 700, "y": 300})
    await page.keyboard.press("?")
    sheet = page.locator("[data-test=cheat-sheet]")
    await expect(sheet).to_contain_text("Accept the offer")
    await expect(sheet).to_contain_text("Close the conversation")
    await shot(page, "09-desk-cheat-sheet")
    await page.keyboard.press("Escape")
    await expect(sheet).to_have_count(0)

    # and in Russian the desk speaks Russian
    await page.click("[data-test=locale]")
    await expect(page.locator("[data-test=send]")).to_contain_text("Отправить")
    await shot(page, "10-desk-in-russian")


async def test_supervisor_sets_a_status_reassigns_and_reads_a_conversation(context: BrowserContext, site: Site) -> None:
    desk = site.desk
    made = await _assigned_conversation(site, "I need a manager", phone="+79165550012", name="Vera Lis")
    page = await context.new_page()
    await sign_in(page, site, "super", PASSWORD)
    row = page.locator(f"[data-test=floor-conversation][data-conversation='{made['conversation_id']}']")
    await expect(row.locator("[data-test=assignee]")).to_have_text("Olga")

    # when the supervisor puts ivan on a break and hands the conversation to him
    ivan = page.locator(f"[data-test=operator-row][data-operator='{desk.other_operator_id}']")
    await ivan.locator("select").select_option("available")
    await expect(ivan).to_contain_text("Available")
    await row.locator("[data-test=reassign]").select_option(str(desk.other_operator_id))
    # then the floor shows it with ivan, and the API agrees
    await expect(row.locator("[data-test=assignee]")).to_have_text("Ivan")
    stored = await site.api.get(f"/api/v1/conversations/{made['conversation_id']}", headers=desk.as_("supervisor"))
    assert stored.json()["assignee_id"] == desk.other_operator_id
    await shot(page, "11-floor-after-reassign")

    # when the supervisor opens it read-only
    await row.locator("[data-test=open-readonly]").click()
    conversation = page.locator("[data-test=conversation]")
    await expect(conversation.locator("[data-test=message]")).to_contain_text("I need a manager")
    await expect(page.locator("[data-test=composer]")).to_have_count(0)
    await expect(page.locator("[data-test=customer-card] [data-test=identities]")).to_contain_text("+79165550012")
    await shot(page, "12-floor-read-only-conversation")


async def test_admin_line_settings_are_validated_by_the_api_next_to_the_field(
    context: BrowserContext, site: Site
) -> None:
    desk = site.desk
    page = await context.new_page()
    await sign_in(page, site, "admin", PASSWORD)
    await page.goto(site.url + "/admin/lines")
    form = page.locator("[data-test=line-form]")
    await expect(form).to_be_visible()

    # when the admin sets a forwarding timeout of 1 s and saves
    await form.locator("[data-test=mode]").select_option("broadcast")
    await form.locator("[data-test=forwarding]").fill("1")
    await form.locator("[data-test=save-line]").click()
    # then the API's problem is shown beside that field and nothing is saved
    error = form.locator("[data-test=field-error][data-field='routing.forwarding_timeout_s']")
    await expect(error).to_have_text("must be between 5 seconds and 24 hours")
    await shot(page, "13-admin-line-validation")
    line = await site.api.get(f"/api/v1/lines/{desk.line_id}", headers=desk.as_("admin"))
    assert "forwarding_timeout_s" not in line.json()["routing"]

    # when it is corrected
    await form.locator("[data-test=forwarding]").fill("30")
    await form.locator("[data-test=save-line]").click()
    await expect(form.locator("[data-test=saved]")).to_be_visible()
    line = await site.api.get(f"/api/v1/lines/{desk.line_id}", headers=desk.as_("admin"))
    assert (line.json()["routing"]["mode"], line.json()["routing"]["forwarding_timeout_s"]) == ("broadcast", 30)

    # when the admin gives the line working hours with a malformed range, then a good one
    await page.click("text=Working hours")
    hours = page.locator("[data-test=hours-form]")
    await hours.locator("[data-test=always-open]").uncheck()
    await hours.locator("[data-test=day-0]").fill("9-18")
    await hours.locator("[data-test=save-hours]").click()
    # then the range is refused beside Monday, and the good one is saved
    monday = hours.locator("[data-test=field-error][data-field='routing.calendar.weekly.0']")
    await expect(monday).to_have_text("'9-18' is not a range such as 09:00-18:00")
    for day in range(5):
        await hours.locator(f"[data-test=day-{day}]").fill("09:00-13:00, 14:00-18:00")
    await hours.locator("[data-test=save-hours]").click()
    await expect(hours.locator("[data-test=saved]")).to_be_visible()
    await shot(page, "14-admin-hours")
    line = await site.api.get(f"/api/v1/lines/{desk.line_id}", headers=desk.as_("admin"))
    assert line.json()["routing"]["calendar"]["weekly"]["0"] == ["09:00-13:00", "14:00-18:00"]

    # and the other admin screens open
    for path, marker, name in (
        ("/admin/messages", "[data-test=messages-form]", "15-admin-automatic-messages"),
        ("/admin/channels", "[data-test=channels]", "16-admin-channels"),
        ("/admin/operators", "[data-test=users]", "17-admin-people"),
    ):
        await page.goto(site.url + path)
        await expect(page.locator(marker)).to_be_visible()
        await shot(page, name)


async def _available(site: Site, who: str) -> None:
    went = await site.api.put("/api/v1/me/status", headers=site.desk.as_(who), json={"status": "available"})
    assert went.status_code == 200, went.text


async def test_an_offer_to_everyone_disappears_when_a_colleague_takes_it(context: BrowserContext, site: Site) -> None:
    desk = site.desk
    # given a broadcast line and both operators available, olga at her desk
    routed = await site.api.patch(
        f"/api/v1/lines/{desk.line_id}", headers=desk.as_("admin"), json={"routing": {"mode": "broadcast"}}
    )
    assert routed.status_code == 200, routed.text
    page = await context.new_page()
    await sign_in(page, site, "olga", PASSWORD)
    await _available(site, "operator")
    await _available(site, "operator2")
    # when a customer writes, the offer rings on her desk
    message = inbound(desk.channel_id, "Anyone?", phone="+79165550013")
    posted = await site.api.post("/api/v1/inbound", headers=desk.as_("integration"), json=message)
    conversation = posted.json()["conversation_id"]
    offer = page.locator(f"[data-test=offer][data-conversation='{conversation}']")
    await expect(offer).to_be_visible()
    # and ivan takes it first
    taken = await site.api.post(f"/api/v1/conversations/{conversation}/accept", headers=desk.as_("operator2"))
    assert taken.status_code == 204, taken.text
    # then it disappears from her desk at once, and nothing is in her hands
    await expect(offer).to_have_count(0)
    await expect(page.locator("[data-test=conversation-item]")).to_have_count(0)


async def test_closing_starts_the_lines_wrap_up_with_a_countdown(context: BrowserContext, site: Site) -> None:
    desk = site.desk
    # given a line with 30 s of after-work, olga available at her desk
    routed = await site.api.patch(
        f"/api/v1/lines/{desk.line_id}", headers=desk.as_("admin"), json={"routing": {"wrap_up_s": 30}}
    )
    assert routed.status_code == 200, routed.text
    page = await context.new_page()
    await sign_in(page, site, "olga", PASSWORD)
    await page.keyboard.press("Alt+V")
    await expect(page.locator("[data-test=status-label]")).to_have_text("Available")
    message = inbound(desk.channel_id, "Quick one", phone="+79165550014")
    posted = await site.api.post("/api/v1/inbound", headers=desk.as_("integration"), json=message)
    conversation = posted.json()["conversation_id"]
    await expect(page.locator(f"[data-test=offer][data-conversation='{conversation}']")).to_be_visible()
    # when she accepts and closes
    await page.keyboard.press("a")
    await expect(page.locator("[data-test=conversation-item]")).to_have_count(1)
    await page.keyboard.press("Alt+C")
    # then she is in after-work with the line's countdown
    await expect(page.locator("[data-test=status-label]")).to_have_text("After-work")
    await expect(page.locator("[data-test=wrap-up]")).to_contain_text(re.compile(r"wrap-up (2\d|30) s"))
    await shot(page, "18-desk-after-work-countdown")
