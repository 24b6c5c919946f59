"""Issue 5's "done when": one customer in Telegram, WhatsApp and SMS is one contact with one timeline.

Every provider is a local server that speaks its documented API; webhooks go through our public
route exactly as the providers send them (signed, secret headers); the delivery worker sends the
operators' replies to those servers; delivery statuses come back by webhook.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from switchboard.bootstrap import Container
from tests.support.desk import Desk
from tests.support.providers import fixture
from tests.support.providers import meta as graph_fixtures
from tests.support.providers.meta import MetaGraph, meta_graph, post_webhook
from tests.support.providers.telegram import FakeTelegram
from tests.support.providers.twilio import ACCOUNT_SID, AUTH_TOKEN, NUMBER, TwilioLike
from tests.support.server import serving

BASE = "http://switchboard.test"
PHONE = "+79161234567"


async def create(
    client: httpx.AsyncClient, desk: Desk, kind: str, settings: dict[str, Any], secrets: dict[str, str]
) -> int:
    answer = await client.post(
        "/api/v1/channels",
        headers=desk.as_("admin"),
        json={"kind": kind, "name": kind, "line_id": desk.line_id, "settings": settings, "secrets": secrets},
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


async def reply(client: httpx.AsyncClient, desk: Desk, conversation_id: int, text: str) -> int:
    assigned = await client.post(
        f"/api/v1/conversations/{conversation_id}/assign",
        headers=desk.as_("supervisor"),
        json={"operator_id": desk.operator_id},
    )
    assert assigned.status_code == 200, assigned.text
    sent = await client.post(
        f"/api/v1/conversations/{conversation_id}/replies", headers=desk.as_("operator"), json={"text": text}
    )
    assert sent.status_code == 201, sent.text
    return int(sent.json()["id"])


async def delivery_status(client: httpx.AsyncClient, desk: Desk, conversation_id: int, message_id: int) -> str:
    listed = await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=desk.as_("supervisor"))
    return str(next(m for m in listed.json() if m["id"] == message_id)["delivery_status"])


async def until_status(client: httpx.AsyncClient, desk: Desk, conversation_id: int, message_id: int, want: str) -> None:
    for _ in range(200):
        if await delivery_status(client, desk, conversation_id, message_id) == want:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"message {message_id} never became {want}")


async def conversation_of(client: httpx.AsyncClient, desk: Desk, channel_id: int) -> int:
    listed = await client.get("/api/v1/conversations", headers=desk.as_("supervisor"))
    return int(next(c["id"] for c in listed.json() if c["channel_id"] == channel_id))


@pytest.fixture
async def providers() -> Any:
    twilio = TwilioLike()
    async with FakeTelegram().running() as telegram, meta_graph() as graph, serving(twilio.app) as address:
        yield telegram, graph, twilio, f"http://{address}"


async def test_telegram_whatsapp_and_sms_from_one_number_are_one_contact_and_each_reply_reaches_its_provider(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, providers: Any
) -> None:
    telegram, graph, twilio, twilio_base = providers
    assert isinstance(telegram, FakeTelegram) and isinstance(graph, MetaGraph) and isinstance(twilio, TwilioLike)

    # given three channels wired to their providers
    tg = await create(app_client, desk, "telegram", {"api_base": telegram.base_url}, {"bot_token": telegram.token})
    connected = await app_client.post(f"/api/v1/channels/{tg}/connect", headers=desk.as_("admin"))
    assert connected.status_code == 200, connected.text
    assert telegram.webhook is not None and telegram.webhook["url"] == f"{BASE}/api/v1/channels/{tg}/webhook"
    wa = await create(
        app_client,
        desk,
        "whatsapp",
        {"phone_number_id": graph_fixtures.PHONE_NUMBER_ID, "api_base": graph.api_base},
        {
            "access_token": graph_fixtures.ACCESS_TOKEN,
            "app_secret": graph_fixtures.APP_SECRET,
            "verify_token": graph_fixtures.VERIFY_TOKEN,
        },
    )
    sms_settings = {"provider": "twilio", "account_sid": ACCOUNT_SID, "from": NUMBER, "base_url": twilio_base}
    sms = await create(
        app_client, desk, "sms", {**sms_settings, "webhook_url": f"{BASE}/pending"}, {"auth_token": AUTH_TOKEN}
    )
    sms_url = f"{BASE}/api/v1/channels/{sms}/webhook"  # Twilio signs the exact URL it calls
    patched = await app_client.patch(
        f"/api/v1/channels/{sms}",
        headers=desk.as_("admin"),
        json={"settings": {**sms_settings, "webhook_url": sms_url}},
    )
    assert patched.status_code == 200, patched.text

    # when Meta verifies the WhatsApp webhook, then the challenge is echoed
    handshake = await app_client.get(f"/api/v1/channels/{wa}/webhook", params=graph_fixtures.verification_query())
    assert (handshake.status_code, handshake.text) == (200, "1158201444")

    # when the customer shares their phone in Telegram, writes in WhatsApp and texts by SMS from that number
    update = telegram.webhook_request(fixture("telegram", "contact"))
    taken = await app_client.post(f"/api/v1/channels/{tg}/webhook", content=update.body, headers=dict(update.headers))
    assert taken.status_code == 200, taken.text
    taken = await post_webhook(
        app_client, f"/api/v1/channels/{wa}/webhook", graph_fixtures.load_fixture("whatsapp_text.json")
    )
    assert taken.status_code == 200, taken.text
    call = twilio.inbound(sms_url, From=PHONE, Body="Это я, по SMS")
    taken = await app_client.post(f"/api/v1/channels/{sms}/webhook", content=call.body, headers=call.headers)
    assert taken.status_code == 200, taken.text

    # then there is exactly one contact with that phone, and its timeline holds all three channels
    found = await app_client.get("/api/v1/contacts", params={"phone": PHONE}, headers=desk.as_("supervisor"))
    assert len(found.json()) == 1, found.text
    contact = found.json()[0]
    kinds = {(i["kind"], i["value"]) for i in contact["identities"]}
    assert {("phone", PHONE), ("telegram", "1111111")} <= kinds
    timeline = await app_client.get(f"/api/v1/contacts/{contact['id']}/timeline", headers=desk.as_("supervisor"))
    assert {e["channel"] for e in timeline.json()["items"] if e["kind"] == "message"} == {"telegram", "whatsapp", "sms"}

    # when an operator answers in each conversation
    tg_conversation = await conversation_of(app_client, desk, tg)
    wa_conversation = await conversation_of(app_client, desk, wa)
    sms_conversation = await conversation_of(app_client, desk, sms)
    tg_reply = await reply(app_client, desk, tg_conversation, "Здравствуйте! Чем помочь?")
    wa_reply = await reply(app_client, desk, wa_conversation, "Да, доставляем в Казань.")
    sms_reply = await reply(app_client, desk, sms_conversation, "Получили ваше SMS.")

    # then each provider's server receives the right payload and each reply is sent
    for conversation_id, message_id in (
        (tg_conversation, tg_reply),
        (wa_conversation, wa_reply),
        (sms_conversation, sms_reply),
    ):
        await until_status(app_client, desk, conversation_id, message_id, "sent")
    assert [(m.method, m.chat_id, m.text) for m in telegram.sent] == [
        ("sendMessage", "1111111", "Здравствуйте! Чем помочь?")
    ]
    whatsapp_sent = graph.sent()
    assert len(whatsapp_sent) == 1
    assert whatsapp_sent[0].json["to"] == "79161234567"
    assert whatsapp_sent[0].json["text"]["body"] == "Да, доставляем в Казань."
    assert [(m["To"], m["Body"], m["StatusCallback"]) for m in twilio.messages] == [
        (PHONE, "Получили ваше SMS.", sms_url)
    ]

    # when the providers report delivery, then the statuses show on the messages
    statuses = graph_fixtures.load_fixture("whatsapp_statuses.json")
    for status in statuses["entry"][0]["changes"][0]["value"]["statuses"]:
        status["id"] = "wamid.out-1"
    posted = await post_webhook(app_client, f"/api/v1/channels/{wa}/webhook", statuses)
    assert posted.status_code == 200, posted.text
    callback = twilio.status_callback(sms_url, f"SM{1:032x}", "delivered")  # the sid its API gave the reply
    posted = await app_client.post(f"/api/v1/channels/{sms}/webhook", content=callback.body, headers=callback.headers)
    assert posted.status_code == 200, posted.text
    assert await delivery_status(app_client, desk, wa_conversation, wa_reply) == "read"
    assert await delivery_status(app_client, desk, sms_conversation, sms_reply) == "delivered"


async def test_a_forged_webhook_is_refused_and_nothing_is_stored(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, providers: Any
) -> None:
    telegram, graph, _, _ = providers
    tg = await create(
        app_client,
        desk,
        "telegram",
        {"api_base": telegram.base_url},
        {"bot_token": telegram.token, "webhook_secret": "right-secret-1"},
    )
    wa = await create(
        app_client,
        desk,
        "whatsapp",
        {"phone_number_id": graph_fixtures.PHONE_NUMBER_ID, "api_base": graph.api_base},
        {"access_token": "t", "app_secret": graph_fixtures.APP_SECRET, "verify_token": "v"},
    )
    # when Telegram's secret header is wrong, and when the Meta signature is made with another secret
    update = telegram.webhook_request(fixture("telegram", "text"), secret="wrong-secret-1")
    forged_tg = await app_client.post(
        f"/api/v1/channels/{tg}/webhook", content=update.body, headers=dict(update.headers)
    )
    forged_wa = await post_webhook(
        app_client,
        f"/api/v1/channels/{wa}/webhook",
        graph_fixtures.load_fixture("whatsapp_text.json"),
        app_secret="x" * 32,
    )
    # then both are refused with a problem, and no conversation exists
    assert (forged_tg.status_code, forged_wa.status_code) == (401, 401)
    assert forged_tg.headers["content-type"] == "application/problem+json"
    listed = await app_client.get("/api/v1/conversations", headers=desk.as_("supervisor"))
    assert listed.json() == []
