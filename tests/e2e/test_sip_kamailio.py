"""SIP without a PBX, end to end on both databases: real Switchboard (uvicorn), real Kamailio with the repo's
config, sipp as callers and as operators' phones registered with Kamailio.

Olga (op101) and Ivan (op102) staff the main line, Ivan alone the VIP line; a VIP client's call goes to
the VIP line by the IVR's caller switch, which a proxy walks without playing anything.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard.bootstrap import Container, build
from switchboard.config import load_settings
from switchboard.web.app import create_app
from tests.conftest import RUN, empty_tables
from tests.support.desk import Desk, given_desk
from tests.support.pbx import MAIN_NUMBER, phone_channel
from tests.support.server import serving
from tests.support.sip import Kamailio, kamailio, phones, require_sip_tools, run_sipp

SIP_SECRET = "sip-shared-secret-0123456789"
VIP_CALLER = "+79165551111"
STRANGER = "+79169990000"
NIGHT = "+74950000009"


@dataclass
class Stack:
    container: Container
    client: httpx.AsyncClient
    desk: Desk
    proxy: Kamailio
    workdir: Path
    vip_line_id: int
    vip_contact_id: int

    async def call_record(self, pbx_call_id: str) -> dict[str, Any]:
        """The call's record through the API, as a supervisor sees it."""
        async with self.container.services.uow(read_only=True) as uow:
            call = await uow.calls.find(None, pbx_call_id)
        assert call is not None, f"Switchboard has no call {pbx_call_id}"
        answer = await self.client.get(f"/api/v1/voice/calls/{call.id}", headers=self.desk.as_("supervisor"))
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def ended(self, pbx_call_id: str, seconds: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while (record := await self.call_record(pbx_call_id))["ended_at"] is None:
            assert time.monotonic() < deadline, f"the call never ended: {record}"
            await asyncio.sleep(0.1)
        return record


async def settled(container: Container, seconds: float = 10.0) -> None:
    """Routing has seen every committed change (operators' statuses, lines) before calls arrive."""
    deadline = time.monotonic() + seconds
    while await container.outbox.unpublished(1):
        assert time.monotonic() < deadline, "routing did not settle"
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)


async def given_lines(client: httpx.AsyncClient, desk: Desk) -> tuple[int, int]:
    """Main line: olga, then ivan (strict order, 5 s offers); VIP line: ivan; a VIP client with a known number."""
    answer = await client.patch(
        f"/api/v1/lines/{desk.line_id}",
        headers=desk.as_("admin"),
        json={"routing": {"mode": "strict_order", "forwarding_timeout_s": 5}},
    )
    assert answer.status_code == 200, answer.text
    made = await client.post(
        "/api/v1/lines", headers=desk.as_("admin"), json={"name": "VIP", "operator_ids": [desk.other_operator_id]}
    )
    assert made.status_code == 201, made.text
    contact = await client.post(
        "/api/v1/contacts",
        headers=desk.as_("supervisor"),
        json={"name": "Анна Важная", "tier": "vip", "identities": [{"kind": "phone", "value": VIP_CALLER}]},
    )
    assert contact.status_code == 201, contact.text
    return int(made.json()["id"]), int(contact.json()["id"])


def ivr(vip_line_id: int) -> dict[str, Any]:
    return {
        "start": "by_caller",
        "nodes": {
            "by_caller": {"type": "switch", "on": "caller", "cases": {"vip": "vip"}, "default": "queue"},
            "vip": {"type": "enqueue", "line_id": vip_line_id},
            "queue": {"type": "enqueue"},
        },
    }


