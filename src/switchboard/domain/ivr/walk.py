"""Walking an IVR tree: one reply in, the next action out, and the walk as plain data to store.

Pure: the facts of the call and the caller's replies are the only inputs. Every reply costs at
least one step and a walk has ``max_steps``, so whatever the caller (or a broken PBX) sends,
the walk ends in a terminal action: enqueue, voicemail or hangup.

    turn = begin(tree, facts)                 # Turn(walk, action)
    turn = resume(tree, turn.walk, facts, Digits("1"))
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from switchboard.domain.ivr.tree import (
    Callback,
    Connect,
    Enqueue,
    Hangup,
    Identify,
    IvrTree,
    Language,
    Menu,
    Node,
    Play,
    Prompt,
    Status,
    Switch,
    Voicemail,
    prompt_text,
)

MAX_PATH = 100
BUDGET = "!steps"  # marks in the path that the walk ran out of steps


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What is known of the call before the caller says anything."""

    ani: str
    dnis: str
    caller: str = "unknown"  # vip | known | unknown (recognised by the calling number)
    language: str = ""


# --- replies: what happened since the last action ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Played:
    """The prompts were played (or the status said)."""


@dataclass(frozen=True, slots=True)
class Digits:
    value: str


@dataclass(frozen=True, slots=True)
class NoInput:
    """The caller keyed nothing before the timeout."""


@dataclass(frozen=True, slots=True)
class Found:
    """The client code belongs to a contact; ``caller`` is vip or known."""

    caller: str = "known"


@dataclass(frozen=True, slots=True)
class NotFound:
    pass


@dataclass(frozen=True, slots=True)
class Done:
    """The application did what was asked (a callback ordered); ``ok`` False when it could not."""

    ok: bool = True


@dataclass(frozen=True, slots=True)
class Failed:
    """A connect was not answered (busy, no answer, unreachable)."""


Reply = Played | Digits | NoInput | Found | NotFound | Done | Failed


# --- actions: what must happen next -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlayPrompts:
    prompts: tuple[str, ...]
    language: str


@dataclass(frozen=True, slots=True)
class CollectDigits:
    prompts: tuple[str, ...]
    language: str
    min_digits: int
    max_digits: int
    timeout_s: float


@dataclass(frozen=True, slots=True)
class LookupCode:
    """The application looks the code up and answers Found or NotFound."""

    code: str


@dataclass(frozen=True, slots=True)
class SayStatus:
    """The application says the caller's open conversation's status and answers Played."""

    language: str


@dataclass(frozen=True, slots=True)
class OrderCallback:
    """The application orders a callback to the calling number and answers Done(ok)."""

    language: str


@dataclass(frozen=True, slots=True)
class ToQueue:
    line_id: int | None
    prompts: tuple[str, ...]
    language: str


@dataclass(frozen=True, slots=True)
class ConnectTo:
    target: str | None
    operator_id: int | None
    timeout_s: float
    prompts: tuple[str, ...]
    language: str


@dataclass(frozen=True, slots=True)
class ToVoicemail:
    prompts: tuple[str, ...]
    language: str
    max_s: float


@dataclass(frozen=True, slots=True)
class HangUp:
    prompts: tuple[str, ...]
    language: str


Action = (
    PlayPrompts | CollectDigits | LookupCode | SayStatus | OrderCallback | ToQueue | ConnectTo | ToVoicemail | HangUp
)
TERMINAL_ACTIONS = (ToQueue, ToVoicemail, HangUp)


