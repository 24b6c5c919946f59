"""The IVR through the call control, on both databases: DNIS and VIP routing, client codes, self-service,
voicemail, and trees checked when saved."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from switchboard.bootstrap import Container
from tests.api.test_routing import go, settle
from tests.api.test_voice import call_record
from tests.support.clock import ManualClock
from tests.support.desk import Desk, inbound
from tests.support.pbx import MAIN_NUMBER, SECRET, VIP_NUMBER, Pbx, phone_channel


@pytest.fixture
def routing_on() -> bool:
    return True


@pytest.fixture
def extra_settings() -> dict[str, object]:
    return {"voice_sweep_seconds": 0}


async def vip_line(client: httpx.AsyncClient, desk: Desk) -> int:
    """A second line staffed by ivan only: the VIP line."""
    made = await client.post(
        "/api/v1/lines", headers=desk.as_("admin"), json={"name": "VIP", "operator_ids": [desk.other_operator_id]}
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def tree(vip_line_id: int) -> dict[str, Any]:
    return {
        "start": "by_number",
        "nodes": {
            "by_number": {"type": "switch", "on": "dnis", "cases": {VIP_NUMBER: "vip"}, "default": "by_caller"},
            "by_caller": {"type": "switch", "on": "caller", "cases": {"vip": "vip"}, "default": "main"},
            "vip": {"type": "enqueue", "line_id": vip_line_id, "prompt": "vip-hold.wav"},
            "main": {
                "type": "menu",
                "prompt": {"ru": "Статус — 1, перезвонить — 2, код клиента — 3, сообщение — 4, оператор — 0"},
                "options": {"1": "status", "2": "callback", "3": "code", "4": "vm", "5": "duty", "0": "queue"},
                "on_fail": "queue",
            },
            "status": {"type": "status", "next": "main"},
            "callback": {"type": "callback", "prompt": "Мы перезвоним", "failed": "Номер скрыт", "next": "bye"},
            "code": {
                "type": "identify",
                "by": "code",
                "prompt": "Введите код клиента",
                "found": "by_caller",
                "not_found": "queue",
            },
            "duty": {"type": "connect", "target": "sip:duty@pbx.test", "timeout_s": 20, "on_fail": "vm"},
            "vm": {"type": "voicemail", "prompt": "Оставьте сообщение после сигнала", "max_s": 60},
            "queue": {"type": "enqueue"},
            "bye": {"type": "hangup", "prompt": "До свидания"},
        },
    }


@pytest.fixture
async def vip(app_client: httpx.AsyncClient, desk: Desk) -> int:
    return await vip_line(app_client, desk)


@pytest.fixture
async def pbx(app_client: httpx.AsyncClient, desk: Desk, clock: ManualClock, container: Container, vip: int) -> Pbx:
    channel_id = await phone_channel(app_client, desk, ivr=tree(vip))
    await settle(container)
    return Pbx(app_client, channel_id, clock)


async def contact(client: httpx.AsyncClient, desk: Desk, name: str, tier: str, **identity: str) -> int:
    body = {"name": name, "tier": tier, "identities": [{"kind": k, "value": v} for k, v in identity.items()]}
    made = await client.post("/api/v1/contacts", headers=desk.as_("supervisor"), json=body)
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


async def test_the_vip_number_routes_to_a_free_vip_operator(
    app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx, container: Container, vip: int
) -> None:
    # given ivan (the VIP line's operator) and olga both available
    await go(app_client, desk, "operator")
    await go(app_client, desk, "operator2")
    await settle(container)
    # when someone dials the number only VIP clients know
    first = await pbx.call("c-1", ani="+79165550000", dnis=VIP_NUMBER)
    # then no menu: straight to the VIP line, and the call rings ivan
    assert (first["action"], first["line_id"], first["prompts"]) == ("enqueue", vip, ["vip-hold.wav"])
    await settle(container)
    ring = await pbx.result("c-1", "waited")
    assert (ring["action"], ring["operator_id"]) == ("connect", desk.other_operator_id)
    record = await call_record(app_client, desk, (await pbx.event("c-1", "ringing"))["call_id"])
    assert (record["ivr_path"], record["dnis"], record["line_id"]) == (["by_number", "vip"], VIP_NUMBER, vip)


async def test_a_known_vip_calling_the_main_number_is_recognised_by_number(
    app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx, container: Container, vip: int
) -> None:
    await contact(app_client, desk, "Важный Клиент", "vip", phone="+79165551111")
    first = await pbx.call("c-1", ani="+7 916 555-11-11", dnis=MAIN_NUMBER)
    assert (first["action"], first["line_id"]) == ("enqueue", vip)


async def test_a_client_code_identifies_the_caller_from_any_phone(
    app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx, container: Container, vip: int
) -> None:
    # given a VIP client with the code 4242, calling from a phone nobody knows
    client_id = await contact(app_client, desk, "Важный Клиент", "vip", client_code="4242")
    menu = await pbx.call("c-1", ani="+79160009999")
    assert (menu["action"], menu["max_digits"]) == ("collect", 1)
    asked = await pbx.result("c-1", "digits", "3")
    assert (asked["action"], asked["prompts"], asked["min_digits"], asked["max_digits"]) == (
        "collect",
        ["Введите код клиента"],
        4,
        12,
    )
    # when they key in a wrong code, then theirs
    again = await pbx.result("c-1", "digits", "1111")
    assert (again["action"], again["prompts"]) == ("collect", ["Введите код клиента"])
    queued = await pbx.result("c-1", "digits", "4242")
    # then they are recognised as the VIP and go to the VIP line; the call belongs to their contact
    assert (queued["action"], queued["line_id"]) == ("enqueue", vip)
    await settle(container)
    record = await call_record(app_client, desk, (await pbx.event("c-1", "hangup"))["call_id"])
    assert record["contact_id"] == client_id
    assert record["ivr_path"] == ["by_number", "by_caller", "main", "code", "by_caller", "vip"]


async def test_self_service_tells_the_status_of_an_open_request(
    app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx, container: Container
) -> None:
    # given a customer with an open chat conversation waiting for an operator
    written = await app_client.post(
        "/api/v1/inbound",
        headers=desk.as_("integration"),
        json=inbound(desk.channel_id, "Где заказ?", phone="+79161112233"),
    )
    conversation_id = written.json()["conversation_id"]
    await settle(container)
    # when they call and press 1
    await pbx.call("c-1", ani="+79161112233")
    said = await pbx.result("c-1", "digits", "1")
    # then they hear it, and are back in the menu
    assert (said["action"], said["prompts"]) == (
        "play",
        [f"Ваше обращение номер {conversation_id}: ожидает оператора."],
    )
    back = await pbx.result("c-1", "done")
    assert back["action"] == "collect"


async def test_a_callback_ordered_from_the_menu_is_on_the_list_and_the_call_ends_in_the_ivr(
    app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx, container: Container
) -> None:
    await pbx.call("c-1", ani="+79161112233")
    confirmed = await pbx.result("c-1", "digits", "2")
    assert (confirmed["action"], confirmed["prompts"]) == ("play", ["Мы перезвоним"])
    goodbye = await pbx.result("c-1", "done")
    assert (goodbye["action"], goodbye["prompts"]) == ("hangup", ["До свидания"])
    ended = await pbx.event("c-1", "hangup")
    record = await call_record(app_client, desk, ended["call_id"])
    assert (record["disposition"], record["end_reason"], record["conversation_id"]) == ("ivr", "ivr", None)
    callbacks = (await app_client.get("/api/v1/voice/callbacks", headers=desk.as_("operator"))).json()
    assert [(c["number"], c["reason"], c["call_id"], c["line_id"]) for c in callbacks] == [
        ("+79161112233", "ivr", record["id"], desk.line_id)
    ]


async def test_a_withheld_number_cannot_order_a_callback(pbx: Pbx) -> None:
    await pbx.call("c-1", ani="anonymous")
    said = await pbx.result("c-1", "digits", "2")
    assert said["prompts"] == ["Номер скрыт"]


async def test_voicemail_is_recorded_and_called_back(
    app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx, container: Container
) -> None:
    await pbx.call("c-1", ani="+79161112233")
    recording = await pbx.result("c-1", "digits", "4")
    assert (recording["action"], recording["max_s"], recording["prompts"]) == (
        "voicemail",
        60.0,
        ["Оставьте сообщение после сигнала"],
    )
    done = await pbx.result("c-1", "done")
    assert done["action"] == "hangup"
    await pbx.event("c-1", "recording", recording_url="https://pbx.test/vm/c-1.wav")
    ended = await pbx.event("c-1", "hangup")
    record = await call_record(app_client, desk, ended["call_id"])
    assert (record["disposition"], record["recording_url"]) == ("voicemail", "https://pbx.test/vm/c-1.wav")
    callbacks = (await app_client.get("/api/v1/voice/callbacks", headers=desk.as_("supervisor"))).json()
    assert [c["reason"] for c in callbacks] == ["voicemail"]


async def test_the_menu_puts_the_call_through_to_a_number_and_falls_back_to_voicemail(
    app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx, clock: ManualClock
) -> None:
    # given a caller who asks for the duty officer, whose phone is nobody's desk
    await pbx.call("c-1")
    through = await pbx.result("c-1", "digits", "5")
    assert (through["action"], through["target"], through["operator_id"], through["timeout_s"]) == (
        "connect",
        "sip:duty@pbx.test",
        None,
        20.0,
    )
    rang = await pbx.event("c-1", "ringing", extension="sip:duty@pbx.test")
    assert (rang["applied"], rang["detail"]) == (True, "no operator's phone: nothing to pop")
    await pbx.event("c-1", "answered")
    clock.advance(seconds=45)
    ended = await pbx.event("c-1", "hangup")
    record = await call_record(app_client, desk, ended["call_id"])
    assert (record["disposition"], record["talk_s"], record["conversation_id"]) == ("answered", 45.0, None)
    assert record["ivr_path"][-1] == "duty"
    # and when the duty phone is not answered, the caller may leave a message
    await pbx.call("c-2")
    await pbx.result("c-2", "digits", "5")
    message = await pbx.result("c-2", "no_answer")
    assert (message["action"], message["max_s"]) == ("voicemail", 60.0)


# --- settings -----------------------------------------------------------------------------------


async def patch_channel(
    client: httpx.AsyncClient, desk: Desk, channel_id: int, settings: dict[str, Any]
) -> httpx.Response:
    return await client.patch(f"/api/v1/channels/{channel_id}", headers=desk.as_("admin"), json={"settings": settings})


async def test_a_broken_tree_is_refused_naming_the_node_and_nothing_changes(
    app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx, vip: int
) -> None:
    broken = tree(vip)
    broken["nodes"]["main"]["options"]["5"] = "sales"
    answer = await patch_channel(app_client, desk, pbx.channel_id, {"secret": SECRET, "ivr": broken})
    assert answer.status_code == 422
    assert answer.json()["field"] == "settings.ivr.nodes.main.options.5"
    assert answer.json()["detail"] == "settings.ivr.nodes.main.options.5: goes to 'sales', which is not a node"
    missing_line = tree(vip)
    missing_line["nodes"]["vip"]["line_id"] = 999
    answer = await patch_channel(app_client, desk, pbx.channel_id, {"secret": SECRET, "ivr": missing_line})
    assert (answer.status_code, answer.json()["field"]) == (422, "settings.ivr.nodes.vip.line_id")
    short = await patch_channel(app_client, desk, pbx.channel_id, {"secret": "short"})
    assert (short.status_code, short.json()["field"]) == (422, "settings.secret")
    # the channel still works with the tree it had
    assert (await pbx.call("c-1", dnis=VIP_NUMBER))["line_id"] == vip


async def test_a_line_tree_is_checked_too(app_client: httpx.AsyncClient, desk: Desk) -> None:
    answer = await app_client.patch(
        f"/api/v1/lines/{desk.line_id}",
        headers=desk.as_("admin"),
        json={"routing": {"ivr": {"start": "main", "nodes": {"main": {"type": "menu", "prompt": "x", "options": {}}}}}},
    )
    assert answer.status_code == 422
    assert answer.json()["field"] == "routing.ivr.nodes.main.options"


async def test_the_secret_is_never_shown_and_an_edit_with_the_mask_keeps_it(
    app_client: httpx.AsyncClient, desk: Desk, pbx: Pbx
) -> None:
    shown = (await app_client.get(f"/api/v1/channels/{pbx.channel_id}", headers=desk.as_("operator"))).json()
    assert shown["settings"]["secret"] == "********"
    listed = (await app_client.get("/api/v1/channels", headers=desk.as_("admin"))).json()
    assert SECRET not in str(listed)
    edited = await patch_channel(app_client, desk, pbx.channel_id, {**shown["settings"], "poll_after_s": 3})
    assert edited.status_code == 200, edited.text
    assert (await pbx.call("c-1", dnis=VIP_NUMBER))["poll_after_s"] == 3.0
