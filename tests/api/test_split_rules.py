"""One channel, several lines: split rules by language, keyword, dialled number and segment."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.desk import Desk, inbound


async def _english_line(client: httpx.AsyncClient, desk: Desk) -> int:
    made = await client.post(
        "/api/v1/lines", headers=desk.as_("admin"), json={"name": "English", "operator_ids": [desk.other_operator_id]}
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


async def _line_of(client: httpx.AsyncClient, desk: Desk, body: dict[str, Any]) -> int:
    answer = await client.post("/api/v1/inbound", headers=desk.as_("integration"), json=body)
    assert answer.status_code == 201, answer.text
    conversation = await client.get(
        f"/api/v1/conversations/{answer.json()['conversation_id']}", headers=desk.as_("supervisor")
    )
    return int(conversation.json()["line_id"])


async def test_rules_send_one_channels_conversations_to_different_lines(
    app_client: httpx.AsyncClient, desk: Desk
) -> None:
    # given the website channel splits English, invoices and the partners' number to another line
    english = await _english_line(app_client, desk)
    rules = [
        {"line_id": english, "languages": ["en"]},
        {"line_id": english, "keywords": ["invoice"]},
        {"line_id": english, "dnis": ["+74951230000"]},
    ]
    saved = await app_client.patch(
        f"/api/v1/channels/{desk.channel_id}", headers=desk.as_("admin"), json={"settings": {"split_rules": rules}}
    )
    assert saved.status_code == 200, saved.text
    # when customers write, then each conversation lands on the line its rule names
    in_english = {**inbound(desk.channel_id, "Hello", phone="+79160000901"), "language": "en"}
    assert await _line_of(app_client, desk, in_english) == english
    assert (
        await _line_of(app_client, desk, inbound(desk.channel_id, "Where is my Invoice?", phone="+79160000902"))
        == english
    )
    dialled = inbound(desk.channel_id, "Звонок", phone="+79160000903")
    dialled["source"] = {"dialled_number": "+74951230000"}
    assert await _line_of(app_client, desk, dialled) == english
    assert (
        await _line_of(app_client, desk, inbound(desk.channel_id, "Добрый день", phone="+79160000904")) == desk.line_id
    )


async def test_a_vip_segment_rule_uses_the_contacts_tier(app_client: httpx.AsyncClient, desk: Desk) -> None:
    vip_line = await _english_line(app_client, desk)
    await app_client.patch(
        f"/api/v1/channels/{desk.channel_id}",
        headers=desk.as_("admin"),
        json={"settings": {"split_rules": [{"line_id": vip_line, "segments": ["vip"]}]}},
    )
    first = await app_client.post(
        "/api/v1/inbound", headers=desk.as_("integration"), json=inbound(desk.channel_id, "1", phone="+79160000905")
    )
    contact_id = first.json()["contact_id"]
    await app_client.post(
        f"/api/v1/conversations/{first.json()['conversation_id']}/close", headers=desk.as_("supervisor")
    )
    await app_client.patch(f"/api/v1/contacts/{contact_id}", headers=desk.as_("supervisor"), json={"tier": "vip"})
    other = await app_client.post(
        "/api/v1/channels",
        headers=desk.as_("admin"),
        json={
            "kind": "api",
            "name": "App",
            "line_id": desk.line_id,
            "settings": {"split_rules": [{"line_id": vip_line, "segments": ["vip"]}]},
        },
    )
    assert await _line_of(app_client, desk, inbound(other.json()["id"], "2", phone="+79160000905")) == vip_line


async def test_bad_rules_are_refused_naming_the_field(app_client: httpx.AsyncClient, desk: Desk) -> None:
    bad = await app_client.patch(
        f"/api/v1/channels/{desk.channel_id}",
        headers=desk.as_("admin"),
        json={"settings": {"split_rules": [{"keywords": ["x"]}]}},
    )
    assert (bad.status_code, bad.json()["field"]) == (422, "settings.split_rules.0")
    missing = await app_client.patch(
        f"/api/v1/channels/{desk.channel_id}",
        headers=desk.as_("admin"),
        json={"settings": {"split_rules": [{"line_id": 999}]}},
    )
    assert (missing.status_code, missing.json()["field"]) == (422, "line_id")
    channel = await app_client.get(f"/api/v1/channels/{desk.channel_id}", headers=desk.as_("admin"))
    assert channel.json()["settings"] == {}
