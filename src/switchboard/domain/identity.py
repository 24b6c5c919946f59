"""Identities: the (kind, normalized value) pairs that point to exactly one contact.

Normalization is what makes the same person recognisable across channels: a phone typed
as ``8 (495) 123-45-67`` in a web form and ``+74951234567`` from WhatsApp is one identity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

import phonenumbers

from switchboard.domain.errors import InvalidIdentity


class IdentityKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    TELEGRAM = "telegram"
    VK = "vk"
    INSTAGRAM = "instagram"
    FACEBOOK = "facebook"
    YANDEX = "yandex"
    VISITOR = "visitor"
    EXTERNAL = "external"
    CLIENT_CODE = "client_code"  # a number the customer keys in on the phone to be recognised


@dataclass(frozen=True, slots=True)
class Identity:
    kind: IdentityKind
    value: str


_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_DOMAIN_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_MAX_ID_LENGTH = 255


@lru_cache(maxsize=50_000)  # parsing costs ~0.3 ms: intake's senders and voice's callers repeat
def normalize_phone(raw: str, default_region: str) -> str:
    """Return the phone in E.164, or raise InvalidIdentity naming why (refusals are not cached)."""
    text = raw.strip()
    if not text:
        raise InvalidIdentity("phone is empty", field="phone")
    try:
        number = phonenumbers.parse(text, default_region.upper())
    except phonenumbers.NumberParseException as error:
        raise InvalidIdentity(f"phone {raw!r} cannot be parsed: {error}", field="phone") from error
    if not phonenumbers.is_possible_number(number) or not phonenumbers.is_valid_number(number):
        raise InvalidIdentity(f"phone {raw!r} is not a valid number", field="phone")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalize_email(raw: str) -> str:
    """Lowercase the address and encode the domain with IDNA, so one mailbox is one identity."""
    text = raw.strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or len(text) > 254:
        raise InvalidIdentity(f"email {raw!r} is not an address", field="email")
    if not _EMAIL_LOCAL.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        raise InvalidIdentity(f"email {raw!r} has an invalid local part", field="email")
    try:
        ascii_domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError as error:
        raise InvalidIdentity(f"email {raw!r} has an invalid domain", field="email") from error
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise InvalidIdentity(f"email {raw!r} has an invalid domain", field="email")
    return f"{local.lower()}@{ascii_domain}"


def normalize_external(kind: IdentityKind, raw: str) -> str:
    """Messenger and external ids are kept as given, trimmed; they are opaque to us."""
    text = raw.strip()
    if not text:
        raise InvalidIdentity(f"{kind.value} id is empty", field=kind.value)
    if len(text) > _MAX_ID_LENGTH:
        raise InvalidIdentity(f"{kind.value} id is longer than {_MAX_ID_LENGTH}", field=kind.value)
    return text


def normalize_identity(kind: IdentityKind, raw: str, default_region: str) -> Identity:
    """Normalize any identity by its kind."""
    if kind is IdentityKind.PHONE:
        return Identity(kind, normalize_phone(raw, default_region))
    if kind is IdentityKind.EMAIL:
        return Identity(kind, normalize_email(raw))
    return Identity(kind, normalize_external(kind, raw))
