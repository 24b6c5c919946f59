"""Which of a contact's channels an operator can answer in: a channel reaches a contact through an identity.

A reply leaves through a connector that addresses the customer by one identity of its own kind
(SMS and WhatsApp by phone, email by address, Telegram by the chat id the customer gave us).
Web chat, phone calls and the API channel are absent: the customer starts those, we cannot.
"""

from __future__ import annotations

from collections.abc import Iterable

from switchboard.domain.channels import Channel, ChannelKind
from switchboard.domain.identity import Identity, IdentityKind

IDENTITY_OF_KIND: dict[ChannelKind, IdentityKind] = {
    ChannelKind.SMS: IdentityKind.PHONE,
    ChannelKind.WHATSAPP: IdentityKind.PHONE,
    ChannelKind.EMAIL: IdentityKind.EMAIL,
    ChannelKind.TELEGRAM: IdentityKind.TELEGRAM,
    ChannelKind.VK: IdentityKind.VK,
    ChannelKind.INSTAGRAM: IdentityKind.INSTAGRAM,
    ChannelKind.FACEBOOK: IdentityKind.FACEBOOK,
    ChannelKind.YANDEX: IdentityKind.YANDEX,
}


def reaches(kind: ChannelKind, identities: Iterable[Identity]) -> bool:
    """Whether a channel of this kind can write to someone with these identities first."""
    wanted = IDENTITY_OF_KIND.get(kind)
    return wanted is not None and any(i.kind is wanted for i in identities)


def reachable(current: Channel, channels: Iterable[Channel], identities: Iterable[Identity]) -> list[Channel]:
    """The conversation's own channel first, then every enabled, healthy channel an identity reaches, by name."""
    known = tuple(identities)
    others = [
        c for c in channels if c.id != current.id and c.active and not c.health.failing and reaches(c.kind, known)
    ]
    return [current, *sorted(others, key=lambda c: (c.name.lower(), c.id))]
