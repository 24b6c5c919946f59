"""FastAGI driven from Asterisk's side: the environment, each command answered as Asterisk would, then the record."""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

import httpx
import pytest
import websockets

from switchboard.adapters.voice.agi import AgiProtocolError, dial_string, parse_reply, quoted, sound
from switchboard.bootstrap import Container
from switchboard.web.app import create_app
from tests.adapters.voice.asterisk import AgiCaller, environment
from tests.api.test_routing import go, settle
from tests.api.test_voice_ivr import contact, tree, vip_line
from tests.api.test_voice_screen_pop import frames_until, quiet, token
from tests.support.clock import ManualClock
from tests.support.desk import Desk
from tests.support.pbx import MAIN_NUMBER, VIP_NUMBER, phone_channel
from tests.support.server import serving

MENU = "Статус — 1, перезвонить — 2, код клиента — 3, сообщение — 4, оператор — 0"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def routing_on() -> bool:
    return True


@pytest.fixture
def extra_settings() -> dict[str, object]:
    return {"voice_sweep_seconds": 0, "agi_port": free_port()}  # bootstrap starts the FastAGI worker


@pytest.fixture
async def vip(app_client: httpx.AsyncClient, desk: Desk, container: Container) -> int:
    line = await vip_line(app_client, desk)
    await phone_channel(app_client, desk, ivr=tree(line))
    await settle(container)
    return line


def caller(container: Container, **kwargs: Any) -> AgiCaller:
    assert container.agi is not None
    return AgiCaller(container.agi.port, **kwargs)


async def record(client: httpx.AsyncClient, desk: Desk, container: Container, pbx_id: str) -> dict[str, Any]:
    assert container.agi is not None
    await container.agi.server.idle()  # the call's last report is in
    async with container.services.uow(read_only=True) as uow:
        call = await uow.calls.find(None, pbx_id)
    assert call is not None
    answer = await client.get(f"/api/v1/voice/calls/{call.id}", headers=desk.as_("supervisor"))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_the_vip_scenario_through_fastagi_pops_the_card_on_the_vip_operators_screen(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock, vip: int
) -> None:
    # given a VIP client, and both operators available (ivan alone staffs the VIP line)
    client_id = await contact(app_client, desk, "Анна Важная", "vip", phone="+79165551111")
    clock.advance(seconds=3600)  # she became a client an hour before she calls
    await go(app_client, desk, "operator")
    await go(app_client, desk, "operator2")
    await settle(container)
    async with (
        serving(create_app(container, manage_lifecycle=False)) as host,
        websockets.connect(f"ws://{host}/api/v1/ws?token={token(desk, 'operator2')}") as ivan,
        websockets.connect(f"ws://{host}/api/v1/ws?token={token(desk, 'operator')}") as olga,
    ):
        assert json.loads(await ivan.recv())["event"] == "ready"
        assert json.loads(await olga.recv())["event"] == "ready"
        pops: list[dict[str, Any]] = []

        async def ringing() -> None:  # while Dial rings ivan's phone, his window shows the card
            pops.append((await frames_until(ivan, "ScreenPop"))[-1])
            clock.advance(seconds=90)  # they talk a minute and a half

        # when the VIP's number calls the VIP number through Asterisk's AGI()
        asterisk = caller(container, hooks={"EXEC MusicOnHold": lambda: settle(container), "EXEC Dial": ringing})
        commands = await asterisk.call(environment("1712345678.42", "+79165551111", VIP_NUMBER))
        # then: straight to the VIP line on hold, then Dial to ivan's phone, then hang up after the talk
        ivan_id = desk.other_operator_id
        assert commands == [
            "ANSWER",
            "SET VARIABLE SWITCHBOARD_ACTION queue",
            f"SET VARIABLE SWITCHBOARD_LINE {vip}",
            'STREAM FILE "vip-hold" ""',
            'EXEC MusicOnHold ",5"',
            'SET VARIABLE SWITCHBOARD_DIAL "PJSIP/ivan@pbx.test"',
            f"SET VARIABLE SWITCHBOARD_OPERATOR {ivan_id}",
            'EXEC Dial "PJSIP/ivan@pbx.test,' + commands[7].split(",")[1],
            "GET VARIABLE DIALSTATUS",
            "GET VARIABLE ANSWEREDTIME",
            "HANGUP",
        ]
        # and ivan's screen popped the VIP's card; olga's did not
        card = pops[0]["data"]
        assert (card["known"], card["number"], card["contact"]["id"], card["contact"]["tier"]) == (
            True,
            "+79165551111",
            client_id,
            "vip",
        )
        assert "ScreenPop" not in await quiet(olga)
    # and the call record says who answered and for how long
    kept = await record(app_client, desk, container, "1712345678.42")
    assert (kept["direction"], kept["ani"], kept["dnis"], kept["line_id"], kept["operator_id"]) == (
        "in",
        "+79165551111",
        VIP_NUMBER,
        vip,
        ivan_id,
    )
    assert (kept["status"], kept["disposition"], kept["talk_s"], kept["contact_id"]) == (
        "ended",
        "answered",
        90,
        client_id,
    )


