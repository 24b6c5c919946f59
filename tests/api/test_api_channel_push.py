"""The API channel's replies reach the integration: pushed, signed, retried while it is down, reported back.

The integration is a real HTTP server; the delivery worker is driven by hand (``run_once``) on
the test's clock, so retries and their backoff are exact.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard.bootstrap import Container
from tests.support.clock import ManualClock
from tests.support.desk import Desk, taken_by_operator
from tests.support.providers.integration import Answer, Integration

SECRET = "shop-signing-secret-0001"
PHONE = "+79161234567"
DOCS = Path(__file__).parents[2] / "docs" / "api.md"


@pytest.fixture
def extra_settings() -> dict[str, object]:
    return {"delivery": False}  # the test sends by hand


@pytest.fixture
async def integration() -> Any:
    async with Integration().running() as running:
        yield running


async def _api_channel(client: httpx.AsyncClient, desk: Desk, settings: dict[str, Any], secrets: dict[str, str]) -> int:
    answer = await client.post(
        "/api/v1/channels",
        headers=desk.as_("admin"),
        json={"kind": "api", "name": "Shop", "line_id": desk.line_id, "settings": settings, "secrets": secrets},
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


async def _reply(client: httpx.AsyncClient, desk: Desk, channel_id: int, text: str) -> tuple[dict[str, Any], int]:
    """The customer writes (their system's id crm-1), the operator answers: (what was posted back, reply id)."""
    taken = await taken_by_operator(client, desk, channel_id, "Где заказ?", external_id="crm-1")
    sent = await client.post(
        f"/api/v1/conversations/{taken['conversation_id']}/replies", headers=desk.as_("operator"), json={"text": text}
    )
    assert sent.status_code == 201, sent.text
    return taken, int(sent.json()["id"])


async def _message(client: httpx.AsyncClient, desk: Desk, conversation_id: int, message_id: int) -> dict[str, Any]:
    listed = await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=desk.as_("supervisor"))
    return dict(next(m for m in listed.json() if m["id"] == message_id))


