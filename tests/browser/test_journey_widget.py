"""The issue's main journey end to end, every party in its own browser: a customer in the web chat widget
on the demo page, the operator on the desk, the supervisor on the floor.

The operator signs in and goes available; the customer fills the pre-chat form and writes; the offer rings
on the desk; the operator accepts by keyboard and answers in the composer; the customer sees the answer;
the operator closes; the customer rates. The floor follows live: the queue goes up, then down.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import Site, shot, sign_in
from tests.support.desk import PASSWORD

pytestmark = pytest.mark.browser


async def _new_context(browser: Browser) -> BrowserContext:
    return await browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")


def _queue(floor: Page, line_id: int):  # type: ignore[no-untyped-def]
    return floor.locator(f"[data-test=queue][data-line='{line_id}']")


async def _webchat_channel(site: Site) -> int:
    """The desk's line gets a web chat with a pre-chat form; being the only one, the demo page shows it."""
    made = await site.api.post(
        "/api/v1/channels",
        headers=site.desk.as_("admin"),
        json={
            "kind": "webchat",
            "name": "Чат на сайте",
            "line_id": site.desk.line_id,
            "settings": {"prechat": {"fields": [{"name": "name", "required": True}, {"name": "email"}]}},
        },
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


async def test_a_customer_chats_in_the_widget_the_operator_answers_the_floor_follows(
    browser: Browser, context: BrowserContext, site: Site
) -> None:
    desk = site.desk
    channel_id = await _webchat_channel(site)
    problems: list[str] = []

    # given the supervisor watching the floor: nobody waiting in the line's queue
    supervisor_context = await _new_context(browser)
    customer_context = await _new_context(browser)
    try:
        floor = await supervisor_context.new_page()
        await sign_in(floor, site, "super", PASSWORD)
        await expect(_queue(floor, desk.line_id).locator("[data-test=waiting]")).to_have_text("0")

        # and the operator on the desk, gone available by keyboard
        page = await context.new_page()
        page.on("pageerror", lambda error: problems.append(f"desk: {error}"))
        await sign_in(page, site, "olga", PASSWORD)
        await expect(page.locator("[data-test=live]")).to_have_class(re.compile(r"\bon\b"))
        await page.keyboard.press("Alt+V")
        await expect(page.locator("[data-test=status-label]")).to_have_text("Available")
        await expect(page.locator("[data-test=waiting-for-offers]")).to_be_visible()
        await shot(page, "journey-01-desk-available")

        # when a customer on the demo page opens the chat, fills the pre-chat form and writes
        customer = await customer_context.new_page()
        customer.on("pageerror", lambda error: problems.append(f"widget: {error}"))
        await customer.goto(f"{site.url}/demo/chat")
        await expect(customer.locator(f"script[data-channel='{channel_id}']")).to_have_count(1)
        await customer.get_by_role("button", name="Открыть чат").click()
        widget = customer.get_by_role("dialog", name="Чат на сайте")
        await customer.get_by_label("Имя (обязательно)").fill("Мария Садовая")
        await customer.get_by_label("Email").fill("maria@garden.example")
        await customer.get_by_label("Согласен(на) на обработку персональных данных").check()
        await shot(customer, "journey-02-widget-prechat")
        await customer.get_by_role("button", name="Начать чат").click()
        message = customer.get_by_role("textbox", name="Сообщение")
        await message.fill("Есть ли семена томатов «Бычье сердце»?")
        await message.press("Enter")

        # then the offer rings on the desk with the customer's name and words
        offer = page.locator("[data-test=offer]")
        await expect(offer).to_contain_text("Мария Садовая")
        await expect(offer).to_contain_text("Бычье сердце")
        conversation_id = int(await offer.get_attribute("data-conversation") or 0)
        await shot(page, "journey-03-desk-offer")
        # and the floor's queue for the line counts it, live
        await expect(_queue(floor, desk.line_id).locator("[data-test=waiting]")).to_have_text("1")
        await shot(floor, "journey-04-floor-one-waiting")

        # when the operator accepts with one key and answers in the composer
        await page.keyboard.press("a")
        conversation = page.locator(f"[data-test=conversation][data-conversation='{conversation_id}']")
        await expect(conversation.locator("[data-test=message]")).to_contain_text("Бычье сердце")
        await expect(page.locator("[data-test=offer]")).to_have_count(0)
        # then the floor's queue is empty again and the conversation is hers
        await expect(_queue(floor, desk.line_id).locator("[data-test=waiting]")).to_have_text("0")
        floor_row = floor.locator(f"[data-test=floor-conversation][data-conversation='{conversation_id}']")
        await expect(floor_row).to_have_attribute("data-status", "assigned")
        # and while the customer types, the desk says so
        await message.press_sequentially("Ещё вопрос", delay=30)
        await expect(page.locator("[data-test=customer-typing]")).to_contain_text("Мария Садовая")
        await message.fill("")
        # and while the operator types, the widget says so
        await page.keyboard.press("r")
        await page.keyboard.type("Добрый день, Мария! Да, есть, 89 ₽ за пакетик.")
        await expect(widget.get_by_text("Оператор печатает…")).to_be_visible()
        await shot(customer, "journey-05-widget-operator-typing")
        await page.keyboard.press("Enter")
        await expect(conversation.locator("[data-test=message]").filter(has_text="89 ₽ за пакетик")).to_have_count(1)
        await shot(page, "journey-06-desk-answered")

        # then the customer sees the answer in the widget
        await expect(widget.get_by_text("Добрый день, Мария! Да, есть, 89 ₽ за пакетик.")).to_be_visible()
        await shot(customer, "journey-07-widget-answer")
        await expect(floor_row).to_have_attribute("data-status", "waiting")
        await shot(floor, "journey-08-floor-in-hand")

        # when the operator closes the conversation by keyboard
        await page.keyboard.press("Alt+C")
        await expect(page.locator("[data-test=conversation-item]")).to_have_count(0)
        # then the floor counts it answered and drops it
        await expect(floor_row).to_have_count(0)
        await expect(_queue(floor, desk.line_id).locator("[data-test=answered]")).to_have_text("1")
        await shot(floor, "journey-09-floor-after-close")

        # and the customer is asked for a rating and gives one
        await expect(customer.get_by_text("Оцените, пожалуйста, разговор")).to_be_visible()
        await customer.get_by_role("radio", name="5 — Отлично").check()
        await customer.get_by_placeholder("Комментарий (необязательно)").fill("Быстро и вежливо")
        await customer.get_by_role("button", name="Оценить").click()
        await expect(customer.get_by_text("Спасибо за оценку!")).to_be_visible()
        await shot(customer, "journey-10-widget-rated")

        # then the rating is stored for the conversation, and nothing broke in any page
        async with site.container.services.uow(read_only=True) as uow:
            rating = await uow.webchat.rating(conversation_id)
        assert rating is not None and (rating.score, rating.comment) == (5, "Быстро и вежливо")
        closed = await site.api.get(f"/api/v1/conversations/{conversation_id}", headers=desk.as_("supervisor"))
        assert closed.json()["status"] == "closed"
        assert problems == []
    finally:
        await customer_context.close()
        await supervisor_context.close()