async def test_a_menu_choice_keyed_in_orders_a_callback_and_ends_in_the_ivr(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, vip: int
) -> None:
    # given an unknown caller on the main number, who presses 2 (callback)
    asterisk = caller(container, digits=["2"])
    commands = await asterisk.call(environment("1712345678.50", "79161112233", MAIN_NUMBER.lstrip("+")))
    assert commands == [
        "ANSWER",
        f'GET DATA "{MENU}" 5000 1',
        'STREAM FILE "Мы перезвоним" ""',
        'STREAM FILE "До свидания" ""',
        "HANGUP",
    ]
    kept = await record(app_client, desk, container, "1712345678.50")
    assert (kept["status"], kept["disposition"], kept["end_reason"], kept["ani"]) == (
        "ended",
        "ivr",
        "ivr",
        "+79161112233",
    )
    callbacks = (await app_client.get("/api/v1/voice/callbacks", headers=desk.as_("supervisor"))).json()
    assert [(c["number"], c["reason"]) for c in callbacks] == [("+79161112233", "ivr")]


async def test_silence_at_the_menu_is_retried_then_the_caller_waits_in_the_queue(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, vip: int
) -> None:
    # given a caller who keys nothing at the menu: "200 result= (timeout)" each time
    asterisk = caller(container, hang_up_at="EXEC MusicOnHold")  # then gives up while on hold
    commands = await asterisk.call(environment("1712345678.51", "+79161112233", MAIN_NUMBER))
    # then the menu is asked again (default retries: 2), then the queue; the caller hangs up on hold
    gets = [c for c in commands if c.startswith("GET DATA")]
    assert len(gets) == 3
    assert commands[-2:] == ["SET VARIABLE SWITCHBOARD_LINE " + str(desk.line_id), 'EXEC MusicOnHold ",5"']
    kept = await record(app_client, desk, container, "1712345678.51")
    assert (kept["status"], kept["disposition"]) == ("ended", "abandoned")


async def test_an_operator_who_does_not_answer_is_reported_and_the_caller_waits_on(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, vip: int
) -> None:
    await go(app_client, desk, "operator2")
    await settle(container)
    asterisk = caller(
        container, dial_status="NOANSWER", hooks={"EXEC MusicOnHold": lambda: settle(container)}, hang_up_at="EXEC Dial"
    )
    asterisk.hang_up_at = None

    async def second_dial_hangs_up() -> None:
        if sum(c.startswith("EXEC Dial") for c in asterisk.commands) == 1:
            asterisk.hang_up_at = "EXEC MusicOnHold"

    asterisk.hooks["EXEC Dial"] = second_dial_hangs_up
    commands = await asterisk.call(environment("1712345678.52", "+79165550000", VIP_NUMBER))
    # then after NOANSWER the call goes back on hold (ivan missed it), and the caller gives up there
    dial = commands.index("GET VARIABLE DIALSTATUS")
    assert commands[dial + 1 : dial + 3] == [
        "SET VARIABLE SWITCHBOARD_ACTION queue",
        f"SET VARIABLE SWITCHBOARD_LINE {vip}",
    ]
    kept = await record(app_client, desk, container, "1712345678.52")
    assert (kept["missed_offers"], kept["disposition"]) == (1, "abandoned")


