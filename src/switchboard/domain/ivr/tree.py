"""IVR menu trees as data: read and checked once, so a walk never meets a broken node.

A tree is a set of named nodes and a start node. Admins write it as JSON in a phone channel's
``settings.ivr`` or a line's ``routing.ivr``; every mistake names its node and field
(``settings.ivr.nodes.main.options.1: goes to 'sales', which is not a node``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from switchboard.domain.routing.config import InvalidConfig

Prompt = Mapping[str, str]  # language -> what the PBX plays (a sound file name or text for its TTS); "" = any

NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
DIGITS = re.compile(r"^[0-9*#]{1,4}$")
MAX_NODES = 200
SWITCH_ON = ("dnis", "ani", "caller", "language")
CALLERS = ("vip", "known", "unknown")


@dataclass(frozen=True, slots=True)
class Play:
    name: str
    prompt: Prompt
    next: str


@dataclass(frozen=True, slots=True)
class Menu:
    """Ask for a choice; wrong or no input is retried ``retries`` times, then ``on_fail``."""

    name: str
    prompt: Prompt
    options: Mapping[str, str]
    on_fail: str
    timeout_s: float = 5.0
    retries: int = 2
    invalid: Prompt = field(default_factory=dict)
    no_input: Prompt = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Identify:
    """Who is calling: by the caller's number (``ani``) or by a client code they key in (``code``)."""

    name: str
    by: str
    found: str
    not_found: str
    prompt: Prompt = field(default_factory=dict)
    min_digits: int = 4
    max_digits: int = 12
    timeout_s: float = 10.0
    retries: int = 2
    invalid: Prompt = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Switch:
    """Branch on a fact of the call without asking: the dialled number, the caller's number or tier, the language."""

    name: str
    on: str
    cases: Mapping[str, str]
    default: str


@dataclass(frozen=True, slots=True)
class Language:
    name: str
    language: str
    next: str


@dataclass(frozen=True, slots=True)
class Status:
    """Self-service: the caller hears the status of their open conversation."""

    name: str
    next: str


@dataclass(frozen=True, slots=True)
class Callback:
    """Self-service: order a callback to the calling number; ``prompt`` confirms, ``failed`` says it could not."""

    name: str
    next: str
    prompt: Prompt = field(default_factory=dict)
    failed: Prompt = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Enqueue:
    """Wait for an operator of ``line_id`` (None: the line the dialled number leads to)."""

    name: str
    line_id: int | None = None
    prompt: Prompt = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Connect:
    """Put the call through to an extension, a SIP URI or an operator; ``on_fail`` when nobody answers."""

    name: str
    on_fail: str
    target: str | None = None
    operator_id: int | None = None
    timeout_s: float = 30.0
    prompt: Prompt = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Voicemail:
    name: str
    prompt: Prompt = field(default_factory=dict)
    max_s: float = 120.0


@dataclass(frozen=True, slots=True)
class Hangup:
    name: str
    prompt: Prompt = field(default_factory=dict)


Node = Play | Menu | Identify | Switch | Language | Status | Callback | Enqueue | Connect | Voicemail | Hangup
TERMINAL = (Enqueue, Voicemail, Hangup)
SILENT = (Switch, Language)  # and Identify by ani: they move on without the PBX


@dataclass(frozen=True, slots=True)
class IvrTree:
    start: str
    nodes: Mapping[str, Node]
    max_steps: int = 50
    fallback: str | None = None  # a terminal node taken when a walk runs out of steps
    default_language: str = ""


def prompt_text(prompt: Prompt, language: str, default_language: str) -> str | None:
    """The prompt in the caller's language, else its base language, the tree's default, or any."""
    for key in (language, language.split("-")[0], default_language, ""):
        if key in prompt:
            return prompt[key]
    return next(iter(prompt.values()), None)


def edges(node: Node) -> list[tuple[str, str]]:
    """(field, target node) of every way out of ``node``."""
    match node:
        case Play() | Language() | Status() | Callback():
            return [("next", node.next)]
        case Menu():
            return [*((f"options.{k}", v) for k, v in node.options.items()), ("on_fail", node.on_fail)]
        case Identify():
            return [("found", node.found), ("not_found", node.not_found)]
        case Switch():
            return [*((f"cases.{k}", v) for k, v in node.cases.items()), ("default", node.default)]
        case Connect():
            return [("on_fail", node.on_fail)]
    return []


def silent(node: Node) -> bool:
    return isinstance(node, SILENT) or (isinstance(node, Identify) and node.by == "ani")


# --- reading ------------------------------------------------------------------------------------

_COMMON = {"type"}
_KEYS: dict[str, set[str]] = {
    "play": {"prompt", "next"},
    "menu": {"prompt", "options", "on_fail", "timeout_s", "retries", "invalid", "no_input"},
    "identify": {"by", "found", "not_found", "prompt", "min_digits", "max_digits", "timeout_s", "retries", "invalid"},
    "switch": {"on", "cases", "default"},
    "language": {"language", "next"},
    "status": {"next"},
    "callback": {"next", "prompt", "failed"},
    "enqueue": {"line_id", "prompt"},
    "connect": {"on_fail", "target", "operator_id", "timeout_s", "prompt"},
    "voicemail": {"prompt", "max_s"},
    "hangup": {"prompt"},
}
TYPES = tuple(_KEYS)


