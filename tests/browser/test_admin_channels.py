"""The admin's channels screen against a real server and a local Telegram Bot API: health, the
write-only secrets editor and "Connect / test" (docs/channels.md, docs/ui.md)."""

from __future__ import annotations

import pytest
from playwright.async_api import BrowserContext, expect

from tests.browser.conftest import Site, shot, sign_in
from tests.support.desk import PASSWORD
from tests.support.providers.telegram import TOKEN, FakeTelegram

pytestmark = pytest.mark.browser


async def test_the_admin_tests_a_channel_fixes_its_secret_and_sees_it_healthy(
    context: BrowserContext, site: Site
) -> None:
    desk = site.desk
    async with FakeTelegram().running() as telegram:
        # given a Telegram channel set up with a bot token the provider does not know
        made = await site.api.post(
            "/api/v1/channels",
            headers=desk.as_("admin"),
            json={
                "kind": "telegram",
                "name": "Shop bot",
                "line_id": desk.line_id,
                "settings": {"api_base": telegram.base_url},
                "secrets": {"bot_token": "999:wrong-token", "webhook_secret": "old-secret-1"},
            },
        )
        assert made.status_code == 201, made.text
        channel_id = made.json()["id"]
        page = await context.new_page()
        await sign_in(page, site, "admin", PASSWORD)
        await page.goto(site.url + "/admin/channels")
        row = page.locator(f"[data-test=channel-row][data-channel='{channel_id}']")
        await expect(row.locator("[data-test=health]")).to_have_attribute("data-state", "untested")
        await expect(row.locator("[data-test=waiting]")).to_have_text("0")

        # when the admin tests the connection
        await row.locator("[data-test=test]").click()
        # then the provider's refusal is shown, and the channel's health says it fails
        await expect(page.locator("[data-test=connect-problem]")).to_contain_text("the provider refused")
        await expect(row.locator("[data-test=health]")).to_have_attribute("data-state", "failing")
        await expect(row.locator("[data-test=last-error]")).to_be_visible()
        await shot(page, "admin-01-channel-failing")

        # when she opens the secrets: names are shown, values never
        await row.locator("[data-test=edit]").click()
        secrets = page.locator("[data-test=secrets]")
        await expect(secrets.locator("[data-test=secret]")).to_have_count(2)
        token = secrets.locator("[data-test=secret][data-name=bot_token] [data-test=secret-value]")
        await expect(token).to_have_value("")
        assert "999:wrong-token" not in await page.content()
        # and replaces the token, removes the webhook secret, and saves
        await token.fill(TOKEN)
        await secrets.locator("[data-test=secret][data-name=webhook_secret] [data-test=secret-remove]").check()
        await shot(page, "admin-02-channel-secrets")
        await page.get_by_role("button", name="Save").click()
        await expect(secrets).to_have_count(0)
        stored = await site.api.get(f"/api/v1/channels/{channel_id}", headers=desk.as_("admin"))
        assert stored.json()["secrets"] == ["bot_token"]

        # and tests again: the webhook is registered and the channel is healthy
        await row.locator("[data-test=test]").click()
        webhook_url = f"{site.url}/api/v1/channels/{channel_id}/webhook"
        await expect(page.locator("[data-test=connect-outcome]")).to_contain_text(webhook_url)
        await expect(row.locator("[data-test=health]")).to_have_attribute("data-state", "ok")
        assert telegram.webhook is not None and telegram.webhook["url"] == webhook_url
        await shot(page, "admin-03-channel-connected")
