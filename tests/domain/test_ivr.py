"""The IVR: trees read and checked as data, walked purely; every walk of a valid tree ends."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from switchboard.domain.ivr.tree import TYPES, parse_ivr
from switchboard.domain.ivr.walk import (
    BUDGET,
    CallFacts,
    CollectDigits,
    ConnectTo,
    Digits,
    Done,
    Failed,
    Found,
    HangUp,
    LookupCode,
    NoInput,
    NotFound,
    OrderCallback,
    Played,
    PlayPrompts,
    Reply,
    SayStatus,
    ToQueue,
    ToVoicemail,
    Turn,
    begin,
    resume,
)
from switchboard.domain.routing.config import InvalidConfig

VIP_NUMBER = "+74950000001"
FACTS = CallFacts(ani="+79161234567", dnis="+74950000000")

BANK: dict[str, Any] = {
    "start": "by_number",
    "default_language": "ru",
    "nodes": {
        "by_number": {"type": "switch", "on": "dnis", "cases": {VIP_NUMBER: "vip"}, "default": "language"},
        "vip": {"type": "enqueue", "line_id": 7, "prompt": "vip-hold.wav"},
        "language": {
            "type": "menu",
            "prompt": "Для русского нажмите 1. For English press 2.",
            "options": {"1": "ru", "2": "en"},
            "timeout_s": 4,
            "retries": 1,
            "on_fail": "main",
        },
        "ru": {"type": "language", "language": "ru", "next": "main"},
        "en": {"type": "language", "language": "en", "next": "main"},
        "main": {
            "type": "menu",
            "prompt": {"ru": "Статус — 1, перезвонить — 2, код клиента — 3, оператор — 0", "en": "Status 1, ..."},
            "invalid": {"ru": "Нет такого пункта", "en": "No such option"},
            "options": {"1": "status", "2": "callback", "3": "code", "0": "queue", "9": "main"},
            "on_fail": "queue",
        },
        "status": {"type": "status", "next": "main"},
        "callback": {"type": "callback", "prompt": "Мы перезвоним", "failed": "Номер скрыт", "next": "bye"},
        "code": {
            "type": "identify",
            "by": "code",
            "prompt": "Введите код клиента",
            "invalid": "Код не найден",
            "min_digits": 4,
            "max_digits": 6,
            "found": "tier",
            "not_found": "queue",
        },
        "tier": {"type": "switch", "on": "caller", "cases": {"vip": "vip"}, "default": "queue"},
        "queue": {"type": "enqueue"},
        "duty": {"type": "connect", "target": "sip:duty@pbx.local", "on_fail": "vm"},
        "vm": {"type": "voicemail", "prompt": "Оставьте сообщение", "max_s": 60},
        "bye": {"type": "hangup", "prompt": "До свидания"},
    },
}


def walk_through(tree_data: dict[str, Any], facts: CallFacts, *replies: Reply) -> list[Turn]:
    tree = parse_ivr(tree_data)
    turns = [begin(tree, facts)]
    for reply in replies:
        turns.append(resume(tree, turns[-1].walk, facts, reply))
    return turns


def test_a_vip_number_goes_straight_to_the_vip_line() -> None:
    (turn,) = walk_through(BANK, CallFacts(ani="+79161234567", dnis=VIP_NUMBER))
    assert turn.action == ToQueue(7, ("vip-hold.wav",), "ru")
    assert turn.walk.path == ("by_number", "vip")
    assert turn.finished


def test_language_choice_then_menu_in_that_language_and_invalid_input_retried() -> None:
    turns = walk_through(BANK, FACTS, Digits("2"), Digits("5"), Digits("0"))
    assert turns[0].action == CollectDigits(("Для русского нажмите 1. For English press 2.",), "ru", 1, 1, 4.0)
    assert turns[1].action == CollectDigits(("Status 1, ...",), "en", 1, 1, 5.0)
    assert turns[2].action == CollectDigits(("No such option", "Status 1, ..."), "en", 1, 1, 5.0)
    assert turns[3].action == ToQueue(None, (), "en")
    assert turns[3].walk.path == ("by_number", "language", "en", "main", "queue")


def test_no_input_until_retries_run_out_takes_on_fail() -> None:
    turns = walk_through(BANK, FACTS, NoInput(), NoInput())
    # language menu has 1 retry: the second silence goes on to the main menu
    assert isinstance(turns[1].action, CollectDigits) and turns[1].walk.node == "language"
    assert turns[2].walk.node == "main" and turns[2].action.language == "ru"  # type: ignore[union-attr]


def test_client_code_identifies_a_vip_who_then_goes_to_the_vip_line() -> None:
    turns = walk_through(BANK, FACTS, Digits("1"), Digits("3"), Digits("12"), Digits("4242"), Found("vip"))
    assert turns[3].action == CollectDigits(("Код не найден", "Введите код клиента"), "ru", 4, 6, 10.0)
    assert turns[4].action == LookupCode("4242")
    assert turns[5].action == ToQueue(7, ("vip-hold.wav",), "ru")
    assert turns[5].walk.caller == "vip"


def test_an_unknown_code_is_retried_then_goes_to_not_found() -> None:
    turns = walk_through(
        BANK, FACTS, Digits("1"), Digits("3"), Digits("1111"), NotFound(), Digits("2222"), NotFound(), Digits("3333")
    )
    assert [type(t.action).__name__ for t in turns[3:]] == [
        "LookupCode",
        "CollectDigits",
        "LookupCode",
        "CollectDigits",
        "LookupCode",
    ]
    assert resume(parse_ivr(BANK), turns[-1].walk, FACTS, NotFound()).action == ToQueue(None, (), "ru")


def test_self_service_status_and_callback() -> None:
    turns = walk_through(BANK, FACTS, Digits("1"), Digits("1"), Played(), Digits("2"), Done(ok=True), Played())
    assert turns[2].action == SayStatus("ru")
    assert turns[3].walk.node == "main"
    assert turns[4].action == OrderCallback("ru")
    assert turns[5].action == PlayPrompts(("Мы перезвоним",), "ru")
    assert turns[6].action == HangUp(("До свидания",), "ru")


def test_a_callback_that_cannot_be_ordered_says_so() -> None:
    turns = walk_through(BANK, FACTS, Digits("1"), Digits("2"), Done(ok=False))
    assert turns[-1].action == PlayPrompts(("Номер скрыт",), "ru")


def test_a_connect_nobody_answers_goes_to_voicemail() -> None:
    data = {**BANK, "start": "duty"}
    turns = walk_through(data, FACTS, Failed())
    assert turns[0].action == ConnectTo("sip:duty@pbx.local", None, 30.0, (), "ru")
    assert turns[1].action == ToVoicemail(("Оставьте сообщение",), "ru", 60.0)


def test_a_reply_the_node_does_not_expect_repeats_its_action() -> None:
    turns = walk_through(BANK, FACTS, Played())
    assert turns[1].action == turns[0].action
    assert turns[1].walk.steps == turns[0].walk.steps + 1


def test_a_caller_circling_the_menu_ends_at_the_fallback() -> None:
    data = {**BANK, "max_steps": 10, "fallback": "vm"}
    tree = parse_ivr(data)
    turn = begin(tree, FACTS)
    turn = resume(tree, turn.walk, FACTS, Digits("1"))
    count = 0
    while not turn.finished:
        turn = resume(tree, turn.walk, FACTS, Digits("9"))  # "9" goes back to the main menu, forever
        count += 1
    assert count <= 10
    assert turn.action == ToVoicemail(("Оставьте сообщение",), "ru", 60.0)
    assert turn.walk.fell_back and turn.walk.path[-1] == BUDGET


def test_a_finished_walk_keeps_answering_its_end() -> None:
    tree = parse_ivr(BANK)
    turn = begin(tree, CallFacts(ani="", dnis=VIP_NUMBER))
    assert resume(tree, turn.walk, FACTS, Digits("1")).action == turn.action


# --- checking trees ---------------------------------------------------------------------------


def problems(data: object, prefix: str = "ivr") -> list[tuple[str, str]]:
    with pytest.raises(InvalidConfig) as error:
        parse_ivr(data, prefix)
    return error.value.errors


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"start": "nowhere"}, [("settings.ivr.start", "'nowhere' is not a node")]),
        (
            {"nodes": {"main": {"type": "menu", "prompt": "x", "options": {"1": "sales"}, "on_fail": "main"}}},
            [("settings.ivr.nodes.main.options.1", "goes to 'sales', which is not a node")],
        ),
        (
            {"nodes": {"main": {"type": "menu", "prompt": "x", "options": {"12345": "main"}, "on_fail": "main"}}},
            [("settings.ivr.nodes.main.options.12345", "'12345' is not keys of up to 4 digits, * or #")],
        ),
        (
            {"nodes": {"main": {"type": "dance"}}},
            [("settings.ivr.nodes.main.type", "must be one of: " + ", ".join(TYPES))],
        ),
        (
            {"nodes": {"main": {"type": "menu", "prompt": "x", "options": {"1": "main"}, "on_fail": "main", "x": 1}}},
            [("settings.ivr.nodes.main.x", "is not a setting of a menu node")],
        ),
        (
            {
                "nodes": {
                    "main": {"type": "menu", "prompt": "x", "options": {"1": "main"}, "on_fail": "main", "retries": 9}
                }
            },
            [("settings.ivr.nodes.main.retries", "must be a whole number from 0 to 5")],
        ),
        (
            {"nodes": {"main": {"type": "connect", "on_fail": "main"}}},
            [
                (
                    "settings.ivr.nodes.main.target",
                    "a connect node needs a target (extension, SIP URI) or an operator_id",
                )
            ],
        ),
        (
            {"nodes": {"main": {"type": "switch", "on": "caller", "cases": {"gold": "main"}, "default": "main"}}},
            [("settings.ivr.nodes.main.cases.gold", "the caller is one of: vip, known, unknown")],
        ),
        (
            {"nodes": {"main": {"type": "hangup"}}, "fallback": "main", "colour": "red"},
            [("settings.ivr.colour", "is not an IVR setting")],
        ),
        (
            {"nodes": {"main": {"type": "play", "prompt": "x", "next": "main"}}, "fallback": "main"},
            [("settings.ivr.fallback", "must be an enqueue, voicemail or hangup node")],
        ),
    ],
)
def test_mistakes_name_the_node_and_the_field(change: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    data = {"start": "main", "nodes": {"main": {"type": "hangup"}}} | change
    assert problems(data, "settings.ivr") == expected


def test_a_loop_that_never_asks_the_caller_is_refused() -> None:
    data = {
        "start": "a",
        "nodes": {
            "a": {"type": "switch", "on": "dnis", "cases": {"1": "end"}, "default": "b"},
            "b": {"type": "language", "language": "en", "next": "a"},
            "end": {"type": "hangup"},
        },
    }
    assert problems(data) == [("ivr.nodes.a", "loops without asking the caller anything: a → b → a")]


def test_a_tree_that_is_not_an_object_is_refused() -> None:
    assert problems(["menu"]) == [("ivr", "must be an object with start and nodes")]


# --- properties -------------------------------------------------------------------------------

SILENT = ("switch", "language")


@st.composite
def trees(draw: st.DrawFn) -> dict[str, Any]:
    """Any valid tree: random types and links; silent nodes only link forwards, so they cannot loop."""
    count = draw(st.integers(1, 12))
    names = [f"n{i}" for i in range(count)]
    nodes: dict[str, Any] = {}
    for i, name in enumerate(names):
        kind = draw(st.sampled_from(TYPES))
        later = names[i + 1 :]
        if (kind in SILENT or kind == "identify") and not later:
            kind = draw(st.sampled_from(("enqueue", "voicemail", "hangup")))
        anywhere = st.sampled_from(names)
        forward = st.sampled_from(later) if later else anywhere
        link = forward if kind in SILENT else anywhere
        nodes[name] = _node(draw, kind, link, forward)
    return {"start": "n0", "nodes": nodes, "max_steps": draw(st.integers(5, 40))}


def _node(draw: st.DrawFn, kind: str, link: st.SearchStrategy[str], forward: st.SearchStrategy[str]) -> dict[str, Any]:
    keys = st.text("0123456789*#", min_size=1, max_size=2)
    match kind:
        case "play" | "status" | "callback":
            return (
                {"type": kind, "prompt": "p", "next": draw(link)}
                if kind != "status"
                else {"type": kind, "next": draw(link)}
            )
        case "menu":
            options = draw(st.dictionaries(keys, link, min_size=1, max_size=4))
            return {
                "type": "menu",
                "prompt": "p",
                "options": options,
                "on_fail": draw(link),
                "retries": draw(st.integers(0, 3)),
            }
        case "identify":
            by = draw(st.sampled_from(("ani", "code")))
            target = forward if by == "ani" else link
            return {"type": "identify", "by": by, "prompt": "p", "found": draw(target), "not_found": draw(target)}
        case "switch":
            on = draw(st.sampled_from(("dnis", "caller", "language")))
            values = (
                st.sampled_from(("vip", "known", "unknown")) if on == "caller" else st.sampled_from(("1", "2", "ru"))
            )
            return {
                "type": "switch",
                "on": on,
                "cases": draw(st.dictionaries(values, link, min_size=1)),
                "default": draw(link),
            }
        case "language":
            return {"type": "language", "language": draw(st.sampled_from(("ru", "en"))), "next": draw(link)}
        case "connect":
            return {"type": "connect", "target": "100", "on_fail": draw(link)}
        case "enqueue":
            return {"type": "enqueue", "line_id": draw(st.one_of(st.none(), st.integers(1, 5)))}
    return {"type": kind}


REPLIES = st.one_of(
    st.just(Played()),
    st.builds(Digits, st.text("0123456789*#", min_size=0, max_size=6)),
    st.just(NoInput()),
    st.builds(Found, st.sampled_from(("vip", "known"))),
    st.just(NotFound()),
    st.builds(Done, st.booleans()),
    st.just(Failed()),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=trees(), replies=st.lists(REPLIES, max_size=60), caller=st.sampled_from(("vip", "known", "unknown")))
def test_every_walk_of_a_valid_tree_ends_in_a_terminal_within_its_steps(
    data: dict[str, Any], replies: list[Reply], caller: str
) -> None:
    try:
        tree = parse_ivr(data)
    except InvalidConfig:
        assume(False)
        raise
    facts = CallFacts(ani="+79160000000", dnis="1", caller=caller)
    turn = begin(tree, facts)
    resumes = 0
    while not turn.finished:
        reply = replies[resumes] if resumes < len(replies) else NoInput()
        turn = resume(tree, turn.walk, facts, reply)
        resumes += 1
        assert resumes <= tree.max_steps + 1
    assert isinstance(turn.action, ToQueue | ToVoicemail | HangUp)
    assert turn.walk.steps <= tree.max_steps + 1
    assert all(node in tree.nodes or node == BUDGET for node in turn.walk.path)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 500) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(
    raw=st.one_of(
        JSON,
        st.fixed_dictionaries(
            {"start": st.sampled_from(("a", "b")), "nodes": st.dictionaries(st.sampled_from(("a", "b", "c")), JSON)}
        ),
    )
)
def test_any_input_gives_a_tree_or_errors_naming_ivr_fields(raw: object) -> None:
    errors: list[tuple[str, str]] = []
    try:
        parse_ivr(raw)
    except InvalidConfig as error:
        errors = error.errors or [("", "no errors listed")]
    assert all(field == "ivr" or field.startswith("ivr.") for field, _ in errors)
