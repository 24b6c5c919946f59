"""Channels: one configured connection to one medium, feeding one line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ChannelKind(StrEnum):
    API = "api"
    WEBCHAT = "webchat"
    EMAIL = "email"
    FAX = "fax"
    PHONE = "phone"
    SMS = "sms"
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    VK = "vk"
    INSTAGRAM = "instagram"
    FACEBOOK = "facebook"
    YANDEX = "yandex"


class Media(StrEnum):
    """What kind of work a conversation is for an operator's capacity."""

    VOICE = "voice"
    CHAT = "chat"
    EMAIL = "email"


MEDIA_OF_KIND: dict[ChannelKind, Media] = {
    ChannelKind.PHONE: Media.VOICE,
    ChannelKind.EMAIL: Media.EMAIL,
    ChannelKind.FAX: Media.EMAIL,
}


def media_of(kind: ChannelKind) -> Media:
    return MEDIA_OF_KIND.get(kind, Media.CHAT)


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    """How the channel's provider last answered us: what an admin looks at when replies do not arrive."""

    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = None

    @property
    def failing(self) -> bool:
        """The newest thing we know is an error."""
        if self.last_error_at is None:
            return False
        return self.last_success_at is None or self.last_error_at > self.last_success_at


@dataclass(slots=True)
class Channel:
    id: int
    kind: ChannelKind
    name: str
    line_id: int
    active: bool = True
    settings: dict[str, Any] = field(default_factory=dict)
    health: ChannelHealth = field(default_factory=ChannelHealth)
