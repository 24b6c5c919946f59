"""Split rules: send one channel's conversations to different lines.

A pure function of (rules, inbound facts, at): the first rule whose every condition holds
wins; with no match the channel's default line is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from switchboard.domain.routing.calendar import TimeRange


@dataclass(frozen=True, slots=True)
class InboundFacts:
    """What is known about a conversation before it has a line."""

    dnis: str = ""
    text: str = ""
    language: str = ""
    segments: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SplitRule:
    """All given conditions must hold (empty = not checked). Keywords match whole words, any case."""

    line_id: str
    dnis: frozenset[str] = frozenset()
    keywords: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    segments: frozenset[str] = frozenset()
    hours: tuple[TimeRange, ...] = ()
    time_zone: str = "UTC"

    def matches(self, facts: InboundFacts, at: float) -> bool:
        return (
            (not self.dnis or facts.dnis in self.dnis)
            and (not self.keywords or _has_keyword(facts.text, self.keywords))
            and (not self.languages or _language_in(facts.language, self.languages))
            and (not self.segments or bool(self.segments & facts.segments))
            and (not self.hours or _within(self.hours, self.time_zone, at))
        )


def choose_line(rules: Sequence[SplitRule], facts: InboundFacts, at: float, default_line_id: str) -> str:
    """The line for this conversation: the first matching rule, else the default."""
    for rule in rules:
        if rule.matches(facts, at):
            return rule.line_id
    return default_line_id


def _words(text: str) -> set[str]:
    cleaned = "".join(ch.lower() if ch.isalnum() else " " for ch in text)
    return set(cleaned.split())


def _has_keyword(text: str, keywords: frozenset[str]) -> bool:
    words = _words(text)
    lowered = text.lower()
    return any(k.lower() in words or (" " in k and k.lower() in lowered) for k in keywords)


def _language_in(language: str, languages: frozenset[str]) -> bool:
    return language in languages or language.split("-")[0] in languages


def _within(ranges: tuple[TimeRange, ...], time_zone: str, at: float) -> bool:
    local = datetime.fromtimestamp(at, ZoneInfo(time_zone))
    minute = local.hour * 60 + local.minute
    return any(r.start <= minute < r.end for r in ranges)
