"""The operator sends a picture in a web chat and the customer's widget shows it; then she answers by email.

A customer writes from the demo page's widget (giving an email in the pre-chat form); the operator
accepts, attaches a picture in the composer (it uploads at once, with a thumbnail), sends it, and the
widget shows the picture. Then she switches the composer to the customer's email channel and writes
there: the reply opens an email conversation in her hands and the chat keeps a note pointing to it.
"""

from __future__ import annotations

import re
import struct
import zlib

import pytest
from playwright.async_api import Browser, BrowserContext, expect

from tests.browser.conftest import Site, shot, sign_in
from tests.support.desk import PASSWORD

pytestmark = pytest.mark.browser


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A small solid-colour PNG, so the browser really decodes and draws it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


async def _channels(site: Site) -> tuple[int, int]:
    admin = site.desk.as_("admin")
    chat = await site.api.post(
        "/api/v1/channels",
        headers=admin,
        json={
            "kind": "webchat",
            "name": "Чат на сайте",
            "line_id": site.desk.line_id,
            "settings": {"prechat": {"fields": [{"name": "name", "required": True}, {"name": "email"}]}},
        },
    )
    assert chat.status_code == 201, chat.text
    # a mailbox whose relay is not there: the reply waits in the delivery queue, which is all this journey needs
    mail = await site.api.post(
        "/api/v1/channels",
        headers=admin,
        json={
            "kind": "email",
            "name": "Support mailbox",
            "line_id": site.desk.line_id,
            "settings": {"addresses": ["support@desk.example"], "smtp": {"host": "127.0.0.1", "port": 9}},
        },
    )
    assert mail.status_code == 201, mail.text
    return int(chat.json()["id"]), int(mail.json()["id"])


async def test_the_operator_sends_a_picture_the_widget_shows_it_then_she_answers_by_email(
    browser: Browser, context: BrowserContext, site: Site
) -> None:
    chat_id, mail_id = await _channels(site)
    problems: list[str] = []
    customer_context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    try:
        # given the operator available on the desk
        page = await context.new_page()
        page.on("pageerror", lambda error: problems.append(f"desk: {error}"))
        await sign_in(page, site, "olga", PASSWORD)
        await expect(page.locator("[data-test=live]")).to_have_class(re.compile(r"\bon\b"))
        await page.keyboard.press("Alt+V")
        await expect(page.locator("[data-test=status-label]")).to_have_text("Available")

        # and a customer who wrote from the widget, giving her email
        customer = await customer_context.new_page()
        customer.on("pageerror", lambda error: problems.append(f"widget: {error}"))
        await customer.goto(f"{site.url}/demo/chat")
        await expect(customer.locator(f"script[data-channel='{chat_id}']")).to_have_count(1)
        await customer.get_by_role("button", name="Открыть чат").click()
        widget = customer.get_by_role("dialog", name="Чат на сайте")
        await customer.get_by_label("Имя (обязательно)").fill("Мария Садовая")
        await customer.get_by_label("Email").fill("maria@garden.example")
        await customer.get_by_label("Согласен(на) на обработку персональных данных").check()
        await customer.get_by_role("button", name="Начать чат").click()
        message = customer.get_by_role("textbox", name="Сообщение")
        await message.fill("Как проехать к магазину?")
        await message.press("Enter")
        offer = page.locator("[data-test=offer]")
        await expect(offer).to_contain_text("Мария Садовая")
        conversation_id = int(await offer.get_attribute("data-conversation") or 0)
        await page.keyboard.press("a")
        conversation = page.locator(f"[data-test=conversation][data-conversation='{conversation_id}']")
        await expect(conversation.locator("[data-test=message]")).to_contain_text("Как проехать")

        # when she attaches a picture in the composer
        await page.locator("[data-test=file-input]").set_input_files(
            {"name": "plan.png", "mimeType": "image/png", "buffer": _png(160, 100, (36, 87, 214))}
        )
        # then it uploads at once and shows as a thumbnail she could still remove
        tray = page.locator("[data-test=tray-item]")
        await expect(tray).to_have_count(1)
        await expect(tray.locator("[data-test=thumb]")).to_be_visible()
        await expect(tray.locator("[data-test=progress]")).to_have_count(0)
        await page.locator("[data-test=composer-input]").fill("Вот схема проезда")
        await shot(page, "attach-01-composer-with-picture")

        # when she sends it
        await page.locator("[data-test=send]").click()
        # then the timeline shows the picture, and the tray is empty again
        sent = conversation.locator("[data-test=message]").filter(has_text="Вот схема проезда")
        await expect(sent.locator("[data-test=attachment-thumb]")).to_be_visible()
        await expect(tray).to_have_count(0)
        # and the customer's widget shows it, fetched through the chat's file route
        picture = widget.get_by_role("img", name="plan.png")
        await expect(picture).to_be_visible()
        assert await picture.evaluate("img => img.naturalWidth") == 160
        await shot(customer, "attach-02-widget-shows-picture")

        # when she switches the composer to the customer's email and writes there
        switch = page.locator("[data-test=channel-switch] select")
        await expect(switch.locator("option")).to_have_text(
            ["Чат на сайте · Web chat (this conversation)", "Support mailbox · Email"]
        )
        await switch.select_option(str(mail_id))
        await shot(page, "attach-03-composer-switched-to-email")
        await page.locator("[data-test=composer-input]").fill("Схему также отправила вам на почту.")
        await page.keyboard.press("Enter")
        # then the chat keeps a note pointing to the email conversation, which is now in her list
        await expect(page.locator("[data-test=toast]")).to_contain_text("Sent in conversation #")
        note = conversation.locator("[data-test=note]").filter(has_text="Replied by email (Support mailbox)")
        await expect(note).to_have_count(1)
        await expect(page.locator("[data-test=conversation-item]")).to_have_count(2)
        await expect(switch).to_have_value(str(chat_id))  # the next reply goes to the chat again
        await shot(page, "attach-04-note-after-email-reply")
        found = await site.api.get(
            "/api/v1/conversations",
            headers=site.desk.as_("supervisor"),
            params={"assignee_id": site.desk.operator_id},
        )
        by_channel = {c["channel_id"]: c for c in found.json()}
        assert by_channel[mail_id]["status"] == "waiting" and by_channel[mail_id]["id"] != conversation_id
        # and the customer's chat got nothing of it
        await expect(widget.get_by_text("на почту")).to_have_count(0)
        assert problems == []
    finally:
        await customer_context.close()