class _Node:
    """Reads one node's fields, collecting (field, message) instead of stopping at the first."""

    def __init__(self, data: Mapping[str, Any], where: str, errors: list[tuple[str, str]]) -> None:
        self.data, self.where, self.errors = data, where, errors

    def fail(self, name: str, message: str) -> None:
        self.errors.append((f"{self.where}.{name}", message))

    def ref(self, name: str, required: bool = True) -> str:
        value = self.data.get(name)
        if isinstance(value, str) and value:
            return value
        if value is not None or required:
            self.fail(name, "must name a node")
        return ""

    def prompt(self, name: str, required: bool = False) -> Prompt:
        value = self.data.get(name)
        if value is None:
            if required:
                self.fail(name, "is required: a sound file or text, or a map of language to it")
            return {}
        if isinstance(value, str) and value.strip():
            return {"": value}
        if isinstance(value, Mapping) and value and all(isinstance(v, str) and v.strip() for v in value.values()):
            return {str(k): str(v) for k, v in value.items()}
        self.fail(name, "must be a non-empty text or a map of language to text")
        return {}

    def number(self, name: str, default: float, low: float, high: float) -> float:
        value = self.data.get(name, default)
        if isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high:
            return float(value)
        self.fail(name, f"must be a number from {low:g} to {high:g}")
        return default

    def whole(self, name: str, default: int, low: int, high: int) -> int:
        value = self.data.get(name, default)
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        self.fail(name, f"must be a whole number from {low} to {high}")
        return default

    def ident(self, name: str) -> int | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        self.fail(name, "must be a positive id")
        return None

    def table(self, name: str, key_rule: re.Pattern[str] | None, what: str) -> dict[str, str]:
        value = self.data.get(name)
        if not isinstance(value, Mapping) or not value:
            self.fail(name, f"must map {what} to node names")
            return {}
        found = {}
        for key, target in value.items():
            if key_rule is not None and not key_rule.match(str(key)):
                self.fail(f"{name}.{key}", f"{key!r} is not {what}")
            elif not isinstance(target, str) or not target:
                self.fail(f"{name}.{key}", "must name a node")
            else:
                found[str(key)] = target
        return found


def _read(name: str, raw: Mapping[str, Any], r: _Node) -> Node | None:
    kind = raw.get("type")
    if kind not in _KEYS:
        r.fail("type", f"must be one of: {', '.join(TYPES)}")
        return None
    for key in sorted(set(raw) - _KEYS[kind] - _COMMON):
        r.fail(key, f"is not a setting of a {kind} node")
    match kind:
        case "play":
            return Play(name, r.prompt("prompt", required=True), r.ref("next"))
        case "menu":
            return Menu(
                name,
                r.prompt("prompt", required=True),
                r.table("options", DIGITS, "keys of up to 4 digits, * or #"),
                r.ref("on_fail"),
                r.number("timeout_s", 5.0, 1, 60),
                r.whole("retries", 2, 0, 5),
                r.prompt("invalid"),
                r.prompt("no_input"),
            )
        case "identify":
            return _identify(name, raw, r)
        case "switch":
            return _switch(name, raw, r)
        case "language":
            language = raw.get("language")
            if not isinstance(language, str) or not 2 <= len(language) <= 16:
                r.fail("language", "must be a language tag such as ru or en")
                language = ""
            return Language(name, language, r.ref("next"))
        case "status":
            return Status(name, r.ref("next"))
        case "callback":
            return Callback(name, r.ref("next"), r.prompt("prompt"), r.prompt("failed"))
        case "enqueue":
            return Enqueue(name, r.ident("line_id"), r.prompt("prompt"))
        case "connect":
            return _connect(name, raw, r)
        case "voicemail":
            return Voicemail(name, r.prompt("prompt"), r.number("max_s", 120.0, 5, 600))
    return Hangup(name, r.prompt("prompt"))


def _identify(name: str, raw: Mapping[str, Any], r: _Node) -> Identify:
    by = raw.get("by")
    if by not in ("ani", "code"):
        r.fail("by", "must be ani (the caller's number) or code (a client code keyed in)")
        by = "ani"
    low = r.whole("min_digits", 4, 1, 32)
    high = r.whole("max_digits", 12, 1, 32)
    if low > high:
        r.fail("min_digits", "must not be more than max_digits")
    return Identify(
        name,
        str(by),
        r.ref("found"),
        r.ref("not_found"),
        r.prompt("prompt", required=by == "code"),
        low,
        high,
        r.number("timeout_s", 10.0, 1, 60),
        r.whole("retries", 2, 0, 5),
        r.prompt("invalid"),
    )


