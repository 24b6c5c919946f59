"""Routing scenarios through the HTTP API on both databases: modes, capacity, hours, automatic
messages, overflow, sticky routing, transfers, forced status and after-work."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import tests.api.test_routing as base
from switchboard.bootstrap import Container
from tests.support.clock import ManualClock
from tests.support.desk import Desk, inbound

settle, set_line, go, write, offers, conversation = (
    base.settle,
    base.set_line,
    base.go,
    base.write,
    base.offers,
    base.conversation,
)


@pytest.fixture
def routing_on() -> bool:
    return True


# --- helpers ------------------------------------------------------------------------------------------------


async def accept(client: httpx.AsyncClient, desk: Desk, who: str, conversation_id: int) -> None:
    answer = await client.post(f"/api/v1/conversations/{conversation_id}/accept", headers=desk.as_(who))
    assert answer.status_code == 204, answer.text


async def close(client: httpx.AsyncClient, desk: Desk, who: str, conversation_id: int) -> None:
    answer = await client.post(f"/api/v1/conversations/{conversation_id}/close", headers=desk.as_(who))
    assert answer.status_code == 200, answer.text


async def reply(client: httpx.AsyncClient, desk: Desk, who: str, conversation_id: int, text: str) -> None:
    answer = await client.post(
        f"/api/v1/conversations/{conversation_id}/replies", headers=desk.as_(who), json={"text": text}
    )
    assert answer.status_code == 201, answer.text


async def messages(client: httpx.AsyncClient, desk: Desk, conversation_id: int) -> list[tuple[str, str]]:
    answer = await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=desk.as_("supervisor"))
    assert answer.status_code == 200, answer.text
    found = sorted(answer.json(), key=lambda m: m["id"])
    return [(m["author_kind"], m["text"]) for m in found]


async def operator_status(client: httpx.AsyncClient, desk: Desk, operator_id: int) -> str:
    answer = await client.get(f"/api/v1/operators/{operator_id}", headers=desk.as_("supervisor"))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["status"])


async def second_line(client: httpx.AsyncClient, desk: Desk, **extra: Any) -> int:
    """A line "Second level" staffed by ivan alone."""
    body = {"name": "Second level", "operator_ids": [desk.other_operator_id], **extra}
    answer = await client.post("/api/v1/lines", headers=desk.as_("admin"), json=body)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


async def fire(container: Container, clock: ManualClock, seconds: float) -> int:
    clock.advance(seconds=seconds)
    fired = await container.routing.router.fire_due()
    await settle(container)
    return fired


# --- 1. round robin -----------------------------------------------------------------------------------------


async def test_round_robin_alternates_even_when_the_last_operator_is_free_again(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given a round-robin line with olga and ivan, both available
    await set_line(app_client, desk, mode="round_robin")
    await go(app_client, desk, "operator")
    await go(app_client, desk, "operator2")
    await settle(container)
    # when three customers write one after another, each accepted and closed before the next
    who_got: list[str] = []
    for i in range(3):
        conversation_id = await write(app_client, desk, f"+7916100000{i}")
        await settle(container)
        rung = {who: await offers(app_client, desk, who) for who in ("operator", "operator2")}
        [taker] = [who for who, ids in rung.items() if ids == [conversation_id]]
        assert [ids for who, ids in rung.items() if who != taker] == [[]]
        who_got.append(taker)
        await accept(app_client, desk, taker, conversation_id)
        await settle(container)
        await close(app_client, desk, taker, conversation_id)
        await settle(container)
    # then the offers alternate, starting with the first member
    assert who_got == ["operator", "operator2", "operator"]


# --- 2. longest idle / fewest handled today -----------------------------------------------------------------


@pytest.mark.parametrize(("mode", "expected"), [("longest_idle", "operator2"), ("fewest_handled_today", "operator")])
async def test_ranked_modes_choose_by_idle_time_or_handled_count(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock, mode: str, expected: str
) -> None:
    # given ivan handled one conversation today and has been idle since it closed
    await set_line(app_client, desk, mode=mode)
    await go(app_client, desk, "operator2")
    await settle(container)
    first = await write(app_client, desk, "+79161000100")
    await settle(container)
    assert await offers(app_client, desk, "operator2") == [first]
    await accept(app_client, desk, "operator2", first)
    await settle(container)
    await close(app_client, desk, "operator2", first)
    await settle(container)
    # and olga comes in 10 s later: idle for less time, but nothing handled yet
    clock.advance(seconds=10)
    await go(app_client, desk, "operator")
    await settle(container)
    clock.advance(seconds=5)
    # when a customer writes
    second = await write(app_client, desk, "+79161000101")
    await settle(container)
    # then longest_idle offers it to ivan, fewest_handled_today to olga
    other = "operator" if expected == "operator2" else "operator2"
    assert await offers(app_client, desk, expected) == [second]
    assert await offers(app_client, desk, other) == []


# --- 3. manual mode -----------------------------------------------------------------------------------------


async def test_manual_mode_offers_nothing_and_the_first_pick_wins(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given a manual line and both operators available
    await set_line(app_client, desk, mode="manual")
    await go(app_client, desk, "operator")
    await go(app_client, desk, "operator2")
    await settle(container)
    # when a customer writes
    conversation_id = await write(app_client, desk, "+79161000200")
    await settle(container)
    # then nobody is offered anything, the conversation waits in the pool
    assert await offers(app_client, desk, "operator") == []
    assert await offers(app_client, desk, "operator2") == []
    assert (await conversation(app_client, desk, conversation_id))["status"] == "queued"
    # when olga picks it, then ivan tries too
    first = await app_client.post(f"/api/v1/conversations/{conversation_id}/pick", headers=desk.as_("operator"))
    second = await app_client.post(f"/api/v1/conversations/{conversation_id}/pick", headers=desk.as_("operator2"))
    await settle(container)
    # then olga has it and ivan is refused with a conflict
    assert (first.status_code, second.status_code) == (204, 409)
    state = await conversation(app_client, desk, conversation_id)
    assert (state["status"], state["assignee_id"]) == ("assigned", desk.operator_id)
    assert await offers(app_client, desk, "operator2") == []


async def test_picking_another_lines_conversation_is_not_found_and_offered_lines_refuse_picks(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given a second, manual line olga is not a member of, fed by its own channel
    other_line = await second_line(app_client, desk, routing={"mode": "manual"})
    made = await app_client.post(
        "/api/v1/channels",
        headers=desk.as_("admin"),
        json={"kind": "api", "name": "Support site", "line_id": other_line},
    )
    assert made.status_code == 201, made.text
    await go(app_client, desk, "operator")
    await settle(container)
    answer = await app_client.post(
        "/api/v1/inbound",
        headers=desk.as_("integration"),
        json=inbound(int(made.json()["id"]), phone="+79161000300"),
    )
    assert answer.status_code == 201, answer.text
    foreign = int(answer.json()["conversation_id"])
    # and a conversation of olga's own line, which is not manual (evenly by default) — ivan is offline
    await set_line(app_client, desk, mode="evenly")
    await go(app_client, desk, "operator", "break", "lunch")
    await settle(container)
    own = await write(app_client, desk, "+79161000301")
    await settle(container)
    # when olga tries to pick each
    foreign_pick = await app_client.post(f"/api/v1/conversations/{foreign}/pick", headers=desk.as_("operator"))
    own_pick = await app_client.post(f"/api/v1/conversations/{own}/pick", headers=desk.as_("operator"))
    # then the other line's conversation does not exist for her (404), and her line's is not pickable (409)
    assert (foreign_pick.status_code, own_pick.status_code) == (404, 409)
    assert (await conversation(app_client, desk, foreign))["status"] == "queued"
    assert (await conversation(app_client, desk, own))["status"] == "queued"


# --- 4. capacity --------------------------------------------------------------------------------------------


async def test_capacity_of_one_chat_means_one_offer_at_a_time(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given olga can hold one chat, and is the only one available
    patched = await app_client.patch(
        f"/api/v1/operators/{desk.operator_id}", headers=desk.as_("admin"), json={"capacity": {"chat": 1}}
    )
    assert patched.status_code == 200, patched.text
    await set_line(app_client, desk, mode="evenly")
    await go(app_client, desk, "operator")
    await settle(container)
    # when two customers write
    first = await write(app_client, desk, "+79161000400")
    await settle(container)
    second = await write(app_client, desk, "+79161000401")
    await settle(container)
    # then only the first rings; the second waits, also while she holds the first
    assert await offers(app_client, desk, "operator") == [first]
    assert (await conversation(app_client, desk, second))["status"] == "queued"
    await accept(app_client, desk, "operator", first)
    await settle(container)
    assert await offers(app_client, desk, "operator") == []
    assert (await conversation(app_client, desk, second))["status"] == "queued"
    # when she closes the first, the second is offered
    await close(app_client, desk, "operator", first)
    await settle(container)
    assert await offers(app_client, desk, "operator") == [second]


# --- 5. working hours ---------------------------------------------------------------------------------------


async def test_off_hours_auto_reply_keeps_the_conversation_until_opening(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    # given it is Monday 12:00 in Moscow (09:00 UTC) and the line opens on Mondays at 14:00 Moscow time
    await set_line(
        app_client,
        desk,
        mode="evenly",
        calendar={"weekly": {"0": ["14:00-18:00"]}},
        off_hours={"action": "auto_reply"},
        actions={"templates": {"off_hours": {"ru": "Мы закрыты, линия {line_name} откроется позже."}}},
    )
    await go(app_client, desk, "operator")
    await settle(container)
    # when a customer writes
    conversation_id = await write(app_client, desk, "+79161000500")
    await settle(container)
    # then they get the off-hours reply and the conversation waits, offered to nobody
    assert await messages(app_client, desk, conversation_id) == [
        ("contact", "Здравствуйте"),
        ("system", "Мы закрыты, линия Sales откроется позже."),
    ]
    assert (await conversation(app_client, desk, conversation_id))["status"] == "queued"
    assert await offers(app_client, desk, "operator") == []
    # when the clock reaches 14:00 Moscow (11:00 UTC) and timers fire
    assert await fire(container, clock, 2 * 3600) >= 1
    # then the conversation is offered
    assert await offers(app_client, desk, "operator") == [conversation_id]


# --- 6. automatic actions -----------------------------------------------------------------------------------


async def test_welcome_please_wait_and_auto_close(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    # given a line that welcomes every new conversation, says "please wait" after 60 s and closes after 300 s
    await set_line(
        app_client,
        desk,
        mode="evenly",
        forwarding_timeout_s=3600,
        actions={
            "welcome": "every_new_conversation",
            "please_wait_after_s": 60,
            "auto_close_after_s": 300,
            "templates": {
                "welcome": {"ru": "Здравствуйте, {contact_name}!"},
                "please_wait": {"ru": "Пожалуйста, подождите."},
                "auto_close": {"ru": "Диалог закрыт."},
            },
        },
    )
    await go(app_client, desk, "operator")
    await settle(container)
    # when Anna writes
    answer = await app_client.post(
        "/api/v1/inbound",
        headers=desk.as_("integration"),
        json=inbound(desk.channel_id, phone="+79161000600", name="Anna"),
    )
    assert answer.status_code == 201, answer.text
    conversation_id = int(answer.json()["conversation_id"])
    await settle(container)
    # then she is welcomed by name
    assert await messages(app_client, desk, conversation_id) == [
        ("contact", "Здравствуйте"),
        ("system", "Здравствуйте, Anna!"),
    ]
    # when 61 s pass without an operator's reply
    assert await fire(container, clock, 61) >= 1
    # then she is asked to wait
    assert (await messages(app_client, desk, conversation_id))[2:] == [("system", "Пожалуйста, подождите.")]
    # when olga takes it and answers, and the customer stays silent for 301 s
    await accept(app_client, desk, "operator", conversation_id)
    await settle(container)
    await reply(app_client, desk, "operator", conversation_id, "Чем могу помочь?")
    await settle(container)
    assert (await conversation(app_client, desk, conversation_id))["status"] != "closed"
    assert await fire(container, clock, 301) >= 1
    # then the conversation is closed
    assert (await conversation(app_client, desk, conversation_id))["status"] == "closed"
    assert (await messages(app_client, desk, conversation_id))[3][0] == "operator"


# --- 7. overflow --------------------------------------------------------------------------------------------


async def test_max_wait_overflows_to_another_line_and_its_operator(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    # given Sales staffed by olga alone (on break), overflowing after 120 s to "Second level" (ivan)
    target = await second_line(app_client, desk)
    answer = await app_client.patch(
        f"/api/v1/lines/{desk.line_id}",
        headers=desk.as_("admin"),
        json={
            "operator_ids": [desk.operator_id],
            "routing": {
                "mode": "evenly",
                "limits": {"max_wait_s": 120, "overflow": "line", "overflow_line_id": target},
            },
        },
    )
    assert answer.status_code == 200, answer.text
    await go(app_client, desk, "operator", "break", "lunch")
    await go(app_client, desk, "operator2")
    await settle(container)
    conversation_id = await write(app_client, desk, "+79161000700")
    await settle(container)
    assert (await conversation(app_client, desk, conversation_id))["status"] == "queued"
    assert await offers(app_client, desk, "operator2") == []
    # when it has waited longer than the maximum
    assert await fire(container, clock, 121) >= 1
    # then it is on the second line and rings at ivan
    state = await conversation(app_client, desk, conversation_id)
    assert state["line_id"] == target
    assert await offers(app_client, desk, "operator2") == [conversation_id]


# --- 8. sticky routing --------------------------------------------------------------------------------------


@pytest.mark.parametrize("window", [0, 86_400], ids=["new-conversation", "reopened"])
async def test_a_returning_customer_is_offered_first_to_their_last_operator(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, window: int
) -> None:
    # given a sticky evenly line; with a window of 0 a message after a close opens a new conversation,
    # with a day's window it reopens the closed one
    answer = await app_client.patch(
        f"/api/v1/lines/{desk.line_id}",
        headers=desk.as_("admin"),
        json={"reopen_window_seconds": window, "routing": {"mode": "evenly", "sticky_wait_s": 120}},
    )
    assert answer.status_code == 200, answer.text
    await go(app_client, desk, "operator2")
    await settle(container)
    # and ivan served customer A (closed) and now holds customer B
    served = await write(app_client, desk, "+79161000800")
    await settle(container)
    await accept(app_client, desk, "operator2", served)
    await settle(container)
    await close(app_client, desk, "operator2", served)
    await settle(container)
    holding = await write(app_client, desk, "+79161000801")
    await settle(container)
    await accept(app_client, desk, "operator2", holding)
    await settle(container)
    # and olga is available and free (evenly alone would choose her)
    await go(app_client, desk, "operator")
    await settle(container)
    # when customer A writes again
    returning = await write(app_client, desk, "+79161000800")
    await settle(container)
    # then it is offered to ivan, as a new conversation or the reopened one
    assert (returning == served) is (window > 0)
    assert await offers(app_client, desk, "operator2") == [returning]
    assert await offers(app_client, desk, "operator") == []


# --- 9. transfers -------------------------------------------------------------------------------------------


async def test_transfer_to_an_operator_offers_it_to_them(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given olga holds a conversation, ivan is available
    await set_line(app_client, desk, mode="evenly")
    await go(app_client, desk, "operator")
    await settle(container)
    conversation_id = await write(app_client, desk, "+79161000900")
    await settle(container)
    await accept(app_client, desk, "operator", conversation_id)
    await go(app_client, desk, "operator2")
    await settle(container)
    # when she transfers it to ivan with a note
    answer = await app_client.post(
        f"/api/v1/conversations/{conversation_id}/transfer",
        headers=desk.as_("operator"),
        json={"to_operator_id": desk.other_operator_id, "note": "wants a refund"},
    )
    assert answer.status_code == 204, answer.text
    await settle(container)
    # then it rings at ivan (not at olga), and his accept makes him the assignee
    assert await offers(app_client, desk, "operator2") == [conversation_id]
    assert await offers(app_client, desk, "operator") == []
    await accept(app_client, desk, "operator2", conversation_id)
    await settle(container)
    state = await conversation(app_client, desk, conversation_id)
    assert (state["status"], state["assignee_id"]) == ("assigned", desk.other_operator_id)


async def test_transfer_to_a_line_routes_it_on_that_line(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given olga holds a conversation of Sales; ivan staffs "Second level" and is available
    target = await second_line(app_client, desk)
    await set_line(app_client, desk, mode="evenly")
    await go(app_client, desk, "operator")
    await settle(container)
    conversation_id = await write(app_client, desk, "+79161000901")
    await settle(container)
    await accept(app_client, desk, "operator", conversation_id)
    await go(app_client, desk, "operator2")
    await settle(container)
    # when she transfers it to the second line
    answer = await app_client.post(
        f"/api/v1/conversations/{conversation_id}/transfer",
        headers=desk.as_("operator"),
        json={"to_line_id": target, "note": "second level please"},
    )
    assert answer.status_code == 204, answer.text
    await settle(container)
    # then it is on that line, offered to ivan
    state = await conversation(app_client, desk, conversation_id)
    assert (state["line_id"], state["status"]) == (target, "offered")
    assert await offers(app_client, desk, "operator2") == [conversation_id]
    assert await offers(app_client, desk, "operator") == []


# --- 10. supervisor forces a status -------------------------------------------------------------------------


async def _olga_holds_one_and_one_rings(client: httpx.AsyncClient, desk: Desk, container: Container) -> tuple[int, int]:
    await set_line(client, desk, mode="evenly", forwarding_timeout_s=600)
    await go(client, desk, "operator")
    await settle(container)
    held = await write(client, desk, "+79161001000")
    await settle(container)
    await accept(client, desk, "operator", held)
    await settle(container)
    ringing = await write(client, desk, "+79161001001")
    await settle(container)
    assert await offers(client, desk, "operator") == [ringing]
    return held, ringing


async def _force_offline(client: httpx.AsyncClient, desk: Desk, container: Container) -> None:
    answer = await client.put(
        f"/api/v1/operators/{desk.operator_id}/status", headers=desk.as_("supervisor"), json={"status": "offline"}
    )
    assert answer.status_code == 200, answer.text
    assert (answer.json()["status"], answer.json()["logged_in"]) == ("offline", False)
    await settle(container)


async def test_supervisor_sends_an_operator_offline_and_her_offers_are_withdrawn(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given olga holds one conversation and another rings at her; ivan is offline
    _, ringing = await _olga_holds_one_and_one_rings(app_client, desk, container)
    # when a supervisor sends her offline
    await _force_offline(app_client, desk, container)
    # then her offer is withdrawn, the conversation waits again, and ivan gets it when he comes in
    assert await operator_status(app_client, desk, desk.operator_id) == "offline"
    assert await offers(app_client, desk, "operator") == []
    assert (await conversation(app_client, desk, ringing))["status"] == "queued"
    await go(app_client, desk, "operator2")
    await settle(container)
    assert ringing in await offers(app_client, desk, "operator2")


async def test_supervisor_sends_an_operator_offline_and_her_conversations_are_requeued(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given olga holds one conversation and another rings at her; ivan is offline
    held, ringing = await _olga_holds_one_and_one_rings(app_client, desk, container)
    # when a supervisor sends her offline
    await _force_offline(app_client, desk, container)
    # then the conversation she held waits again, without an assignee
    state = await conversation(app_client, desk, held)
    assert (state["status"], state["assignee_id"]) == ("queued", None)
    # and when ivan comes in, both are offered to him
    await go(app_client, desk, "operator2")
    await settle(container)
    assert sorted(await offers(app_client, desk, "operator2")) == sorted([held, ringing])


async def test_forced_offline_offers_her_conversations_to_an_available_colleague_at_once(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given olga holds one conversation and another rings at her; ivan is on break
    await go(app_client, desk, "operator2", "break", "training")
    held, ringing = await _olga_holds_one_and_one_rings(app_client, desk, container)
    await go(app_client, desk, "operator2")
    await settle(container)
    # when a supervisor sends olga offline while ivan is available
    await _force_offline(app_client, desk, container)
    # then both conversations ring at ivan at once
    assert sorted(await offers(app_client, desk, "operator2")) == sorted([held, ringing])
    assert (await conversation(app_client, desk, held))["status"] == "offered"


# --- 11. after-work -----------------------------------------------------------------------------------------


async def test_wrap_up_puts_the_operator_in_after_work_then_back_to_available(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    # given a line with 30 s of wrap-up and olga holding a conversation
    await set_line(app_client, desk, mode="evenly", wrap_up_s=30)
    await go(app_client, desk, "operator")
    await settle(container)
    first = await write(app_client, desk, "+79161001100")
    await settle(container)
    await accept(app_client, desk, "operator", first)
    await settle(container)
    # when she closes it
    await close(app_client, desk, "operator", first)
    await settle(container)
    # then she is in after-work and a new customer is not offered to her
    assert await operator_status(app_client, desk, desk.operator_id) == "after_work"
    second = await write(app_client, desk, "+79161001101")
    await settle(container)
    assert await offers(app_client, desk, "operator") == []
    # when 30 s pass and timers fire
    assert await fire(container, clock, 31) >= 1
    # then she is available again and gets the waiting conversation
    assert await operator_status(app_client, desk, desk.operator_id) == "available"
    assert await offers(app_client, desk, "operator") == [second]


# --- 12. skills, thanks on close, least talk time ---------------------------------------------------------------


async def _skills(client: httpx.AsyncClient, desk: Desk, olga: dict[str, int], ivan: dict[str, int]) -> None:
    for operator_id, skills in ((desk.operator_id, olga), (desk.other_operator_id, ivan)):
        answer = await client.patch(
            f"/api/v1/operators/{operator_id}", headers=desk.as_("admin"), json={"skills": skills}
        )
        assert answer.status_code == 200, answer.text
    channel = await client.patch(
        f"/api/v1/channels/{desk.channel_id}", headers=desk.as_("admin"), json={"settings": {"skills": ["en"]}}
    )
    assert channel.status_code == 200, channel.text


@pytest.mark.parametrize(
    ("mode", "olga", "ivan"),
    [("evenly", {"de": 9}, {"en": 5}), ("best_skill", {"en": 3}, {"en": 9})],
    ids=["only-who-has-the-skill", "best-skill-prefers-higher-proficiency"],
)
async def test_a_channel_that_needs_a_skill_goes_to_the_operator_who_has_it_best(
    app_client: httpx.AsyncClient,
    desk: Desk,
    container: Container,
    mode: str,
    olga: dict[str, int],
    ivan: dict[str, int],
) -> None:
    # given an English-speaking channel; olga without English or weaker in it, ivan with it
    await _skills(app_client, desk, olga, ivan)
    await base.set_line(app_client, desk, mode=mode)
    await base.go(app_client, desk, "operator")
    await base.go(app_client, desk, "operator2")
    await settle(container)
    # when a customer writes, then only ivan is offered it, even though olga is as free
    conversation_id = await write(app_client, desk, "+79161001200")
    await settle(container)
    assert (await offers(app_client, desk, "operator"), await offers(app_client, desk, "operator2")) == (
        [],
        [conversation_id],
    )


async def test_thanks_and_a_rating_request_follow_the_close(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    await base.set_line(
        app_client,
        desk,
        mode="evenly",
        actions={
            "thank_you_on_close": True,
            "rating_request_on_close": True,
            "default_language": "ru",
            "templates": {
                "thank_you": {"ru": "Спасибо, {contact_name}!"},
                "rating_request": {"ru": "Оцените нас от 1 до 5"},
            },
        },
    )
    await base.go(app_client, desk, "operator")
    await settle(container)
    conversation_id = await write(app_client, desk, "+79161001202")
    await settle(container)
    taken = await app_client.post(f"/api/v1/conversations/{conversation_id}/accept", headers=desk.as_("operator"))
    assert taken.status_code == 204
    closed = await app_client.post(f"/api/v1/conversations/{conversation_id}/close", headers=desk.as_("operator"))
    assert closed.status_code == 200
    await settle(container)
    listed = await app_client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=desk.as_("supervisor"))
    system = [m["text"] for m in listed.json() if m["author_kind"] == "system"]
    assert sorted(system) == ["Оцените нас от 1 до 5", "Спасибо, +79161001202!"]


# --- 13. the customer's place in the queue -----------------------------------------------------------------------


async def test_the_customer_learns_their_place_and_wait(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    # given nobody available and two customers waiting on the line
    await base.set_line(app_client, desk, mode="evenly")
    first = await write(app_client, desk, "+79161001300")
    second = await write(app_client, desk, "+79161001301")
    await settle(container)
    # when the website asks where they are, then the first is next and the second after it
    places = []
    for conversation_id in (first, second):
        answer = await app_client.get(
            f"/api/v1/conversations/{conversation_id}/position", headers=desk.as_("integration")
        )
        assert answer.status_code == 200, answer.text
        places.append((answer.json()["position"], answer.json()["estimated_wait_s"]))
    assert [p for p, _ in places] == [1, 2]
    assert places[0][1] is None  # nobody staffs the line yet, so no estimate
    # and once olga (room for one chat) is offered the first, it leaves the queue and the second moves up
    capped = await app_client.patch(
        f"/api/v1/operators/{desk.operator_id}", headers=desk.as_("admin"), json={"capacity": {"chat": 1}}
    )
    assert capped.status_code == 200
    await base.go(app_client, desk, "operator")
    await settle(container)
    gone = await app_client.get(f"/api/v1/conversations/{first}/position", headers=desk.as_("integration"))
    assert (gone.status_code, gone.json()["detail"]) == (409, "the conversation is not waiting in a queue")
    moved = await app_client.get(f"/api/v1/conversations/{second}/position", headers=desk.as_("integration"))
    assert moved.json()["position"] == 1


# --- 14. least talk time, off hours elsewhere, a full queue ----------------------------------------------------


async def test_least_talk_time_prefers_the_operator_who_talked_less_today(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, clock: ManualClock
) -> None:
    await base.set_line(app_client, desk, mode="least_talk_time")
    await base.go(app_client, desk, "operator")
    await base.go(app_client, desk, "operator2")
    await settle(container)
    # given olga talked 10 minutes and ivan 10 seconds
    for who, phone, seconds in (("operator", "+79161001500", 600), ("operator2", "+79161001501", 10)):
        conversation_id = await write(app_client, desk, phone)
        await settle(container)
        if conversation_id not in await offers(app_client, desk, who):
            await app_client.post(
                f"/api/v1/conversations/{conversation_id}/decline",
                headers=desk.as_("operator2" if who == "operator" else "operator"),
            )
            await settle(container)
        await accept(app_client, desk, who, conversation_id)
        await settle(container)
        clock.advance(seconds=seconds)
        await close(app_client, desk, who, conversation_id)
        await settle(container)
    # when the next customer writes, then ivan (less talk time) is offered it
    next_one = await write(app_client, desk, "+79161001502")
    await settle(container)
    assert (await offers(app_client, desk, "operator2"), await offers(app_client, desk, "operator")) == ([next_one], [])


@pytest.mark.parametrize("action", ["overflow", "callback"])
async def test_off_hours_can_send_to_another_line_or_ask_for_a_callback(
    app_client: httpx.AsyncClient, desk: Desk, container: Container, action: str
) -> None:
    night = await second_line(app_client, desk)
    await base.set_line(
        app_client,
        desk,
        mode="evenly",
        calendar={"weekly": {"0": ["14:00-18:00"]}},
        off_hours={"action": action, "line_id": night},
    )
    await base.go(app_client, desk, "operator2")
    await settle(container)
    conversation_id = await write(app_client, desk, "+79161001600")
    await settle(container)
    state = await base.conversation(app_client, desk, conversation_id)
    if action == "overflow":
        assert state["line_id"] == night
        assert await offers(app_client, desk, "operator2") == [conversation_id]
    else:
        timeline = await app_client.get(
            f"/api/v1/contacts/{state['contact_id']}/timeline", headers=desk.as_("operator")
        )
        assert "callback_requested" in [e["kind"] for e in timeline.json()["items"]]


async def test_a_full_queue_refuses_politely_and_closes(
    app_client: httpx.AsyncClient, desk: Desk, container: Container
) -> None:
    await base.set_line(
        app_client,
        desk,
        mode="evenly",
        limits={"max_queue_length": 1, "overflow": "refuse"},
        actions={"templates": {"queue_full": {"ru": "Все операторы заняты, напишите нам позже."}}},
    )
    waiting = await write(app_client, desk, "+79161001700")
    refused = await write(app_client, desk, "+79161001701")
    await settle(container)
    assert (await base.conversation(app_client, desk, waiting))["status"] == "queued"
    assert (await base.conversation(app_client, desk, refused))["status"] == "closed"
    said = await app_client.get(f"/api/v1/conversations/{refused}/messages", headers=desk.as_("supervisor"))
    assert [m["text"] for m in said.json() if m["author_kind"] == "system"] == [
        "Все операторы заняты, напишите нам позже."
    ]