@pytest.fixture
async def stack(database_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    require_sip_tools()
    settings = load_settings(
        database_url=database_url,
        bus_url="memory://",
        bus_namespace=f"sip{RUN}",
        db_pool_size=5,
        routing=True,
        voice_sweep_seconds=0,
        sip_secret=SIP_SECRET,
    )
    container = build(settings, fast_hashing=True)  # the real clock: Kamailio's timers are real
    await empty_tables(container.database)
    await container.start()
    try:
        async with (
            serving(create_app(container, manage_lifecycle=False)) as host,
            httpx.AsyncClient(base_url=f"http://{host}") as client,
            kamailio(tmp_path, f"http://{host}", SIP_SECRET, queue_wait_s=10) as proxy,
        ):
            desk = await given_desk(container.services, client)
            vip_line_id, vip_contact_id = await given_lines(client, desk)
            extensions = {str(desk.operator_id): "op101", str(desk.other_operator_id): "op102"}
            await phone_channel(client, desk, "SIP number", extensions=extensions, ivr=ivr(vip_line_id))
            for who in ("operator", "operator2"):
                went = await client.put("/api/v1/me/status", headers=desk.as_(who), json={"status": "available"})
                assert went.status_code == 200, went.text
            await settled(container)
            yield Stack(container, client, desk, proxy, tmp_path, vip_line_id, vip_contact_id)
    finally:
        await container.stop(drain_seconds=2)


async def test_a_vip_clients_call_is_identified_and_rings_the_free_vip_operator(stack: Stack) -> None:
    # given olga's and ivan's phones registered with Kamailio, both answering
    async with phones(stack.workdir, stack.proxy) as registry:
        olga = await registry.register("op101")
        ivan = await registry.register("op102")
        # when the VIP client calls the main number, talks for a second and hangs up
        code = await run_sipp(
            stack.workdir, "vip-caller", "caller.xml", stack.proxy.port,
            "-s", MAIN_NUMBER, "-set", "ani", VIP_CALLER, "-cid_str", "vip-%u@%s",
        )  # fmt: skip
        # then ivan's phone (the VIP line's) rang and took the call; olga's never rang
        assert code == 0, (stack.workdir / "vip-caller.out").read_text()[-3000:]
        assert await ivan.finished() == 0
        assert (ivan.rang(), olga.rang()) == (True, False)
        assert f"ringing operator {stack.desk.other_operator_id} at sip:op102@" in stack.proxy.text()
    # and the call record: the VIP client identified, the VIP line, answered by ivan, ended by the BYE
    record = await stack.ended("vip-1@127.0.0.1")
    assert (record["ani"], record["dnis"], record["contact_id"]) == (VIP_CALLER, MAIN_NUMBER, stack.vip_contact_id)
    assert (record["line_id"], record["operator_id"], record["ivr_path"]) == (
        stack.vip_line_id,
        stack.desk.other_operator_id,
        ["by_caller", "vip"],
    )
    assert (record["disposition"], record["end_reason"], record["missed_offers"]) == ("answered", "hangup", 0)
    assert record["answered_at"] is not None and record["talk_s"] >= 1
    # and ivan's window has the VIP client's card
    card = await stack.client.get(f"/api/v1/voice/calls/{record['id']}/card", headers=stack.desk.as_("operator2"))
    assert card.status_code == 200, card.text
    assert (card.json()["known"], card.json()["contact"]["tier"]) == (True, "vip")


async def test_no_answer_at_the_first_operator_rings_the_next(stack: Stack) -> None:
    # given olga's phone rings but nobody picks it up, and ivan's answers
    async with phones(stack.workdir, stack.proxy) as registry:
        olga = await registry.register("op101", "phone_rings_out.xml")
        ivan = await registry.register("op102")
        # when a caller nobody knows dials the main number
        code = await run_sipp(
            stack.workdir, "caller", "caller.xml", stack.proxy.port,
            "-s", MAIN_NUMBER, "-set", "ani", STRANGER, "-cid_str", "fallback-%u@%s",
        )  # fmt: skip
        # then olga's phone rang out (cancelled by Kamailio), and ivan's rang next and took the call
        assert code == 0, (stack.workdir / "caller.out").read_text()[-3000:]
        assert await olga.finished() == 0
        assert await ivan.finished() == 0
        assert "CANCEL sip:" in olga.trace() and ivan.rang()
        log = stack.proxy.text()
        olga_rang = log.index(f"ringing operator {stack.desk.operator_id} at sip:op101@")
        assert log.index(f"ringing operator {stack.desk.other_operator_id} at sip:op102@") > olga_rang
    # and the record: one missed offer, answered by ivan on the main line
    record = await stack.ended("fallback-1@127.0.0.1")
    assert (record["line_id"], record["operator_id"], record["missed_offers"]) == (
        stack.desk.line_id,
        stack.desk.other_operator_id,
        1,
    )
    assert (record["disposition"], record["answered_at"] is not None, record["ani"]) == ("answered", True, STRANGER)


async def test_an_invite_for_a_number_nobody_serves_gets_404(stack: Stack) -> None:
    # given the phones registered
    async with phones(stack.workdir, stack.proxy) as registry:
        olga = await registry.register("op101")
        # when someone dials a number no phone channel answers
        code = await run_sipp(
            stack.workdir, "lost", "caller_404.xml", stack.proxy.port,
            "-s", "+74959999999", "-set", "ani", STRANGER, "-cid_str", "lost-%u@%s",
        )  # fmt: skip
        # then the caller gets 404 Number Not Served (sipp's scenario expects exactly that), nobody rings
        assert code == 0, (stack.workdir / "lost.out").read_text()[-3000:]
        assert "SIP/2.0 404 Number Not Served" in (stack.workdir / "lost.messages.log").read_text()
        assert not olga.rang()
    # and Kamailio logged the refusal; Switchboard kept no call
    assert "answer 404 Number Not Served" in stack.proxy.text()
    async with stack.container.services.uow(read_only=True) as uow:
        assert await uow.calls.find(None, "lost-1@127.0.0.1") is None


async def test_a_caller_nobody_answers_in_time_is_redirected_to_the_lines_voicemail(stack: Stack) -> None:
    # given a line nobody staffs, with voicemail, and a number that leads to it
    line = await stack.client.post(
        "/api/v1/lines",
        headers=stack.desk.as_("admin"),
        json={"name": "Night", "operator_ids": [], "routing": {"voicemail_uri": "sip:voicemail@vm.test"}},
    )
    assert line.status_code == 201, line.text
    channel = await stack.client.post(
        "/api/v1/channels",
        headers=stack.desk.as_("admin"),
        json={"kind": "phone", "name": "Night number", "line_id": line.json()["id"], "settings": {"numbers": [NIGHT]}},
    )
    assert channel.status_code == 201, channel.text
    await settled(stack.container)
    async with phones(stack.workdir, stack.proxy) as registry:
        olga = await registry.register("op101")
        # when a caller dials it and waits longer than the proxy holds the INVITE (10 s)
        code = await run_sipp(
            stack.workdir, "night", "caller_302.xml", stack.proxy.port,
            "-s", NIGHT, "-set", "ani", STRANGER, "-cid_str", "night-%u@%s",
        )  # fmt: skip
        # then the caller gets 302 with the voicemail in the Contact (the scenario checks it), nobody rings
        assert code == 0, (stack.workdir / "night.out").read_text()[-3000:]
        assert "SIP/2.0 302 Moved Temporarily" in (stack.workdir / "night.messages.log").read_text()
        assert not olga.rang()
    assert "redirect" in stack.proxy.text() and "to voicemail sip:voicemail@vm.test" in stack.proxy.text()
    # and the call is recorded as ended by the redirect, on the night line
    record = await stack.ended("night-1@127.0.0.1")
    assert (record["line_id"], record["operator_id"], record["answered_at"]) == (line.json()["id"], None, None)