def _switch(name: str, raw: Mapping[str, Any], r: _Node) -> Switch:
    on = raw.get("on")
    if on not in SWITCH_ON:
        r.fail("on", f"must be one of: {', '.join(SWITCH_ON)}")
        on = "dnis"
    cases = r.table("cases", None, "values")
    if on == "caller":
        for key in sorted(set(cases) - set(CALLERS)):
            r.fail(f"cases.{key}", f"the caller is one of: {', '.join(CALLERS)}")
    return Switch(name, str(on), cases, r.ref("default"))


def _connect(name: str, raw: Mapping[str, Any], r: _Node) -> Connect:
    target = raw.get("target")
    if target is not None and (not isinstance(target, str) or not 1 <= len(target) <= 200):
        r.fail("target", "must be an extension or a SIP URI of up to 200 characters")
        target = None
    operator_id = r.ident("operator_id")
    if target is None and operator_id is None:
        r.fail("target", "a connect node needs a target (extension, SIP URI) or an operator_id")
    return Connect(name, r.ref("on_fail"), target, operator_id, r.number("timeout_s", 30.0, 5, 300), r.prompt("prompt"))


def parse_ivr(raw: object, prefix: str = "ivr") -> IvrTree:
    """The tree, or InvalidConfig listing every mistake with its field (``<prefix>.nodes.<node>.<field>``)."""
    errors: list[tuple[str, str]] = []
    if not isinstance(raw, Mapping):
        raise InvalidConfig([(prefix, "must be an object with start and nodes")])
    for key in sorted(set(raw) - {"start", "nodes", "max_steps", "fallback", "default_language"}):
        errors.append((f"{prefix}.{key}", "is not an IVR setting"))
    top = _Node(raw, prefix, errors)
    nodes = _nodes(raw.get("nodes"), prefix, errors)
    start = top.ref("start")
    if start and nodes and start not in nodes:
        errors.append((f"{prefix}.start", f"{start!r} is not a node"))
    fallback = top.ref("fallback", required=False) or None
    if fallback is not None and nodes and not isinstance(nodes.get(fallback), TERMINAL):
        errors.append((f"{prefix}.fallback", "must be an enqueue, voicemail or hangup node"))
    language = raw.get("default_language", "")
    if not isinstance(language, str):
        errors.append((f"{prefix}.default_language", "must be a language tag such as ru"))
        language = ""
    tree = IvrTree(start, nodes, top.whole("max_steps", 50, 5, 500), fallback, language)
    if not errors:
        errors.extend(_link_problems(tree, prefix))
    if errors:
        raise InvalidConfig(errors)
    return tree


def _nodes(raw: object, prefix: str, errors: list[tuple[str, str]]) -> dict[str, Node]:
    if not isinstance(raw, Mapping) or not raw:
        errors.append((f"{prefix}.nodes", "must map node names to nodes"))
        return {}
    if len(raw) > MAX_NODES:
        errors.append((f"{prefix}.nodes", f"at most {MAX_NODES} nodes"))
    nodes: dict[str, Node] = {}
    for name, item in raw.items():
        where = f"{prefix}.nodes.{name}"
        if not NAME.match(str(name)):
            errors.append((where, "node names are 1 to 40 letters, digits, - or _"))
            continue
        if not isinstance(item, Mapping):
            errors.append((where, "must be an object with a type"))
            continue
        node = _read(str(name), item, _Node(item, where, errors))
        if node is not None:
            nodes[str(name)] = node
    return nodes


def _link_problems(tree: IvrTree, prefix: str) -> list[tuple[str, str]]:
    """Every way out leads to a node, and no loop goes round without asking the caller anything."""
    found = []
    for name, node in tree.nodes.items():
        for where, target in edges(node):
            if target not in tree.nodes:
                found.append((f"{prefix}.nodes.{name}.{where}", f"goes to {target!r}, which is not a node"))
    if found:
        return found
    loop = _silent_loop(tree)
    if loop:
        path = " → ".join([*loop, loop[0]])
        found.append((f"{prefix}.nodes.{loop[0]}", f"loops without asking the caller anything: {path}"))
    return found


def _silent_loop(tree: IvrTree) -> list[str] | None:
    """A cycle made only of nodes that move on by themselves (switch, language, identify by ani), if any."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(name: str, path: list[str]) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for _, target in edges(tree.nodes[name]):
            if not silent(tree.nodes[target]):
                continue
            if state.get(target) == 1:
                return path[path.index(target) :]
            if target not in state:
                loop = visit(target, path)
                if loop:
                    return loop
        path.pop()
        state[name] = 2
        return None

    for name in sorted(tree.nodes):
        if silent(tree.nodes[name]) and name not in state:
            loop = visit(name, [])
            if loop:
                return loop
    return None


def line_ids(tree: IvrTree) -> list[tuple[str, int]]:
    """(node, line id) of every enqueue that names a line: the application checks they exist."""
    return [(n.name, n.line_id) for n in tree.nodes.values() if isinstance(n, Enqueue) and n.line_id is not None]


def operator_ids(tree: IvrTree) -> list[tuple[str, int]]:
    return [(n.name, n.operator_id) for n in tree.nodes.values() if isinstance(n, Connect) and n.operator_id]
