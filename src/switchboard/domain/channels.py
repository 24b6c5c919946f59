"""Channels: one configured connection to one medium, feeding one line."""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass(slots=True)
class Channel:
    id: int
    kind: ChannelKind
    name: str
    line_id: int
    active: bool = True
    settings: dict[str, Any] = field(default_factory=dict)
