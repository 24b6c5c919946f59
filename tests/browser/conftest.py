"""Browser journeys: the built web UI on a real server (uvicorn on loopback, real clock, routing on),
driven by Playwright in Debian's Chromium. No browser is downloaded: ``/usr/bin/chromium`` or skip
(fail under CI=true). Screenshots of every screen go to ``var/screenshots/``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from switchboard.bootstrap import Container, build
from switchboard.config import load_settings
from switchboard.web.app import create_app
from switchboard.web.spa import STATIC
from tests.conftest import RUN, empty_tables
from tests.support.desk import Desk, given_desk
from tests.support.server import serving

CHROMIUM = os.environ.get("SWITCHBOARD_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
# the machine is shared: a routing decision or a page load can take seconds under load, never fifteen
expect.set_options(timeout=15_000)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


def _require(condition: bool, message: str) -> None:
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: a missing prerequisite is a failure)")
    pytest.skip(message)


def _prerequisites() -> None:
    _require(shutil.which(CHROMIUM) is not None, f"{CHROMIUM} is missing (apt-get install chromium)")
    _require((STATIC / "index.html").is_file(), "the web UI is not built (make ui)")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    _prerequisites()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class Site:
    url: str
    desk: Desk
    container: Container
    api: httpx.AsyncClient


@pytest.fixture
async def site(database_url: str) -> AsyncIterator[Site]:
    """The whole server with the built UI, on a free loopback port, with a small desk of people and a line."""
    settings = load_settings(
        database_url=database_url,
        bus_url="memory://",
        bus_namespace=f"b{RUN}",
        db_pool_size=5,
        routing=True,
        disconnect_grace_seconds=0,
    )
    container = build(settings, fast_hashing=True)
    await empty_tables(container.database)
    app = create_app(container)
    async with serving(app) as address, httpx.AsyncClient(base_url=f"http://{address}") as api:
        desk = await given_desk(container.services, api)
        yield Site(f"http://{address}", desk, container, api)


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    made = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    try:
        yield made
    finally:
        await made.close()


async def sign_in(page: Page, site: Site, login: str, password: str) -> None:
    await page.goto(site.url + "/")
    await page.fill("input[name=login]", login)
    await page.fill("input[name=password]", password)
    await page.click("[data-test=sign-in]")
    await page.wait_for_url(lambda url: "/login" not in url)


async def shot(page: Page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=str(path))
    return path