def _documented_verifier() -> Any:
    """The Python snippet of docs/api.md, run as the integration would paste it."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), re.S)
    (snippet,) = [b for b in blocks if "def verify_switchboard_signature" in b]
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)  # noqa: S102 - our own documentation, under test
    return namespace["verify_switchboard_signature"]


async def test_a_reply_is_pushed_signed_with_the_exact_body_and_reported_back(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, integration: Integration
) -> None:
    # given an API channel that pushes to the integration, which answers with its own id
    channel = await _api_channel(app_client, desk, {"webhook_url": integration.url}, {"webhook_secret": SECRET})
    shown = await app_client.get(f"/api/v1/channels/{channel}", headers=desk.as_("admin"))
    assert shown.json()["secrets"] == ["webhook_secret"] and SECRET not in shown.text
    integration.script = [Answer(200, b'{"external_id": "shop-77"}')]
    # when an operator replies
    taken, reply = await _reply(app_client, desk, channel, "Добрый день! Заказ отправлен.")
    outcomes = await container.delivery.run_once()
    # then the integration got exactly this body, signed over timestamp + body
    assert [(o.message_id, o.status) for o in outcomes] == [(reply, "sent")]
    (push,) = integration.pushes
    expected = {
        "type": "message.created",
        "id": f"message-{reply}",
        "channel_id": channel,
        "conversation_id": taken["conversation_id"],
        "contact_id": taken["contact_id"],
        "message_id": reply,
        "text": "Добрый день! Заказ отправлен.",
        "reply_to": "crm-1",
        "attachments": [],
        "recipient": {"identities": [{"kind": "phone", "value": PHONE}]},
    }
    assert push.body == json.dumps(expected, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = push.headers["x-switchboard-timestamp"]
    mac = hmac.new(SECRET.encode(), timestamp.encode() + b"." + push.body, hashlib.sha256).hexdigest()
    assert push.headers["x-switchboard-signature"] == f"sha256={mac}"
    assert (push.headers["x-switchboard-event"], push.headers["content-type"]) == (
        "message.created",
        "application/json",
    )
    # and the snippet in the docs accepts it, and refuses a changed body or another secret
    verify = _documented_verifier()
    assert verify(SECRET, push.headers, push.body) is True
    assert verify(SECRET, push.headers, push.body.replace(b"crm-1", b"crm-2")) is False
    assert verify("another-secret-000000", push.headers, push.body) is False
    # and the message is sent, under the integration's id
    message = await _message(app_client, desk, taken["conversation_id"], reply)
    assert (message["delivery_status"], message["external_id"]) == ("sent", "shop-77")

    # when the integration reports delivery by its id, twice, then a late "sent"
    report = {"channel_id": channel, "external_id": "shop-77", "status": "delivered"}
    first = await app_client.post("/api/v1/inbound/status", headers=desk.as_("integration"), json=report)
    again = await app_client.post("/api/v1/inbound/status", headers=desk.as_("integration"), json=report)
    late = await app_client.post(
        "/api/v1/inbound/status", headers=desk.as_("integration"), json={**report, "status": "sent"}
    )
    # then the status moved forward once and stays
    assert [(r.status_code, r.json()["delivery_status"]) for r in (first, again, late)] == [(200, "delivered")] * 3
    read = await app_client.post(
        "/api/v1/inbound/status",
        headers=desk.as_("integration"),
        json={"channel_id": channel, "message_id": reply, "status": "read"},
    )
    assert (read.status_code, read.json()["id"], read.json()["delivery_status"]) == (200, reply, "read")
    # and a message the channel never sent is a problem naming the field
    unknown = await app_client.post(
        "/api/v1/inbound/status", headers=desk.as_("integration"), json={**report, "external_id": "shop-404"}
    )
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["field"] == "external_id"
    other_channel = await app_client.post(
        "/api/v1/inbound/status",
        headers=desk.as_("integration"),
        json={"channel_id": desk.channel_id, "message_id": reply, "status": "read"},
    )
    assert (other_channel.status_code, other_channel.json()["field"]) == (404, "message_id")
    both = await app_client.post(
        "/api/v1/inbound/status", headers=desk.as_("integration"), json={**report, "message_id": reply}
    )
    assert (both.status_code, both.json()["field"]) == (422, "message_id")


async def test_a_down_integration_delays_the_reply_with_backoff_and_retry_after(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, integration: Integration, clock: ManualClock
) -> None:
    # given an integration that fails with a 500, then asks to wait 30 s, then takes the push
    channel = await _api_channel(app_client, desk, {"webhook_url": integration.url}, {"webhook_secret": SECRET})
    integration.script = [Answer(500, b"down"), Answer(429, b"slow down", {"retry-after": "30"}), Answer(200)]
    taken, reply = await _reply(app_client, desk, channel, "Ответ")
    # when the worker tries, then the reply waits, queued, with the reason
    assert [o.status for o in await container.delivery.run_once()] == ["retry"]
    message = await _message(app_client, desk, taken["conversation_id"], reply)
    assert message["delivery_status"] == "queued"
    assert message["error"] == "attempt 1 failed, retrying: the integration: HTTP 500 down"
    # and it is tried again after the backoff (2 s ± 20 %), then after the asked 30 s, not before
    clock.advance(seconds=3)
    assert [o.status for o in await container.delivery.run_once()] == ["retry"]
    clock.advance(seconds=29)
    assert await container.delivery.run_once() == []
    clock.advance(seconds=2)
    assert [o.status for o in await container.delivery.run_once()] == ["sent"]
    # then the integration saw the same push three times, and the reply is sent without an id of theirs
    assert len(integration.pushes) == 3 and len({p.body for p in integration.pushes}) == 1
    message = await _message(app_client, desk, taken["conversation_id"], reply)
    assert (message["delivery_status"], message["external_id"], message["error"]) == ("sent", None, None)


async def test_a_refused_push_fails_the_reply_without_retrying(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, integration: Integration, clock: ManualClock
) -> None:
    # given an integration that refuses the push with a 400
    channel = await _api_channel(app_client, desk, {"webhook_url": integration.url}, {"webhook_secret": SECRET})
    integration.script = [Answer(400, b'{"error": "unknown customer"}')]
    taken, reply = await _reply(app_client, desk, channel, "Ответ")
    # when the worker tries
    assert [o.status for o in await container.delivery.run_once()] == ["failed"]
    # then the reply failed with the integration's reason, and is never tried again
    message = await _message(app_client, desk, taken["conversation_id"], reply)
    assert message["delivery_status"] == "failed"
    assert message["error"] == 'the integration: HTTP 400 {"error": "unknown customer"}'
    clock.advance(hours=1)
    assert await container.delivery.run_once() == []
    assert len(integration.pushes) == 1
    shown = await app_client.get(f"/api/v1/channels/{channel}", headers=desk.as_("admin"))
    assert shown.json()["health"]["failing"] is True and shown.json()["waiting"] == 0


async def test_without_a_webhook_url_replies_wait_for_the_integration_to_read_them(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given the desk's API channel, which has no webhook_url
    taken, reply = await _reply(app_client, desk, desk.channel_id, "Ответ")
    # when the worker runs, then nothing is sent and the reply is readable, queued
    assert await container.delivery.run_once() == []
    message = await _message(app_client, desk, taken["conversation_id"], reply)
    assert (message["direction"], message["text"], message["delivery_status"]) == ("out", "Ответ", "queued")
    shown = await app_client.get(f"/api/v1/channels/{desk.channel_id}", headers=desk.as_("admin"))
    assert shown.json()["waiting"] == 0


@pytest.mark.parametrize(
    ("settings", "secrets", "field"),
    [
        ({"webhook_url": "ftp://shop.example/hook"}, {"webhook_secret": SECRET}, "settings.webhook_url"),
        ({"webhook_url": "::::"}, {"webhook_secret": SECRET}, "settings.webhook_url"),
        ({"webhook_url": "https://shop.example/hook"}, {}, "secrets.webhook_secret"),
        ({"webhook_url": "https://shop.example/hook"}, {"webhook_secret": "short"}, "secrets.webhook_secret"),
    ],
)
async def test_a_pushing_channel_needs_a_url_and_a_secret(
    app_client: httpx.AsyncClient, desk: Desk, settings: dict[str, Any], secrets: dict[str, str], field: str
) -> None:
    answer = await app_client.post(
        "/api/v1/channels",
        headers=desk.as_("admin"),
        json={"kind": "api", "name": "Shop", "line_id": desk.line_id, "settings": settings, "secrets": secrets},
    )
    assert (answer.status_code, answer.json()["field"]) == (422, field)
    listed = await app_client.get("/api/v1/channels", headers=desk.as_("admin"))
    assert [c["name"] for c in listed.json()] == ["Website"]


async def test_connect_sends_a_signed_ping(app_client: httpx.AsyncClient, desk: Desk, integration: Integration) -> None:
    # given a pushing channel
    channel = await _api_channel(app_client, desk, {"webhook_url": integration.url}, {"webhook_secret": SECRET})
    # when an admin connects it, then the integration gets a signed ping and the admin sees it answered
    connected = await app_client.post(f"/api/v1/channels/{channel}/connect", headers=desk.as_("admin"))
    assert connected.status_code == 200, connected.text
    (ping,) = integration.pushes
    assert json.loads(ping.body) == {"type": "ping", "channel_id": channel}
    assert ping.headers["x-switchboard-event"] == "ping"
    assert _documented_verifier()(SECRET, ping.headers, ping.body) is True
    # and a refusal is shown as the integration's answer
    integration.script = [Answer(401, b"bad signature")]
    refused = await app_client.post(f"/api/v1/channels/{channel}/connect", headers=desk.as_("admin"))
    assert refused.status_code == 409
    assert refused.json()["detail"] == "the provider refused: the integration: HTTP 401 bad signature"
