"""Automatic messages: template texts per language with {variable} slots, rendered safely.

Rendering never calls `str.format`: only `{name}` slots made of letters, digits and
underscores are replaced, so a template cannot reach attributes or format specs, and a
customer-supplied value is inserted as plain text (never re-interpreted).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

SLOT = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}|\{[^{}]*\}")
KNOWN_VARIABLES = frozenset({"contact_name", "line_name", "operator_name", "position", "wait_minutes", "opens_at"})

WELCOME = "welcome"
PLEASE_WAIT = "please_wait"
AUTO_CLOSE = "auto_close"
THANK_YOU = "thank_you"
RATING_REQUEST = "rating_request"
OFF_HOURS = "off_hours"
QUEUE_FULL = "queue_full"

Templates = Mapping[str, Mapping[str, str]]


class Welcome(StrEnum):
    """When the welcome message goes out."""

    OFF = "off"
    FIRST_CONTACT_EVER = "first_contact_ever"
    EVERY_NEW_CONVERSATION = "every_new_conversation"


@dataclass(frozen=True, slots=True)
class AutomaticActions:
    """Messages the line sends by itself. Seconds of None switch an action off."""

    welcome: Welcome = Welcome.OFF
    please_wait_after_s: float | None = None
    auto_close_after_s: float | None = None
    thank_you_on_close: bool = False
    rating_request_on_close: bool = False
    templates: Templates = field(default_factory=dict)
    default_language: str = "en"

    def required_templates(self) -> list[str]:
        keys = []
        if self.welcome is not Welcome.OFF:
            keys.append(WELCOME)
        if self.please_wait_after_s is not None:
            keys.append(PLEASE_WAIT)
        if self.auto_close_after_s is not None:
            keys.append(AUTO_CLOSE)
        if self.thank_you_on_close:
            keys.append(THANK_YOU)
        if self.rating_request_on_close:
            keys.append(RATING_REQUEST)
        return keys

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for name in ("please_wait_after_s", "auto_close_after_s"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                found.append((f"actions.{name}", "must be > 0 seconds or None (off)"))
        for key in self.required_templates():
            if self.default_language not in self.templates.get(key, {}):
                found.append((f"actions.templates[{key!r}]", f"needs a text in {self.default_language!r}"))
        for key, texts in self.templates.items():
            for language, text in texts.items():
                found.extend((f"actions.templates[{key!r}][{language!r}]", p) for p in template_problems(text))
        return found


def template_problems(text: str) -> list[str]:
    """Slots that are malformed or name a variable nobody fills."""
    found = []
    for match in SLOT.finditer(text):
        slot = match.group(0)
        if slot in ("{{", "}}"):
            continue
        name = match.group(1)
        if name is None:
            found.append(f"malformed slot {slot!r}: use {{name}} with letters, digits, _")
        elif name not in KNOWN_VARIABLES:
            found.append(f"unknown variable {slot}; known: {', '.join(sorted(KNOWN_VARIABLES))}")
    return found


def render(text: str, variables: Mapping[str, str]) -> str:
    """Fill `{name}` slots; `{{`/`}}` are literal braces; missing values become empty."""

    def replace(match: re.Match[str]) -> str:
        slot = match.group(0)
        if slot == "{{":
            return "{"
        if slot == "}}":
            return "}"
        name = match.group(1)
        return str(variables.get(name, "")) if name is not None else slot

    return SLOT.sub(replace, text)


def pick_text(templates: Templates, key: str, language: str, default_language: str) -> str | None:
    """The text in the contact's language, else its base language ("pt-BR" → "pt"), else default."""
    texts = templates.get(key, {})
    for candidate in (language, language.split("-")[0], default_language):
        if candidate in texts:
            return texts[candidate]
    return None


def message_text(actions: AutomaticActions, key: str, language: str, variables: Mapping[str, str]) -> str | None:
    """Render the automatic message `key` for a contact, None when the line has no text."""
    text = pick_text(actions.templates, key, language, actions.default_language)
    return None if text is None else render(text, variables)
