"""Core words of routing: media, distribution modes, statuses and operator capacity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Media(StrEnum):
    """How a conversation is carried; capacity is counted per media."""

    VOICE = "voice"
    CHAT = "chat"
    EMAIL = "email"


class Mode(StrEnum):
    """Distribution mode of a line (who gets the next conversation)."""

    EVENLY = "evenly"
    ROUND_ROBIN = "round_robin"
    STRICT_ORDER = "strict_order"
    BROADCAST = "broadcast"
    LONGEST_IDLE = "longest_idle"
    FEWEST_HANDLED_TODAY = "fewest_handled_today"
    LEAST_TALK_TIME = "least_talk_time"
    BEST_SKILL = "best_skill"
    MANUAL = "manual"


class Effect(StrEnum):
    """What a status does to routing."""

    ROUTED = "routed"
    LAST = "last"
    OUT = "out"


AVAILABLE = "available"
AFTER_WORK = "after_work"
BREAK = "break"
OFFLINE = "offline"
BUILTIN_STATUSES: Mapping[str, Effect] = {
    AVAILABLE: Effect.ROUTED,
    AFTER_WORK: Effect.OUT,
    BREAK: Effect.OUT,
    OFFLINE: Effect.OUT,
}
MISSED_OFFERS = "missed offers"


@dataclass(frozen=True, slots=True)
class CustomStatus:
    """An admin-defined status such as "training" (out) or "back office" (last)."""

    name: str
    effect: Effect

    def validate(self) -> None:
        if not self.name or self.name in BUILTIN_STATUSES:
            raise ValueError(f"custom status name {self.name!r} is empty or reserved")
        if self.effect is Effect.ROUTED:
            raise ValueError(f"custom status {self.name!r}: effect must be 'out' or 'last'")


def _default_limits() -> Mapping[str, int]:
    return {Media.VOICE: 1, Media.CHAT: 5, Media.EMAIL: 10}


def _default_blocks() -> Mapping[str, frozenset[str]]:
    return {Media.VOICE: frozenset({Media.CHAT, Media.EMAIL})}


@dataclass(frozen=True, slots=True)
class Capacity:
    """How much one operator may hold at once, offers included.

    `blocks` maps a media to the media it shuts out while held: by default a call
    stops new chats and emails (but chats do not stop a call).
    """

    per_media: Mapping[str, int] = field(default_factory=_default_limits)
    total: int = 10
    blocks: Mapping[str, frozenset[str]] = field(default_factory=_default_blocks)

    def limit(self, media: str) -> int:
        return min(self.per_media.get(media, 0), self.total)

    def blockers(self, media: str) -> tuple[str, ...]:
        """Media whose presence forbids taking `media`."""
        return tuple(sorted(m for m, blocked in self.blocks.items() if media in blocked))

    def validate(self) -> None:
        if self.total < 0:
            raise ValueError("capacity.total must be >= 0")
        for media, limit in self.per_media.items():
            if limit < 0:
                raise ValueError(f"capacity.per_media[{media!r}] must be >= 0")


@dataclass(frozen=True, slots=True)
class OperatorProfile:
    """An operator as routing knows them before they log in."""

    operator_id: str
    capacity: Capacity = field(default_factory=Capacity)