async def test_a_number_nobody_serves_is_hung_up_and_logged(
    container: Container, vip: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "switchboard.voice.agi"):
        commands = await caller(container).call(environment("1712345678.60", "+79161112233", "+74957777777"))
    assert commands == ["HANGUP"]
    assert "agi.call_refused call=1712345678.60" in caplog.text


@pytest.mark.parametrize(
    "raw",
    [
        b"agi_uniqueid: 1.1\nthis is not agi\n",
        b"agi_network: yes\n",  # no agi_uniqueid
        b"\xff\xfe\n",
        b"agi_" + b"x" * 9000 + b": 1\n",
    ],
)
async def test_malformed_agi_lines_hang_up_cleanly_and_the_server_serves_on(
    container: Container, vip: int, caplog: pytest.LogCaptureFixture, raw: bytes
) -> None:
    with caplog.at_level(logging.ERROR, "switchboard.voice.agi"):
        commands = await caller(container).call(raw=raw)
    assert commands in (["HANGUP"], [])  # a line too long cannot be answered: the connection just closes
    assert "agi.call_failed" in caplog.text
    # and the next call is served as usual
    after = await caller(container, digits=["2"]).call(environment("1712345678.61", "+79161112233", MAIN_NUMBER))
    assert after[:2] == ["ANSWER", f'GET DATA "{MENU}" 5000 1']


async def test_an_error_answer_from_asterisk_hangs_up_and_ends_the_call(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, vip: int
) -> None:
    asterisk = caller(container)
    asterisk.reply = lambda command: (  # type: ignore[method-assign]
        "520-Invalid command syntax.  Proper usage follows:\n"
        "Usage: GET DATA <file to be streamed> [timeout] [maxdigits]\n520 End of proper usage."
        if command.startswith("GET DATA")
        else AgiCaller.reply(asterisk, command)
    )
    commands = await asterisk.call(environment("1712345678.70", "+79161112233", MAIN_NUMBER))
    assert commands == ["ANSWER", f'GET DATA "{MENU}" 5000 1', "HANGUP"]
    kept = await record(app_client, desk, container, "1712345678.70")
    assert kept["status"] == "ended"


def test_replies_and_arguments_as_asterisk_writes_them() -> None:
    assert parse_reply("200 result=12 (timeout)").result == "12"
    assert parse_reply("200 result=12 (timeout)").data == "timeout"
    assert parse_reply("200 result= (timeout)").result == ""
    assert parse_reply("200 result=0 endpos=16000").result == "0"
    assert parse_reply("200 result=1 (ANSWER)").data == "ANSWER"
    assert parse_reply("511 Command Not Permitted on a dead channel or intercept routine").code == 511
    with pytest.raises(AgiProtocolError):
        parse_reply("hello")
    assert quoted('say "hi"\n') == '"say \\"hi\\" "'
    assert sound("vip-hold.wav") == "vip-hold"
    assert (dial_string("1004"), dial_string("sip:olga@pbx"), dial_string("PJSIP/trunk/sip:x@y")) == (
        "PJSIP/1004",
        "PJSIP/olga@pbx",
        "PJSIP/trunk/sip:x@y",
    )


async def test_bootstrap_starts_fastagi_on_the_port_set_and_without_ami_it_reports_the_ringing(
    container: Container, extra_settings: dict[str, object]
) -> None:
    assert container.agi is not None and container.ami is None
    assert (container.agi.port, container.agi.server.report_dial_events) == (extra_settings["agi_port"], True)
