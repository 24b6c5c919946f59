"""A phone channel's voice settings: its numbers, the call-control secret, the IVR, extensions, dialling out.

{"numbers": ["+74950000000", "+74950000001"],   # the numbers this channel answers (DNIS)
 "secret": "…at least 16 characters…",          # signs call control both ways (never shown back)
 "ivr": {"start": "main", "nodes": {…}},        # optional; else the line's routing.ivr; else straight to the queue
 "extensions": {"12": "sip:olga@pbx.local"},    # operator id → where the PBX reaches their phone
 "originate_url": "https://pbx.example/switchboard/originate",   # click-to-call (signed POST)
 "voicemail_uri": "sip:voicemail@pbx.example",  # a SIP front end redirects (302) callers nobody answered here
 "announce_every_s": 30, "poll_after_s": 5}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from switchboard.domain.errors import InvalidIdentity
from switchboard.domain.ivr.tree import IvrTree, parse_ivr
from switchboard.domain.routing.config import InvalidConfig
from switchboard.domain.voice.numbers import dialled_number
from switchboard.domain.voice.signing import MIN_SECRET

MASK = "********"
VOICE_KEYS = frozenset(
    {
        "numbers",
        "secret",
        "ivr",
        "extensions",
        "originate_url",
        "announce_every_s",
        "poll_after_s",
        "caller_id",
        "voicemail_uri",
    }
)
SIP_URI = re.compile(r"^sips?:[^\s<>\"]{1,500}$")


@dataclass(frozen=True, slots=True)
class PhoneSettings:
    numbers: tuple[str, ...] = ()
    secret: str | None = field(default=None, repr=False)
    ivr: IvrTree | None = None
    extensions: Mapping[int, str] = field(default_factory=dict)
    originate_url: str | None = None
    announce_every_s: float = 30.0  # 0: never announce the position
    poll_after_s: float = 5.0  # how long the PBX plays hold music before asking again
    caller_id: str | None = None  # the number customers see on outbound calls (default: the first number)
    voicemail_uri: str | None = None  # where a SIP front end redirects a caller nobody answered (302)

    def target_of(self, operator_id: int, login: str) -> str:
        """Where the PBX reaches this operator: the configured extension, else their login."""
        return self.extensions.get(operator_id, login)

    def operator_at(self, target: str) -> int | None:
        for operator_id, where in self.extensions.items():
            if where == target:
                return operator_id
        return None

    @property
    def shown_number(self) -> str:
        return self.caller_id or (self.numbers[0] if self.numbers else "")


def phone_settings(settings: Mapping[str, Any], region: str, prefix: str = "settings") -> PhoneSettings:
    """The voice part of a phone channel's settings; InvalidConfig names every bad field."""
    errors: list[tuple[str, str]] = []
    numbers = _numbers(settings.get("numbers"), region, f"{prefix}.numbers", errors)
    secret = settings.get("secret")
    if secret is not None and (not isinstance(secret, str) or len(secret) < MIN_SECRET):
        errors.append((f"{prefix}.secret", f"must be a text of at least {MIN_SECRET} characters"))
        secret = None
    tree = None
    if settings.get("ivr") is not None:
        try:
            tree = parse_ivr(settings["ivr"], f"{prefix}.ivr")
        except InvalidConfig as error:
            errors.extend(error.errors)
    extensions = _extensions(settings.get("extensions"), f"{prefix}.extensions", errors)
    url = settings.get("originate_url")
    if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 2000):
        errors.append((f"{prefix}.originate_url", "must be an http:// or https:// URL"))
        url = None
    announce = _seconds(settings, "announce_every_s", 30.0, 0, 600, prefix, errors)
    poll = _seconds(settings, "poll_after_s", 5.0, 1, 60, prefix, errors)
    caller_id = settings.get("caller_id")
    if caller_id is not None and not isinstance(caller_id, str):
        errors.append((f"{prefix}.caller_id", "must be a phone number"))
        caller_id = None
    voicemail = settings.get("voicemail_uri")
    if voicemail is not None and (problem := voicemail_uri_problem(voicemail)) is not None:
        errors.append((f"{prefix}.voicemail_uri", problem))
        voicemail = None
    if errors:
        raise InvalidConfig(errors)
    return PhoneSettings(numbers, secret, tree, extensions, url, announce, poll, caller_id, voicemail)


def voicemail_uri_problem(value: object) -> str | None:
    """A channel's ``voicemail_uri`` or a line's ``routing.voicemail_uri``: what is wrong with it, if anything."""
    if isinstance(value, str) and SIP_URI.match(value):
        return None
    return "must be a sip: or sips: URI (e.g. sip:voicemail@pbx.example), without spaces or <>"


def _numbers(raw: object, region: str, field: str, errors: list[tuple[str, str]]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        errors.append((field, "must be a list of phone numbers"))
        return ()
    found = []
    for index, text in enumerate(raw):
        try:
            found.append(dialled_number(text, region))
        except InvalidIdentity as error:
            errors.append((f"{field}.{index}", error.detail))
    return tuple(found)


def _extensions(raw: object, field: str, errors: list[tuple[str, str]]) -> dict[int, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        errors.append((field, "must map operator ids to extensions or SIP URIs"))
        return {}
    found = {}
    for key, value in raw.items():
        if not str(key).isdigit() or not isinstance(value, str) or not 1 <= len(value) <= 200:
            errors.append((f"{field}.{key}", "must map an operator id to an extension or SIP URI"))
            continue
        found[int(key)] = value
    return found


def _seconds(
    settings: Mapping[str, Any], name: str, default: float, low: float, high: float, prefix: str, errors: list[Any]
) -> float:
    value = settings.get(name, default)
    if isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high:
        return float(value)
    errors.append((f"{prefix}.{name}", f"must be a number of seconds from {low:g} to {high:g}"))
    return default


def masked(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings as the API shows them: the secret replaced by a mask."""
    shown = dict(settings)
    if shown.get("secret"):
        shown["secret"] = MASK
    return shown


def keep_secret(new: Mapping[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
    """An edit that sends the mask back keeps the stored secret."""
    merged = dict(new)
    if merged.get("secret") == MASK:
        if old.get("secret"):
            merged["secret"] = old["secret"]
        else:
            merged.pop("secret")
    return merged
