"""The demo page in a real browser: a visitor chats with an operator who answers through the API."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from switchboard.bootstrap import Container
from switchboard.web.app import create_app
from tests.api.test_routing import go, settle
from tests.support.desk import Desk
from tests.support.server import serving

pytestmark = pytest.mark.browser


@pytest.fixture
def routing_on() -> bool:
    return True


async def eventually(check: Callable[[], Awaitable[Any]], container: Container, seconds: float = 10.0) -> Any:
    """Poll until ``check`` returns something truthy, letting events flow meanwhile."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        await settle(container)
        found = await check()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.1)


async def test_a_visitor_chats_on_the_demo_page_and_rates_the_operator(
    container: Container, app_client: httpx.AsyncClient, desk: Desk, browser: Any
) -> None:
    made = await app_client.post(
        "/api/v1/channels",
        headers=desk.as_("admin"),
        json={
            "kind": "webchat",
            "name": "Чат на сайте",
            "line_id": desk.line_id,
            "settings": {"prechat": {"fields": [{"name": "name", "required": True}, {"name": "email"}]}},
        },
    )
    assert made.status_code == 201, made.text
    supervisor = desk.as_("supervisor")
    async with serving(create_app(container, manage_lifecycle=False)) as host:
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        # given a visitor on the company's page, who came from a newsletter
        await page.goto(f"http://{host}/demo/chat?utm_source=newsletter&utm_campaign=may")
        await page.get_by_role("button", name="Открыть чат").click()
        dialog = page.get_by_role("dialog", name="Чат на сайте")
        # when they fill the pre-chat form and write
        await page.get_by_label("Имя (обязательно)").fill("Мария Садовая")
        await page.get_by_label("Email").fill("maria@garden.example")
        await page.get_by_label("Согласен(на) на обработку персональных данных").check()
        await page.get_by_role("button", name="Начать чат").click()
        message = page.get_by_role("textbox", name="Сообщение")
        await message.fill("Здравствуйте! Есть ли семена томатов «Бычье сердце»?")
        await message.press("Enter")

        async def conversations() -> list[dict[str, Any]]:
            found = await app_client.get("/api/v1/conversations", headers=supervisor, params={"line_id": desk.line_id})
            return list(found.json())

        (conversation,) = await eventually(conversations, container)
        conversation_id = conversation["id"]
        assert conversation["source"]["utm_source"] == "newsletter"
        # and an operator comes online, accepts the offer and answers through the API
        await go(app_client, desk, "operator")
        offers = await eventually(lambda: _offers(app_client, desk), container)
        assert [o["conversation_id"] for o in offers] == [conversation_id]
        accepted = await app_client.post(
            f"/api/v1/conversations/{conversation_id}/accept", headers=desk.as_("operator")
        )
        assert accepted.status_code == 204, accepted.text
        await page.get_by_text("К чату подключился(ась) Olga").wait_for()
        typing = await app_client.post(f"/api/v1/conversations/{conversation_id}/typing", headers=desk.as_("operator"))
        assert typing.status_code == 202
        await page.get_by_text("Оператор печатает…").wait_for()
        replied = await app_client.post(
            f"/api/v1/conversations/{conversation_id}/replies",
            headers=desk.as_("operator"),
            json={"text": "Добрый день, Мария! Да, есть, 89 ₽ за пакетик."},
        )
        assert replied.status_code == 201, replied.text
        # then the visitor sees the reply, and the desk sees it read
        await dialog.get_by_text("Добрый день, Мария! Да, есть, 89 ₽ за пакетик.").wait_for()

        async def read() -> bool:
            stored = await app_client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=supervisor)
            return any(m["direction"] == "out" and m["delivery_status"] == "read" for m in stored.json())

        assert await eventually(read, container)
        # when the operator closes the conversation, the visitor is asked for a rating and gives one
        closed = await app_client.post(f"/api/v1/conversations/{conversation_id}/close", headers=desk.as_("operator"))
        assert closed.status_code == 200, closed.text
        await page.get_by_text("Оцените, пожалуйста, разговор").wait_for()
        await page.get_by_role("radio", name="5 — Отлично").check()
        await page.get_by_placeholder("Комментарий (необязательно)").fill("Быстро и вежливо")
        await page.get_by_role("button", name="Оценить").click()
        await page.get_by_text("Спасибо за оценку!").wait_for()
        await page.screenshot(path=str(_shot()), full_page=False)
        # then the rating is stored for the conversation, and the contact is the one the form named
        async with container.services.uow(read_only=True) as uow:
            rating = await uow.webchat.rating(conversation_id)
        assert rating is not None and (rating.score, rating.comment) == (5, "Быстро и вежливо")
        contact = await app_client.get(f"/api/v1/contacts/{conversation['contact_id']}", headers=supervisor)
        assert contact.json()["name"] == "Мария Садовая"
        assert {i["kind"] for i in contact.json()["identities"]} == {"email", "visitor"}
        assert problems == []


async def _offers(client: httpx.AsyncClient, desk: Desk) -> list[dict[str, Any]]:
    return list((await client.get("/api/v1/me/offers", headers=desk.as_("operator"))).json())


def _shot() -> Any:
    import tempfile
    from pathlib import Path

    return Path(tempfile.gettempdir()) / "switchboard-demo-chat.png"
