"""The operator's shift and the supervisor's floor, in a real browser against a real server.

An operator signs in and goes available; a customer's message arrives through the API channel; the
offer rings on the desk; the operator accepts by keyboard, answers and closes; the supervisor's floor,
open in a second browser context, follows every step live.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import Site, shot, sign_in
from tests.support.desk import PASSWORD, inbound

pytestmark = pytest.mark.browser


async def _second_context(browser: Browser) -> BrowserContext:
    return await browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")


def _operator_row(floor: Page, operator_id: int):  # type: ignore[no-untyped-def]
    return floor.locator(f"[data-test=operator-row][data-operator='{operator_id}']")


async def test_operator_shift_with_the_supervisor_watching(
    browser: Browser, context: BrowserContext, site: Site
) -> None:
    desk = site.desk
    # given the supervisor watching the floor in one browser
    supervisor_context = await _second_context(browser)
    floor = await supervisor_context.new_page()
    await sign_in(floor, site, "super", PASSWORD)
    await expect(floor.locator("[data-test=floor]")).to_be_visible()
    await expect(_operator_row(floor, desk.operator_id)).to_contain_text("Offline")

    # and the operator signing in to the desk in another
    page = await context.new_page()
    await sign_in(page, site, "olga", PASSWORD)
    await expect(page.locator("[data-test=not-available]")).to_be_visible()
    await expect(page.locator("[data-test=live]")).to_have_class(re.compile(r"\bon\b"))
    await shot(page, "01-desk-signed-in")

    # when she goes available by keyboard
    await page.keyboard.press("Alt+V")
    # then her status says so and the floor shows her available, live
    await expect(page.locator("[data-test=status-label]")).to_have_text("Available")
    await expect(page.locator("[data-test=waiting-for-offers]")).to_be_visible()
    await expect(_operator_row(floor, desk.operator_id)).to_contain_text("Available")

    # when a customer writes through the API channel
    posted = await site.api.post(
        "/api/v1/inbound",
        headers=desk.as_("integration"),
        json=inbound(desk.channel_id, "Where is my order 1042?", phone="+79161234567", name="Anna Petrova"),
    )
    assert posted.status_code == 201, posted.text
    conversation_id = posted.json()["conversation_id"]

    # then the offer rings on her desk with the customer's name and message
    offer = page.locator(f"[data-test=offer][data-conversation='{conversation_id}']")
    await expect(offer).to_contain_text("Anna Petrova")
    await expect(offer).to_contain_text("Where is my order 1042?")
    await shot(page, "02-desk-offer-ringing")
    # and the floor shows it ringing in the line's queue
    floor_row = floor.locator(f"[data-test=floor-conversation][data-conversation='{conversation_id}']")
    await expect(floor_row).to_have_attribute("data-status", "offered")
    await shot(floor, "03-floor-offer-ringing")

    # when she accepts with one key
    await page.keyboard.press("a")
    # then the conversation opens with the customer's message, the card and the integration panel
    conversation = page.locator(f"[data-test=conversation][data-conversation='{conversation_id}']")
    await expect(conversation.locator("[data-test=message]")).to_contain_text("Where is my order 1042?")
    await expect(page.locator("[data-test=offer]")).to_have_count(0)
    card = page.locator("[data-test=customer-card]")
    await expect(card.locator("[data-test=contact-name]")).to_have_text("Anna Petrova")
    await expect(card.locator("[data-test=identities]")).to_contain_text("+7916•••••67")  # masked for operators
    await expect(page.locator("[data-plugin=demo-orders] table, [data-plugin=demo-orders] p")).to_be_visible()
    # and the floor shows it assigned to her, her load 1
    await expect(floor_row).to_have_attribute("data-status", "assigned")
    await expect(_operator_row(floor, desk.operator_id).locator("[data-test=load]")).to_contain_text("1/")

    # when she answers from the keyboard
    await page.keyboard.press("r")
    await page.keyboard.type("Your order ships tomorrow.")
    await page.keyboard.press("Enter")
    # then her reply is in the timeline, queued for delivery, and the conversation waits for the customer
    reply = conversation.locator("[data-test=message]").filter(has_text="Your order ships tomorrow.")
    await expect(reply.locator("[data-test=delivery]")).to_be_visible()
    await expect(floor_row).to_have_attribute("data-status", "waiting")
    stored = await site.api.get(f"/api/v1/conversations/{conversation_id}/messages", headers=desk.as_("supervisor"))
    assert stored.json()[0]["text"] == "Your order ships tomorrow."
    await shot(page, "04-desk-answered")
    await shot(floor, "05-floor-conversation-in-hand")

    # when she closes it by keyboard
    await page.keyboard.press("Alt+C")
    # then it leaves her desk, and the floor: queue empty, her load 0, one answered today
    await expect(page.locator("[data-test=conversation-item]")).to_have_count(0)
    await expect(floor_row).to_have_count(0)
    await expect(_operator_row(floor, desk.operator_id).locator("[data-test=load]")).to_contain_text("0/")
    await expect(floor.locator(f"[data-test=queue][data-line='{desk.line_id}'] [data-test=answered]")).to_have_text("1")
    closed = await site.api.get(f"/api/v1/conversations/{conversation_id}", headers=desk.as_("supervisor"))
    assert closed.json()["status"] == "closed"
    await shot(floor, "06-floor-after-close")
    await supervisor_context.close()