@dataclass(frozen=True, slots=True)
class Walk:
    """Where the caller is: the node, what it waits for, retries used, steps taken, the path so far."""

    node: str
    waiting: str = ""  # played | digits | lookup | callback | connect | end
    attempts: int = 0
    steps: int = 0
    language: str = ""
    caller: str = "unknown"
    path: tuple[str, ...] = ()
    fell_back: bool = False

    def to_data(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "waiting": self.waiting,
            "attempts": self.attempts,
            "steps": self.steps,
            "language": self.language,
            "caller": self.caller,
            "path": list(self.path),
            "fell_back": self.fell_back,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Walk:
        return cls(
            node=str(data["node"]),
            waiting=str(data.get("waiting", "")),
            attempts=int(data.get("attempts", 0)),
            steps=int(data.get("steps", 0)),
            language=str(data.get("language", "")),
            caller=str(data.get("caller", "unknown")),
            path=tuple(str(x) for x in data.get("path", ())),
            fell_back=bool(data.get("fell_back", False)),
        )


@dataclass(frozen=True, slots=True)
class Turn:
    walk: Walk
    action: Action

    @property
    def finished(self) -> bool:
        return isinstance(self.action, TERMINAL_ACTIONS)


def begin(tree: IvrTree, facts: CallFacts) -> Turn:
    walk = Walk(node=tree.start, language=facts.language or tree.default_language, caller=facts.caller)
    return _enter(tree, walk, tree.start, facts)


def resume(tree: IvrTree, walk: Walk, facts: CallFacts, reply: Reply) -> Turn:
    """The next action after ``reply``; a reply the node does not expect repeats its action (and costs a step)."""
    walk = replace(walk, steps=walk.steps + 1)
    if walk.waiting == "end":
        return Turn(walk, _terminal_action(tree, walk))
    if walk.steps > tree.max_steps:
        return _out_of_steps(tree, walk)
    node = tree.nodes[walk.node]
    turn = _answer(tree, walk, node, facts, reply)
    return turn if turn is not None else Turn(walk, _again(tree, walk, node))


def _answer(tree: IvrTree, walk: Walk, node: Node, facts: CallFacts, reply: Reply) -> Turn | None:
    """The reply applied to the node, or None when the node does not expect it."""
    match node, walk.waiting, reply:
        case Play() | Status(), "played", Played():
            return _enter(tree, walk, node.next, facts)
        case Callback(), "callback", Done(ok=ok):
            prompt = node.prompt if ok else node.failed
            return Turn(replace(walk, waiting="played"), PlayPrompts(_prompts(tree, walk, prompt), walk.language))
        case Callback(), "played", Played():
            return _enter(tree, walk, node.next, facts)
        case Menu(), "digits", Digits(value=value) if value in node.options:
            return _enter(tree, walk, node.options[value], facts)
        case Menu(), "digits", Digits():
            return _retry(tree, walk, node, node.invalid, facts)
        case Menu(), "digits", NoInput():
            return _retry(tree, walk, node, node.no_input, facts)
        case Identify(), "digits", Digits(value=value) if node.min_digits <= len(value) <= node.max_digits:
            return Turn(replace(walk, waiting="lookup"), LookupCode(value))
        case Identify(), "digits", Digits() | NoInput():
            return _retry(tree, walk, node, node.invalid, facts)
        case Identify(), "lookup", Found(caller=caller):
            return _enter(tree, replace(walk, caller=caller), node.found, facts)
        case Identify(), "lookup", NotFound():
            return _retry(tree, walk, node, node.invalid, facts)
        case Connect(), "connect", Failed():
            return _enter(tree, walk, node.on_fail, facts)
    return None


def _retry(tree: IvrTree, walk: Walk, node: Menu | Identify, before: Prompt, facts: CallFacts) -> Turn:
    attempts = walk.attempts + 1
    if attempts > node.retries:
        target = node.on_fail if isinstance(node, Menu) else node.not_found
        return _enter(tree, walk, target, facts)
    walk = replace(walk, attempts=attempts, waiting="digits")
    return Turn(walk, _collect(tree, walk, node, (*_prompts(tree, walk, before), *_prompts(tree, walk, node.prompt))))


def _enter(tree: IvrTree, walk: Walk, name: str, facts: CallFacts) -> Turn:
    """Go to ``name``; nodes that need nobody (switch, language, identify by number) are passed through here."""
    while True:
        walk = replace(walk, node=name, attempts=0, steps=walk.steps + 1, path=(*walk.path, name)[-MAX_PATH:])
        if walk.steps > tree.max_steps:
            return _out_of_steps(tree, walk)
        node = tree.nodes[name]
        match node:
            case Switch():
                name = node.cases.get(_fact(node.on, walk, facts), node.default)
            case Language():
                walk, name = replace(walk, language=node.language), node.next
            case Identify(by="ani"):
                name = node.found if walk.caller in ("vip", "known") else node.not_found
            case _:
                return _arrive(tree, walk, node)


def _arrive(tree: IvrTree, walk: Walk, node: Node) -> Turn:
    language = walk.language
    match node:
        case Play():
            return Turn(replace(walk, waiting="played"), PlayPrompts(_prompts(tree, walk, node.prompt), language))
        case Menu() | Identify():
            walk = replace(walk, waiting="digits")
            return Turn(walk, _collect(tree, walk, node, _prompts(tree, walk, node.prompt)))
        case Status():
            return Turn(replace(walk, waiting="played"), SayStatus(language))
        case Callback():
            return Turn(replace(walk, waiting="callback"), OrderCallback(language))
        case Connect():
            prompts = _prompts(tree, walk, node.prompt)
            return Turn(
                replace(walk, waiting="connect"),
                ConnectTo(node.target, node.operator_id, node.timeout_s, prompts, language),
            )
    walk = replace(walk, waiting="end")
    return Turn(walk, _terminal_action(tree, walk))


def _again(tree: IvrTree, walk: Walk, node: Node) -> Action:
    """The current node's action once more (after a reply it did not expect)."""
    if walk.waiting == "lookup" and isinstance(node, Identify):
        return _collect(tree, walk, node, _prompts(tree, walk, node.prompt))
    if walk.waiting == "played" and isinstance(node, Callback):
        return PlayPrompts(_prompts(tree, walk, node.prompt), walk.language)
    return _arrive(tree, walk, node).action


def _terminal_action(tree: IvrTree, walk: Walk) -> Action:
    node = tree.nodes.get(walk.node)
    language = walk.language
    match node:
        case Enqueue():
            return ToQueue(node.line_id, _prompts(tree, walk, node.prompt), language)
        case Voicemail():
            return ToVoicemail(_prompts(tree, walk, node.prompt), language, node.max_s)
        case Hangup():
            return HangUp(_prompts(tree, walk, node.prompt), language)
    return ToQueue(None, (), language)  # the built-in fallback: an operator of the dialled number's line


def _out_of_steps(tree: IvrTree, walk: Walk) -> Turn:
    """A walk that went on too long (a caller circling the menus) ends at the fallback."""
    name = tree.fallback or BUDGET
    walk = replace(walk, node=name, waiting="end", fell_back=True, path=(*walk.path, BUDGET)[-MAX_PATH:])
    return Turn(walk, _terminal_action(tree, walk))


def _collect(tree: IvrTree, walk: Walk, node: Menu | Identify, prompts: tuple[str, ...]) -> CollectDigits:
    if isinstance(node, Menu):
        longest = max(len(key) for key in node.options)
        return CollectDigits(prompts, walk.language, 1, longest, node.timeout_s)
    return CollectDigits(prompts, walk.language, node.min_digits, node.max_digits, node.timeout_s)


def _prompts(tree: IvrTree, walk: Walk, prompt: Prompt) -> tuple[str, ...]:
    text = prompt_text(prompt, walk.language, tree.default_language)
    return (text,) if text else ()


def _fact(on: str, walk: Walk, facts: CallFacts) -> str:
    return {"dnis": facts.dnis, "ani": facts.ani, "caller": walk.caller, "language": walk.language}[on]


def default_turn(language: str = "") -> Turn:
    """No tree: the call goes straight to the queue of the dialled number's line."""
    walk = Walk(node=BUDGET, waiting="end", language=language)
    return Turn(walk, ToQueue(None, (), language))
