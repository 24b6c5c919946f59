"""Contacts and companies: one person, however many channels they write from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from switchboard.domain.identity import Identity


class ContactTier(StrEnum):
    REGULAR = "regular"
    VIP = "vip"


@dataclass(slots=True)
class Contact:
    id: int
    name: str
    created_at: datetime
    updated_at: datetime
    tier: ContactTier = ContactTier.REGULAR
    company_id: int | None = None
    time_zone: str | None = None
    responsible_operator_id: int | None = None
    identities: list[Identity] = field(default_factory=list)


def display_name(given: str | None, identity: Identity) -> str:
    """A new contact is named by what they told us, else by the identity they wrote from."""
    name = (given or "").strip()
    return name[:200] if name else identity.value
